//! The report, kept per conversation and view (docs/report.md, "How fresh
//! the report is").
//!
//! Building the report reads the whole conversation and runs the opinion
//! analysis: seconds for a big conversation. So the latest report of each
//! (conversation, view) is kept with the data it was built from, and every
//! form of the report (JSON, CSV tables, the JSON export, the chart, the
//! opinion map) is served from it.
//!
//! With `report.refresh_secs` = N, a report whose data was last confirmed
//! current less than N seconds ago is served as it is. Past N seconds the
//! first reader starts a refresh in the background and readers keep the
//! previous report meanwhile; past 2N seconds readers wait for the refresh.
//! A refresh first reads the data's version ([`DataVersion`], one cheap
//! read) and rebuilds only when it differs. So a report is never more than
//! 2N seconds behind the data, and N = 0 means every request sees the
//! current data (rebuilt only after a change).
//!
//! One refresh per (conversation, view) runs at a time: concurrent readers
//! wait for it rather than computing the same report again, and the
//! refresh runs in a task of its own, so readers who give up do not waste
//! it. The view is part of the key, and who may see which view is decided
//! before the cache is asked, so the cache never widens what anyone sees.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use moka::sync::Cache;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::domain::{ConversationState, Millis};
use crate::http::encoded::EncodedJson;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::report::{self, Options, Report, View};
use crate::store::{DataVersion, ReportData};

/// The metric counting report builds (a cache miss that changed data).
pub const COMPUTATIONS_METRIC: &str = "chorus_report_computations_total";

/// Conversations (times views) whose reports are kept; the least recently
/// read go first past this, and any not read for [`IDLE`].
const CAPACITY: u64 = 64;
const IDLE: Duration = Duration::from_secs(30 * 60);

/// A built report and the data it was built from (the exports need both).
pub struct Built {
    pub data: ReportData,
    pub report: Report,
    /// The report's JSON answer, serialised and compressed once per build
    /// rather than per reader (see `http::encoded`).
    pub json: EncodedJson,
    version: DataVersion,
}

impl Built {
    /// Whether this report is still the one the data gives at `now`: the
    /// same data, and the clock has not moved the conversation's state
    /// (it opened or closed) or the day (the timeline's last day).
    fn current(&self, version: DataVersion, now: Millis) -> bool {
        self.version == version
            && self.data.conversation.state(now) == self.report.conversation.state
            && now.day() == self.report.generated_at.day()
    }
}

#[derive(Clone)]
struct Latest {
    built: Arc<Built>,
    /// When the data was last known to be `built.version`: read before the
    /// version, so the report is at least as fresh as this.
    as_of: Instant,
}

#[derive(Default)]
struct Slot {
    latest: StdMutex<Option<Latest>>,
    /// Held by the one refresh running for this slot.
    refreshing: Arc<Mutex<()>>,
}

impl Slot {
    fn latest(&self) -> Option<Latest> {
        self.latest.lock().expect("report slot").clone()
    }

    fn set(&self, latest: Latest) {
        *self.latest.lock().expect("report slot") = Some(latest);
    }
}

/// The latest report per (conversation, view) (see the module docs).
pub struct ReportCache {
    slots: Cache<(Uuid, View), Arc<Slot>>,
}

impl Default for ReportCache {
    fn default() -> Self {
        ReportCache {
            slots: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl ReportCache {
    /// The report of the conversation for `view`, at most twice
    /// `report.refresh_secs` behind its data, and always made in the state
    /// the conversation is in now (`now_state`: a report made while it was
    /// open is never served once it closed, or the other way round). The
    /// caller has already decided that its caller may see `view`.
    pub async fn get(
        &self,
        state: &AppState,
        conversation_id: Uuid,
        view: View,
        now_state: ConversationState,
    ) -> Result<Arc<Built>, ApiError> {
        let refresh = Duration::from_secs(state.settings.report.refresh_secs);
        let slot = self
            .slots
            .get_with((conversation_id, view), || Arc::new(Slot::default()));
        let in_state = |latest: &Latest| latest.built.report.conversation.state == now_state;
        if let Some(latest) = slot.latest().filter(|l| in_state(l)) {
            let age = latest.as_of.elapsed();
            if age < refresh {
                return Ok(latest.built);
            }
            if age < 2 * refresh {
                start_refresh(state, &slot, conversation_id, view);
                return Ok(latest.built);
            }
        }
        // Too old or never built: wait for a refresh (started here unless
        // one is running), then take its result.
        let waited_from = Instant::now();
        start_refresh(state, &slot, conversation_id, view);
        let _turn = slot.refreshing.lock().await;
        if let Some(latest) = slot.latest().filter(|l| in_state(l)) {
            if latest.as_of >= waited_from || latest.as_of.elapsed() < refresh {
                return Ok(latest.built);
            }
        }
        // The refresh failed (or was cut short): try once more here, so the
        // error reaches this reader.
        let latest = refresh_now(state, &slot, conversation_id, view).await?;
        Ok(latest.built)
    }
}

/// Starts a refresh of `slot` in a task of its own unless one is running.
fn start_refresh(state: &AppState, slot: &Arc<Slot>, conversation_id: Uuid, view: View) {
    let Ok(turn) = slot.refreshing.clone().try_lock_owned() else {
        return;
    };
    let (state, slot) = (state.clone(), slot.clone());
    tokio::spawn(async move {
        if let Err(e) = refresh_now(&state, &slot, conversation_id, view).await {
            tracing::warn!(error = %e, %conversation_id, "report refresh failed");
        }
        drop(turn);
    });
}

/// Confirms or rebuilds the slot's report now (the caller holds its turn).
async fn refresh_now(
    state: &AppState,
    slot: &Slot,
    conversation_id: Uuid,
    view: View,
) -> Result<Latest, ApiError> {
    let as_of = Instant::now();
    let version = state.store.data_version(conversation_id).await?;
    if let Some(latest) = slot.latest() {
        if latest.built.current(version, Millis::now()) {
            let latest = Latest {
                built: latest.built,
                as_of,
            };
            slot.set(latest.clone());
            return Ok(latest);
        }
    }
    let data = state.store.report_data(conversation_id).await?;
    let options = Options {
        view,
        min_group_size: state.settings.report.min_group_size.get() as usize,
        min_votes: state.settings.report.min_votes_to_place.get() as usize,
        // Every form is served from this one report: the opinion analysis
        // is only skipped when nothing needs it.
        opinion: true,
        now: Millis::now(),
    };
    let _cpu = state
        .heavy_work
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let built = tokio::task::spawn_blocking(move || {
        let report = report::build(&data, &options);
        let json = EncodedJson::new(&report).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok::<_, ApiError>(Built {
            data,
            report,
            json,
            version,
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    metrics::counter!(COMPUTATIONS_METRIC, "conversation" => built.data.conversation.slug.clone())
        .increment(1);
    let latest = Latest {
        built: Arc::new(built),
        as_of,
    };
    slot.set(latest.clone());
    Ok(latest)
}
