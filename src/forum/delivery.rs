//! Delivery scheduling: which instances are due, the next delivery for each, and what a
//! success or failure does to an instance's queue. The retry policy lives here
//! ([`retry_delay`], [`Site::delivery_failed`]); the worker that sends (in `federation`) asks
//! these questions and does the HTTP.
//!
//! Instances are claimed with a lease in the database, so several processes sharing one
//! PostgreSQL never deliver to the same instance at the same time.

use std::sync::{Arc, PoisonError};

use chrono::{NaiveDateTime, TimeDelta};

use super::outbox::Signer;
use super::Site;
use crate::db;
use crate::db::outbox::{self, Waiting};
use crate::error::ForumError;

/// How often a server's `last_heard_at` is written at the most.
const HEARD_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// Servers remembered as heard from lately, at the most (past it the memory starts afresh).
const HEARD_MOST: usize = 100_000;

/// How long what a server runs is trusted before it is looked up again.
const SOFTWARE_RECHECK: TimeDelta = TimeDelta::days(1);

/// An instance's delivery state (its queue's failures, lease and whether it is dead).
pub use crate::db::outbox::Instance;

/// The next delivery for an instance.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `deliveries.id`.
    pub id: i64,
    /// The inbox.
    pub inbox: String,
    /// The activity's id.
    pub activity_ap_id: String,
    /// The JSON.
    pub body: String,
    /// Who signs it.
    pub signer: Signer,
}

/// How long to wait after `failures` failures in a row: `base × 1.25^failures` seconds, capped at
/// `max_secs` (a day by default).
pub fn retry_delay(base_secs: f64, max_secs: f64, failures: i64) -> TimeDelta {
    let exponent = i32::try_from(failures.clamp(0, 200)).unwrap_or(200);
    let secs = (base_secs * 1.25f64.powi(exponent)).min(max_secs);
    TimeDelta::milliseconds((secs * 1000.0) as i64)
}

impl Site {
    /// Instances due for delivery, each claimed by the worker `owner` for `lease`.
    pub async fn claim_due_instances(
        &self,
        limit: i64,
        owner: Arc<str>,
        lease: TimeDelta,
    ) -> Result<Vec<Instance>, ForumError> {
        self.blocking(move |_inner, conn| {
            let now = db::now();
            let due = outbox::due_instances(conn, now, limit)?;
            if due.is_empty() {
                return Ok(due);
            }
            let ids: Vec<i64> = due.iter().map(|i| i.id).collect();
            let claimed =
                conn.in_turn(|conn| outbox::claim(conn, &ids, &owner, now, now + lease))?;
            Ok(due
                .into_iter()
                .filter(|i| claimed.contains(&i.id))
                .collect())
        })
        .await
    }

