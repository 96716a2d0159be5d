//! The database: the pool, the backend enum, the schema and one file per table.
//!
//! `db` knows SQL and rows, nothing of forum rules, HTTP or `forum` (it must not import them).
//! Queries return `diesel::QueryResult`.
//!
//! # Flags that partial indexes test are written, not bound
//!
//! `posts.is_opening`, `users.local`, `users.is_admin`, `users.pending` and `forums.local` are the conditions of
//! partial indexes. A query compares them as SQL (`.filter(posts::is_opening)`,
//! `.filter(users::local.eq(sql_false()))`), never against a bound `true` or `false`: when a bound
//! parameter is matched against a partial index's condition, SQLite marks the prepared
//! statement to be prepared again whenever that parameter is bound (`sqlite3VdbeSetVarmask`,
//! with the STAT4 build libsqlite3-sys makes), so the cached statement would be parsed and
//! planned anew on every run. `tests/integration/query_plans.rs` checks it stays so.
//!
//! # Statements stay prepared
//!
//! Diesel keeps a statement prepared on its connection (parsed and planned once) unless its
//! text might change from one run to the next: a `diesel::sql_query`, an `UPDATE`, an
//! `ON CONFLICT … DO UPDATE`, a `diesel::dsl::sql` literal, or an insert whose `Option` fields
//! may write `DEFAULT`. Those are parsed and planned on every run, which on PostgreSQL cost more
//! than running them. So statements that run on every post or page are written so that they
//! stay prepared: SQL through [`prepared_sql`] instead of `sql_query`, [`sql_false`] instead of
//! a literal, and inserts marked `treat_none_as_default_value = false` (no nullable column has
//! another default, so `None` is NULL either way).
//!
//! # Two backends, one code path
//!
//! `diesel::MultiConnection` cannot express `RETURNING` or `ON CONFLICT`, which federation needs,
//! so [`Conn`] is an enum of the two connection types and [`dispatch!`] runs the same query
//! text on whichever is live. The compiler type-checks every query once per backend.

pub mod activities;
pub mod author_counts;
pub mod bans;
pub mod follows;
pub mod forums;
pub mod helpful;
pub mod instance_blocks;
pub mod invites;
pub mod keys;
pub mod login_failures;
pub mod mail;
pub mod members;
pub mod mentions;
pub mod moderation;
pub mod notifications;
pub mod outbox;
mod pool;
pub mod posts;
mod prepared;
pub mod reads;
pub mod received;
pub mod remote_posts;
pub mod reports;
pub mod revisions;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod thread_follows;
pub mod thread_pages;
pub mod threads;
pub mod users;
pub mod watches;
mod write_turns;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
pub use prepared::{any_id, prepared_sql, sql_false, IdList, Ids, PreparedSql};
pub use write_turns::WriteTurns;

/// The SQLite migrations, compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL migrations, compiled into the binary.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs `$body` with `$c` bound to the live connection, `&mut SqliteConnection` or
/// `&mut PgConnection`. The body is compiled once for each backend, so a query that does not
/// work on both does not build. It hides nothing else: the body is ordinary diesel.
#[macro_export]
macro_rules! dispatch {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(inner, _) => {
                let $c: &mut ::diesel::sqlite::SqliteConnection = &mut **inner;
                $body
            }
            $crate::db::Conn::Pg(inner) => {
                let $c: &mut ::diesel::pg::PgConnection = &mut **inner;
                $body
            }
        }
    };
}
pub use dispatch;

/// Which database is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// For larger communities and several processes.
    Postgres,
}

/// A borrowed live connection of either backend. Every query function takes `&mut Conn`.
pub enum Conn<'a> {
    /// SQLite, with the queue its writers wait in (none inside a transaction, which has its
    /// turn already).
    Sqlite(&'a mut SqliteConnection, Option<&'a WriteTurns>),
    /// PostgreSQL.
    Pg(&'a mut PgConnection),
}

