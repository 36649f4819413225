//! Conversations as TOML files: `chorus conversation import FILE` and the
//! demo that `chorus serve --demo` loads. Importing is idempotent: the
//! conversation is created once (by slug) and pledges carry fixed ids, so
//! importing again updates them instead of adding copies.

use std::path::Path;

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{Millis, Moderation, NewConversation, ProfileQuestion, WayIn};
use crate::store::{write, Store, StoreError};

/// The demo conversation, compiled in.
pub const DEMO_TOML: &str = include_str!("../config/demo-conversation.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationFile {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub introduction: String,
    /// Fixed window...
    pub opens_at: Option<Millis>,
    pub closes_at: Option<Millis>,
    /// ...or open from import time for this many days.
    pub open_for_days: Option<u32>,
    #[serde(default = "open")]
    pub signup_mode: WayIn,
    pub access_code: Option<String>,
    #[serde(default = "post")]
    pub moderation: Moderation,
    #[serde(default)]
    pub ideas_need_approval: bool,
    pub profile_questions: Option<Vec<ProfileQuestion>>,
    #[serde(default)]
    pub pledges: Vec<PledgeFile>,
}

fn open() -> WayIn {
    WayIn::Open
}
fn post() -> Moderation {
    Moderation::Post
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeFile {
    /// Optional; derived from the slug and title when absent, so re-imports match.
    pub id: Option<Uuid>,
    pub title: String,
    #[serde(default)]
    pub body: String,
}

impl ConversationFile {
    pub fn parse(text: &str) -> anyhow::Result<ConversationFile> {
        Ok(toml::from_str(text)?)
    }

    pub fn read(path: &Path) -> anyhow::Result<ConversationFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        ConversationFile::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// Creates the conversation if its slug is new, then upserts its pledges.
/// Returns the slug and whether the conversation was created.
pub async fn import(store: &dyn Store, file: ConversationFile) -> anyhow::Result<(String, bool)> {
    let now = Millis::now();
    let (opens_at, closes_at) = match (file.opens_at, file.closes_at, file.open_for_days) {
        (Some(o), Some(c), None) => (o, c),
        (None, None, Some(days)) => (
            Millis(now.0 - 60_000),
            Millis(now.0 + days as i64 * 86_400_000),
        ),
        _ => anyhow::bail!("give either opens_at and closes_at, or open_for_days"),
    };
    let existing = store.conversation_by_slug(&file.slug).await?;
    let created = existing.is_none();
    let conversation = match existing {
        Some(c) => c,
        None => {
            let conversation = NewConversation {
                slug: file.slug.clone(),
                title: file.title.clone(),
                introduction: file.introduction.clone(),
                opens_at,
                closes_at,
                ways_in: None,
                signup_mode: Some(file.signup_mode),
                email_domains: Vec::new(),
                access_code: file.access_code.clone(),
                moderation: file.moderation,
                ideas_need_approval: file.ideas_need_approval,
                profile_questions: file.profile_questions.clone(),
                results_visibility: Default::default(),
                results_while_open: true,
                tallies_visible: Default::default(),
                series: Vec::new(),
                support_contact: None,
                word_list: Vec::new(),
            }
            .into_conversation()?;
            store
                .write(write::CreateConversation {
                    conversation: conversation.clone(),
                })
                .await?;
            conversation
        }
    };
    for (position, pledge) in file.pledges.iter().enumerate() {
        let id = pledge.id.unwrap_or_else(|| {
            Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                format!("chorus:{}:{}", file.slug, pledge.title).as_bytes(),
            )
        });
        let (title, body) = crate::domain::item::clean_pledge(&pledge.title, &pledge.body)
            .map_err(|e| anyhow::anyhow!("pledge {:?}: {e}", pledge.title))?;
        let written = store
            .write(write::UpsertPledge {
                kind: crate::domain::ItemKind::Pledge,
                conversation_id: conversation.id,
                item_id: id,
                adding: false,
                title,
                body,
                position: position as i64 + 1,
                actor: "import".into(),
            })
            .await;
        match written {
            Ok(_) => {}
            Err(StoreError::Conflict(e)) => anyhow::bail!("pledge {:?}: {e}", pledge.title),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((conversation.slug, created))
}
