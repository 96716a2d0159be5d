//! How pooled connections are opened, counted and known to be alive.
//!
//! r2d2 can test every connection it hands out (`test_on_check_out`, diesel's `SELECT 1`), which
//! costs PostgreSQL a round trip each time the database is used: on a thread page that was two
//! of its statements. Here a PostgreSQL connection is tested only when the pool has a reason to
//! doubt it:
//!
//! - it has waited in the pool longer than its idle check (`database.idle_check_seconds`, a
//!   second by default), so a server restarted or a link
//!   dropped while the forum was quiet costs nobody a failed request; a busy pool hands its
//!   connections out again within milliseconds and tests none;
//! - a statement on another connection failed because the connection to PostgreSQL was gone
//!   (diesel's `ClosedConnection` or `UnableToSendCommand`: a server restart, a
//!   `pg_terminate_backend`, a dropped link). That connection is thrown away when it goes back
//!   to the pool, and every connection last known alive before that moment is tested before it
//!   is handed out again. So a restart under load fails the statements in flight and the ones
//!   that found it, not one request per pooled connection.
//!
//! A connection that fails its test is replaced by r2d2 within the same check-out.
//!
//! A SQLite connection is a file opened in this process: it cannot be lost, so it is never
//! tested.
//!
//! A PostgreSQL connection plans each statement kept prepared once (`plan_cache_mode =
//! force_generic_plan`). By default PostgreSQL plans a prepared statement anew on each of its
//! first five runs and then keeps planning it every time when a plan made for the values looks
//! cheaper than one for any value: so it did for the unread count in every logged-in page's
//! header (notifications of one person joined to their posts, threads and forums), because
//! the few people with thousands of notifications make "any person" look expensive. Planning
//! it took 0.4-0.6 ms, thirty times as long as running it, and half of PostgreSQL's time for
//! the page. The statements here find rows by key, so one plan serves every value; a search,
//! whose best plan depends on how common its words are, asks for its own plan.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// What the instrumentation on every pooled connection keeps.
#[derive(Debug, Default)]
pub(super) struct QueryStats {
    pub(super) count: AtomicU64,
    /// Transactions committed (the outermost `COMMIT` of each; savepoints are not counted).
    pub(super) commits: AtomicU64,
    /// Writes noted by hand ([`super::Db::note_written`]).
    pub(super) noted: AtomicU64,
    pub(super) recording: AtomicBool,
    pub(super) recorded: Mutex<Vec<String>>,
    /// The SQL of every statement a connection has kept prepared (diesel prepares each once per
    /// connection, so this stays as small as the set of statements the code writes).
    pub(super) prepared: Mutex<std::collections::HashSet<String>>,
}

/// Counts statements as they start and transactions as they commit, records their SQL while
/// recording is on, and notices a statement that failed because the connection is gone.
struct QueryCounter {
    stats: Arc<QueryStats>,
    /// Set when diesel announces an outermost commit, whose `COMMIT` statement comes next: the
    /// commit is counted once that statement has finished, when what it wrote can be read.
    committing: bool,
    /// Set on PostgreSQL connections only: what a lost connection marks.
    health: Option<(Arc<AtomicBool>, Arc<AtomicU64>)>,
}

impl Instrumentation for QueryCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.stats.count.fetch_add(1, Ordering::Relaxed);
                if self.stats.recording.load(Ordering::Relaxed) {
                    if let Ok(mut recorded) = self.stats.recorded.lock() {
                        recorded.push(query.to_string());
                    }
                }
            }
            InstrumentationEvent::CommitTransaction { depth, .. } => {
                self.committing = depth.get() == 1;
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                if let Ok(mut prepared) = self.stats.prepared.lock() {
                    if !prepared.contains(sql) {
                        prepared.insert(sql.to_string());
                    }
                }
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if std::mem::take(&mut self.committing) && error.is_none() {
                    self.stats.commits.fetch_add(1, Ordering::Release);
                }
                if let (Some(error), Some((lost, losses))) = (error, &self.health) {
                    if connection_lost(error) && !lost.swap(true, Ordering::Relaxed) {
                        losses.fetch_add(1, Ordering::Release);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a statement failed because the connection itself is gone (rather than because of
/// what it asked).
fn connection_lost(error: &QueryError) -> bool {
    matches!(
        error,
        QueryError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// Sets up each SQLite connection the pool opens.
#[derive(Debug)]
pub(super) struct SqliteSetup(pub(super) Arc<QueryStats>);

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // busy_timeout first: the pool opens connections in parallel, and switching a new
        // file to WAL takes a lock the others must wait for rather than fail on. Foreign keys
        // are off by default in SQLite; WAL lets readers run beside the writer.
        conn.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        )
        .map_err(diesel::r2d2::Error::QueryError)?;
        conn.set_instrumentation(QueryCounter {
            committing: false,
            stats: self.0.clone(),
            health: None,
        });
        Ok(())
    }
}

/// A PostgreSQL connection as the pool keeps it.
pub struct PgLive {
    conn: PgConnection,
    /// A statement on it failed because the connection is gone.
    lost: Arc<AtomicBool>,
    /// The pool's count of lost connections when this one was last known to be alive.
    losses_seen: u64,
    /// When it last went back to the pool.
    returned_at: Instant,
}

impl std::ops::Deref for PgLive {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PgLive {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// Opens PostgreSQL connections for the pool and judges them (see the module's documentation).
#[derive(Debug)]
pub(super) struct PgManager {
    url: String,
    stats: Arc<QueryStats>,
    /// How many pooled connections have been found lost so far.
    losses: Arc<AtomicU64>,
    /// How long a connection may wait in the pool before it is tested at check-out.
    idle_check: Duration,
}

impl PgManager {
    pub(super) fn new(url: String, stats: Arc<QueryStats>, idle_check: Duration) -> PgManager {
        PgManager {
            url,
            stats,
            losses: Arc::default(),
            idle_check,
        }
    }
}

impl ManageConnection for PgManager {
    type Connection = PgLive;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgLive, diesel::r2d2::Error> {
        // Read before connecting: a loss found while this one connects makes it prove itself.
        let losses_seen = self.losses.load(Ordering::Acquire);
        let mut conn =
            PgConnection::establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        // Every statement kept prepared is planned once on this connection (see the module's
        // documentation); a search asks for plans made for its words (`db::search`).
        conn.batch_execute("SET plan_cache_mode = force_generic_plan")
            .map_err(diesel::r2d2::Error::QueryError)?;
        let lost = Arc::new(AtomicBool::new(false));
        conn.set_instrumentation(QueryCounter {
            committing: false,
            stats: self.stats.clone(),
            health: Some((lost.clone(), self.losses.clone())),
        });
        Ok(PgLive {
            conn,
            lost,
            losses_seen,
            returned_at: Instant::now(),
        })
    }

    fn is_valid(&self, live: &mut PgLive) -> Result<(), diesel::r2d2::Error> {
        let losses = self.losses.load(Ordering::Acquire);
        if live.losses_seen != losses || live.returned_at.elapsed() > self.idle_check {
            live.conn.ping().map_err(diesel::r2d2::Error::QueryError)?;
            live.losses_seen = losses;
        }
        Ok(())
    }

    /// Asked by r2d2 as a connection goes back to the pool.
    fn has_broken(&self, live: &mut PgLive) -> bool {
        live.returned_at = Instant::now();
        std::thread::panicking() || live.lost.load(Ordering::Relaxed) || live.conn.is_broken()
    }
}
