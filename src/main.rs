//! The `chorus` command: serve, migrate, manage users, import conversations.

use std::io::{BufRead, IsTerminal, Write as _};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use uuid::Uuid;

use chorus::config::Settings;
use chorus::demo::{self, ConversationFile};
use chorus::domain::Role;
use chorus::http::auth::hash_password;
use chorus::startup::{shutdown_signal, Application};
use chorus::store::{self, write, StoreError};

#[derive(Parser)]
#[command(
    name = "chorus",
    version,
    about = "Real-time, anonymous open conversations"
)]
struct Cli {
    /// A TOML file of settings (see config/default.toml).
    #[arg(long, global = true, env = "CHORUS_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://... (overrides the settings).
    #[arg(long, global = true)]
    database: Option<String>,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080 (port 0: any free port).
        #[arg(long)]
        listen: Option<String>,
        /// Redis URL for cluster mode.
        #[arg(long)]
        redis: Option<String>,
        /// Load the demo conversation and print a login to try it.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Facilitator and admin accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Conversations.
    Conversation {
        #[command(subcommand)]
        command: ConversationCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account; the password is read from the terminal or stdin.
    Add {
        #[arg(long, value_parser = ["facilitator", "admin"])]
        role: String,
        name: String,
    },
}

#[derive(Subcommand)]
enum ConversationCommand {
    /// Create or update a conversation from a TOML file.
    Import { file: PathBuf },
    /// Write a conversation's report to stdout as CSV or JSON (docs/report.md).
    Export {
        slug: String,
        #[arg(long, value_parser = ["csv", "json"], default_value = "json")]
        format: String,
        /// The CSV table.
        #[arg(long, value_parser = ["items", "comments", "groups", "days"], default_value = "items")]
        table: String,
        /// `public`: what participants may see; `organisers`: also hidden
        /// and pending items and moderation counts (never their text).
        #[arg(long, value_parser = ["public", "organisers"], default_value = "public")]
        view: String,
    },
}

fn main() {
    // Before the runtime's threads exist, so that they share the arenas too.
    chorus::allocator::limit_arenas();
    chorus::allocator::keep_trimmed(chorus::allocator::TRIM_EVERY);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the runtime starts");
    if let Err(error) = runtime.block_on(run()) {
        eprintln!("chorus: {error:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        listen: None,
        redis: None,
        demo: false,
    });
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(database) = cli.database {
        settings.database_url = database;
    }
    if let Command::Serve { listen, redis, .. } = &command {
        if let Some(listen) = listen {
            settings.listen = listen.clone();
        }
        if let Some(redis) = redis {
            settings.redis_url = redis.clone();
        }
    }
    settings.validate()?;
    chorus::telemetry::init_logging(&settings.log, false);
    match command {
        Command::Serve { demo, .. } => serve(settings, demo).await,
        Command::Migrate => {
            let store = store::connect(&settings.database_url, &settings.store).await?;
            store.close().await;
            println!("migrations applied to {}", settings.database_url);
            Ok(())
        }
        Command::User {
            command: UserCommand::Add { role, name },
        } => {
            let role = role.parse::<Role>().expect("clap checked");
            let name = name.trim().to_string();
            anyhow::ensure!(
                !name.is_empty() && name.len() <= 64,
                "the name must be 1 to 64 characters"
            );
            let password = read_password()?;
            anyhow::ensure!(
                password.chars().count() >= 8,
                "the password must be at least 8 characters"
            );
            let store = store::connect(&settings.database_url, &settings.store).await?;
            let result = store
                .write(write::CreateUser {
                    id: Uuid::new_v4(),
                    name: name.clone(),
                    role,
                    password_hash: hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?,
                })
                .await;
            store.close().await;
            result?;
            println!("added {} {name}", role.as_str());
            Ok(())
        }
        Command::Conversation {
            command: ConversationCommand::Import { file },
        } => {
            let file = ConversationFile::read(&file)?;
            let store = store::connect(&settings.database_url, &settings.store).await?;
            let result = demo::import(store.as_ref(), file).await;
            store.close().await;
            let (slug, created) = result?;
            println!(
                "{} conversation {slug}",
                if created { "created" } else { "updated" }
            );
            Ok(())
        }
        Command::Conversation {
            command:
                ConversationCommand::Export {
                    slug,
                    format,
                    table,
                    view,
                },
        } => {
            use chorus::report::{self, export};
            let store = store::connect(&settings.database_url, &settings.store).await?;
            let found = store.conversation_by_slug(&slug).await;
            let data = match found {
                Ok(Some(c)) => store.report_data(c.id).await,
                Ok(None) => Err(StoreError::NotFound("conversation")),
                Err(e) => Err(e),
            };
            store.close().await;
            let data = data.with_context(|| format!("reading conversation {slug:?}"))?;
            let options = report::Options {
                view: if view == "organisers" {
                    report::View::Organisers
                } else {
                    report::View::Public
                },
                min_group_size: settings.report.min_group_size.get() as usize,
                min_votes: settings.report.min_votes_to_place.get() as usize,
                opinion: format != "csv",
                now: chorus::domain::Millis::now(),
            };
            let report = report::build(&data, &options);
            let text = if format == "csv" {
                let table = export::Table::parse(&table).context("unknown table")?;
                export::csv(&data, &report, table)
            } else {
                serde_json::to_string_pretty(&export::json(&data, &report))? + "\n"
            };
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            Ok(())
        }
    }
}

async fn serve(settings: Settings, with_demo: bool) -> anyhow::Result<()> {
    let app = Application::build(settings)
        .await
        .context("starting chorus")?;
    let address = app.address();
    let mut demo_lines = Vec::new();
    if with_demo {
        let store = app.store();
        let (slug, _) =
            demo::import(store.as_ref(), ConversationFile::parse(demo::DEMO_TOML)?).await?;
        let password = Uuid::new_v4().simple().to_string()[..12].to_string();
        let hash = hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
        let created = store
            .write(write::CreateUser {
                id: Uuid::new_v4(),
                name: "demo".into(),
                role: Role::Admin,
                password_hash: hash.clone(),
            })
            .await;
        match created {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                store
                    .write(write::SetPassword {
                        name: "demo".into(),
                        password_hash: hash,
                    })
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
        demo_lines.push(format!("demo conversation: http://{address}/c/{slug}"));
        demo_lines.push(format!(
            "facilitator desk:  http://{address}/desk/{slug}  (log in as demo / {password})"
        ));
    }
    let token = app.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested");
        token.cancel();
    });
    let mut stdout = std::io::stdout();
    writeln!(stdout, "chorus listening on http://{address}")?;
    for line in demo_lines {
        writeln!(stdout, "{line}")?;
    }
    stdout.flush()?;
    app.run_until_stopped().await
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
