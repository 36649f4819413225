//! Rows as both databases return them, and their conversion to and from
//! domain values. The column lists live here so every query selects the
//! same columns in the same order as the row structs expect.

use uuid::Uuid;

use super::StoreError;
use crate::domain::{
    Comment, Conversation, EmailDomain, EventData, Item, Millis, Moderation, Participant, Tally,
    WaysIn,
};

pub const CONVERSATION_COLUMNS: &str = "id, slug, title, introduction, opens_at, closes_at, ways_in, email_domains, access_code, moderation, ideas_need_approval, profile_questions, results_visibility, results_while_open, series, archived, support_contact, word_list, display, tallies_visible";
pub const ITEM_COLUMNS: &str = "id, conversation_id, kind, title, body, status, position, handle, strong, wrong, version, comments, created_at, edited, deleted";
/// Pledges and topics in the organisers' order, then ideas by time.
pub const ITEM_ORDER: &str = "CASE WHEN kind = 'idea' THEN 1 ELSE 0 END, position, created_at, id";
pub const COMMENT_COLUMNS: &str = "id, item_id, parent_id, handle, body, status, pinned, hidden_reason, up, up_version, flags, seq, created_at, edited, deleted";

#[derive(sqlx::FromRow)]
pub struct ConversationRow {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub introduction: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub ways_in: String,
    pub email_domains: String,
    pub access_code: Option<String>,
    pub moderation: String,
    pub ideas_need_approval: bool,
    pub profile_questions: String,
    pub results_visibility: String,
    pub results_while_open: bool,
    pub series: String,
    pub archived: bool,
    /// Empty for none.
    pub support_contact: String,
    pub word_list: String,
    pub display: String,
    pub tallies_visible: String,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = StoreError;
    fn try_from(r: ConversationRow) -> Result<Conversation, StoreError> {
        Ok(Conversation {
            id: r.id,
            slug: r.slug,
            title: r.title,
            introduction: r.introduction,
            opens_at: Millis(r.opens_at),
            closes_at: Millis(r.closes_at),
            ways_in: WaysIn::from_column(&r.ways_in).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "conversations.ways_in: unknown value {:?}",
                    r.ways_in
                ))
            })?,
            email_domains: serde_json::from_str::<Vec<EmailDomain>>(&r.email_domains)
                .map_err(|e| StoreError::Corrupt(format!("email_domains: {e}")))?,
            access_code: r.access_code,
            moderation: column("conversations.moderation", &r.moderation)?,
            ideas_need_approval: r.ideas_need_approval,
            profile_questions: serde_json::from_str(&r.profile_questions)
                .map_err(|e| StoreError::Corrupt(format!("profile_questions: {e}")))?,
            results_visibility: column("conversations.results_visibility", &r.results_visibility)?,
            results_while_open: r.results_while_open,
            series: serde_json::from_str(&r.series)
                .map_err(|e| StoreError::Corrupt(format!("series: {e}")))?,
            archived: r.archived,
            support_contact: Some(r.support_contact).filter(|s| !s.is_empty()),
            word_list: serde_json::from_str(&r.word_list)
                .map_err(|e| StoreError::Corrupt(format!("word_list: {e}")))?,
            display: serde_json::from_str(&r.display)
                .map_err(|e| StoreError::Corrupt(format!("display: {e}")))?,
            tallies_visible: column("conversations.tallies_visible", &r.tallies_visible)?,
        })
    }
}

