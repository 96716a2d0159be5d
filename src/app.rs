//! The application: binds its listener first (so it knows its port, 0 in tests), opens the
//! database, builds the service ([`Site`]), the federation configuration and the resolver it
//! hands to the HTTP layers ([`AppState`]), and the HTTP server with the routes of `web`, `api`
//! and `federation` and the middleware every request passes (request ids, security headers,
//! CSRF). The only module that imports every layer: it wires them, it holds no rules.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::error::{PathError, QueryPayloadError, UrlencodedError};
use actix_web::{middleware, App, HttpRequest, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::db::Db;
use crate::error::wants_json;
use crate::forum::remote::Resolver;
use crate::forum::Site;
use crate::state::AppState;
use crate::web::{session, PageError};

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    site: Site,
    background: Vec<tokio::task::AbortHandle>,
}

/// The Content-Security-Policy of every response: no scripts at all, styles and images from
/// here only (images in posts are shown as links, so a reader's browser never asks another
/// server for anything), forms post here only.
const CSP: &str = "default-src 'self'; script-src 'none'; style-src 'self'; \
                   img-src 'self'; frame-ancestors 'none'; form-action 'self'; \
                   base-uri 'none'";

impl Application {
    /// Binds `server.host:server.port`, then builds.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener =
            TcpListener::bind(&address).with_context(|| format!("cannot listen on {address}"))?;
        Application::from_listener(settings, listener).await
    }

    /// Builds on a listener already bound (tests bind port 0 and set `public_url` from it).
    pub async fn from_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        // reqwest (outgoing ActivityPub requests) is built without a TLS provider of its own.
        crate::federation::install_tls_provider();
        let site = open_site(settings.clone()).await?;
        let mut background = Vec::new();
        let federation = if settings.federation.enabled {
            let config = crate::federation::config(site.clone()).await?;
            background.push(crate::federation::delivery::spawn(config.clone()).abort_handle());
            background.push(
                crate::federation::activities::backfill::spawn_refresh(config.clone())
                    .abort_handle(),
            );
            Some(config)
        } else {
            None
        };
        let federate = federation.is_some();
        let resolver = federation.as_ref().map(|config| {
            Arc::new(crate::federation::resolve::Finder::new(config.clone())) as Arc<dyn Resolver>
        });
        if let Some(resolver) = &resolver {
            site.use_resolver(resolver);
        }
        let state = actix_web::web::Data::new(AppState {
            site: site.clone(),
            federation,
            resolver,
            pages: crate::page_cache::PageCache::new(
                settings.server.page_cache_seconds,
                settings.server.page_cache_megabytes,
            ),
        });
        let limit = settings.limits.request_max_bytes();
        // Over https, browsers are told to keep to https (a year, as is usual for HSTS).
        let hsts = settings
            .secure_cookies()
            .then_some(("Strict-Transport-Security", "max-age=31536000"));
        let workers = match settings.server.workers {
            0 => crate::config::cores(),
            n => n,
        };
        let blocking = blocking_threads(&settings);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(
                    actix_web::web::FormConfig::default()
                        .limit(limit)
                        .error_handler(form_error),
                )
                .app_data(
                    actix_web::web::JsonConfig::default()
                        .limit(limit)
                        .error_handler(crate::api::json_error),
                )
                .app_data(actix_web::web::PayloadConfig::default().limit(limit))
                .app_data(actix_web::web::QueryConfig::default().error_handler(query_error))
                .app_data(actix_web::web::PathConfig::default().error_handler(path_error))
                // Innermost: the CSRF cookie, `Vary` and the other headers are added around what
                // it serves, as around any answer.
                .wrap(middleware::from_fn(crate::page_cache::serve))
                .wrap(middleware::from_fn(session::csrf_and_notice))
                .wrap(middleware::from_fn(plain_requests))
                .wrap({
                    let headers = middleware::DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin"))
                        .add(("Content-Security-Policy", CSP));
                    match hsts {
                        Some(h) => headers.add(h),
                        None => headers,
                    }
                })
                .wrap(middleware::Compress::default())
                .wrap(middleware::from_fn(crate::error::request_ids))
                .wrap(TracingLogger::default())
                .configure(crate::api::routes)
                .configure(|cfg| {
                    // First, so ActivityPub requests for the pages' URLs reach it.
                    if federate {
                        crate::federation::routes(cfg);
                    }
                })
                .configure(crate::web::routes)
                .default_service(actix_web::web::to(crate::web::not_found))
        })
        .workers(workers)
        .worker_max_blocking_threads(blocking)
        .listen(listener)?
        .run();

        if let Some(mailer) = crate::mail::spawn(site.clone())? {
            background.push(mailer.abort_handle());
        }
        // Blocks made by another process sharing the database are followed within seconds.
        let blocks = site.clone();
        let reload = tokio::spawn(async move {
            let mut every_few_seconds = tokio::time::interval(Duration::from_secs(10));
            loop {
                every_few_seconds.tick().await;
                if let Err(e) = blocks.reload_instance_blocks().await {
                    tracing::warn!(error = %e, "reading the blocked instances failed");
                }
            }
        });
        background.push(reload.abort_handle());
        let housekeeping = site.clone();
        let chores = tokio::spawn(async move {
            let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every_hour.tick().await;
                if let Err(e) = housekeeping.housekeeping().await {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
            }
        });
        background.push(chores.abort_handle());
        Ok(Application {
            port,
            server,
            site,
            background,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The site service (tests use it to set up data and read the query counter).
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Handles of the background tasks (delivery, housekeeping), which run apart from the HTTP
    /// server: aborting them is how a test stops an instance completely.
    pub fn background_tasks(&self) -> Vec<tokio::task::AbortHandle> {
        self.background.clone()
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (Ctrl-C, SIGTERM or the handle).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// How many blocking threads each HTTP worker may run at once: one per pooled connection (a
/// request's database work runs on one and holds a connection while it does) and one per core
/// for password hashing (`forum::password` runs at most that many hashes). actix's default is
/// 256 per worker on two cores: under 64 readers each worker kept about 60 threads alive, most
/// of them only waiting for a connection, each with its own stack and malloc arena.
fn blocking_threads(settings: &Settings) -> usize {
    settings.database.pool_size as usize + crate::config::cores()
}

/// Opens the database (applying migrations) and builds the site service on it.
pub async fn open_site(settings: Settings) -> anyhow::Result<Site> {
    let url = settings.database.url.clone();
    let (size, idle_check) = (settings.database.pool_size, settings.database.idle_check());
    let db = tokio::task::spawn_blocking(move || Db::connect(&url, size, idle_check))
        .await
        .context("opening the database was interrupted")?
        .with_context(|| format!("cannot open the database at {}", settings.database.url))?;
    let site = Site::new(db, settings);
    site.reload_instance_blocks()
        .await
        .context("reading the blocked instances")?;
    Ok(site)
}

/// Two things every request gets before routing:
/// - an address with a NUL byte (`%00`) in its path or query is refused with 400: no name,
///   number or page here has one, and PostgreSQL refuses NUL in text where SQLite does not, so
///   this keeps the two databases answering alike;
/// - `HEAD` is answered as `GET` would be: the router sees `GET`, and the HTTP layer, which
///   knows the request was `HEAD`, sends the headers (with the length) and no body.
async fn plain_requests(
    mut req: actix_web::dev::ServiceRequest,
    next: middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let address = req.uri().path_and_query().map_or("", |p| p.as_str());
    if address.contains("%00") {
        return Err(if wants_json(req.request()) {
            crate::error::JsonError::new(
                400,
                "invalid_address",
                "The address has a NUL character (%00) in it.",
            )
            .into()
        } else {
            PageError::for_request(
                req.request(),
                400,
                "The address has a character in it (%00) that no page here has.",
            )
            .into()
        });
    }
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

fn form_error(err: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let page = match err {
        UrlencodedError::Overflow { .. } => PageError::for_request(
            req,
            413,
            "What you sent is larger than this server accepts. Shorten the post and try again.",
        ),
        _ => PageError::for_request(
            req,
            400,
            "The form could not be read. Reload the page and try again.",
        ),
    };
    page.into()
}

fn query_error(err: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    if wants_json(req) {
        crate::error::JsonError::new(
            400,
            "invalid_query",
            format!("The query string is not valid: {err}"),
        )
        .into()
    } else {
        PageError::for_request(req, 400, "The address has a mistake in it (after the ?).").into()
    }
}

fn path_error(_err: PathError, req: &HttpRequest) -> actix_web::Error {
    if wants_json(req) {
        crate::error::JsonError::new(404, "not_found", "Nothing is at this address.").into()
    } else {
        PageError::for_request(req, 404, "There is no page at this address.").into()
    }
}
