//! The `staffroom` command: help, creating the first administrator, refusing bad input.

use std::process::Command;

use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{TestApp, TestDatabase, PASSWORD};

both_backends!(admin_create_user_makes_an_administrator_who_can_log_in);

fn staffroom(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_staffroom"));
    cmd.env("STAFFROOM__DATABASE__URL", db_url)
        .env("STAFFROOM__LOG__FILTER", "warn")
        .env_remove("RUST_LOG");
    cmd
}

#[test]
fn help_explains_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["serve", "migrate", "admin", "--config"] {
        assert!(text.contains(word), "{word} in:\n{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .args(["admin", "create-user", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("STAFFROOM_PASSWORD") && text.contains("--admin"),
        "{text}"
    );
}

#[test]
fn a_missing_config_file_is_reported() {
    let out = Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .args(["--config", "/nonexistent/staffroom.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

async fn admin_create_user_makes_an_administrator_who_can_log_in(backend: Backend) {
    let database = TestDatabase::new(backend);
    let url = database.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        staffroom(&url)
            .args([
                "admin",
                "create-user",
                "Principal",
                "--admin",
                "--display-name",
                "The Principal",
            ])
            .env("STAFFROOM_PASSWORD", PASSWORD)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created administrator principal"));

    let url = database.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        staffroom(&url)
            .args(["admin", "create-user", "x"])
            .env("STAFFROOM_PASSWORD", "short")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("username: Username must be 3 to 30 characters long."),
        "{err}"
    );
    assert!(
        err.contains("password: Password must be at least 10 characters long."),
        "{err}"
    );

    // The administrator made on the command line logs in on a server over the same database.
    let url = database.url.clone();
    let app = TestApp::spawn_with(backend, move |s| s.database.url = url).await;
    let browser = app.logged_in("principal").await;
    let (status, page) = app.get(&browser, "/admin").await;
    assert_eq!(status, 200);
    assert!(page.contains("The Principal"));
}