impl ConversationRow {
    /// The row as stored: enums as their names, lists and the display as JSON.
    pub fn from_conversation(c: &Conversation) -> Result<ConversationRow, StoreError> {
        let json = |what: &str, value: serde_json::Result<String>| {
            value.map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
        };
        Ok(ConversationRow {
            id: c.id,
            slug: c.slug.clone(),
            title: c.title.clone(),
            introduction: c.introduction.clone(),
            opens_at: c.opens_at.0,
            closes_at: c.closes_at.0,
            ways_in: c.ways_in.to_column(),
            email_domains: json("email_domains", serde_json::to_string(&c.email_domains))?,
            access_code: c.access_code.clone(),
            moderation: moderation_str(c.moderation).to_string(),
            ideas_need_approval: c.ideas_need_approval,
            profile_questions: json(
                "profile_questions",
                serde_json::to_string(&c.profile_questions),
            )?,
            results_visibility: c.results_visibility.as_str().to_string(),
            results_while_open: c.results_while_open,
            series: json("series", serde_json::to_string(&c.series))?,
            archived: c.archived,
            support_contact: c.support_contact.clone().unwrap_or_default(),
            word_list: json("word_list", serde_json::to_string(&c.word_list))?,
            display: json("display", serde_json::to_string(&c.display))?,
            tallies_visible: c.tallies_visible.as_str().to_string(),
        })
    }
}

pub fn moderation_str(m: Moderation) -> &'static str {
    m.as_str()
}

/// A stored name read back as its enum; an unknown one is corrupt data,
/// never a default.
pub fn column<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column}: unknown value {value:?}")))
}

#[derive(sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub position: i64,
    pub handle: Option<String>,
    pub strong: i64,
    pub wrong: i64,
    pub version: i64,
    pub comments: i64,
    pub created_at: i64,
    pub edited: bool,
    pub deleted: bool,
}

impl TryFrom<ItemRow> for Item {
    type Error = StoreError;
    fn try_from(r: ItemRow) -> Result<Item, StoreError> {
        Ok(Item {
            id: r.id,
            conversation_id: r.conversation_id,
            kind: column("items.kind", &r.kind)?,
            title: r.title,
            body: r.body,
            status: column("items.status", &r.status)?,
            position: r.position,
            handle: r.handle,
            tally: Tally {
                strong: r.strong,
                wrong: r.wrong,
                version: r.version,
            },
            comments: r.comments,
            created_at: Millis(r.created_at),
            edited: r.edited,
            deleted: r.deleted,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CommentRow {
    pub id: Uuid,
    pub item_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub handle: String,
    pub body: String,
    pub status: String,
    pub pinned: bool,
    pub hidden_reason: Option<String>,
    pub up: i64,
    pub up_version: i64,
    pub flags: i64,
    pub seq: i64,
    pub created_at: i64,
    pub edited: bool,
    pub deleted: bool,
}

/// A top-level comment and how many visible replies it has.
#[derive(sqlx::FromRow)]
pub struct TopCommentRow {
    #[sqlx(flatten)]
    pub comment: CommentRow,
    pub replies: i64,
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;
    fn try_from(r: CommentRow) -> Result<Comment, StoreError> {
        Ok(Comment {
            id: r.id,
            item_id: r.item_id,
            parent_id: r.parent_id,
            handle: r.handle,
            body: r.body,
            status: column("comments.status", &r.status)?,
            pinned: r.pinned,
            hidden_reason: r.hidden_reason,
            up: r.up,
            up_version: r.up_version,
            flags: r.flags,
            seq: r.seq,
            created_at: Millis(r.created_at),
            edited: r.edited,
            deleted: r.deleted,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct EventRow {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub actor: String,
    pub data: String,
    pub created_at: i64,
}

impl TryFrom<EventRow> for crate::domain::Event {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<crate::domain::Event, StoreError> {
        let data: EventData = serde_json::from_str(&r.data)
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", r.seq)))?;
        Ok(crate::domain::Event {
            conversation_id: r.conversation_id,
            seq: r.seq,
            actor: r.actor,
            data,
            created_at: Millis(r.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ParticipantRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub handle: String,
    pub suspended: bool,
}

impl From<ParticipantRow> for Participant {
    fn from(r: ParticipantRow) -> Participant {
        Participant {
            id: r.id,
            conversation_id: r.conversation_id,
            handle: r.handle,
            suspended: r.suspended,
        }
    }
}
