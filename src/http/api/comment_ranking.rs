//! The comment sort "agreed across groups", kept per item.
//!
//! The order comes from the latest opinion analysis ([`super::opinion`]):
//! best bridging score first; comments without a score follow, most
//! up-voted first, then oldest first. Sorting reads every comment of the
//! item, so the sorted list is kept per item and a page is a slice of it.
//! It is sorted again when the analysis it came from is replaced, or when
//! the conversation's event sequence has moved (a comment made, hidden or
//! approved), which one cheap read per request tells. Up-vote counts shown
//! are those of the last sort; live screens get newer ones over the socket.
//! One sort per item runs at a time: readers who arrive meanwhile wait
//! for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use moka::sync::Cache;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::comment_pages::CommentsPage;
use crate::domain::{Comment, Conversation};
use crate::http::error::ApiError;
use crate::http::AppState;

/// Comments kept across every item's sorted list; the least recently read
/// lists go first past this, and any not read for [`IDLE`].
const CAPACITY_COMMENTS: u64 = 200_000;
const IDLE: Duration = Duration::from_secs(10 * 60);

/// One item's visible top-level comments in the sort's order.
struct Sorted {
    /// The analysis the order came from (compared by identity).
    bridging: Arc<HashMap<Uuid, f64>>,
    /// The conversation's event sequence read before the comments were.
    last_seq: i64,
    comments: Vec<Comment>,
    /// How many visible replies each comment has (absent: none).
    replies: HashMap<Uuid, i64>,
}

#[derive(Default)]
struct Slot {
    sorted: StdMutex<Option<Arc<Sorted>>>,
    /// Held while this item's comments are being sorted.
    sorting: Mutex<()>,
}

impl Slot {
    fn current(&self, bridging: &Arc<HashMap<Uuid, f64>>, last_seq: i64) -> Option<Arc<Sorted>> {
        self.sorted
            .lock()
            .expect("ranking slot")
            .clone()
            .filter(|s| Arc::ptr_eq(&s.bridging, bridging) && s.last_seq >= last_seq)
    }

    fn weight(&self) -> u32 {
        let sorted = self.sorted.lock().expect("ranking slot");
        sorted
            .as_ref()
            .map_or(1, |s| s.comments.len().max(1) as u32)
    }
}

/// The sorted comments per (conversation, item) (see the module docs).
pub struct CommentRankings {
    slots: Cache<(Uuid, Uuid), Arc<Slot>>,
}

impl Default for CommentRankings {
    fn default() -> Self {
        CommentRankings {
            slots: Cache::builder()
                .max_capacity(CAPACITY_COMMENTS)
                .weigher(|_, slot: &Arc<Slot>| slot.weight())
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl CommentRankings {
    /// `limit` comments from the `offset`th on; `next` is the next offset.
    pub async fn page(
        &self,
        state: &AppState,
        conversation: &Conversation,
        item_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<CommentsPage, ApiError> {
        let sorted = self.sorted(state, conversation, item_id).await?;
        let comments = &sorted.comments;
        let start = offset.clamp(0, comments.len() as i64) as usize;
        let end = (start + limit.max(0) as usize).min(comments.len());
        let page = comments[start..end].to_vec();
        let replies = page
            .iter()
            .map(|c| (c.id, sorted.replies.get(&c.id).copied().unwrap_or(0)))
            .collect();
        Ok(CommentsPage {
            comments: page,
            next: (end < comments.len()).then_some(end as i64),
            replies: Some(replies),
        })
    }

    async fn sorted(
        &self,
        state: &AppState,
        conversation: &Conversation,
        item_id: Uuid,
    ) -> Result<Arc<Sorted>, ApiError> {
        let bridging = state.opinions.get(state, conversation).await?.bridging;
        let last_seq = state.store.last_seq(conversation.id).await?;
        let key = (conversation.id, item_id);
        let slot = self.slots.get_with(key, || Arc::new(Slot::default()));
        if let Some(sorted) = slot.current(&bridging, last_seq) {
            return Ok(sorted);
        }
        let _turn = slot.sorting.lock().await;
        // Another reader may have sorted them while this one waited.
        if let Some(sorted) = slot.current(&bridging, last_seq) {
            return Ok(sorted);
        }
        let all = state
            .store
            .comments(conversation.id, item_id, 0, i64::MAX, false)
            .await?;
        let mut replies: HashMap<Uuid, i64> = HashMap::new();
        for parent in all.iter().filter_map(|c| c.parent_id) {
            *replies.entry(parent).or_default() += 1;
        }
        let mut comments: Vec<Comment> = all
            .into_iter()
            .filter(|c| c.parent_id.is_none())
            .map(|c| c.public())
            .collect();
        sort(&mut comments, &bridging);
        let sorted = Arc::new(Sorted {
            bridging,
            last_seq,
            comments,
            replies,
        });
        *slot.sorted.lock().expect("ranking slot") = Some(sorted.clone());
        // Inserted again so that the cache weighs the list now filled in.
        self.slots.insert(key, slot.clone());
        Ok(sorted)
    }
}

/// Best bridging score first; without a score, most up-voted, then oldest.
fn sort(comments: &mut [Comment], bridging: &HashMap<Uuid, f64>) {
    let score = |c: &Comment| bridging.get(&c.id).copied();
    comments.sort_by(|a, b| {
        match (score(a), score(b)) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then(b.up.cmp(&a.up))
        .then(a.seq.cmp(&b.seq))
    });
}