impl Conn<'_> {
    /// Runs `f` in a write transaction: committed when it returns `Ok`, rolled back on `Err`.
    /// On SQLite the transaction first waits for its turn among this process's writers
    /// ([`WriteTurns`]), then is `IMMEDIATE`, taking the write lock at the start so two writers
    /// wait for each other (busy_timeout) instead of failing on lock upgrade.
    pub fn transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.in_turn(|conn| match conn {
            Conn::Sqlite(c, _) => c.immediate_transaction(|c| f(&mut Conn::Sqlite(c, None))),
            Conn::Pg(c) => c.transaction(|c| f(&mut Conn::Pg(c))),
        })
    }

    /// Runs `f`, whose statements write but need no transaction, in its turn among this
    /// process's writers on SQLite ([`WriteTurns`]); on PostgreSQL it simply runs.
    pub fn in_turn<T, F>(&mut self, f: F) -> T
    where
        F: FnOnce(&mut Conn<'_>) -> T,
    {
        match self {
            Conn::Sqlite(c, turns) => {
                let _turn = turns.map(WriteTurns::take);
                f(&mut Conn::Sqlite(c, None))
            }
            Conn::Pg(c) => f(&mut Conn::Pg(c)),
        }
    }

    /// Runs `f` in a savepoint of the transaction already open: on `Err` only what `f` did is
    /// rolled back, and the transaction goes on.
    pub fn savepoint<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            // Nested in a transaction, diesel's `transaction` is `SAVEPOINT` .. `RELEASE`.
            Conn::Sqlite(c, _) => c.transaction(|c| f(&mut Conn::Sqlite(c, None))),
            Conn::Pg(c) => c.transaction(|c| f(&mut Conn::Pg(c))),
        }
    }
}

type SqlitePool = diesel::r2d2::Pool<ConnectionManager<SqliteConnection>>;
type PgPool = diesel::r2d2::Pool<pool::PgManager>;

enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// Errors getting a connection or running migrations.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had from the pool.
    #[error("database connection unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The URL names no supported database.
    #[error("{0}")]
    Url(String),
    /// The database cannot be used: not a database, damaged, unreachable or read-only.
    #[error("{0}")]
    Unusable(String),
}

/// Opens the SQLite file once, reads its schema and takes (and gives back) the write lock, so
/// that a file that is not a database, is damaged or cannot be written is refused at start-up
/// with one message, instead of a pool retrying for half a minute or a server that starts and
/// then fails every write.
fn check_sqlite(path: &str) -> Result<(), DbError> {
    let mut conn = SqliteConnection::establish(path)
        .map_err(|e| DbError::Unusable(format!("cannot open the SQLite database {path}: {e}")))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000; SELECT count(*) FROM sqlite_master;")
        .map_err(|e| {
            DbError::Unusable(format!(
                "{path} is not a usable SQLite database (not a database, or damaged): {e}"
            ))
        })?;
    // A write inside a transaction that is rolled back: SQLite reports a read-only file only
    // when a page is about to change, and nothing is left behind.
    conn.batch_execute(
        "BEGIN IMMEDIATE; CREATE TABLE staffroom_write_check (x INTEGER); ROLLBACK;",
    )
    .map_err(|e| {
        DbError::Unusable(format!(
            "the SQLite database {path} cannot be written (check the permissions of the \
                 file and its folder): {e}"
        ))
    })?;
    Ok(())
}

/// The database handle shared by the whole application: a pool of either backend, plus a count
/// of the statements run and, on request, their SQL (so tests and benchmarks can prove a page
/// costs a fixed number of queries and that each one is served by an index).
#[derive(Clone)]
pub struct Db {
    pool: Arc<Pool>,
    stats: Arc<pool::QueryStats>,
    /// The turns of SQLite's writers (unused on PostgreSQL).
    turns: Arc<WriteTurns>,
}

/// Where a process stands in its writes ([`Db::changes`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    commits: u64,
    noted: u64,
}

