//! Staffroom: a federated discussion forum server for practitioner communities.
//!
//! # Architecture
//!
//! Dependencies point one way: `web`, `api`, `federation` and `mail` call `forum`; `forum` calls
//! `db`.
//! The three HTTP layers never import one another: what they share sits below them, in `state`
//! and `error`; what one needs of another goes through the domain (the [`forum::remote::Resolver`]
//! capability that `federation` implements and `app` wires in). `tests/integration/layers.rs`
//! reads `src/` and fails when a file breaks these rules:
//!
//! - `db` imports no layer above it;
//! - `forum` imports no HTTP, ActivityPub, page or mail code (no `web`, `api`, `federation`,
//!   `mail`, `state`, nor actix, reqwest, askama, activitypub_federation or lettre);
//! - `web`, `api`, `federation` and `mail` import none of each other, nor `db`;
//! - `state`, `page_cache`, `error` and `config` import none of the layers above them.
//!
//! The modules:
//!
//! - [`config`]: [`config::Settings`] from `config/default.toml` <- `--config FILE` <-
//!   `STAFFROOM__SECTION__KEY`. No global settings: several instances live in one process.
//! - [`app`]: [`app::Application`] binds its listener first, then opens the database, builds the
//!   service, the federation configuration and the HTTP server, and wires the layers' routes.
//! - [`error`]: which error type each layer returns, the stable error codes, the JSON error
//!   body, whether a request is answered in JSON or HTML, and request ids on 5xx answers.
//! - [`state`]: [`state::AppState`], what every HTTP handler shares.
//! - [`page_cache`]: pages as anonymous visitors see them, kept while nothing is written and
//!   served to the next (the middleware, and `shared`, with which a handler offers its answer).
//! - [`forum`]: the domain, behind one service, [`forum::Site`]: accounts, forums, threads and
//!   posts with their rules (one file each), moderation (who moderates, locks, pins, the log),
//!   and federation's domain side: follows, remote
//!   actors and objects, the durable outbox, delivery scheduling and its retry policy. No HTTP.
//! - [`db`]: the pool, the SQLite/PostgreSQL connection enum, the schema, one file per table.
//! - [`web`]: server-rendered HTML pages, forms, sessions, CSRF, feeds, the stylesheet.
//! - [`api`]: the JSON API under `/api/v1`, one file per resource.
//! - [`mail`]: the mailer: composes what the domain wrote to the mail outbox and sends it
//!   over SMTP, trying again later when the mail server fails.
//! - [`federation`]: ActivityPub: the wire types (`protocol`), receiving and sending by family
//!   of activities (`activities`), planning what each outbox event becomes (`outgoing`), the
//!   delivery worker, actors and objects as the protocol crate sees them, the HTTP handlers
//!   (`handlers`: actors, objects, inboxes, WebFinger, NodeInfo), finding things elsewhere
//!   (`resolve`) and signature checks.

pub mod api;
pub mod app;
pub mod config;
pub mod db;
pub mod error;
pub mod federation;
pub mod forum;
pub mod mail;
pub mod page_cache;
pub mod state;
pub mod web;
