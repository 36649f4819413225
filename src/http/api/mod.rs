//! REST handlers, one file per kind of caller: participants taking part,
//! facilitators moderating, organisers running conversations, accounts,
//! health, and the live opinion analysis.

pub mod accounts;
pub mod comment_pages;
pub mod comment_ranking;
pub mod conversations;
pub mod email_sign_in;
pub mod health;
pub mod invites;
pub mod moderation;
pub mod opinion;
pub mod organising;
pub mod participation;
pub mod report;
pub mod report_cache;
pub mod results;
pub mod return_phrase;
pub mod self_service;

use super::error::ApiError;
use super::AppState;
use crate::domain::Conversation;

/// The conversation a path names, or 404.
pub async fn conversation(state: &AppState, slug: &str) -> Result<Conversation, ApiError> {
    if let Some(conversation) = state.conversations.get(&slug.to_string()) {
        return Ok(conversation);
    }
    let conversation = state
        .store
        .conversation_by_slug(slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("conversation {slug:?}")))?;
    state
        .conversations
        .insert(slug.to_string(), conversation.clone());
    Ok(conversation)
}

/// Parses a path segment as a UUID, naming it when it is not one.
pub fn path_uuid(what: &str, text: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text).map_err(|_| ApiError::NotFound(format!("{what} {text:?}")))
}
