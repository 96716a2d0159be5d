//! Staffroom: a federated discussion forum server for practitioner communities.
//!
//! # Architecture
//!
//! Dependencies point one way: `web`, `api` (and, next, `federation`) call `forum`; `forum`
//! calls `db`.
//!
//! - [`config`]: [`config::Settings`] from `config/default.toml` <- `--config FILE` <-
//!   `STAFFROOM__SECTION__KEY`. No global settings: several instances live in one process.
//! - [`app`]: [`app::Application`] binds its listener first, then builds the server.
//! - [`error`]: which error type each layer returns, and the stable error codes.
//! - [`forum`]: the domain (accounts, forums, threads, posts and their rules). No HTTP.
//! - [`db`]: the pool, the SQLite/PostgreSQL connection enum, the schema, one file per table.
//! - [`web`]: server-rendered HTML pages, forms, sessions, CSRF, feeds, the stylesheet.
//! - [`api`]: the JSON API under `/api/v1`.
//! - [`federation`]: ActivityPub: WebFinger, NodeInfo and the ActivityPub form of every
//!   canonical URL (more to come: inboxes and delivery).

pub mod api;
pub mod app;
pub mod config;
pub mod db;
pub mod error;
pub mod federation;
pub mod forum;
pub mod state;
pub mod web;
