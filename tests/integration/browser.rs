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
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{TestApp, PASSWORD};

both_backends!(
    a_newcomer_registers_starts_a_thread_and_replies,
    a_form_with_a_mistake_keeps_the_text_and_says_why_beside_the_field,
    every_page_type_passes_axe_in_both_schemes_and_fits_a_phone,
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

/// Says why a browser test did not run; fails instead where they must run
/// (`STAFFROOM_TEST_BROWSER=required`, as `.ci/run` sets it).
fn skipped(why: &str) {
    if std::env::var("STAFFROOM_TEST_BROWSER").as_deref() == Ok("required") {
        panic!("the browser tests must run here, but {why}");
    }
    eprintln!("browser test skipped: {why}; `.ci/run` installs what it needs");
}

/// axe-core's script, fetched from npm once (several test processes may fetch at once: each
/// into a folder of its own, moved into place whole).
fn axe_source() -> Result<String, String> {
    let home = workdir().join(format!("axe-core-{AXE_VERSION}"));
    let script = home.join("axe.min.js");
    if !script.exists() {
        let scratch = workdir().join(format!("npm-{}", std::process::id()));
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
        let address = format!("http://127.0.0.1:{port}");
        let mut tries = 0;
        let client = loop {
            match builder.connect(&address).await {
                Ok(client) => break client,
                Err(e) if tries < 100 => {
                    tries += 1;
                    tracing::debug!(error = %e, "chromedriver not ready yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver did not start: {e}"),
            }
        };
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
        let before = self.client.find(Locator::Css("html")).await.unwrap();
        target.click().await.unwrap();
        // The next page has loaded once the old one's root is gone.
        for _ in 0..400 {
            if before.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("pressing {label:?} led nowhere");
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
            return Some(format!("shown {inner} px wide on a screen {width} px wide"));
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

async fn a_newcomer_registers_starts_a_thread_and_replies(backend: Backend) {
    if let Some(why) = missing() {
        return skipped(&why);
    }
    let app = school(backend).await;
    let browser = Browser::start(1280, false).await;

    browser.open(&app.url("/register")).await;
    browser.fill("username", "rivera").await;
    browser.fill("display_name", "Ms Rivera").await;
    browser.fill("password", "a long enough password").await;
    browser.press("Create my account").await;
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
    if let Some(why) = missing() {
        return skipped(&why);
    }
    let app = school(backend).await;
    let browser = Browser::start(1280, false).await;
    browser.open(&app.url("/register")).await;
    browser.fill("username", "rivera").await;
    browser.fill("display_name", "Ms Rivera").await;
    browser.fill("password", "short").await;
    browser.press("Create my account").await;
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
    if let Some(why) = missing() {
        return skipped(&why);
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
    app.reply(&token, thread, "With a rekenrek.", None).await;
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
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
