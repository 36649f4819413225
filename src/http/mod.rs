//! The HTTP face of chorus: the REST API under `/api`, the WebSocket at
//! `/ws`, the web client's pages and assets, and health and metrics.
//! Handlers authenticate and rate-limit, let `domain` validate, let the
//! store commit, and only then answer and publish to the hub.

pub mod api;
pub mod auth;
pub mod cache;
pub mod client;
pub mod encoded;
pub mod error;
pub mod json;
pub mod query;
pub mod rate;
pub mod ws;

use std::ops::Deref;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode, Version};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::compression::{CompressionLevel, Predicate};
use tower_http::set_header::SetResponseHeaderLayer;

use self::error::ApiError;
use self::rate::RateLimits;
use crate::config::Settings;
use crate::hub::Hub;
use crate::store::{Command, Committed, Store};

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub hub: Arc<Hub>,
    pub limits: Arc<RateLimits>,
    /// Open WebSocket connections on this node (for the cap).
    pub connections: Arc<AtomicUsize>,
    /// Cancelled when the node shuts down.
    pub shutdown: CancellationToken,
    /// Tracks every WebSocket task, which axum's graceful shutdown does not wait for.
    pub connection_tasks: TaskTracker,
    pub metrics: PrometheusHandle,
    /// The port the listener is bound to (the real one when `listen` asks
    /// for port 0): loopback origins on it may write (see `auth::origin_allowed`).
    pub listen_port: u16,
    /// Conversations by slug, for a second or so (see `cache`).
    pub conversations: cache::Ttl<String, crate::domain::Conversation>,
    /// Participant sessions by token hash (staff sessions are never
    /// cached: see `auth`).
    pub participants: cache::Ttl<Vec<u8>, crate::store::ParticipantSession>,
    /// The latest opinion analysis per conversation (desk, comment sort).
    pub opinions: api::opinion::OpinionCache,
    /// The comment sort "agreed across groups", kept per item.
    pub comment_rankings: api::comment_ranking::CommentRankings,
    /// The latest report per conversation and view.
    pub reports: api::report_cache::ReportCache,
    /// Turns for CPU-heavy work off the async runtime (reports and the
    /// opinion analysis): as many as there are cores, so a crowd opening
    /// the report queues instead of starving the hub and the writer.
    pub heavy_work: tokio::sync::Semaphore,
    /// Keys the hashes of addresses, codes and return phrases.
    pub identity: crate::identity::IdentityKey,
    /// Sends sign-in codes; `None` when no SMTP or outbox is configured.
    pub mailer: Option<Arc<crate::mail::Mailer>>,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }

    /// Commits a write and publishes what it changed. Runs in its own task
    /// so a client that hangs up mid-request cannot cancel the publish of
    /// a write that did commit.
    pub async fn commit<C: Command>(&self, command: C) -> Result<Committed<C::Answer>, ApiError> {
        let store = self.store.clone();
        let hub = self.hub.clone();
        tokio::spawn(async move {
            let committed = store.write(command).await?;
            hub.publish(&committed);
            Ok::<_, ApiError>(committed)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    }

    /// Commits a contribution while the conversation is open. Once it is
    /// not, a retry of a request that did commit still gets its first
    /// answer (a client's offline queue may deliver it late); anything
    /// else is refused.
    pub async fn commit_open<C: Command>(
        &self,
        conversation: &crate::domain::Conversation,
        command: C,
    ) -> Result<Committed<C::Answer>, ApiError> {
        let Err(state) = conversation.check_open(crate::domain::Millis::now()) else {
            return self.commit(command).await;
        };
        if let Some(key) = command.request() {
            if let Some(recorded) = self.store.request(key.id).await? {
                return Ok(crate::store::write::replay::<C>(&key, &recorded)?);
            }
        }
        Err(ApiError::NotOpen(state))
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn router(state: AppState) -> Router {
    use api::{
        accounts, comment_pages, conversations, email_sign_in, health, invites, moderation,
        participation, return_phrase,
    };
    let api = Router::new()
        .route("/me", get(accounts::me))
        .route("/login", post(accounts::login))
        .route("/logout", post(accounts::logout))
        .route("/users", get(accounts::users).post(accounts::add_user))
        .route(
            "/conversations",
            get(conversations::list).post(conversations::create),
        )
        .route(
            "/conversations/{slug}",
            get(conversations::snapshot)
                .patch(conversations::update)
                .delete(api::organising::delete),
        )
        .route("/conversations/{slug}/order", put(api::organising::reorder))
        .route(
            "/conversations/{slug}/items",
            post(conversations::add_pledge),
        )
        .route(
            "/conversations/{slug}/items/{item}",
            axum::routing::patch(conversations::edit_pledge).delete(api::organising::remove_item),
        )
        .route(
            "/conversations/{slug}/participants",
            post(participation::sign_up),
        )
        .route(
            "/conversations/{slug}/items/{item}/vote",
            put(participation::vote),
        )
        .route(
            "/conversations/{slug}/items/{item}/comments",
            get(comment_pages::comments).post(participation::comment),
        )
        .route(
            "/conversations/{slug}/comments/{comment}/vote",
            put(participation::comment_vote),
        )
        .route(
            "/conversations/{slug}/comments/{comment}/flags",
            post(participation::flag),
        )
        .route("/conversations/{slug}/ideas", post(participation::idea))
        .route(
            "/conversations/{slug}/email-codes",
            post(email_sign_in::request_code),
        )
        .route(
            "/conversations/{slug}/email-codes/verify",
            post(email_sign_in::verify_code),
        )
        .route(
            "/conversations/{slug}/return",
            post(return_phrase::come_back),
        )
        .route(
            "/conversations/{slug}/me/return-phrase",
            post(return_phrase::reissue),
        )
        .route(
            "/conversations/{slug}/invites",
            get(invites::counts).post(invites::issue),
        )
        .route("/conversations/{slug}/invites/csv", post(invites::csv))
        .route("/conversations/{slug}/invites/sheet", post(invites::sheet))
        .route(
            "/conversations/{slug}/comments/{comment}/moderation",
            post(moderation::comment),
        )
        .route(
            "/conversations/{slug}/items/{item}/moderation",
            post(moderation::item),
        )
        .route(
            "/conversations/{slug}/moderation/comments",
            get(moderation::queue),
        )
        .route("/conversations/{slug}/events", get(moderation::events))
        .route(
            "/conversations/{slug}/display-tokens",
            post(moderation::display_token),
        )
        .route(
            "/conversations/{slug}/comments/{comment}/edit",
            post(moderation::edit),
        )
        .route(
            "/conversations/{slug}/comments/{comment}/original",
            get(moderation::original),
        )
        .route(
            "/conversations/{slug}/comments/{comment}/author",
            post(moderation::author),
        )
        .route(
            "/conversations/{slug}/events.csv",
            get(moderation::audit_csv),
        )
        .route("/conversations/{slug}/qr.svg", get(moderation::qr))
        .merge(api::report::routes())
        .merge(api::opinion::routes())
        .merge(api::self_service::routes())
        .fallback(|| async { ApiError::NotFound("endpoint".into()) })
        .layer(DefaultBodyLimit::max(
            state.settings.limits.body_bytes.get(),
        ))
        .layer(middleware::from_fn(json::json_writes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            same_origin_writes,
        ))
        .layer(compression(CompressionLevel::Fastest));
    Router::new()
        .nest("/api", api)
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(client::routes())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(compression(CompressionLevel::Default))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Below this many bytes an answer goes as it is: it fits in one TCP
/// packet either way, so compressing it saves no round trip and costs CPU
/// on the hottest paths (a vote's answer is about 200 bytes).
pub(crate) const COMPRESS_ABOVE: u16 = 1024;

/// gzip or brotli, whichever the client's `Accept-Encoding` prefers, for
/// the API's answers, the pages and their files, CSV and SVG exports.
/// The API's answers are made per request and compressed at the fastest
/// level (brotli quality 0, gzip level 1): profiled under 50 desk readers,
/// brotli at tower-http's default quality 4 took about a quarter of the
/// server's CPU for the moderation queue's 100-entry pages (docs/benchmarks.md).
/// Pages and their files keep quality 4: a browser downloads each once and
/// then revalidates it with its `ETag`. An answer already encoded (the kept
/// report, `encoded.rs`; or the API's, seen by the outer layer) is left
/// alone. Not compressed: anything at or below
/// [`COMPRESS_ABOVE`] bytes (a `304`, a `204`, a vote's answer), a
/// WebSocket upgrade (`101`; its frames are not HTTP bodies anyway),
/// images other than SVG (already compressed), event streams (which must
/// not wait for a compressor's buffer) and anything already encoded.
fn compression(
    level: CompressionLevel,
) -> tower_http::compression::CompressionLayer<impl Predicate> {
    use tower_http::compression::predicate::{NotForContentType, SizeAbove};
    let predicate = SizeAbove::new(COMPRESS_ABOVE)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(
            |status: StatusCode, _: Version, _: &HeaderMap, _: &Extensions| {
                status != StatusCode::SWITCHING_PROTOCOLS
            },
        );
    tower_http::compression::CompressionLayer::new()
        .gzip(true)
        .br(true)
        .quality(level)
        .compress_when(predicate)
}

/// Refuses state-changing requests from other sites (CSRF defence beside
/// SameSite cookies).
async fn same_origin_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if json::is_write(request.method()) {
        if let Some(origin) = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
        {
            if !auth::origin_allowed(
                origin,
                request.headers(),
                &state.settings.public_origins,
                state.listen_port,
            ) {
                return ApiError::Forbidden(format!("requests from {origin} are not accepted"))
                    .into_response();
            }
        }
    }
    next.run(request).await
}
