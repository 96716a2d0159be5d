//! Pages tried in a real browser: headless Chromium driven over WebDriver (`chromedriver`,
//! through `fantoccini`) against the real server on a free port with its own database. Flows are
//! clicked and typed as a person would; every page type is checked by axe-core for WCAG 2.0 and
//! 2.1 A and AA in light and dark colour schemes, and at a phone's width (375 px) for anything
//! wider than the screen; screenshots at 375 and 1280 px go to `target/browser/screenshots`.
//!
//! Chromium and chromedriver come from Debian's packages (`chromium`, `chromium-driver`), which
//! `.ci/run` installs; axe-core is fetched from npm at a pinned version into `target/browser`
//! the first time. Without them these tests say they were skipped, and why.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{drain_all, network, wait_until, TestApp, PASSWORD};

both_backends!(
    a_newcomer_registers_starts_a_thread_and_replies,
    a_form_with_a_mistake_keeps_the_text_and_says_why_beside_the_field,
    every_page_type_passes_axe_in_both_schemes_and_fits_a_phone,
    the_keyboard_alone_reaches_every_control_and_titles_say_where_you_are,
    nothing_hostile_runs_in_the_browser,
    an_educator_answers_quotes_edits_marks_and_deletes,
    an_administrator_creates_pins_and_archives,
    a_reply_written_as_the_session_ends_survives_the_login,
    an_educator_follows_a_forum_on_another_instance_and_replies_there,
    logging_in_and_replying_need_only_the_keyboard,
    registering_starting_and_editing_need_only_the_keyboard,
    an_administrator_appoints_a_moderator_who_locks_a_thread,
    a_moderator_bans_lifts_and_moves_on_the_pages,
    an_educator_reports_a_post_and_a_moderator_resolves_it,
    a_teacher_applies_is_approved_and_a_colleague_is_invited,
    an_administrator_makes_a_staff_room_and_a_moderator_lets_colleagues_in,
    an_educator_deletes_their_account_on_a_phone,
    an_educator_searches_narrows_and_finds_the_post,
    an_educator_is_told_of_a_reply_and_stops_watching,
    an_educator_confirms_an_address_and_resets_a_forgotten_password,
);

/// The axe-core release the pages are checked with.
const AXE_VERSION: &str = "4.10.3";
/// What axe checks: WCAG 2.0 and 2.1, levels A and AA.
const WCAG: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/// The real Chromium binary (`/usr/bin/chromium` is a shell wrapper chromedriver cannot use).
const CHROMIUM: [&str; 2] = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where downloads and screenshots go: beside the build, ignored by git.
fn workdir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser")
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    if !CHROMIUM.iter().any(|p| Path::new(p).exists()) {
        return Some("Chromium is not installed (Debian package `chromium`)".into());
    }
    if !Path::new(CHROMEDRIVER).exists() {
        return Some("chromedriver is not installed (Debian package `chromium-driver`)".into());
    }
    None
}

/// Whether the browser tests can run here; says why not when they cannot.
fn runnable() -> bool {
    match missing() {
        Some(why) => {
            skipped(&why);
            false
        }
        None => true,
    }
}

/// Says why a browser test did not run; fails instead where they must run
/// (`STAFFROOM_TEST_BROWSER=required`, as `.ci/run` sets it).
fn skipped(why: &str) {
    if std::env::var("STAFFROOM_TEST_BROWSER").as_deref() == Ok("required") {
        panic!("the browser tests must run here, but {why}");
    }
    eprintln!("browser test skipped: {why}; `.ci/run` installs what it needs");
}

/// axe-core's script, fetched from npm once a process (several processes each fetch into a
/// folder of their own, moved into place whole) and read once.
fn axe_source() -> Result<String, String> {
    static AXE: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    AXE.get_or_init(fetch_axe).clone()
}

fn fetch_axe() -> Result<String, String> {
    let home = workdir().join(format!("axe-core-{AXE_VERSION}"));
    let script = home.join("axe.min.js");
    if !script.exists() {
        let scratch = workdir().join(format!(
            "npm-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
        let status = std::process::Command::new("npm")
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&scratch)
            .arg(format!("axe-core@{AXE_VERSION}"))
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("npm could not be run to fetch axe-core: {e}"))?;
        if !status.success() {
            return Err(format!("npm could not fetch axe-core@{AXE_VERSION}"));
        }
        // Another process may have put it in place meanwhile: then this one is not needed.
        let _ = std::fs::rename(scratch.join("node_modules/axe-core"), &home);
        let _ = std::fs::remove_dir_all(&scratch);
    }
    std::fs::read_to_string(&script).map_err(|e| format!("{}: {e}", script.display()))
}

/// Headless Chromium at `width` pixels wide, preferring a dark colour scheme when `dark`, with
/// its own chromedriver (stopped when dropped).
struct Browser {
    client: Client,
    _driver: tokio::process::Child,
}

impl Browser {
    async fn start(width: u32, dark: bool) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let binary = CHROMIUM.iter().find(|p| Path::new(p).exists()).unwrap();
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            format!("--window-size={width},900"),
        ];
        if dark {
            args.push("--force-dark-mode".into());
        }
        let mut options = json!({"binary": binary, "args": args});
        if width < 500 {
            // Chrome keeps its windows at least 500 px wide: a phone's width is emulated.
            options["mobileEmulation"] =
                json!({"deviceMetrics": {"width": width, "height": 812, "pixelRatio": 1}});
        }
        let capabilities = json!({ "goog:chromeOptions": options });
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities.as_object().unwrap().clone());
        wait_until("chromedriver to listen", || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        let client = builder
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a browser session");
        let browser = Browser {
            client,
            _driver: driver,
        };
        let prefers_dark = browser
            .script("return matchMedia('(prefers-color-scheme: dark)').matches")
            .await;
        assert_eq!(prefers_dark, json!(dark), "the colour scheme asked for");
        browser
    }

    async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
    }

    async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .expect("run a script")
    }

    /// Types `text` into the field with id `id`.
    async fn fill(&self, id: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks the button (or link) whose text is `label`, and waits for the next page.
    async fn press(&self, label: &str) {
        // A button before a link of the same name (the header's "Log in" link and the login
        // form's button, say).
        let button = format!("//main//button[normalize-space()='{label}']");
        let anything =
            format!("//button[normalize-space()='{label}'] | //a[normalize-space()='{label}']");
        let target = match self.client.find(Locator::XPath(&button)).await {
            Ok(button) => button,
            Err(_) => self
                .client
                .find(Locator::XPath(&anything))
                .await
                .unwrap_or_else(|e| panic!("nothing to press labelled {label:?}: {e}")),
        };
        let page = self.page().await;
        target.click().await.unwrap();
        self.left(page, label).await;
    }

    /// Presses Tab until the control `css` finds has focus (at most 60 times).
    async fn tab_to(&self, css: &str) {
        let check = format!("return document.activeElement.matches({css:?})");
        for _ in 0..60 {
            if self.script(&check).await == json!(true) {
                return;
            }
            self.tab().await;
        }
        panic!("Tab never reached {css}");
    }

    /// Types into whatever has focus (`\u{E007}` is Enter).
    async fn keys(&self, text: &str) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }

    /// Presses Tab in whatever has focus.
    async fn tab(&self) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
    }

    /// The page shown now (its root element), to tell when it has gone.
    async fn page(&self) -> fantoccini::elements::Element {
        self.client.find(Locator::Css("html")).await.unwrap()
    }

    /// Waits until `page` has been left for the next (its root is gone); `what` led there.
    async fn left(&self, page: fantoccini::elements::Element, what: &str) {
        let page = &page;
        wait_until(&format!("{what} to lead to the next page"), || async move {
            page.tag_name().await.is_err()
        })
        .await;
    }

    /// Clicks the element `css` finds, and waits for the next page.
    async fn follow(&self, css: &str) {
        let page = self.page().await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
            .click()
            .await
            .unwrap();
        self.left(page, css).await;
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// Logs in through the login page as `name` with `password`.
    async fn log_in(&self, app: &TestApp, name: &str, password: &str) {
        self.open(&app.url("/login")).await;
        self.fill("username", name).await;
        self.fill("password", password).await;
        self.press("Log in").await;
        assert!(
            self.text("header").await.contains("Log out"),
            "logged in as {name}: {} {}",
            self.path().await,
            self.text("main").await
        );
    }

    /// Fills in the registration form as Ms Rivera (`rivera`) with `password`, and sends it.
    async fn register(&self, app: &TestApp, password: &str) {
        self.open(&app.url("/register")).await;
        self.fill("username", "rivera").await;
        self.fill("display_name", "Ms Rivera").await;
        self.fill("password", password).await;
        self.press("Create my account").await;
    }

    /// Fails listing axe's WCAG A and AA violations on the page open now (`name`), if any;
    /// nothing to check without axe-core (see [`axe_source`]).
    async fn passes_axe(&self, name: &str) {
        match axe_source() {
            Ok(axe) => {
                let found = self.violations(&axe).await;
                assert!(found.is_empty(), "{name}: {}", found.join("\n"));
            }
            Err(why) => skipped(&why),
        }
    }

    /// axe's WCAG A and AA violations on the page open now, one line each.
    async fn violations(&self, axe: &str) -> Vec<String> {
        self.client
            .execute(&format!("{axe}\n;return true;"), Vec::new())
            .await
            .expect("load axe-core");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
                   .then(r => done(r.violations.map(v =>
                     v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                     v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![json!(WCAG)],
            )
            .await
            .expect("run axe");
        serde_json::from_value(found).unwrap()
    }

    /// Whether the page is wider than a window `width` pixels wide (something would scroll
    /// sideways, or the phone would shrink the page to fit it).
    async fn overflows(&self, width: u32) -> Option<String> {
        let inner = self.script("return window.innerWidth").await;
        if inner != json!(width) {
            let wide = self
                .script(&format!(
                    "return [...document.querySelectorAll('body *')]
                       .filter(e => e.getBoundingClientRect().right > {width} + 1)
                       .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40)).join(' | ')"
                ))
                .await;
            return Some(format!(
                "shown {inner} px wide on a screen {width} px wide: {wide}"
            ));
        }
        let sizes = self
            .script(
                "return [document.documentElement.scrollWidth, window.innerWidth,
                   [...document.querySelectorAll('body *')]
                     .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                     .slice(0, 3).map(e => e.tagName + '.' + e.className).join(' ')]",
            )
            .await;
        (sizes[0].as_i64() > sizes[1].as_i64()).then(|| sizes.to_string())
    }

    async fn screenshot(&self, name: &str, width: u32) {
        let png = self.client.screenshot().await.expect("take a screenshot");
        let folder = workdir().join("screenshots");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("{name}-{width}.png")), png).unwrap();
    }
}

