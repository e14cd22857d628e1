//! Headless Chromium for browser tests: Debian's chromedriver on a free port,
//! driven through fantoccini at 360 px wide.
//!
//! Each [`Browser`] has its own chromedriver, port, profile and home folder, so
//! tests run in parallel. chromedriver runs in its own process group; dropping
//! the browser (also when a test panics) kills that group, which takes the
//! Chromium processes it started with it. Every wait is an explicit poll with a
//! time limit, never a fixed sleep.

use crate::helpers::{CHROMEDRIVER, CHROMIUM};
use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The narrow phone width the pages must work at.
pub const WIDTH: u32 = 360;
/// A desktop window's width, for pages also checked there.
pub const DESKTOP_WIDTH: u32 = 1280;
const HEIGHT: u32 = 800;
/// The browser's own time zone, as a person in Auckland has it.
pub const TIME_ZONE: &str = "Pacific/Auckland";
/// How long any one wait (driver start, element, navigation) may take.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);
/// The project's Chromium flags; `--user-data-dir` and `--window-size` are added per browser.
const FLAGS: [&str; 8] = [
    "--headless=new",
    "--no-sandbox", // the sandbox cannot start as root, which these machines are
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
];

/// A chromedriver child process, killed with its process group on drop.
struct Chromedriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Chromedriver {
    /// Starts chromedriver on a free port and waits until `/status` says ready.
    /// A port taken between choosing and binding makes it exit: try another.
    async fn start(home: &Path) -> Chromedriver {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let log = home.join(format!("chromedriver-{port}.log"));
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                // Chromium's crash database, NSS store and caches land here, not in ~.
                .env("HOME", home)
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                // Chromium inherits it and reports it to scripts.
                .env("TZ", TIME_ZONE)
                .stdin(Stdio::null())
                .stdout(File::create(&log).expect("chromedriver log file"))
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("spawn chromedriver");
            let mut driver = Chromedriver { child, port, log };
            match driver.wait_until_ready().await {
                Ok(()) => return driver,
                Err(why) => failures.push(format!("port {port}: {why}; log: {}", driver.log())),
            }
        }
        panic!("chromedriver did not start:\n{}", failures.join("\n"));
    }

    async fn wait_until_ready(&mut self) -> Result<(), String> {
        let status = format!("http://127.0.0.1:{}/status", self.port);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("http client");
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Some(exit) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("exited with {exit}"));
            }
            if let Ok(response) = http.get(&status).send().await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
        Err(format!("/status not ready within {WAIT:?}"))
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group holds chromedriver and the Chromium processes it started,
        // which would outlive a session that a failing test never closed.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// One headless Chromium window, 360 px wide unless resized, with its own profile.
pub struct Browser {
    client: Client,
    screenshots: PathBuf,
    label: String,
    /// The window's width now: [`WIDTH`] unless [`Browser::set_width`] changed it.
    width: std::sync::atomic::AtomicU32,
    // Dropped after the client: the driver (and browser) go before their folder.
    _driver: Chromedriver,
    _home: tempfile::TempDir,
}

