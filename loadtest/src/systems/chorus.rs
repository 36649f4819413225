//! chorus as the system under test: its binary, temporary store, admin and conversation.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use rand::Rng;
use reqwest::Client;
use tokio::process::Command;

use super::chorus_api::{Api, Snapshot};
use super::{Choice, Voter, START_TIMEOUT, STOP_GRACE};
use crate::chorus_env::{LISTENING_PREFIX, LOAD_TEST_ENV, LOG_ENV};
use crate::net::ws_base;
use crate::options::{Database, Options};
use crate::process::{run_with_input, spawn, ServerProcess};
use crate::subscriber::Held;

const ADMIN_NAME: &str = "loadtest-admin";

/// A running chorus (one or several nodes) with a conversation to load.
pub struct Chorus {
    pub bases: Vec<String>,
    pub slug: String,
    pub item_ids: Vec<String>,
    pub database: Option<Database>,
    /// The admin's session cookie, when the load test logged one in.
    pub admin: Option<String>,
    http: Client,
    nodes: Vec<ServerProcess>,
    store: Option<Store>,
    dir: Option<tempfile::TempDir>,
    keep: bool,
}

/// A temporary store, removed when the run ends.
enum Store {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

/// The chorus binary: the option, else the release build in the usual target dirs.
pub fn find_binary(opts: &Options) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &opts.chorus_bin {
        if bin.exists() {
            return Ok(bin.clone());
        }
        bail!("chorus binary {} does not exist", bin.display());
    }
    let workspace = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("release/chorus"));
    }
    candidates.push(PathBuf::from("/work/target/release/chorus"));
    candidates.push(workspace.join("target/release/chorus"));
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "no chorus release build (looked at {}): run `cargo build --release` first, or pass --chorus-bin",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn http_client() -> anyhow::Result<Client> {
    Ok(Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

/// A chorus command with only the load test's settings: `CHORUS_*` variables
/// inherited from the caller's shell would change what is measured (and
/// chorus refuses ones it does not know).
fn chorus_command(bin: &PathBuf) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CHORUS_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

async fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let mut cmd = Command::new("psql");
    cmd.args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]);
    run_with_input(cmd, "").await.map(|_| ())
}

impl Chorus {
    /// Starts `nodes` chorus processes on a fresh store (and Redis when several),
    /// creates an admin, logs in and creates a conversation with `opts.items` pledges.
    pub async fn start(opts: &Options, database: Database, nodes: usize) -> anyhow::Result<Chorus> {
        let bin = find_binary(opts)?;
        let dir = tempfile::Builder::new().prefix("chorus-lt-").tempdir()?;
        let (db_url, store) = match database {
            Database::Sqlite => (
                format!("sqlite://{}", dir.path().join("chorus.db").display()),
                Store::Sqlite,
            ),
            Database::Postgres => {
                let name = format!("chorus_lt_{}", random_token(10));
                let admin_url = format!("{}/postgres", opts.postgres_url.trim_end_matches('/'));
                psql(&admin_url, &format!("CREATE DATABASE {name}"))
                    .await
                    .context("creating the PostgreSQL database (is PostgreSQL running?)")?;
                (
                    format!("{}/{name}", opts.postgres_url.trim_end_matches('/')),
                    Store::Postgres { admin_url, name },
                )
            }
        };
        let mut chorus = Chorus {
            bases: Vec::new(),
            slug: format!("lt-{}", random_token(8)),
            item_ids: (0..opts.items)
                .map(|_| uuid::Uuid::new_v4().to_string())
                .collect(),
            database: Some(database),
            admin: None,
            http: http_client()?,
            nodes: Vec::new(),
            store: Some(store),
            dir: Some(dir),
            keep: opts.keep,
        };
        let started = chorus.start_nodes(opts, &bin, &db_url, nodes).await;
        if let Err(e) = started {
            chorus.stop().await;
            return Err(e);
        }
        Ok(chorus)
    }

    async fn start_nodes(
        &mut self,
        opts: &Options,
        bin: &PathBuf,
        db_url: &str,
        nodes: usize,
    ) -> anyhow::Result<()> {
        let dir = self.dir.as_ref().expect("temp dir").path().to_path_buf();
        // Migrations first (ignored if the command does not exist), then the admin.
        let mut migrate = chorus_command(bin);
        migrate.args(["migrate", "--database", db_url]);
        let _ = run_with_input(migrate, "").await;
        let password = random_token(32);
        let mut add = chorus_command(bin);
        add.args([
            "user",
            "add",
            "--role",
            "admin",
            ADMIN_NAME,
            "--database",
            db_url,
        ]);
        run_with_input(add, &format!("{password}\n"))
            .await
            .context("creating the admin with `chorus user add`")?;
        for node in 0..nodes {
            let mut cmd = chorus_command(bin);
            cmd.args(["serve", "--listen", "127.0.0.1:0", "--database", db_url]);
            if nodes > 1 {
                cmd.args(["--redis", &opts.redis_url]);
            }
            cmd.envs(LOAD_TEST_ENV.iter().copied())
                .env(LOG_ENV.0, LOG_ENV.1);
            let log = dir.join(format!("chorus-{node}.log"));
            let process = spawn(cmd, LISTENING_PREFIX, &log, START_TIMEOUT).await?;
            self.bases
                .push(process.base_url.trim_end_matches('/').to_string());
            self.nodes.push(process);
        }
        let api = self.api(0);
        let admin = api.login(ADMIN_NAME, &password).await?;
        api.create_conversation(&admin, &self.slug).await?;
        for (position, id) in self.item_ids.iter().enumerate() {
            api.add_pledge(&admin, &self.slug, id, position + 1).await?;
        }
        self.admin = Some(admin);
        Ok(())
    }

