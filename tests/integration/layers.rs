//! The map in `src/lib.rs` stays true: every file under `src/` is read, and a file that imports
//! a layer its own layer must not reach fails this test, naming the file, the line and the rule.
//!
//! The rules, as `lib.rs` states them: `db` imports no layer above it; `forum` imports no HTTP,
//! ActivityPub or page code (neither the crate's layers nor actix, reqwest, askama or
//! activitypub_federation, nor lettre); `web`, `api`, `federation` and `mail` never import one
//! another, and all four reach the database only through `forum`; `state`, `page_cache`, `error`
//! and `config` sit below them all.

use std::path::{Path, PathBuf};

/// The top-level modules a layer must not name (`crate::X` or a `super::` chain that climbs
/// out to X), and the external crates it must not use.
fn forbidden(layer: &str) -> (&'static [&'static str], &'static [&'static str]) {
    // The mailer renders its messages with askama, but serves and fetches nothing.
    const HTTP_ONLY: &[&str] = &["actix_web", "actix", "reqwest", "activitypub_federation"];
    // What the domain and the database must not speak: HTTP, pages, ActivityPub and SMTP.
    const OUTSIDE: &[&str] = &[
        "actix_web",
        "actix",
        "reqwest",
        "askama",
        "activitypub_federation",
        "lettre",
    ];
    match layer {
        "db" => (
            &["forum", "web", "api", "federation", "mail", "app", "state"],
            OUTSIDE,
        ),
        "forum" => (
            &["web", "api", "federation", "mail", "app", "state"],
            OUTSIDE,
        ),
        "web" => (&["api", "federation", "mail", "app", "db"], &[]),
        "api" => (&["web", "federation", "mail", "app", "db"], &[]),
        "federation" => (&["web", "api", "mail", "app", "db"], &[]),
        "mail" => (
            &["web", "api", "federation", "app", "db", "state"],
            HTTP_ONLY,
        ),
        "state" | "page_cache" => (&["web", "api", "federation", "mail", "app", "db"], &[]),
        "error" | "config" => (
            &["forum", "web", "api", "federation", "mail", "app", "state"],
            &[],
        ),
        _ => (&[], &[]),
    }
}

/// The module path of a file under `src/`: `src/web/pages/follows.rs` is `web::pages::follows`,
/// `src/forum/mod.rs` is `forum`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a line, without its comment (a `//` inside a string is rare enough here that a
/// rule broken only inside a string literal would be a false alarm, not a miss).
fn code_of(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    match line.find("//") {
        Some(i) if !line[..i].contains('"') => &line[..i],
        _ => line,
    }
}

/// Every rule `source` (the file at module path `module`) breaks, as "line N: why".
fn violations(module: &[String], source: &str) -> Vec<String> {
    let Some(layer) = module.first() else {
        return Vec::new();
    };
    let (modules, crates) = forbidden(layer);
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = code_of(line);
        for target in named_modules(module, code) {
            if modules.contains(&target.as_str()) {
                found.push(format!("line {}: `{layer}` imports `{target}`", n + 1));
            }
        }
        for krate in crates {
            if uses_crate(code, krate) {
                found.push(format!(
                    "line {}: `{layer}` uses the `{krate}` crate",
                    n + 1
                ));
            }
        }
    }
    found
}

/// The top-level modules a line of code reaches: `crate::X` anywhere, and `super::` chains
/// that climb out of the file's own top-level module.
fn named_modules(module: &[String], code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        let after = &rest[i + "crate::".len()..];
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
            if after.starts_with('{') {
                out.extend(grouped_names(after));
            }
        }
        rest = after;
    }
    let mut rest = code;
    while let Some(i) = rest.find("super::") {
        let before = rest[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            rest = &rest[i + "super::".len()..];
            continue;
        }
        let mut path = &rest[i..];
        let mut depth = 0;
        while let Some(next) = path.strip_prefix("super::") {
            depth += 1;
            path = next;
        }
        // A file's own module is `module`; `super` from a `mod.rs` or a file names its parent.
        if depth >= module.len() {
            let name: String = path
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        rest = path;
    }
    out
}

/// The first names in `{a, b::c, d}` (a grouped `use crate::{...}`).
fn grouped_names(after_brace: &str) -> Vec<String> {
    let inner = after_brace
        .trim_start_matches('{')
        .split('}')
        .next()
        .unwrap_or_default();
    inner
        .split(',')
        .filter_map(|part| {
            let name: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "self").then_some(name)
        })
        .collect()
}

fn uses_crate(code: &str, krate: &str) -> bool {
    let needle = format!("{krate}::");
    code.match_indices(&needle).any(|(i, _)| {
        let before = code[..i].chars().last();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_layer_imports_one_it_must_not() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    let mut layers_seen = std::collections::BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let module = module_path(relative);
        if let Some(layer) = module.first() {
            layers_seen.insert(layer.clone());
        }
        let source = std::fs::read_to_string(file).expect("a source file");
        for v in violations(&module, &source) {
            broken.push(format!("src/{}: {v}", relative.display()));
        }
    }
    for layer in [
        "db",
        "forum",
        "web",
        "api",
        "federation",
        "state",
        "page_cache",
        "error",
    ] {
        assert!(
            layers_seen.contains(layer),
            "no module `{layer}` found under src/: the rules here name modules that are gone"
        );
    }
    assert!(
        broken.is_empty(),
        "layers import what they must not (see src/lib.rs):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_catches_each_kind_of_crossing() {
    let m = |path: &str| module_path(Path::new(path));
    // A sibling HTTP layer, by absolute path, grouped path and `super` chain.
    assert_eq!(
        violations(&m("api/posts.rs"), "use crate::web::AppState;").len(),
        1
    );
    assert_eq!(
        violations(&m("api/mod.rs"), "use crate::{error::JsonError, web};").len(),
        1
    );
    assert_eq!(
        violations(
            &m("web/pages/follows.rs"),
            "use super::super::super::federation::resolve;"
        )
        .len(),
        1
    );
    assert_eq!(
        violations(
            &m("federation/handlers/inbox.rs"),
            "let e = crate::api::json_error(x);"
        )
        .len(),
        1
    );
    // The database only through the domain; HTTP crates never in the domain.
    assert_eq!(
        violations(
            &m("federation/delivery.rs"),
            "use crate::db::outbox::Instance;"
        )
        .len(),
        1
    );
    assert_eq!(
        violations(&m("forum/threads.rs"), "fn f(r: actix_web::HttpRequest) {}").len(),
        1
    );
    assert_eq!(
        violations(&m("db/posts.rs"), "use crate::forum::Site;").len(),
        1
    );
    // What is allowed stays allowed: downward imports, `super` within a layer, comments.
    for (path, line) in [
        ("api/posts.rs", "use crate::forum::threads::PostEdit;"),
        ("api/posts.rs", "use crate::state::AppState;"),
        ("web/pages/follows.rs", "use super::super::PageError;"),
        (
            "federation/activities/posts.rs",
            "use super::super::error::FederationError;",
        ),
        ("forum/threads.rs", "use crate::db::{self, posts};"),
        (
            "api/posts.rs",
            "// unlike crate::web::AppState, this is fine",
        ),
        ("forum/mod.rs", "let x = my_actix_web::thing();"),
    ] {
        assert!(
            violations(&m(path), line).is_empty(),
            "{path}: `{line}` was flagged"
        );
    }
}