impl Browser {
    /// Starts a browser whose screenshots are named `{label}-{name}.png` under
    /// `tests/output/browser/`.
    pub async fn start(label: &str) -> Browser {
        let home = tempfile::tempdir().expect("browser temp dir");
        let driver = Chromedriver::start(home.path()).await;
        let profile = home.path().join("profile");
        let mut args: Vec<String> = FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={WIDTH},{HEIGHT}"));
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": args}),
        );
        let client = match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
        {
            Ok(client) => client,
            Err(error) => panic!(
                "no WebDriver session in headless Chromium: {error}; chromedriver log: {}",
                driver.log()
            ),
        };
        // Headless Chromium keeps windows at least 500 px wide at launch;
        // resizing afterwards gives the 360 px viewport.
        client
            .set_window_size(WIDTH, HEIGHT)
            .await
            .expect("resize the window");
        let screenshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/output/browser");
        std::fs::create_dir_all(&screenshots).expect("create tests/output/browser");
        let browser = Browser {
            client,
            screenshots,
            label: label.to_owned(),
            width: std::sync::atomic::AtomicU32::new(WIDTH),
            _driver: driver,
            _home: home,
        };
        let width = browser.number("return window.innerWidth").await;
        assert!(
            (f64::from(WIDTH) - 20.0..=f64::from(WIDTH)).contains(&width),
            "the viewport is {width} px wide, not about {WIDTH}"
        );
        browser
    }

    /// Resizes the window to `width` (e.g. [`DESKTOP_WIDTH`]); screenshots follow.
    pub async fn set_width(&self, width: u32) {
        self.client
            .set_window_size(width, HEIGHT)
            .await
            .expect("resize the window");
        self.width
            .store(width, std::sync::atomic::Ordering::Relaxed);
        let inner = self.number("return window.innerWidth").await;
        assert!(
            (f64::from(width) - 20.0..=f64::from(width)).contains(&inner),
            "the viewport is {inner} px wide, not about {width}"
        );
    }

    fn current_width(&self) -> u32 {
        self.width.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Enters the `<iframe>` matching `css` (until [`Browser::leave_frame`]).
    pub async fn enter_frame(&self, css: &str) {
        self.find(css)
            .await
            .enter_frame()
            .await
            .unwrap_or_else(|e| panic!("enter the frame {css:?}: {e}"));
    }

    /// Back from a frame to its page.
    pub async fn leave_frame(&self) {
        self.client
            .enter_parent_frame()
            .await
            .expect("leave the frame");
    }

    /// Opens `url` and waits for the page to load.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("open a page");
    }

    /// Waits for the browser to arrive at `url` (after a click that navigates).
    pub async fn wait_for_url(&self, url: &str) {
        let wanted = reqwest::Url::parse(url).expect("a valid url");
        if let Err(error) = self.client.wait().at_most(WAIT).for_url(&wanted).await {
            let now = self.client.current_url().await.map(|u| u.to_string());
            panic!("did not reach {url} within {WAIT:?} (at {now:?}): {error}");
        }
    }

    /// Waits for the first element matching `css`.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} within {WAIT:?}: {e}"))
    }

    /// Every element matching `css` once the first one is there.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.find(css).await;
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
    }

    /// Types `text` into the field matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        field.send_keys(text).await.expect("type into a field");
    }

    /// Chooses the option whose value is `value` in the select matching `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value:?} in {css:?}: {e}"));
    }

    /// Clicks the element matching `css` (scrolled into view first).
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// The text of the page's `<h1>`.
    pub async fn heading(&self) -> String {
        self.find("h1").await.text().await.expect("heading text")
    }

    /// Asserts that nothing sticks out sideways: the page needs no horizontal scroll.
    pub async fn assert_no_horizontal_scroll(&self) {
        let scroll = self
            .number("return document.documentElement.scrollWidth")
            .await;
        let inner = self.number("return window.innerWidth").await;
        let url = self.client.current_url().await.expect("current url");
        assert!(
            scroll <= inner,
            "{url} scrolls sideways at {inner} px: scrollWidth is {scroll}"
        );
    }

    /// Saves a PNG of the whole page, not only the viewport, as
    /// `tests/output/browser/{label}-{name}.png`, and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let page = self
            .number("return document.documentElement.scrollHeight")
            .await;
        let inner = self.number("return window.innerHeight").await;
        let (_, outer) = self.client.get_window_size().await.expect("window size");
        // The window's height includes what headless Chromium keeps for its
        // (invisible) toolbars; grow it by the page's overflow.
        let tall = (outer as f64 + (page - inner).max(0.0)).ceil() as u32;
        let width = self.current_width();
        self.client
            .set_window_size(width, tall)
            .await
            .expect("grow the window");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client
            .set_window_size(width, HEIGHT)
            .await
            .expect("restore the window");
        let path = self.screenshots.join(format!("{}-{name}.png", self.label));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Runs axe-core (`source` is its `axe.min.js`) on the page with every
    /// WCAG 2.2 A and AA rule and the best practices; returns each violation
    /// as `rule: help — the elements`. WebDriver's script runs outside the
    /// page's CSP, so the page needs no allowance for it.
    pub async fn axe_violations(&self, source: &str) -> Vec<String> {
        self.client
            .execute(source, vec![])
            .await
            .expect("load axe-core into the page");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {
                    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice']},
                    resultTypes: ['violations']
                }).then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' — ' +
                    v.nodes.map(n => n.target.join(' ')).join(', '))))
                  .catch(e => done(['axe-core failed: ' + e]));"#,
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(found).expect("axe-core's violations as strings")
    }

    /// Presses keys in the focused element (or the page), as a keyboard would.
    pub async fn press(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("the focused element")
            .send_keys(keys)
            .await
            .expect("press keys");
    }

    /// The focused element as `tag#id.class` (id and class when it has them).
    pub async fn focused(&self) -> String {
        let script = "const e = document.activeElement; \
            return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + \
            (e.className ? '.' + e.className : '')";
        self.client
            .execute(script, vec![])
            .await
            .expect("the focused element")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's `<title>`.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("the page title")
    }

    /// Ends the WebDriver session, which closes Chromium.
    pub async fn close(self) {
        let Browser { client, .. } = self;
        client.close().await.expect("close the browser");
    }

    /// Runs `script` in the page and returns the number it returns.
    pub async fn number(&self, script: &str) -> f64 {
        let value = self
            .client
            .execute(script, Vec::new())
            .await
            .expect("run a script");
        value
            .as_f64()
            .unwrap_or_else(|| panic!("{script} gave {value}"))
    }
}