    /// A chorus someone else runs: `slug` names a conversation to use, else one is
    /// created with the admin credentials.
    pub async fn attach(opts: &Options, target: &str) -> anyhow::Result<Chorus> {
        let mut chorus = Chorus {
            bases: vec![target.trim_end_matches('/').to_string()],
            slug: opts
                .slug
                .clone()
                .unwrap_or_else(|| format!("lt-{}", random_token(8))),
            item_ids: Vec::new(),
            database: None,
            admin: None,
            http: http_client()?,
            nodes: Vec::new(),
            store: None,
            dir: None,
            keep: false,
        };
        let api = chorus.api(0);
        let admin = match &opts.admin {
            Some((name, password)) => Some(api.login(name, password).await?),
            None => None,
        };
        if opts.slug.is_none() {
            let admin = admin
                .as_deref()
                .ok_or_else(|| anyhow!("--target needs --slug or --admin NAME:PASSWORD"))?;
            api.create_conversation(admin, &chorus.slug).await?;
            let ids: Vec<String> = (0..opts.items)
                .map(|_| uuid::Uuid::new_v4().to_string())
                .collect();
            for (position, id) in ids.iter().enumerate() {
                api.add_pledge(admin, &chorus.slug, id, position + 1)
                    .await?;
            }
        }
        let snapshot = api.snapshot(&chorus.slug).await?;
        chorus.item_ids = snapshot.items.into_iter().map(|i| i.id).collect();
        chorus.admin = admin;
        Ok(chorus)
    }

    pub fn name(&self) -> String {
        match self.database {
            Some(db) => format!("chorus/{}", db.name()),
            None => "chorus".into(),
        }
    }

    pub fn api(&self, node: usize) -> Api<'_> {
        Api {
            http: &self.http,
            base: &self.bases[node % self.bases.len()],
        }
    }

    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|n| n.pid).collect()
    }

    pub fn ws_url(&self, node: usize) -> String {
        format!("{}/ws", ws_base(&self.bases[node % self.bases.len()]))
    }

    pub async fn sign_up(&self, node: usize) -> anyhow::Result<Voter> {
        let cookie = self.api(node).sign_up(&self.slug).await?;
        Ok(Voter {
            id: cookie.clone(),
            cookie: Some(cookie),
        })
    }

    pub async fn vote(
        &self,
        voter: &Voter,
        node: usize,
        item: usize,
        choice: Choice,
    ) -> anyhow::Result<Held> {
        let cookie = voter
            .cookie
            .as_deref()
            .ok_or_else(|| anyhow!("voter without a session"))?;
        self.api(node)
            .vote(cookie, &self.slug, &self.item_ids[item], choice.as_str())
            .await
    }

    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        self.api(0).snapshot(&self.slug).await
    }

    /// The snapshot's tallies in our item order (missing items fail the check).
    pub async fn snapshot_tallies(&self) -> anyhow::Result<Vec<Held>> {
        let snapshot = self.snapshot().await?;
        self.item_ids
            .iter()
            .map(|id| {
                snapshot
                    .items
                    .iter()
                    .find(|i| &i.id == id)
                    .map(|i| Held {
                        strong: i.strong,
                        wrong: i.wrong,
                        version: i.version,
                    })
                    .ok_or_else(|| anyhow!("item {id} missing from the snapshot"))
            })
            .collect()
    }

    /// Stops every node and removes the temporary store (unless kept).
    pub async fn stop(mut self) {
        for node in self.nodes.drain(..) {
            node.stop(STOP_GRACE).await;
        }
        if let Some(Store::Postgres { admin_url, name }) = self.store.take().filter(|_| !self.keep)
        {
            if let Err(e) = psql(
                &admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await
            {
                eprintln!("could not drop database {name}: {e}");
            }
        }
        if let Some(dir) = self.dir.take() {
            if self.keep {
                eprintln!("chorus data and logs kept in {}", dir.keep().display());
            }
        }
    }

    /// Where the node logs are (for error messages).
    pub fn log_dir(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().to_path_buf())
    }
}
