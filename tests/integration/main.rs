//! Staffroom's integration tests: one binary, the real server on port 0, a database of its own
//! per test, driven over HTTP through both the HTML forms and the JSON API.

mod support;

mod accessibility;
mod accounts;
mod api;
mod bans;
mod browser;
mod cli;
mod connections;
mod context_backfill;
mod conversation;
mod delivery;
mod editing;
mod email;
mod email_tls;
mod federation;
mod fixtures;
mod following;
mod forums;
mod hardening;
mod instance_blocks;
mod layers;
mod leaving;
mod members_only;
mod migrations;
mod moderation;
mod notification_pages;
mod notifications;
mod notifications_federated;
mod other_software;
mod page_cache;
mod pins;
mod processes;
mod profiles;
mod properties;
mod query_plans;
mod reading;
mod registration;
mod reports;
mod search;
mod thread_following;
mod threads;