/// What a database URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file path.
    Sqlite(String),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads `sqlite://PATH`, `sqlite:PATH`, `postgres://...` or `postgresql://...`.
    pub fn parse(url: &str) -> Result<DatabaseUrl, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_string()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(DbError::Url(
                    "database.url: sqlite:// needs a file path".into(),
                ));
            }
            Ok(DatabaseUrl::Sqlite(path.to_string()))
        } else {
            Err(DbError::Url(format!(
                "database.url must start with sqlite:// or postgres:// (got {url:?})"
            )))
        }
    }
}

impl Db {
    /// Opens a pool for `url` with `size` connections and applies pending migrations. On
    /// PostgreSQL a connection that waited in the pool longer than `idle_check` is tested before
    /// it is handed out again (see `pool`).
    pub fn connect(url: &str, size: u32, idle_check: Duration) -> Result<Db, DbError> {
        let stats = Arc::new(pool::QueryStats::default());
        let pool = match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = Path::new(&path).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            DbError::Url(format!("cannot create {}: {e}", parent.display()))
                        })?;
                    }
                }
                check_sqlite(&path)?;
                let manager = ConnectionManager::<SqliteConnection>::new(path);
                Pool::Sqlite(
                    diesel::r2d2::Pool::builder()
                        .max_size(size)
                        .connection_timeout(Duration::from_secs(30))
                        // A file opened in this process cannot be lost (see `pool`).
                        .test_on_check_out(false)
                        .connection_customizer(Box::new(pool::SqliteSetup(stats.clone())))
                        .build(manager)?,
                )
            }
            DatabaseUrl::Postgres(url) => {
                // One attempt first: the pool would retry for its whole timeout, logging each.
                PgConnection::establish(&url)
                    .map_err(|e| DbError::Unusable(format!("cannot connect to PostgreSQL: {e}")))?;
                Pool::Pg(
                    diesel::r2d2::Pool::builder()
                        .max_size(size)
                        .connection_timeout(Duration::from_secs(30))
                        .build(pool::PgManager::new(url, stats.clone(), idle_check))?,
                )
            }
        };
        let db = Db {
            pool: Arc::new(pool),
            stats,
            turns: Arc::default(),
        };
        db.with_conn(run_migrations)?;
        Ok(db)
    }

    /// Which backend this pool talks to.
    pub fn backend(&self) -> Backend {
        match &*self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Pg(_) => Backend::Postgres,
        }
    }

    /// How many statements have been started on this pool so far.
    pub fn query_count(&self) -> u64 {
        self.stats.count.load(Ordering::Relaxed)
    }

    /// Where this process stands in its writes: the transactions it has committed on this pool
    /// (each outermost `COMMIT`, counted once it has finished, when what it wrote can be read)
    /// and the writes noted with [`Db::note_written`]. What a copy of something read before
    /// checks to know whether it may have gone stale: a copy read at one standing is good only
    /// at the same (in this process; another process's writes are not seen).
    pub fn changes(&self) -> Changes {
        Changes {
            commits: self.stats.commits.load(Ordering::Acquire),
            noted: self.stats.noted.load(Ordering::Acquire),
        }
    }

    /// Notes that something may have been written outside a transaction (a statement on its
    /// own commits by itself, unseen by [`Db::changes`]'s count of commits): each request that
    /// may write, once it has been answered.
    pub fn note_written(&self) {
        self.stats.noted.fetch_add(1, Ordering::AcqRel);
    }

    /// Starts keeping the SQL of every statement (diesel's debug form: the text, then
    /// `-- binds: [...]`), dropping anything kept before.
    pub fn start_recording(&self) {
        if let Ok(mut recorded) = self.stats.recorded.lock() {
            recorded.clear();
        }
        self.stats.recording.store(true, Ordering::Relaxed);
    }

    /// Stops recording and hands over what was kept.
    pub fn stop_recording(&self) -> Vec<String> {
        self.stats.recording.store(false, Ordering::Relaxed);
        self.stats
            .recorded
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    /// Whether statements with this SQL (diesel's debug form, as [`Db::stop_recording`] hands it
    /// over, or the bare text) are kept prepared: true once a connection has prepared one to
    /// keep (see the module's documentation). Tests check that hot statements are.
    pub fn kept_prepared(&self, statement: &str) -> bool {
        let sql = statement
            .rsplit_once(" -- binds: ")
            .map_or(statement, |(sql, _)| sql);
        self.stats
            .prepared
            .lock()
            .map(|p| p.contains(sql))
            .unwrap_or(false)
    }

    /// Runs `f` with a pooled connection on the current thread (blocking).
    pub fn with_conn<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn<'_>) -> Result<T, E>,
        E: From<DbError>,
    {
        match &*self.pool {
            Pool::Sqlite(pool) => {
                let mut pooled: PooledConnection<_> = pool.get().map_err(DbError::from)?;
                f(&mut Conn::Sqlite(&mut pooled, Some(&self.turns)))
            }
            Pool::Pg(pool) => {
                let mut pooled: PooledConnection<_> = pool.get().map_err(DbError::from)?;
                f(&mut Conn::Pg(&mut pooled))
            }
        }
    }
}

