//! The `staffroom` command: parse the command line, load the settings, start logging, run.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use staffroom::app::{open_site, Application};
use staffroom::config::Settings;
use staffroom::error::ForumError;
use staffroom::forum::accounts::{Registrar, Registration};

/// Staffroom: a federated discussion forum server for practitioner communities.
///
/// With no command it serves the web pages and the API. Settings come from the compiled-in
/// config/default.toml, then --config FILE, then STAFFROOM__SECTION__KEY variables.
#[derive(Parser)]
#[command(name = "staffroom", version)]
struct Cli {
    /// A TOML file of settings that override the defaults (see config/default.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Administration tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account. The password comes from STAFFROOM_PASSWORD, or is asked for.
    CreateUser {
        /// Username: 3-30 of a-z, 0-9 and _.
        name: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// The name shown beside posts (defaults to the username).
        #[arg(long, value_name = "NAME")]
        display_name: Option<String>,
    },
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.filter));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("STAFFROOM_PASSWORD") {
        return Ok(p);
    }
    let first = rpassword::prompt_password("Password (at least 10 characters): ")
        .context("cannot read a password from the terminal; set STAFFROOM_PASSWORD instead")?;
    let second = rpassword::prompt_password("Password again: ")?;
    if first != second {
        anyhow::bail!("the two passwords are not the same");
    }
    Ok(first)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    init_logging(&settings);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings.clone()).await?;
            tracing::info!(
                "Staffroom {} listening on {}:{}, public URL {}",
                env!("CARGO_PKG_VERSION"),
                settings.server.host,
                app.port(),
                settings.base_url()
            );
            if !app.site().admin_exists().await? {
                tracing::warn!(
                    "no administrator yet: run `staffroom admin create-user NAME --admin`"
                );
            }
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            open_site(settings).await?;
            println!("The database is up to date.");
        }
        Command::Admin(AdminCommand::CreateUser {
            name,
            admin,
            display_name,
        }) => {
            let site = open_site(settings).await?;
            let password = read_password()?;
            let result = site
                .register(
                    Registration {
                        username: name,
                        display_name: display_name.unwrap_or_default(),
                        password,
                        ..Default::default()
                    },
                    Registrar::Console { admin },
                )
                .await;
            match result {
                Ok(user) => println!(
                    "Created {} {} ({}).",
                    if user.is_admin {
                        "administrator"
                    } else {
                        "user"
                    },
                    user.name,
                    site.urls().user(&user)
                ),
                Err(ForumError::Invalid(invalid)) => {
                    for f in &invalid.fields {
                        eprintln!("{}: {}", f.field, f.message);
                    }
                    std::process::exit(2);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