/// An instance with an administrator "head" and a forum "maths".
async fn school(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    app
}

/// [`school`], with the thread "Number bonds" by head in maths.
async fn school_with_a_thread(backend: Backend) -> (TestApp, i64) {
    let app = school(backend).await;
    let head = app.token("head").await;
    let thread = app
        .thread(
            &head,
            "maths",
            "Number bonds",
            "How do you teach bonds to ten?",
        )
        .await;
    (app, thread)
}

async fn a_newcomer_registers_starts_a_thread_and_replies(backend: Backend) {
    if !runnable() {
        return;
    }
    let app = school(backend).await;
    let browser = Browser::start(1280, false).await;

    browser.register(&app, "a long enough password").await;
    assert!(browser.text("header").await.contains("Ms Rivera"));

    // A thread with a table, a footnote and a link, rendered.
    browser.open(&app.url("/f/maths/new")).await;
    browser.fill("title", "Bar models").await;
    browser
        .fill(
            "body",
            "Which year groups use them?\n\n| Year | Use |\n|---|---|\n| 3 | fractions |\n\n\
             See the NCETM[^1] and [this guide](https://example.org/bar).\n\n[^1]: National \
             Centre for Excellence in the Teaching of Mathematics.",
        )
        .await;
    browser.press("Start the thread").await;
    let thread = browser.path().await;
    assert!(
        thread.starts_with("/t/"),
        "{thread}: {}",
        browser.text("main").await
    );
    assert_eq!(browser.text("h1").await, "Bar models");
    assert_eq!(browser.text("article table td").await, "3");
    let link = browser
        .client
        .find(Locator::Css("article a[href='https://example.org/bar']"))
        .await
        .expect("the link");
    assert_eq!(link.text().await.unwrap(), "this guide");
    let note = browser.text("article .footnotes li").await;
    assert!(note.contains("National Centre"), "{note}");

    // A reply from the form under the thread.
    browser.fill("body", "Year 4 too, for *ratio*.").await;
    browser.press("Post reply").await;
    assert!(browser.path().await.starts_with(&thread));
    let replies = browser.text("#replies-heading").await;
    assert!(replies.contains('1'), "{replies}");
    let reply = browser
        .client
        .find(Locator::XPath("//article[.//em[text()='ratio']]"))
        .await
        .expect("the reply, rendered");
    assert!(reply.text().await.unwrap().contains("Year 4 too"));

    // Out, and in again.
    browser.press("Log out").await;
    assert!(browser.text("header").await.contains("Log in"));
    browser
        .log_in(&app, "rivera", "a long enough password")
        .await;
    browser.client.close().await.unwrap();
}

