//! The organisers arrange a conversation's pledges and topics: remove one,
//! or put them all in a new order.

use std::collections::HashSet;

use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request, RequestKey};
use super::super::rows::{ItemRow, ITEM_COLUMNS, ITEM_ORDER};
use super::super::StoreError;
use super::Tx;
use crate::domain::{EventData, Item, ItemStatus};

/// Removes a pledge or topic: its status becomes `removed`, so it leaves
/// every page at once (an `item_removed` event), and its votes and
/// comments stay in the database for the organisers' report and the audit
/// trail. Removing it again changes nothing.
#[derive(Debug, Clone)]
pub struct RemoveItem {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    pub actor: String,
}

impl Command for RemoveItem {
    type Answer = Item;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::RemoveItem(request)
    }
}

/// Puts the conversation's pledges and topics in this order: the list
/// must name each of them (removed ones aside) exactly once, so nobody
/// reorders from a stale page. Positions become 1, 2, 3…
#[derive(Debug, Clone)]
pub struct ReorderItems {
    pub conversation_id: Uuid,
    pub request_id: Uuid,
    pub order: Vec<Uuid>,
    pub actor: String,
}

impl Command for ReorderItems {
    /// The pledges and topics in their new order.
    type Answer = Vec<Item>;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        Some(RequestKey::new(
            self.request_id,
            "reorder",
            &(self.conversation_id, &self.order, &self.actor),
        ))
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::ReorderItems(request)
    }
}

impl<DB> Tx<'_, DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    pub async fn remove_item(&mut self, command: &RemoveItem) -> Answer<RemoveItem> {
        let before = self
            .item(command.conversation_id, command.item_id)
            .await?
            .filter(|i| i.kind.is_organisers())
            .ok_or(StoreError::NotFound("pledge or topic"))?;
        if before.status == ItemStatus::Removed {
            return Ok(Committed::quiet(before));
        }
        sqlx::query("UPDATE items SET status = 'removed' WHERE id = $1")
            .bind(command.item_id)
            .execute(&mut *self.c)
            .await?;
        let mut item = before.clone();
        item.status = ItemStatus::Removed;
        let data = EventData::Item {
            action: "remove".into(),
            item: item.clone(),
            previous: Some(before.status),
        };
        let event = self
            .append_event(command.conversation_id, None, &command.actor, data)
            .await?;
        Ok(Committed {
            answer: item,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn reorder_items(&mut self, command: &ReorderItems) -> Answer<ReorderItems> {
        let rows: Vec<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE conversation_id = $1 \
             AND kind <> 'idea' AND status <> 'removed' ORDER BY {ITEM_ORDER}"
        ))
        .bind(command.conversation_id)
        .fetch_all(&mut *self.c)
        .await?;
        let items = rows
            .into_iter()
            .map(Item::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let held: HashSet<Uuid> = items.iter().map(|i| i.id).collect();
        let sent: HashSet<Uuid> = command.order.iter().copied().collect();
        if sent.len() != command.order.len() {
            return Err(StoreError::Invalid {
                field: "order",
                message: "names a pledge or topic twice".into(),
            });
        }
        if sent != held {
            return Err(StoreError::Invalid {
                field: "order",
                message: format!(
                    "must name each of this conversation's {} pledges and topics exactly once \
                     (reload: they may have changed)",
                    held.len()
                ),
            });
        }
        let mut events = Vec::new();
        let mut answer = Vec::with_capacity(items.len());
        for (n, id) in command.order.iter().enumerate() {
            let position = n as i64 + 1;
            let mut item = items
                .iter()
                .find(|i| i.id == *id)
                .cloned()
                .ok_or(StoreError::NotFound("item"))?;
            if item.position != position {
                sqlx::query("UPDATE items SET position = $1 WHERE id = $2")
                    .bind(position)
                    .bind(item.id)
                    .execute(&mut *self.c)
                    .await?;
                item.position = position;
                let data = EventData::Item {
                    action: "move".into(),
                    item: item.clone(),
                    previous: Some(item.status),
                };
                events.push(
                    self.append_event(command.conversation_id, None, &command.actor, data)
                        .await?,
                );
            }
            answer.push(item);
        }
        Ok(Committed {
            answer,
            events,
            tally: None,
        })
    }
}