    /// The oldest `limit` deliveries waiting for an instance, in order. One whose activity has
    /// lost its signer (the account is gone) can never be sent: it is dropped here.
    pub async fn next_deliveries(
        &self,
        instance_id: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, ForumError> {
        self.blocking(move |_inner, conn| {
            let mut out = Vec::new();
            for row in outbox::next_deliveries(conn, instance_id, limit)? {
                let id = row.0;
                match delivery(row) {
                    Some(d) => out.push(d),
                    None => {
                        tracing::warn!(delivery = id, "delivery without a signer dropped");
                        outbox::delete_deliveries(conn, &[id])?;
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// A delivery was taken (or refused for good): it is done. Deliveries done meanwhile to
    /// other servers are forgotten together, in one statement (see [`super::group_commit`]).
    /// That its instance is healthy again is recorded when it is let go
    /// ([`Site::release_instance`]).
    pub async fn delivery_done(&self, delivery_id: i64) -> Result<(), ForumError> {
        self.together(
            |inner| &inner.deliveries_done,
            Box::new(move |_conn, _| Ok(delivery_id)),
        )
        .await?;
        Ok(())
    }

    /// A delivery failed: the instance waits `base × 1.25^n` seconds before the next attempt,
    /// and is marked dead once it has failed for `dead_after`.
    pub async fn delivery_failed(
        &self,
        instance: Instance,
        error: String,
    ) -> Result<NaiveDateTime, ForumError> {
        let federation = self.settings().federation.clone();
        self.heard_failing(&instance.domain);
        self.blocking(move |_inner, conn| {
            let now = db::now();
            let failures = instance.failures + 1;
            let since = instance.failing_since.unwrap_or(now);
            let next = now
                + retry_delay(
                    federation.retry_base_seconds,
                    federation.retry_max_seconds,
                    failures,
                );
            let dead = now - since >= TimeDelta::hours(i64::from(federation.dead_after_hours));
            if dead && !instance.dead {
                tracing::warn!(domain = %instance.domain, %error, "instance marked dead after failing since {since}");
            }
            conn.in_turn(|conn| {
                outbox::failed(conn, instance.id, failures, since, next, dead, &error)
            })?;
            Ok(next)
        })
        .await
    }

    /// A server sent us something: deliveries to it resume at once. Written at most once a
    /// minute per server (an activity a second from a busy peer costs no write), except that a
    /// server whose delivery failed since is revived by the next thing it sends.
    pub async fn heard_from(&self, domain: String) -> Result<(), ForumError> {
        let now = std::time::Instant::now();
        {
            let mut heard = self
                .inner
                .heard
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if heard
                .get(&domain)
                .is_some_and(|at| now.duration_since(*at) < HEARD_EVERY)
            {
                return Ok(());
            }
            if heard.len() >= HEARD_MOST {
                heard.clear();
            }
            heard.insert(domain.clone(), now);
        }
        let revived = self
            .blocking(move |_inner, conn| Ok(outbox::heard_from(conn, &domain, db::now())?))
            .await?;
        if revived > 0 {
            self.outbox_written();
        }
        Ok(())
    }

    /// Forgets that `domain` was heard from lately, so the next thing it sends revives it.
    fn heard_failing(&self, domain: &str) {
        let mut heard = self
            .inner
            .heard
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        heard.remove(domain);
    }

    /// Lets go of an instance the worker `owner` claimed ([`Site::claim_due_instances`]).
    /// With `delivered`, a delivery went through while it was held: the instance is healthy
    /// (no failures, not dead), in the same statement.
    pub async fn release_instance(
        &self,
        instance_id: i64,
        owner: Arc<str>,
        delivered: bool,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            conn.in_turn(|conn| {
                if delivered {
                    outbox::release_healthy(conn, instance_id, &owner, db::now())
                } else {
                    outbox::release(conn, instance_id, &owner).map(|_| ())
                }
            })?;
            Ok(())
        })
        .await
    }

    /// Extends by `lease` the leases the worker `owner` holds on `instances` (it is still
    /// sending to them); returns how many it still held.
    pub async fn renew_instances(
        &self,
        instances: Vec<i64>,
        owner: Arc<str>,
        lease: TimeDelta,
    ) -> Result<usize, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(conn.in_turn(|conn| outbox::renew(conn, &instances, &owner, db::now() + lease))?)
        })
        .await
    }

    /// At start-up, lets go of the instances this process's earlier runs held: those held by a
    /// worker whose name starts with `place` (its machine and port; see the worker). Where the
    /// database is this process's alone (SQLite), of every instance.
    pub async fn release_earlier_leases(&self, place: Option<String>) -> Result<(), ForumError> {
        self.blocking(move |inner, conn| {
            match (inner.db.backend(), place) {
                (db::Backend::Sqlite, _) => outbox::release_all(conn, None)?,
                (db::Backend::Postgres, Some(place)) => outbox::release_all(conn, Some(&place))?,
                (db::Backend::Postgres, None) => 0,
            };
            Ok(())
        })
        .await
    }

    /// When the next delivery falls due, if any waits.
    pub async fn next_delivery_due(&self) -> Result<Option<Option<NaiveDateTime>>, ForumError> {
        self.blocking(|_inner, conn| {
            if !outbox::waiting_exists(conn)? {
                return Ok(None);
            }
            Ok(Some(outbox::next_due_at(conn)?))
        })
        .await
    }

    /// Claims up to `limit` live servers whose software was never looked up, or not for a day,
    /// for looking up (none is handed out twice within a day).
    pub async fn software_due(&self, limit: i64) -> Result<Vec<(i64, String)>, ForumError> {
        self.blocking(move |_inner, conn| {
            let now = db::now();
            Ok(outbox::claim_software_due(
                conn,
                now - SOFTWARE_RECHECK,
                now,
                limit,
            )?)
        })
        .await
    }

    /// Records what a server runs (`None`: it could not be told; looked up again in a day).
    pub async fn record_software(
        &self,
        instance_id: i64,
        software: Option<String>,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            outbox::record_software(conn, instance_id, software.as_deref(), db::now())?;
            Ok(())
        })
        .await
    }

    /// An instance's delivery state.
    pub async fn instance_state(&self, domain: String) -> Result<Option<Instance>, ForumError> {
        self.blocking(move |_inner, conn| Ok(outbox::instance_by_domain(conn, &domain)?))
            .await
    }
}

fn delivery(row: Waiting) -> Option<Delivery> {
    let (id, inbox, activity_ap_id, body, user, forum) = row;
    let signer = match (user, forum) {
        (Some(id), _) => Signer::User(id),
        (None, Some(id)) => Signer::Forum(id),
        (None, None) => return None,
    };
    Some(Delivery {
        id,
        inbox,
        activity_ap_id,
        body,
        signer,
    })
}

/// Forgets the deliveries a batch of [`Site::delivery_done`] names.
pub(super) fn forget_deliveries(
    conn: &mut crate::db::Conn<'_>,
    done: &[&i64],
) -> Result<(), ForumError> {
    let ids: Vec<i64> = done.iter().map(|id| **id).collect();
    outbox::delete_deliveries(conn, &ids)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::retry_delay;

    #[test]
    fn retry_delays_grow_by_a_quarter_and_stop_at_a_day() {
        const DAY: f64 = 86_400.0;
        assert_eq!(retry_delay(1.0, DAY, 0).num_milliseconds(), 1000);
        assert_eq!(retry_delay(1.0, DAY, 1).num_milliseconds(), 1250);
        assert_eq!(retry_delay(1.0, DAY, 2).num_milliseconds(), 1562);
        assert_eq!(retry_delay(0.05, DAY, 1).num_milliseconds(), 62);
        assert_eq!(retry_delay(1.0, DAY, 60).num_seconds(), 86_400);
        assert_eq!(retry_delay(1.0, DAY, 10_000).num_seconds(), 86_400);
        assert_eq!(retry_delay(0.05, 0.5, 30).num_milliseconds(), 500);
    }
}