/// Applies every pending migration. On PostgreSQL an advisory lock keeps two processes starting
/// together from racing.
pub fn run_migrations(conn: &mut Conn<'_>) -> Result<(), DbError> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        Conn::Sqlite(c, _) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(migration_error)?;
        }
        Conn::Pg(c) => {
            c.batch_execute("SELECT pg_advisory_lock(7301001)")?;
            let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
            c.batch_execute("SELECT pg_advisory_unlock(7301001)")?;
            result.map_err(migration_error)?;
        }
    }
    Ok(())
}

/// Reverts every applied migration (used by the migration round-trip test).
pub fn revert_all_migrations(conn: &mut Conn<'_>) -> Result<usize, DbError> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    let reverted = match conn {
        Conn::Sqlite(c, _) => c
            .revert_all_migrations(SQLITE_MIGRATIONS)
            .map_err(migration_error)?,
        Conn::Pg(c) => c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map_err(migration_error)?,
    };
    Ok(reverted.len())
}

/// Reverts, newest first, every applied migration from `version` on (a migration folder's date
/// prefix, such as `2026-12-03-000000`): used by the tests of what a migration does to data that
/// was there before it.
pub fn revert_migrations_from(conn: &mut Conn<'_>, version: &str) -> Result<usize, DbError> {
    fn revert<C, B>(
        c: &mut C,
        source: fn() -> EmbeddedMigrations,
        version: &str,
    ) -> Result<usize, Box<dyn std::error::Error + Send + Sync>>
    where
        C: MigrationHarness<B>,
        B: diesel::backend::Backend,
    {
        let from: String = version.chars().filter(char::is_ascii_digit).collect();
        let mut reverted = 0;
        loop {
            let applied = c.applied_migrations()?;
            let newest = applied.iter().map(ToString::to_string).max();
            match newest {
                Some(newest) if newest >= from => {
                    c.revert_last_migration(source())?;
                    reverted += 1;
                }
                _ => return Ok(reverted),
            }
        }
    }
    match conn {
        Conn::Sqlite(c, _) => revert(&mut **c, || SQLITE_MIGRATIONS, version),
        Conn::Pg(c) => revert(&mut **c, || POSTGRES_MIGRATIONS, version),
    }
    .map_err(|e| DbError::Migration(e.to_string()))
}

/// The current time, truncated to microseconds so that it round-trips through both backends.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::RunQueryDsl;

    #[test]
    fn database_urls_are_recognised() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/d").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[derive(diesel::QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }

    #[test]
    fn sqlite_is_built_with_plans_that_do_not_depend_on_bound_values() {
        // Set by .cargo/config.toml (LIBSQLITE3_FLAGS): without it every `LIMIT ?` statement
        // is prepared again on each run.
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut conn)
            .unwrap();
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "SQLite was built without SQLITE_ENABLE_QPSG"
        );
    }
}
