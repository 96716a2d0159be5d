//! Page handlers, one file per area. Each reads the request, calls one `forum` method and
//! renders a template.

pub mod accounts;
pub mod admin;
pub mod bans;
pub mod email;
pub mod follows;
pub mod forums;
pub mod leaving;
pub mod members;
pub mod moderation;
pub mod notifications;
pub mod registration;
pub mod reports;
pub mod search;
pub mod threads;
pub mod users;

use serde::Deserialize;

/// `?page=N`.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// 1-based page.
    pub page: Option<u32>,
}
