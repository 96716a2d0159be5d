//! Every migration runs up, down and up again on each backend.

use staffroom::db::{self, Backend, Db};

use crate::both_backends;
use crate::support::TestDatabase;

both_backends!(migrations_run_up_down_and_up_again);

async fn migrations_run_up_down_and_up_again(backend: Backend) {
    let database = TestDatabase::new(backend);
    let url = database.url.clone();
    tokio::task::spawn_blocking(move || {
        // Connecting applies every migration.
        let pool = Db::connect(&url, 1).expect("connect and migrate");
        assert_eq!(pool.backend(), backend);
        pool.with_conn(|conn| -> Result<(), db::DbError> {
            assert!(!db::users::admin_exists(conn)?, "tables exist after up");
            let reverted = db::revert_all_migrations(conn)?;
            assert!(reverted >= 1);
            assert!(
                db::users::admin_exists(conn).is_err(),
                "tables are gone after down"
            );
            db::run_migrations(conn)?;
            assert!(
                !db::users::admin_exists(conn)?,
                "tables are back after up again"
            );
            db::run_migrations(conn)?; // and running again is a no-op
            Ok(())
        })
        .expect("migration round trip");
    })
    .await
    .unwrap();
}
