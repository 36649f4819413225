//! Builds chorus from settings and runs it. `Application::build` binds the
//! listener first (port 0 picks a free port, which tests use), so the
//! address is known before anything is served.
//!
//! Shutdown is explicit, in order: stop accepting connections, cancel the
//! shared token (every WebSocket closes with 1012 and every topic task
//! ends), wait for every tracked task (bounded by `shutdown_timeout_s`),
//! then close the store, whose writer commits what it holds first.

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::http::cache::Ttl;
use crate::http::rate::{forget_idle_keys, RateLimits};
use crate::http::{router, AppState, Shared};
use crate::hub::bus::local::LocalBus;
use crate::hub::bus::redis::RedisBus;
use crate::hub::Hub;
use crate::store::{self, Store};

pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// Tasks besides connections (topics, limiter sweeps).
    background: TaskTracker,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let store = store::connect(&settings.database_url, &settings.store).await?;
        Application::with_store(settings, store).await
    }

    pub async fn with_store(
        settings: Settings,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(settings.listen_addr()).await?;
        let shutdown = CancellationToken::new();
        let background = TaskTracker::new();
        let node_id = if settings.node_id.is_empty() {
            format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
        } else {
            settings.node_id.clone()
        };
        let hub = Hub::new(
            node_id,
            settings.hub.clone(),
            store.clone(),
            background.clone(),
            shutdown.clone(),
        );
        match settings.redis() {
            None => hub.attach_bus(Arc::new(LocalBus::new(Arc::downgrade(&hub)))),
            Some(url) => {
                let bus =
                    RedisBus::connect(url, Arc::downgrade(&hub), &background, shutdown.clone())
                        .await
                        .map_err(|e| anyhow::anyhow!("redis_url: cannot connect to {url}: {e}"))?;
                hub.attach_bus(bus);
            }
        }
        let limits = Arc::new(RateLimits::new(&settings.rate, &settings.ws));
        background.spawn(forget_idle_keys(limits.clone(), shutdown.clone()));
        background.spawn(crate::upkeep::announce_deadlines(
            store.clone(),
            hub.clone(),
            shutdown.clone(),
        ));
        let retention = Duration::from_secs(settings.store.request_retention_hours.get() * 3600);
        background.spawn(crate::upkeep::prune_requests(
            store.clone(),
            retention,
            shutdown.clone(),
        ));
        background.spawn(crate::upkeep::prune_sessions(
            store.clone(),
            shutdown.clone(),
        ));
        let state = AppState::new(Shared {
            settings,
            store,
            hub,
            limits,
            connections: Arc::new(AtomicUsize::new(0)),
            shutdown,
            connection_tasks: TaskTracker::new(),
            metrics: crate::telemetry::metrics(),
            listen_port: listener.local_addr()?.port(),
            conversations: Ttl::new(Duration::from_secs(1), 10_000),
            participants: Ttl::new(Duration::from_secs(10), 200_000),
            opinions: Default::default(),
            heavy_work: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            ),
        });
        Ok(Application {
            listener,
            state,
            background,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    /// The token that stops the application (tests cancel it directly).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Serves until the shutdown token is cancelled, then shuts down cleanly.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            listener,
            state,
            background,
        } = self;
        let shutdown = state.shutdown.clone();
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .await?;
        let timeout = state.settings.shutdown_timeout();
        state.connection_tasks.close();
        background.close();
        let waited = tokio::time::timeout(timeout, async {
            state.connection_tasks.wait().await;
            background.wait().await;
        })
        .await;
        if waited.is_err() {
            tracing::warn!(?timeout, "some connections did not close in time");
        }
        state.store.close().await;
        tracing::info!("chorus stopped");
        Ok(())
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
