//! The live opinion analysis: the desk's map of opinion groups while the
//! conversation runs, and the bridging scores behind the participants'
//! comment sort "agreed across groups".
//!
//! The analysis reads the whole conversation and runs k-means several
//! times, so it is not run per request. Each conversation's latest result
//! is kept ([`OpinionCache`]) and recomputed at most once a minute
//! (`report.opinion_refresh_secs`), and
//! then only when a vote or an up-vote has changed since (the sum of the
//! tally versions, which only grow, says so in one cheap read). One
//! analysis per node runs at a time, on a blocking thread and within the
//! node's turns for heavy work (`heavy_work`), so a burst of readers never
//! holds up the hub or the writer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::{Mutex, Semaphore};
use uuid::Uuid;

use super::conversation;
use super::report::{private, svg};
use crate::domain::Conversation;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::report::opinion::{self, Opinion};
use crate::report::opinion_map;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conversations/{slug}/opinion", get(live))
        .route("/conversations/{slug}/opinion.svg", get(live_map))
}

/// One conversation's latest analysis.
#[derive(Clone)]
pub struct Latest {
    /// What readers see.
    pub opinion: Arc<Opinion>,
    /// Comment id → bridging score, for the comment sort.
    pub bridging: Arc<HashMap<Uuid, f64>>,
    /// The tally versions it was computed from: unchanged means no vote
    /// or up-vote moved since, so there is nothing to recompute.
    votes_version: i64,
    computed_at: Instant,
}

/// The latest analysis per conversation (see the module docs).
pub struct OpinionCache {
    latest: Mutex<HashMap<Uuid, Latest>>,
    /// One recomputation at a time on this node: readers who arrive while
    /// it runs wait for its answer instead of computing the same again.
    running: Semaphore,
}

impl Default for OpinionCache {
    fn default() -> Self {
        OpinionCache {
            latest: Mutex::new(HashMap::new()),
            running: Semaphore::new(1),
        }
    }
}

impl OpinionCache {
    /// The conversation's analysis, at most `report.opinion_refresh_secs`
    /// old unless no vote has changed since it was computed.
    pub async fn get(
        &self,
        state: &AppState,
        conversation: &Conversation,
    ) -> Result<Latest, ApiError> {
        let refresh = Duration::from_secs(state.settings.report.opinion_refresh_secs.get());
        let fresh = |l: &Latest| l.computed_at.elapsed() < refresh;
        if let Some(latest) = self.latest.lock().await.get(&conversation.id) {
            if fresh(latest) {
                return Ok(latest.clone());
            }
        }
        let _turn = self
            .running
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        // Another request may have recomputed it while this one waited.
        let known = self.latest.lock().await.get(&conversation.id).cloned();
        if let Some(latest) = &known {
            if fresh(latest) {
                return Ok(latest.clone());
            }
        }
        let version = votes_version(state, conversation.id).await?;
        if let Some(mut latest) = known {
            if latest.votes_version == version {
                latest.computed_at = Instant::now();
                self.latest
                    .lock()
                    .await
                    .insert(conversation.id, latest.clone());
                return Ok(latest);
            }
        }
        let data = state.store.report_data(conversation.id).await?;
        let _cpu = state
            .heavy_work
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let settings = opinion::settings(
            state.settings.report.min_group_size.get() as usize,
            state.settings.report.min_votes_to_place.get() as usize,
        );
        let latest = tokio::task::spawn_blocking(move || {
            let analysis = opinion::analyse(&data, &settings);
            Latest {
                opinion: Arc::new(opinion::present(&data, &analysis, &settings)),
                bridging: Arc::new(
                    analysis
                        .bridging
                        .iter()
                        .filter_map(|b| b.score.map(|s| (b.comment, s)))
                        .collect(),
                ),
                votes_version: version,
                computed_at: Instant::now(),
            }
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        self.latest
            .lock()
            .await
            .insert(conversation.id, latest.clone());
        Ok(latest)
    }
}

/// The sum of every tally version in the conversation: it grows with
/// every vote and up-vote and never otherwise.
async fn votes_version(state: &AppState, conversation_id: Uuid) -> Result<i64, ApiError> {
    let tallies = state.store.tallies(conversation_id).await?;
    Ok(tallies.items.iter().map(|(_, t)| t.version).sum::<i64>()
        + tallies.comments.iter().map(|(_, t)| t.version).sum::<i64>())
}

/// The latest analysis of the conversation a path names, for staff.
async fn for_staff(
    state: &AppState,
    caller: &Caller,
    slug: &str,
) -> Result<(Conversation, Latest), ApiError> {
    caller.staff()?;
    let conversation = conversation(state, slug).await?;
    let latest = state.opinions.get(state, &conversation).await?;
    Ok((conversation, latest))
}

/// `GET /api/conversations/{slug}/opinion`: facilitators and admins.
async fn live(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let (_, latest) = for_staff(&state, &caller, &slug).await?;
    Ok(private(Json(latest.opinion.as_ref()).into_response()))
}

/// `GET /api/conversations/{slug}/opinion.svg`: the same, as the map.
async fn live_map(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let (conversation, latest) = for_staff(&state, &caller, &slug).await?;
    svg(opinion_map::map_svg(&conversation.title, &latest.opinion))
}
