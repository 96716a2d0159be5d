//! Servers this instance does not federate with: those in the configuration file
//! (`federation.blocked_instances`) and those administrators block at `/admin/instances`. The
//! list is held in memory for the check every activity, fetch and delivery passes; a block made
//! here takes effect at once in this process, and every process sharing the database reads
//! the list again every few seconds ([`Site::reload_instance_blocks`]).

use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;

use super::{require_admin, Site, User};
use crate::db::{self, instance_blocks, moderation};
use crate::error::{ForumError, Validator};

/// The blocked domains as they stand, shared between the site and the checks that read them
/// (cheap to clone: every clone sees every change).
#[derive(Debug, Clone, Default)]
pub struct BlockList(Arc<RwLock<Arc<Vec<String>>>>);

impl BlockList {
    /// A list holding `domains`.
    pub fn new(domains: Vec<String>) -> BlockList {
        BlockList(Arc::new(RwLock::new(Arc::new(domains))))
    }

    /// The domains now.
    pub fn get(&self) -> Arc<Vec<String>> {
        match self.0.read() {
            Ok(list) => list.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, domains: Vec<String>) {
        let domains = Arc::new(domains);
        match self.0.write() {
            Ok(mut held) => *held = domains,
            Err(poisoned) => *poisoned.into_inner() = domains,
        }
    }
}

/// A blocked server, as the admin page lists it.
#[derive(Debug, Clone)]
pub struct BlockedInstance {
    /// Its domain.
    pub domain: String,
    /// Why (empty for the configuration file's).
    pub reason: String,
    /// The administrator who blocked it.
    pub by: Option<User>,
    /// When.
    pub at: Option<NaiveDateTime>,
    /// Blocked by the configuration file (removed only there).
    pub configured: bool,
}

/// A domain as an administrator types it: `host` or `host:port`, lowercase, without a scheme,
/// path or trailing dot (an address pasted whole is cut down to its server).
fn domain_of_input(input: &str) -> Result<String, String> {
    let text = input.trim().to_ascii_lowercase();
    let text = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(&text);
    let host = text.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    if host.is_empty() {
        return Err("Give the server's domain, such as lemmy.example.".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    {
        return Err(format!(
            "“{host}” is not a server's domain, such as lemmy.example."
        ));
    }
    Ok(host.to_string())
}

impl Site {
    /// The blocked domains (the configuration file's and the administrators'), kept current.
    pub fn block_list(&self) -> BlockList {
        self.inner.blocked.clone()
    }

    /// Reads the administrators' blocks from the database again, with the configuration
    /// file's.
    pub async fn reload_instance_blocks(&self) -> Result<(), ForumError> {
        let rows = self
            .blocking(|_inner, conn| Ok(instance_blocks::all(conn)?))
            .await?;
        let mut list = self.settings().federation.blocked_instances.clone();
        list.extend(rows.into_iter().map(|b| b.domain));
        self.inner.blocked.set(list);
        Ok(())
    }

    /// Every blocked server (administrators): the configuration file's first, then the
    /// administrators', in the order blocked.
    pub async fn instance_blocks(&self, by: User) -> Result<Vec<BlockedInstance>, ForumError> {
        require_admin(&by)?;
        let configured: Vec<BlockedInstance> = self
            .settings()
            .federation
            .blocked_instances
            .iter()
            .map(|domain| BlockedInstance {
                domain: domain.clone(),
                reason: String::new(),
                by: None,
                at: None,
                configured: true,
            })
            .collect();
        self.blocking(move |_inner, conn| {
            let rows = instance_blocks::all(conn)?;
            let mut ids: Vec<i64> = rows.iter().filter_map(|b| b.created_by_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let people = moderation::people(conn, &ids)?;
            let mut all = configured;
            all.extend(rows.into_iter().map(|b| {
                BlockedInstance {
                    by: b
                        .created_by_id
                        .and_then(|id| people.iter().find(|u| u.id == id).cloned()),
                    domain: b.domain,
                    reason: b.reason,
                    at: Some(b.created_at),
                    configured: false,
                }
            }));
            Ok(all)
        })
        .await
    }

    /// Blocks a server (administrators), with an optional reason, at once: nothing more is taken
    /// from it, fetched from it or delivered to it. Not this instance itself; a server blocked
    /// already stays as it was. Answers the domain as stored.
    pub async fn block_instance(
        &self,
        by: User,
        domain: String,
        reason: String,
    ) -> Result<String, ForumError> {
        require_admin(&by)?;
        let mut v = Validator::new();
        let domain = v.check("domain", domain_of_input(&domain));
        let reason = v.check(
            "reason",
            super::types::single_line(&reason, "A reason", super::types::Reason::MAX_CHARS, false),
        );
        let own = url::Url::parse(self.urls().base())
            .ok()
            .as_ref()
            .and_then(super::remote::domain_of);
        if domain.is_some() && domain == own {
            v.check::<()>("domain", Err("That is this instance.".into()));
        }
        let (Some(domain), Some(reason), true) = (domain, reason, v.is_empty()) else {
            return Err(v.into_error());
        };
        let stored = domain.clone();
        self.blocking(move |_inner, conn| {
            instance_blocks::insert(conn, &stored, &reason, by.id, db::now())?;
            Ok(())
        })
        .await?;
        self.reload_instance_blocks().await?;
        Ok(domain)
    }

    /// Unblocks a server an administrator blocked (administrators); one blocked by the
    /// configuration file is unblocked only there (`configured_block`); 404 when it is not
    /// blocked.
    pub async fn unblock_instance(&self, by: User, domain: String) -> Result<(), ForumError> {
        require_admin(&by)?;
        let domain = domain_of_input(&domain).map_err(|_| ForumError::NotFound {
            what: "blocked instance",
        })?;
        let removed = {
            let domain = domain.clone();
            self.blocking(move |_inner, conn| Ok(instance_blocks::delete(conn, &domain)?))
                .await?
        };
        self.reload_instance_blocks().await?;
        if removed {
            return Ok(());
        }
        if self
            .settings()
            .federation
            .blocked_instances
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&domain))
        {
            return Err(ForumError::forbidden(
                "configured_block",
                "That server is blocked in the configuration file (federation.blocked_instances); unblock it there",
            ));
        }
        Err(ForumError::NotFound {
            what: "blocked instance",
        })
    }
}