async fn a_form_with_a_mistake_keeps_the_text_and_says_why_beside_the_field(backend: Backend) {
    if !runnable() {
        return;
    }
    let app = school(backend).await;
    let browser = Browser::start(1280, false).await;
    browser.register(&app, "short").await;
    assert_eq!(browser.path().await, "/register");
    let kept = browser
        .client
        .find(Locator::Id("display_name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Ms Rivera"));
    let password = browser.client.find(Locator::Id("password")).await.unwrap();
    assert_eq!(
        password.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    let described = password.attr("aria-describedby").await.unwrap().unwrap();
    assert!(described.contains("password-error"), "{described}");
    let error = browser.text("#password-error").await;
    assert!(error.contains("10"), "{error}");
    // The browser puts the educator where the mistake is.
    let focused = browser.script("return document.activeElement.id").await;
    assert_eq!(focused, json!("password"));
    browser.client.close().await.unwrap();
}

async fn every_page_type_passes_axe_in_both_schemes_and_fits_a_phone(backend: Backend) {
    if !runnable() {
        return;
    }
    let axe = match axe_source() {
        Ok(axe) => axe,
        Err(why) => return skipped(&why),
    };
    let app = school(backend).await;
    let token = app.token("head").await;
    let thread = app
        .thread(
            &token,
            "maths",
            "Number bonds",
            "How do you teach bonds to ten?\n\n| a | b |\n|---|---|\n| 3 | 7 |\n\n\
             | Monday | Tuesday | Wednesday | Thursday | Friday | Saturday | Sunday |\n\
             |---|---|---|---|---|---|---|\n\
             | number bonds | ten frames | rekenrek | part-whole | bar models | games | rest |\n\n\
             A long word: Antidisestablishmentarianismantidisestablishmentarianism.\n\n\
             ```\nlet total = first + second + third + fourth + fifth + sixth + seventh;\n```",
        )
        .await;
    let reply = app.reply(&token, thread, "With a rekenrek.", None).await;
    app.reply(&token, thread, "Advertising here.", None).await;
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let removed = page["posts"][1]["id"].as_i64().unwrap();
    // A moderator, a locked thread, a removed post and a ban: the settings page lists them,
    // the thread shows the removal to its moderators, the log has entries; science is where
    // the thread could move.
    app.create_user("bea", false).await;
    app.create_user("eve", false).await;
    app.forum_named(&token, "science").await;
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/forums/maths/bans",
            Some(&token),
            Some(json!({"person": "eve", "reason": "Spam", "expires_at": "2099-01-31T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let eve = app.token("eve").await;
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/posts/{reply}/reports"),
            Some(&eve),
            Some(json!({"reason": "Names a pupil in full"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            "/api/v1/forums/maths/moderators/bea".to_string(),
            None,
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/threads/{thread}"),
            Some(json!({"locked": true, "reason": "Answered in full"})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/posts/{removed}/remove"),
            Some(json!({"reason": "Advertising"})),
        ),
    ] {
        let (status, body) = app.api(method, &path, Some(&token), body).await;
        assert_eq!(status, 200, "{body}");
    }
    // A members-only staff room with one member.
    app.forum_named(&token, "staff").await;
    for (method, path, body) in [
        (
            reqwest::Method::PATCH,
            "/api/v1/forums/staff",
            Some(json!({"visibility": "members"})),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/forums/staff/members/bea",
            None,
        ),
    ] {
        let (status, body) = app.api(method, path, Some(&token), body).await;
        assert_eq!(status, 200, "{body}");
    }
    let pages = [
        ("front", "/".to_string()),
        ("forum", "/f/maths".into()),
        ("thread", format!("/t/{thread}")),
        ("user", "/u/head".into()),
        ("revisions", format!("/p/{opening}/revisions")),
        ("not-found", "/f/nowhere".into()),
        ("new-thread", "/f/maths/new".into()),
        ("admin", "/admin".into()),
        ("admin-forum", "/admin/forums/maths".into()),
        ("reply", format!("/t/{thread}/reply")),
        ("edit", format!("/p/{opening}/edit")),
        ("delete", format!("/p/{opening}/delete")),
        ("password", "/settings/password".into()),
        ("lock", format!("/t/{thread}/lock")),
        ("modlog", "/f/maths/modlog".into()),
        ("remove", format!("/p/{reply}/remove")),
        ("bans", "/f/maths/bans".into()),
        ("admin-bans", "/admin/bans".into()),
        ("move", format!("/t/{thread}/move")),
        ("report", format!("/p/{reply}/report")),
        ("reports", "/f/maths/reports".into()),
        ("applications", "/admin/applications".into()),
        ("invites", "/admin/invites".into()),
        ("instances", "/admin/instances".into()),
        ("members-only-forum", "/f/staff".into()),
        ("members", "/f/staff/members".into()),
        ("leave", "/settings/delete".into()),
        ("instance-modlog", "/modlog".into()),
        ("search", "/search?q=bonds".into()),
        ("search-empty", "/search".into()),
        ("notifications", "/notifications".into()),
        ("notification-settings", "/settings/notifications".into()),
        ("password-reset", "/password-reset".into()),
    ];
    // axe finds what it should: an image without a description, put into a page for a moment.
    {
        let browser = Browser::start(1280, false).await;
        browser.open(&app.url("/login")).await;
        browser
            .script("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/style.css\">'); return true;")
            .await;
        let found = browser.violations(&axe).await;
        assert!(
            found.iter().any(|v| v.starts_with("image-alt")),
            "{found:?}"
        );
        browser.client.close().await.unwrap();
    }
    let mut problems = Vec::new();
    for dark in [false, true] {
        for width in [1280, 375] {
            let browser = Browser::start(width, dark).await;
            for (name, path) in [("login", "/login"), ("register", "/register")] {
                browser.open(&app.url(path)).await;
                check_page(&browser, &axe, name, width, dark, &mut problems).await;
            }
            browser.log_in(&app, "head", PASSWORD).await;
            for (name, path) in &pages {
                browser.open(&app.url(path)).await;
                check_page(&browser, &axe, name, width, dark, &mut problems).await;
            }
            browser.client.close().await.unwrap();
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// axe, anything wider than the screen, and a screenshot.
async fn check_page(
    browser: &Browser,
    axe: &str,
    name: &str,
    width: u32,
    dark: bool,
    problems: &mut Vec<String>,
) {
    let scheme = if dark { "dark" } else { "light" };
    let title = browser.client.title().await.unwrap();
    assert!(!title.trim().is_empty(), "{name} has a title");
    for violation in browser.violations(axe).await {
        problems.push(format!("{name} ({scheme}, {width} px): {violation}"));
    }
    if let Some(sizes) = browser.overflows(width).await {
        problems.push(format!(
            "{name} ({scheme}) is wider than the screen: {sizes}"
        ));
    }
    browser.screenshot(&format!("{name}-{scheme}"), width).await;
}

async fn the_keyboard_alone_reaches_every_control_and_titles_say_where_you_are(backend: Backend) {
    if !runnable() {
        return;
    }
    let app = school(backend).await;
    let token = app.token("head").await;
    let thread = app
        .thread(&token, "maths", "Number bonds", "Bonds to ten.")
        .await;
    app.reply(&token, thread, "With a rekenrek.", None).await;
    let browser = Browser::start(1280, false).await;
    browser.log_in(&app, "head", PASSWORD).await;
    let mut titles = std::collections::BTreeMap::new();
    for path in [
        "/".to_string(),
        "/f/maths".into(),
        format!("/t/{thread}"),
        "/u/head".into(),
        "/admin".into(),
        "/settings/password".into(),
        "/f/maths/new".into(),
    ] {
        browser.open(&app.url(&path)).await;
        let lang = browser.script("return document.documentElement.lang").await;
        assert_eq!(lang, json!("en"), "{path}");
        let title = browser.client.title().await.unwrap();
        if let Some(other) = titles.insert(title.clone(), path.clone()) {
            panic!("{path} and {other} are both titled {title:?}");
        }

        // The first Tab reaches the skip link, which takes the reader to the content.
        browser.tab().await;
        let first = browser
            .script("return document.activeElement.className")
            .await;
        assert_eq!(first, json!("skip-link"), "{path}");
        let active = browser.client.active_element().await.unwrap();
        active.send_keys("\u{E007}").await.unwrap();
        let landed = browser.script("return document.activeElement.id").await;
        assert_eq!(
            landed,
            json!("main"),
            "{path}: the skip link leads to the content"
        );

        // From the top, Tab reaches every control on the page, each with a visible focus.
        browser
            .script("document.activeElement.blur(); return true")
            .await;
        let controls = browser
            .script(
                "return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), \
                 textarea, select, [tabindex]:not([tabindex=\"-1\"])')]
                   .filter(e => !e.disabled && e.getClientRects().length > 0).length",
            )
            .await
            .as_u64()
            .unwrap();
        assert!(controls >= 5, "{path}: only {controls} controls found");
        let mut reached = std::collections::HashSet::new();
        for _ in 0..controls + 5 {
            browser.tab().await;
            let focused = browser
                .script(
                    "const e = document.activeElement; const s = getComputedStyle(e);
                     if (!e.dataset.seen) { e.dataset.seen = Math.random(); }
                     return [e.dataset.seen, e.tagName,
                             s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 ||
                             s.boxShadow !== 'none']",
                )
                .await;
            if focused[1] == json!("BODY") {
                continue;
            }
            assert_eq!(
                focused[2],
                json!(true),
                "{path}: no visible focus on {focused}"
            );
            reached.insert(focused[0].to_string());
        }
        assert!(
            reached.len() as u64 >= controls,
            "{path}: Tab reached {} of {controls} controls",
            reached.len()
        );
    }
    browser.client.close().await.unwrap();
}

/// Hostile input as people and other servers send it: every one must arrive as text (or not at
/// all), never as something that runs. Each that would run sets `window.__xss`, opens an alert
/// or leaves the page.
const HOSTILE: &[&str] = &[
    "<script>window.__xss=1;alert(1)</script>",
    "<img src=x onerror=\"window.__xss=1;alert(1)\">",
    "<svg onload=\"window.__xss=1\"><circle r=5></circle></svg>",
    "<a href=\"javascript:window.__xss=1\">click</a>",
    "[click](javascript:window.__xss=1)",
    "![x](javascript:window.__xss=1)",
    "<javascript:window.__xss=1>",
    "[a][b]\n\n[b]: javascript:window.__xss=1",
    "<iframe src=\"javascript:window.top.__xss=1\"></iframe>",
    "<body onload=\"window.__xss=1\">",
    "\"><script>window.__xss=1</script>",
    "'><img src=x onerror=window.__xss=1>",
    "<style>*{background:url(\"javascript:window.__xss=1\")}</style>",
    "<div style=\"background-image:url(javascript:window.__xss=1)\">x</div>",
    "<meta http-equiv=\"refresh\" content=\"0;url=/pwned\">",
    "<form action=\"/pwned\"><button>Go</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__xss=1>\"></noscript>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">d</a>",
    "<object data=\"javascript:window.__xss=1\"></object>",
    "<embed src=\"javascript:window.__xss=1\">",
    "<details open ontoggle=\"window.__xss=1\"><summary>x</summary></details>",
    "<video><source onerror=\"window.__xss=1\"></video>",
    "<input autofocus onfocus=\"window.__xss=1\">",
    "<base href=\"javascript:/a/\"><a href=\"b\">b</a>",
    "<a href=\"java&#x09;script:window.__xss=1\">tab</a>",
    "<a href=\"jav&#x41;script:window.__xss=1\">entity</a>",
    "<img src=\"x\" onerror=&#x77;indow.__xss=1>",
    "<svg><script>window.__xss=1</script></svg>",
    "<svg><a xlink:href=\"javascript:window.__xss=1\"><text y=20>x</text></a></svg>",
    "<textarea></textarea><script>window.__xss=1</script>",
    "</textarea><script>window.__xss=1</script>",
    "<!--<img src=\"--><img src=x onerror=window.__xss=1//\">",
    "<scr<script>ipt>window.__xss=1</script>",
    "<a href=\"  javascript:window.__xss=1\">spaces</a>",
    "<img src=x:x onerror=window.__xss=1>",
    "<marquee onstart=window.__xss=1>m</marquee>",
    "<select autofocus onfocus=window.__xss=1><option>a</option></select>",
    "<x onclick=window.__xss=1>click</x>",
    "<p style=\"position:fixed;top:0;left:0;width:100%;height:100%;background:red\">over</p>",
    "<a href=\"vbscript:msgbox(1)\">vb</a>",
    "<img srcset=\"x 1x, javascript:window.__xss=1 2x\">",
    "<a href=\"https://example.org\" onmouseover=\"window.__xss=1\">hover</a>",
    "<form><button formaction=\"javascript:window.__xss=1\">x</button></form>",
    "<link rel=\"stylesheet\" href=\"javascript:window.__xss=1\">",
    "<table background=\"javascript:window.__xss=1\"><tr><td>t</td></tr></table>",
    "<div><p>broken <b>markup <i>never closed",
    "\u{202E}gnp.exe right-to-left override",
    "<bdo dir=\"rtl\">\u{202E}reversed</bdo>",
    "<a href=\"#\" onclick=\"window.__xss=1\">#</a>",
    "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
    "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    "``<script>window.__xss=1</script>``",
    "<a href=\"/pwned\" target=\"_blank\">new window</a>",
];

/// What must never be on a page that shows what others wrote: a sign that something ran, an
/// element that runs or loads things, an event handler, a style in a post, a link or source
/// that is a script, or a form control inside a post. Returns each one found.
const DANGER: &str = "const bad = [];
                 if (window.__xss !== undefined || window.top.__xss !== undefined) bad.push('ran');
                 for (const e of document.querySelectorAll('*')) {
                   const tag = e.tagName.toLowerCase();
                   if (['script','iframe','object','embed','svg','math','base','meta','style']
                         .includes(tag) && !e.closest('head')) bad.push(tag);
                   if (tag === 'meta' && e.httpEquiv) bad.push('meta refresh');
                   for (const a of e.attributes) {
                     const v = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
                     if (a.name.startsWith('on')) bad.push(tag + ' ' + a.name);
                     if (a.name === 'style' && e.closest('.post-body')) bad.push(tag + ' style');
                     if (/^(javascript|vbscript|data):/.test(v)) bad.push(tag + ' ' + a.name + '=' + v);
                   }
                 }
                 for (const f of document.querySelectorAll('.post-body form, .post-body input, .post-body button, .post-body textarea, .post-body select'))
                   bad.push('control in a post: ' + f.tagName);
                 return bad;";

async fn nothing_hostile_runs_in_the_browser(backend: Backend) {
    if !runnable() {
        return;
    }
    use staffroom::forum::incoming::{Answered, DirectReply, IncomingPost, Relay};
    assert!(HOSTILE.len() >= 50);
    let app = TestApp::spawn_with(backend, crate::support::federating).await;
    app.create_user("head", true).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    // A person whose display name is hostile, and a person of another server.
    let name = "<img src=x onerror=window.__xss=1>\u{202E}";
    app.site
        .register(
            staffroom::forum::accounts::Registration {
                username: "mallory".into(),
                display_name: name.into(),
                password: PASSWORD.into(),
                ..Default::default()
            },
            staffroom::forum::accounts::Registrar::Console { admin: false },
        )
        .await
        .expect("a display name is text, whatever it says");
    let mallory = app.token("mallory").await;
    app.remember_remote_person("https://remote.example", "eve")
        .await;
    let mut threads = Vec::new();
    for (n, hostile) in HOSTILE.iter().enumerate() {
        // As a title and a body typed here (refused, or kept as text)...
        let (status, body) = app
            .api(
                reqwest::Method::POST,
                "/api/v1/forums/maths/threads",
                Some(&mallory),
                Some(json!({"title": format!("{n} {hostile}"), "body": hostile})),
            )
            .await;
        assert!(
            status == 201 || (400..500).contains(&status),
            "{status} {body}"
        );
        if let Some(id) = body["thread"]["id"].as_i64() {
            threads.push(id);
            // ... and as HTML another server sends in reply.
            app.site
                .receive_direct_reply(DirectReply {
                    activity_id: format!("https://remote.example/activities/{n}"),
                    author: "https://remote.example/u/eve".into(),
                    signer: None,
                    answers: Answered::OurThread(id),
                    incoming: IncomingPost {
                        ap_id: format!("https://remote.example/p/{n}"),
                        title: None,
                        markdown: None,
                        html: hostile.to_string(),
                        published: staffroom::forum::now(),
                        updated: None,
                        mentions: Vec::new(),
                        ..Default::default()
                    },
                    relay: Relay {
                        activity: json!({"type": "Create"}).to_string(),
                        origin: "remote.example".into(),
                    },
                })
                .await
                .unwrap();
        }
    }
    assert!(threads.len() >= 50, "most hostile titles are kept as text");

    let browser = Browser::start(1280, false).await;
    browser.log_in(&app, "head", PASSWORD).await;
    // The check finds what it looks for.
    browser
        .script(
            "document.querySelector('main').insertAdjacentHTML('beforeend', \
             '<img src=\"x\" onerror=\"1\"><a href=\" javascript:1\">x</a>'); return true",
        )
        .await;
    let found = browser.script(DANGER).await;
    assert_eq!(found.as_array().map(Vec::len), Some(2), "{found}");
    let mut pages = vec!["/".to_string(), "/u/mallory".into()];
    pages.extend((1..=threads.len().div_ceil(5)).map(|p| format!("/f/maths?page={p}")));
    pages.extend(threads.iter().map(|t| format!("/t/{t}")));
    for path in pages {
        let url = app.url(&path);
        browser.open(&url).await;
        if let Ok(text) = browser.client.get_alert_text().await {
            panic!("{path} opened an alert: {text}");
        }
        let now = browser.client.current_url().await.unwrap();
        assert_eq!(now.as_str(), url, "{path} went elsewhere");
        let found = browser.script(DANGER).await;
        assert_eq!(found, json!([]), "{path}");
        if path.starts_with("/t/") {
            // The page is the thread it should be, its hostile title shown as text.
            let title = browser.text("h1").await;
            assert!(
                title
                    .split(' ')
                    .next()
                    .is_some_and(|n| n.parse::<usize>().is_ok()),
                "{path}: {title}"
            );
        }
    }
    browser.client.close().await.unwrap();
}

async fn an_educator_answers_quotes_edits_marks_and_deletes(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    app.create_user("bea", false).await;
    app.create_user("cara", false).await;
    let bea = app.token("bea").await;
    let answer = app
        .reply(&bea, thread, "With a rekenrek, five and five.", None)
        .await;
    let browser = Browser::start(1280, false).await;
    browser.log_in(&app, "cara", PASSWORD).await;
    // Not for her: the refusal is a page like any other.
    browser.open(&app.url("/admin")).await;
    assert!(browser.text("main").await.contains("administrator"));
    browser.passes_axe("a refusal").await;

    // A reply to Bea's post in particular, which then links back to it.
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser
        .follow(&format!(
            "#p{answer} a[href*='reply?to={answer}']:not([href*=quote])"
        ))
        .await;
    let answering = browser.text("main").await;
    assert!(answering.contains("five and five"), "{answering}");
    browser.fill("body", "Do you start with five?").await;
    browser.press("Post reply").await;
    let mine = browser
        .client
        .find(Locator::XPath(
            "//article[.//p[contains(., 'Do you start with five?')]]",
        ))
        .await
        .expect("my reply")
        .attr("id")
        .await
        .unwrap()
        .unwrap();
    browser.follow(&format!("#{mine} .in-reply-to a")).await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.fragment(), Some(format!("p{answer}").as_str()), "{url}");
    let target = browser
        .script("return document.querySelector(':target').id")
        .await;
    assert_eq!(target, json!(format!("p{answer}")));

    // Quoting puts the post in the reply, as a Markdown quote.
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser
        .follow(&format!("#p{answer} a[href*='quote=1']"))
        .await;
    let quoted = browser
        .client
        .find(Locator::Id("body"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        quoted.starts_with('>') && quoted.contains("five and five"),
        "{quoted}"
    );

    // Editing keeps the earlier version, shown in the history.
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser.follow(&format!("#{mine} a[href$='/edit']")).await;
    browser
        .fill("body", "Do you start with five, or with ten?")
        .await;
    browser.press("Save changes").await;
    assert!(browser
        .text(&format!("#{mine}"))
        .await
        .contains("or with ten?"));
    browser
        .follow(&format!("#{mine} a[href$='/revisions']"))
        .await;
    let history = browser.text("main").await;
    assert!(history.contains("Do you start with five?"), "{history}");

    // Marking Bea's answer helpful, then deleting my own reply.
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser.follow(&format!("#p{answer} .helpful button")).await;
    assert!(browser
        .text(&format!("#p{answer} .helpful"))
        .await
        .contains("1 found this helpful"));
    browser.follow(&format!("#{mine} a[href$='/delete']")).await;
    browser.press("Delete the post").await;
    let gone = browser
        .client
        .find(Locator::Css(&format!("#{mine}")))
        .await
        .unwrap();
    assert_eq!(
        gone.attr("class").await.unwrap().as_deref(),
        Some("post deleted")
    );
    assert!(!gone.text().await.unwrap().contains("or with ten?"));
    browser.client.close().await.unwrap();
}

async fn an_administrator_creates_pins_and_archives(backend: Backend) {
    if !runnable() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let browser = Browser::start(1280, false).await;
    browser.log_in(&app, "head", PASSWORD).await;

    browser.open(&app.url("/admin")).await;
    browser.fill("name", "science").await;
    browser.fill("title", "Science").await;
    browser
        .fill("description", "Experiments that work in class.")
        .await;
    browser.press("Create the forum").await;
    browser.open(&app.url("/admin")).await;
    assert!(browser.text("table").await.contains("Science"));

    // Two threads; the older one pinned goes first.
    for title in ["Magnets", "Circuits"] {
        browser.open(&app.url("/f/science/new")).await;
        browser.fill("title", title).await;
        browser.fill("body", "What works?").await;
        browser.press("Start the thread").await;
    }
    browser.open(&app.url("/f/science")).await;
    assert!(browser.text(".thread-list").await.starts_with("Circuits"));
    browser.open(&app.url("/f/science")).await;
    let magnets = browser
        .client
        .find(Locator::XPath("//a[normalize-space()='Magnets']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    browser.open(&app.url(&magnets)).await;
    browser.press("Pin thread").await;
    browser.open(&app.url("/f/science")).await;
    let list = browser.text(".thread-list").await;
    // (The badge is shown in capitals.)
    assert!(list.to_lowercase().starts_with("magnets pinned"), "{list}");

    // Archived: readable, no new threads.
    browser.open(&app.url("/admin/forums/science")).await;
    browser
        .client
        .find(Locator::Id("archived"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.press("Save").await;
    browser.open(&app.url("/f/science")).await;
    assert!(browser
        .text("main")
        .await
        .contains("This forum is archived"));
    assert!(browser
        .client
        .find(Locator::Css("a[href='/f/science/new']"))
        .await
        .is_err());
    browser.client.close().await.unwrap();
}

async fn a_reply_written_as_the_session_ends_survives_the_login(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    let browser = Browser::start(1280, false).await;
    browser.log_in(&app, "head", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser
        .fill("body", "Ten frames first, then the rekenrek.")
        .await;
    // The session ends while the reply is being written (to the server, a browser whose
    // session cookie is gone is one whose session has expired).
    browser
        .client
        .delete_cookie("staffroom_session")
        .await
        .unwrap();
    browser.press("Post reply").await;
    // The login form, in place of the reply, carrying it.
    assert_eq!(browser.text("h1").await, "Log in");
    browser.fill("username", "head").await;
    browser.fill("password", PASSWORD).await;
    browser.press("Log in").await;
    browser.passes_axe("the waiting draft").await;
    let waiting = browser
        .client
        .find(Locator::Id("body"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        waiting.as_deref(),
        Some("Ten frames first, then the rekenrek.")
    );
    browser.press("Post it").await;
    assert!(browser.path().await.starts_with(&format!("/t/{thread}")));
    assert!(browser
        .text("main")
        .await
        .contains("Ten frames first, then the rekenrek."));
    browser.client.close().await.unwrap();
}

async fn an_educator_follows_a_forum_on_another_instance_and_replies_there(backend: Backend) {
    if !runnable() {
        return;
    }
    let net = network(backend, 2).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    alpha
        .thread(
            &head,
            "maths",
            "Mental maths warm-ups",
            "What do you start with?",
        )
        .await;
    beta.create_user("bea", false).await;
    let handle = format!("maths@{}", alpha.domain());

    // Bea, on beta, follows alpha's forum from the front page.
    let browser = Browser::start(1280, false).await;
    browser.log_in(beta, "bea", PASSWORD).await;
    browser.open(&beta.url("/")).await;
    browser.fill("target", &handle).await;
    browser.press("Follow").await;
    drain_all(&all).await;
    browser.open(&beta.url("/")).await;
    browser.follow(&format!("a[href='/f/{handle}']")).await;
    assert!(browser.text("main").await.contains("This forum lives on"));
    browser.passes_axe("a forum on another instance").await;

    // The thread, and a reply from beta's page that reaches alpha.
    browser
        .client
        .find(Locator::XPath(
            "//a[normalize-space()='Mental maths warm-ups']",
        ))
        .await
        .expect("the thread, from alpha")
        .click()
        .await
        .unwrap();
    browser
        .client
        .wait()
        .for_element(Locator::Id("body"))
        .await
        .unwrap();
    browser.passes_axe("a thread on another instance").await;
    browser
        .fill("body", "Counting in sevens, round the room.")
        .await;
    browser.press("Post reply").await;
    assert!(browser
        .text("main")
        .await
        .contains("Counting in sevens, round the room."));
    drain_all(&all).await;
    let on_alpha = alpha.site.forum("maths".into()).await.unwrap();
    let (_, threads) = alpha.read("/api/v1/forums/maths/threads").await;
    let id = threads["threads"][0]["id"].as_i64().unwrap();
    let (_, page) = alpha.read(&format!("/api/v1/threads/{id}")).await;
    assert_eq!(
        page["posts"][0]["body"], "Counting in sevens, round the room.",
        "{page}"
    );
    // The opening post and the reply from beta.
    assert_eq!(on_alpha.post_count, 2);
    browser.client.close().await.unwrap();
}

async fn logging_in_and_replying_need_only_the_keyboard(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    let browser = Browser::start(1280, false).await;
    browser.open(&app.url("/login")).await;
    browser.tab_to("#username").await;
    browser.keys("head").await;
    browser.tab_to("#password").await;
    let page = browser.page().await;
    browser.keys(&format!("{PASSWORD}\u{E007}")).await;
    browser.left(page, "Enter in the password").await;
    assert!(browser.text("header").await.contains("Log out"));

    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser.tab_to("#body").await;
    browser.keys("Ten frames, from the keyboard.").await;
    browser
        .tab_to("main form button[type=submit]:not(.secondary)")
        .await;
    let page = browser.page().await;
    browser.keys("\u{E007}").await;
    browser.left(page, "Enter on Post reply").await;
    assert!(browser
        .text("main")
        .await
        .contains("Ten frames, from the keyboard."));
    browser.client.close().await.unwrap();
}

async fn registering_starting_and_editing_need_only_the_keyboard(backend: Backend) {
    if !runnable() {
        return;
    }
    let app = school(backend).await;
    let browser = Browser::start(1280, false).await;
    // Register, from the link in the header.
    browser.open(&app.url("/")).await;
    browser.tab_to("header a[href='/register']").await;
    let page = browser.page().await;
    browser.keys("\u{E007}").await;
    browser.left(page, "Enter on Register").await;
    browser.tab_to("#username").await;
    browser.keys("rivera").await;
    browser.tab_to("#display_name").await;
    browser.keys("Ms Rivera").await;
    browser.tab_to("#password").await;
    let page = browser.page().await;
    browser.keys("a long enough password\u{E007}").await;
    browser.left(page, "Enter in the password").await;
    assert!(browser.text("header").await.contains("Ms Rivera"));

    // Start a thread, from the forum's page.
    browser.open(&app.url("/f/maths")).await;
    browser.tab_to("main a[href$='/new']").await;
    let page = browser.page().await;
    browser.keys("\u{E007}").await;
    browser.left(page, "Enter on Start a thread").await;
    browser.tab_to("#title").await;
    browser.keys("Place value, by keyboard").await;
    browser.tab_to("#body").await;
    browser.keys("Hundreds, tens and ones.").await;
    browser.tab_to("main form button[type=submit]").await;
    let page = browser.page().await;
    browser.keys("\u{E007}").await;
    browser.left(page, "Enter on Start the thread").await;
    assert_eq!(browser.text("h1").await, "Place value, by keyboard");

    // Edit it, from the link under the post.
    browser.tab_to("main a[href$='/edit']").await;
    let page = browser.page().await;
    browser.keys("\u{E007}").await;
    browser.left(page, "Enter on Edit").await;
    browser.tab_to("#body").await;
    // Ctrl+End, then more text.
    browser
        .keys("\u{E009}\u{E010}\u{E000} Base ten blocks help.")
        .await;
    browser.tab_to("main form button[type=submit]").await;
    let page = browser.page().await;
    browser.keys("\u{E007}").await;
    browser.left(page, "Enter on Save changes").await;
    let main = browser.text("main").await;
    assert!(
        main.contains("Hundreds, tens and ones. Base ten blocks help."),
        "{main}"
    );
    browser.client.close().await.unwrap();
}

async fn an_administrator_appoints_a_moderator_who_locks_a_thread(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    app.create_user("bea", false).await;
    let browser = Browser::start(1280, false).await;
    browser.log_in(&app, "head", PASSWORD).await;
    browser.open(&app.url("/admin/forums/maths")).await;
    // A name that is no one's comes back beside the field, kept, with the cursor in it.
    browser.fill("person", "bee").await;
    browser.press("Appoint").await;
    assert!(browser
        .text("#person-error")
        .await
        .contains("no one by that name"));
    let focused = browser.script("return document.activeElement.id").await;
    assert_eq!(focused, json!("person"));
    browser.fill("person", "bea").await;
    browser.press("Appoint").await;
    assert!(browser.text(".moderators").await.contains("Bea"));
    browser.press("Log out").await;

    // bea locks the thread, saying why.
    browser.log_in(&app, "bea", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser.press("Lock thread").await;
    browser
        .fill("reason", "Answered in full; see the pinned thread")
        .await;
    browser.press("Lock the thread").await;
    assert_eq!(browser.path().await, format!("/t/{thread}"));
    let main = browser.text("main").await;
    assert!(main.contains("Locked by Bea"), "{main}");
    // Moderators may still answer.
    assert!(browser.client.find(Locator::Id("body")).await.is_ok());
    browser.press("Log out").await;

    // An educator reads it, cannot reply, and finds the reason in the log.
    app.create_user("dev", false).await;
    browser.log_in(&app, "dev", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    assert!(
        browser.client.find(Locator::Id("body")).await.is_err(),
        "no reply form"
    );
    browser.open(&app.url("/f/maths")).await;
    browser.press("Moderation log").await;
    let log = browser.text(".modlog").await;
    assert!(log.contains("Bea locked the thread Number bonds"), "{log}");
    assert!(
        log.contains("Answered in full; see the pinned thread"),
        "{log}"
    );
    assert!(log.contains("appointed a moderator Bea"), "{log}");
    browser.client.close().await.unwrap();
}

async fn a_moderator_bans_lifts_and_moves_on_the_pages(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    let head = app.token("head").await;
    app.forum_named(&head, "science").await;
    app.create_user("bea", false).await;
    app.create_user("dev", false).await;
    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/api/v1/forums/maths/moderators/bea",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let browser = Browser::start(1280, false).await;

    // bea finds the bans from the thread, forgets the reason, and is told beside the field.
    browser.log_in(&app, "bea", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser.press("Bans in this forum").await;
    assert!(browser.text("main").await.contains("No one is banned"));
    browser.fill("person", "dev").await;
    // The browser would ask for the required reason itself; without that, the server does.
    browser
        .script("document.getElementById('reason').removeAttribute('required'); return true;")
        .await;
    browser.press("Ban").await;
    assert!(browser.text("#reason-error").await.contains("required"));
    let focused = browser.script("return document.activeElement.id").await;
    assert_eq!(focused, json!("reason"));
    let kept = browser
        .script("return document.getElementById('person').value")
        .await;
    assert_eq!(kept, json!("dev"));
    browser.fill("reason", "Off topic, again and again").await;
    browser.press("Ban").await;
    let list = browser.text(".ban-list").await;
    assert!(list.contains("Dev"), "{list}");
    assert!(list.contains("until lifted"), "{list}");
    browser.press("Log out").await;

    // dev reads the thread and is told why there is no reply form.
    browser.log_in(&app, "dev", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    let main = browser.text("main").await;
    assert!(
        main.contains("You are banned from posting in this forum"),
        "{main}"
    );
    assert!(main.contains("Off topic, again and again"), "{main}");
    assert!(browser.client.find(Locator::Id("body")).await.is_err());
    browser.press("Log out").await;

    // bea lifts it; the log says both.
    browser.log_in(&app, "bea", PASSWORD).await;
    browser.open(&app.url("/f/maths/bans")).await;
    browser.press("Lift the ban on Dev").await;
    assert!(browser.text("main").await.contains("No one is banned"));
    browser.open(&app.url("/f/maths/modlog")).await;
    let log = browser.text(".modlog").await;
    assert!(log.contains("Bea lifted the ban on Dev"), "{log}");
    assert!(log.contains("Bea banned Dev"), "{log}");
    browser.press("Log out").await;

    // The administrator moves the thread to science.
    browser.log_in(&app, "head", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser.press("Move thread").await;
    browser.fill("reason", "It is about magnets").await;
    browser.press("Move the thread").await;
    assert_eq!(browser.path().await, format!("/t/{thread}"));
    let crumbs = browser.text(".breadcrumbs").await;
    assert!(crumbs.contains("Science"), "{crumbs}");
    browser.client.close().await.unwrap();
}

async fn an_educator_reports_a_post_and_a_moderator_resolves_it(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    let head = app.token("head").await;
    app.create_user("bea", false).await;
    app.create_user("dev", false).await;
    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/api/v1/forums/maths/moderators/bea",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.reply(&head, thread, "Ask Jamie Smith in 4B, he struggles.", None)
        .await;
    let browser = Browser::start(1280, false).await;

    // dev reports the reply, saying why.
    browser.log_in(&app, "dev", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    let links = browser
        .script("return [...document.querySelectorAll('a')].filter(a => a.textContent.startsWith('Report')).length")
        .await;
    assert_eq!(links, json!(2), "a Report link under each post");
    browser
        .script("[...document.querySelectorAll('a')].filter(a => a.textContent.startsWith('Report'))[1].click(); return true;")
        .await;
    browser
        .fill("reason", "Names a pupil and what he finds hard")
        .await;
    browser.press("Send the report").await;
    assert!(browser
        .text("main")
        .await
        .contains("moderators will look at the post"));
    browser.press("Log out").await;

    // bea finds it in the queue, removes the post and resolves the report.
    browser.log_in(&app, "bea", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    browser.press("Reports in this forum").await;
    let queue = browser.text(".report-queue").await;
    assert!(
        queue.contains("Names a pupil and what he finds hard"),
        "{queue}"
    );
    assert!(queue.contains("Reported by Dev"), "{queue}");
    browser.press("Remove the post").await;
    browser.fill("reason", "Personal details of a pupil").await;
    browser.press("Remove the post").await;
    browser.open(&app.url("/f/maths/reports")).await;
    browser.press("Resolve the report by Dev").await;
    assert!(browser.text("main").await.contains("No open reports"));
    browser.press("Reports dealt with").await;
    let closed = browser.text(".report-queue").await;
    assert!(closed.contains("Resolved by Bea"), "{closed}");
    browser.open(&app.url("/f/maths/modlog")).await;
    let log = browser.text(".modlog").await;
    assert!(log.contains("Bea resolved a report on a post in"), "{log}");
    browser.client.close().await.unwrap();
}

async fn a_teacher_applies_is_approved_and_a_colleague_is_invited(backend: Backend) {
    if !runnable() {
        return;
    }
    let app = TestApp::spawn_with(backend, |s| {
        s.registration.mode = staffroom::config::RegistrationMode::Approval;
    })
    .await;
    app.create_user("head", true).await;
    let browser = Browser::start(375, false).await;

    // Ms Rivera applies, on a phone, answering the question.
    browser.open(&app.url("/register")).await;
    browser.passes_axe("register (approval)").await;
    browser.fill("username", "rivera").await;
    browser.fill("display_name", "Ms Rivera").await;
    browser.fill("password", PASSWORD).await;
    browser
        .fill("answer", "I teach year 4 at Hill School")
        .await;
    browser.press("Apply for an account").await;
    let main = browser.text("main").await;
    assert!(main.contains("waiting for an administrator"), "{main}");
    assert!(browser.overflows(375).await.is_none());
    // Logging in says it still waits.
    browser.open(&app.url("/login")).await;
    browser.fill("username", "rivera").await;
    browser.fill("password", PASSWORD).await;
    browser.press("Log in").await;
    assert!(browser
        .text("main")
        .await
        .contains("waiting for an administrator"));

    // The head approves her, and makes an invitation for a colleague.
    browser.log_in(&app, "head", PASSWORD).await;
    browser.open(&app.url("/admin")).await;
    browser.press("Applications").await;
    assert!(browser
        .text(".applications")
        .await
        .contains("I teach year 4 at Hill School"));
    browser.passes_axe("applications").await;
    assert!(browser.overflows(375).await.is_none());
    browser.press("Approve Ms Rivera").await;
    assert!(browser
        .text("main")
        .await
        .contains("No applications are waiting"));
    browser.open(&app.url("/admin/invites")).await;
    browser.fill("note", "Mr Okafor, supply teacher").await;
    browser.press("Make an invitation").await;
    let link = browser
        .script("return document.getElementById('invite-link').value")
        .await;
    let link = link.as_str().unwrap().to_string();
    browser.passes_axe("invites").await;
    assert!(browser.overflows(375).await.is_none());
    browser.press("Log out").await;
    browser.log_in(&app, "rivera", PASSWORD).await;
    browser.press("Log out").await;

    // The colleague opens the link and registers at once, no question asked.
    browser.open(&link).await;
    assert!(browser.client.find(Locator::Id("answer")).await.is_err());
    browser.fill("username", "okafor").await;
    browser.fill("password", PASSWORD).await;
    browser.press("Create my account").await;
    assert!(browser.text("header").await.contains("Log out"));
    browser.client.close().await.unwrap();
}

async fn an_administrator_makes_a_staff_room_and_a_moderator_lets_colleagues_in(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    let head = app.token("head").await;
    for name in ["bea", "cara"] {
        app.create_user(name, false).await;
    }
    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/api/v1/forums/maths/moderators/bea",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let browser = Browser::start(375, false).await;

    // The administrator makes maths members-only on its settings page, on a phone.
    browser.log_in(&app, "head", PASSWORD).await;
    browser.open(&app.url("/admin/forums/maths")).await;
    browser.passes_axe("forum settings").await;
    browser
        .script("document.getElementById('visibility-members').click(); return true;")
        .await;
    browser.press("Save").await;
    browser.open(&app.url("/")).await;
    // The badge is set in capitals.
    let front = browser.text("main").await.to_lowercase();
    assert!(front.contains("members only"), "{front}");
    browser.press("Log out").await;

    // cara, not a member, finds nothing there.
    browser.log_in(&app, "cara", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    assert!(!browser.text("main").await.contains("Number bonds"));
    browser.open(&app.url("/")).await;
    assert!(!browser.text("main").await.contains("Maths"));
    browser.press("Log out").await;

    // bea, its moderator, mistypes a name, is told beside the field, then lets cara in.
    browser.log_in(&app, "bea", PASSWORD).await;
    browser.open(&app.url("/f/maths")).await;
    browser.press("Members").await;
    browser.passes_axe("members").await;
    browser.fill("person", "carra").await;
    browser.press("Add").await;
    assert!(browser
        .text("#person-error")
        .await
        .contains("no one by that name"));
    let kept = browser
        .script("return document.getElementById('person').value")
        .await;
    assert_eq!(kept, json!("carra"));
    browser.fill("person", "cara").await;
    browser.press("Add").await;
    assert!(browser.text(".ban-list").await.contains("Cara"));
    assert!(browser.overflows(375).await.is_none());
    browser.press("Log out").await;

    // cara reads the thread now.
    browser.log_in(&app, "cara", PASSWORD).await;
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    assert!(browser.text("h1").await.contains("Number bonds"));
    browser.client.close().await.unwrap();
}

async fn an_educator_deletes_their_account_on_a_phone(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    app.create_user("alice", false).await;
    let alice = app.token("alice").await;
    app.reply(&alice, thread, "Ten frames work for me.", None)
        .await;
    let browser = Browser::start(375, false).await;
    browser.log_in(&app, "alice", PASSWORD).await;
    browser.open(&app.url("/settings/password")).await;
    browser.press("Delete your account").await;
    browser.passes_axe("delete account").await;

    // Sent without a choice and with a wrong password: both are said beside their fields.
    browser.fill("password", "not my password").await;
    browser.press("Delete my account").await;
    assert!(browser.text("#content-error").await.contains("Choose"));
    assert!(browser
        .text("#password-error")
        .await
        .contains("not your password"));
    browser
        .script("document.getElementById('content-remove').click(); return true;")
        .await;
    browser.fill("password", PASSWORD).await;
    browser.press("Delete my account").await;
    assert_eq!(browser.path().await, "/");
    assert!(browser
        .text("main")
        .await
        .contains("Your account is deleted"));
    assert!(browser.text("header").await.contains("Log in"));
    assert!(browser.overflows(375).await.is_none());

    // Her reply is a placeholder now.
    browser.open(&app.url(&format!("/t/{thread}"))).await;
    let main = browser.text("main").await;
    assert!(!main.contains("Ten frames work for me."), "{main}");
    browser.client.close().await.unwrap();
}

async fn an_educator_searches_narrows_and_finds_the_post(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    let head = app.token("head").await;
    app.forum_named(&head, "science").await;
    let answer = app
        .reply(
            &head,
            thread,
            "A rekenrek makes bonds to ten visible.",
            None,
        )
        .await;
    app.thread(
        &head,
        "science",
        "Counting rekenrek beads",
        "Beads, not bonds.",
    )
    .await;
    let browser = Browser::start(375, false).await;
    browser.open(&app.url("/")).await;
    browser.press("Search").await;
    browser.fill("q", "rekenrek").await;
    browser.press("Search").await;
    let main = browser.text("main").await;
    assert!(main.contains("2 posts found"), "{main}");
    assert!(browser.overflows(375).await.is_none());
    browser.passes_axe("search results").await;
    // Narrowed to maths: one left, and it leads to the reply in its thread.
    browser
        .script("document.querySelector('details').open = true; return true;")
        .await;
    browser.fill("forum", "maths").await;
    browser.press("Search").await;
    assert!(browser.text("main").await.contains("1 post found"));
    browser.follow(".search-results a").await;
    assert_eq!(browser.path().await, format!("/t/{thread}"));
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.fragment(), Some(format!("p{answer}").as_str()));
    browser.client.close().await.unwrap();
}

async fn an_educator_is_told_of_a_reply_and_stops_watching(backend: Backend) {
    if !runnable() {
        return;
    }
    let (app, thread) = school_with_a_thread(backend).await;
    app.create_user("alice", false).await;
    let alice = app.token("alice").await;
    let answer = app
        .reply(
            &alice,
            thread,
            "With a rekenrek, @head. It <b>works</b>.",
            None,
        )
        .await;
    let browser = Browser::start(375, false).await;
    browser.log_in(&app, "head", PASSWORD).await;
    // The header says something is waiting; the list says what, and fits a phone.
    let header = browser.text("header").await;
    assert!(header.contains("Notifications"), "{header}");
    assert!(header.contains('1'), "{header}");
    browser.follow("a[href='/notifications']").await;
    let main = browser.text("main").await;
    assert!(
        main.contains("Alice replied to your post in Number bonds"),
        "{main}"
    );
    assert!(
        main.contains("It <b>works</b>."),
        "shown as written: {main}"
    );
    assert!(browser.overflows(375).await.is_none());
    browser.passes_axe("notifications").await;
    // Stopping watching from the list, then opening the notification: it leads to the reply.
    browser
        .follow(".notifications form[action$='/watch'] button")
        .await;
    assert!(browser
        .text("main")
        .await
        .contains("You stopped watching the thread."));
    browser
        .follow(".notifications a[href^='/notifications/']")
        .await;
    assert_eq!(browser.path().await, format!("/t/{thread}"));
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.fragment(), Some(format!("p{answer}").as_str()));
    assert!(!browser.text("header").await.contains('1'));
    assert!(browser.text("main").await.contains("Watch this thread"));
    // The settings page: the box starts ticked, and saving it unticked keeps it so.
    browser.open(&app.url("/settings/notifications")).await;
    browser.passes_axe("notification settings").await;
    browser
        .client
        .find(Locator::Id("watch_on_post"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.press("Save").await;
    assert!(browser
        .text("main")
        .await
        .contains("Your notification settings are saved."));
    let checked = browser
        .script("return document.getElementById('watch_on_post').checked;")
        .await;
    assert_eq!(checked, json!(false));
    browser.client.close().await.unwrap();
}

/// The first link in a message's text that starts with `prefix`.
fn mailed_link(message: &Value, prefix: &str) -> String {
    let text = message["text"].as_str().unwrap();
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

async fn an_educator_confirms_an_address_and_resets_a_forgotten_password(backend: Backend) {
    if !runnable() {
        return;
    }
    let sink = crate::support::smtp::SmtpSink::start(0);
    let url = sink.url();
    let app = TestApp::spawn_with(backend, move |s| {
        s.email.smtp_url = url;
        s.email.poll_seconds = 0.2;
    })
    .await;
    app.create_user("alice", false).await;
    let browser = Browser::start(375, false).await;
    browser.log_in(&app, "alice", PASSWORD).await;
    // The settings page takes an address and a choice of digest, and says what comes next.
    browser.open(&app.url("/settings/notifications")).await;
    assert!(browser.overflows(375).await.is_none());
    browser
        .passes_axe("notification settings with e-mail")
        .await;
    // (The browser itself checks the form of an address; one it lets through but that names
    // no real domain is caught by the server.)
    browser.fill("email", "alice@school").await;
    browser.press("Save").await;
    let main = browser.text("main").await;
    assert!(main.contains("is not an e-mail address"), "{main}");
    let typed = browser
        .script("return [document.activeElement.id, document.getElementById('email').value];")
        .await;
    assert_eq!(
        typed,
        json!(["email", "alice@school"]),
        "the mistake keeps the text and the cursor"
    );
    browser
        .passes_axe("notification settings with a mistake")
        .await;
    browser.fill("email", "alice@school.example").await;
    browser
        .client
        .find(Locator::Id("email_mode-digest"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.press("Save").await;
    assert!(browser.text("main").await.contains("Open the link we sent"));
    let sent = sink.wait_for(1).await;
    browser
        .open(&mailed_link(&sent[0], &app.url("/email/verify?token=")))
        .await;
    assert!(browser
        .text("main")
        .await
        .contains("alice@school.example is confirmed"));
    browser.passes_axe("address confirmed").await;
    browser.open(&app.url("/settings/notifications")).await;
    assert!(browser.text("main").await.contains("Confirmed."));
    let digest = browser
        .script("return document.getElementById('email_mode-digest').checked;")
        .await;
    assert_eq!(digest, json!(true));

    // Logged out, alice forgets her password: the login page leads to a link by e-mail.
    browser.press("Log out").await;
    browser.open(&app.url("/login")).await;
    browser.press("Forgotten your password?").await;
    browser.passes_axe("forgotten password").await;
    browser
        .fill("username_or_email", "alice@school.example")
        .await;
    browser.press("Send me a link").await;
    assert_eq!(browser.path().await, "/login");
    assert!(browser
        .text("main")
        .await
        .contains("a link to choose a new password"));
    let sent = sink.wait_for(2).await;
    browser
        .open(&mailed_link(&sent[1], &app.url("/password-reset/")))
        .await;
    assert!(browser.overflows(375).await.is_none());
    browser.passes_axe("choose a new password").await;
    browser.fill("new_password", "a brand new password").await;
    browser
        .fill("confirm_password", "a brand new passwort")
        .await;
    browser.press("Set the new password").await;
    assert!(browser.text("main").await.contains("not the same"));
    browser
        .passes_axe("choose a new password, with a mistake")
        .await;
    browser.fill("new_password", "a brand new password").await;
    browser
        .fill("confirm_password", "a brand new password")
        .await;
    browser.press("Set the new password").await;
    assert_eq!(browser.path().await, "/login");
    browser.log_in(&app, "alice", "a brand new password").await;
    browser.client.close().await.unwrap();
}
