//! A small W3C WebDriver client, spoken with reqwest to Debian's `chromedriver`, which
//! drives a headless `chromium`: enough to open pages, find elements by CSS selector,
//! click them, read their text and take screenshots.
//!
//! [`Browser::start`] fails the test with a clear message when Chromium or its driver
//! is missing (CI installs both), rather than letting a browser test pass unseen.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key W3C WebDriver puts element references under.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a page may take to show what a test waits for. Waits end as soon as the
/// page shows it; the bound is for a CI machine running the whole suite on two cores,
/// where 10 s was once not enough.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One headless Chromium session; the driver process stops when this is dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

/// An element on the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts `chromedriver` on a free port and opens a headless Chromium session.
    pub async fn start() -> Browser {
        let chromium = executable("chromium");
        let chromedriver = executable("chromedriver");
        let port = free_port();
        let driver = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&http, &base).await;
        let profile = tempfile::tempdir().expect("a temp dir for the Chromium profile");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1024,768",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let created = call(
            &http,
            reqwest::Method::POST,
            &format!("{base}/session"),
            Some(capabilities),
        )
        .await;
        let session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.session), body).await
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The current page's URL.
    pub async fn url(&self) -> String {
        let url = self.command(reqwest::Method::GET, "/url", None).await;
        url.as_str().expect("a URL").to_owned()
    }

    /// The current page's title.
    pub async fn title(&self) -> String {
        let title = self.command(reqwest::Method::GET, "/title", None).await;
        title.as_str().expect("a title").to_owned()
    }

    /// The first element matching `css`, waiting up to [`PATIENCE`] for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let response = self
                .http
                .post(format!("{}/element", self.session))
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .expect("chromedriver answers");
            let found = response.status().is_success();
            let body: Value = response.json().await.expect("a JSON answer");
            if found {
                return Element(
                    body["value"][ELEMENT]
                        .as_str()
                        .unwrap_or_else(|| panic!("an element id in {body}"))
                        .to_owned(),
                );
            }
            assert!(
                Instant::now() < deadline,
                "no element {css:?} on {} within {PATIENCE:?}: {}",
                self.url().await,
                body["value"]["message"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `element` (following the navigation it starts).
    pub async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.command(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }

    /// Clicks the first element matching `css`; see [`Browser::click_nth`].
    pub async fn click_on(&self, css: &str) {
        self.click_nth(css, 0).await;
    }

    /// Clicks the `index`th element matching `css`, waiting up to [`PATIENCE`] for it.
    /// The page redraws what the bot updates, so an element that went stale between
    /// finding and clicking it is found again, as a person would click what is there.
    pub async fn click_nth(&self, css: &str, index: usize) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self.find_all(css).await;
            if let Some(element) = found.get(index) {
                let path = format!("{}/element/{}/click", self.session, element.0);
                let body = Some(json!({}));
                match try_call(&self.http, reqwest::Method::POST, &path, body).await {
                    Ok(_) => return,
                    Err(error) if error.contains("stale element reference") => {}
                    Err(error) => panic!("{error}"),
                }
            }
            assert!(
                Instant::now() < deadline,
                "no clickable {css:?} number {index} on {} within {PATIENCE:?}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible text of `element`.
    pub async fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        let text = self.command(reqwest::Method::GET, &path, None).await;
        text.as_str().expect("a text").to_owned()
    }

    /// The attribute `name` of `element`, if set.
    pub async fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        let path = format!("/element/{}/attribute/{name}", element.0);
        let value = self.command(reqwest::Method::GET, &path, None).await;
        value.as_str().map(str::to_owned)
    }

    /// Waits until the text of the first `css` element is `expected`. The page may
    /// still be navigating, so an element that went stale between finding and reading
    /// it is looked up again.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let element = self.find(css).await;
            let path = format!("{}/element/{}/text", self.session, element.0);
            let text = match try_call(&self.http, reqwest::Method::GET, &path, None).await {
                Ok(text) => text.as_str().unwrap_or_default().to_owned(),
                Err(error) if error.contains("stale element reference") => String::new(),
                Err(error) => panic!("{error}"),
            };
            if text == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} on {} reads {text:?}, not {expected:?}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every element matching `css` now (none is an empty list, not a failure).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self
            .command(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_array()
            .expect("a list of elements")
            .iter()
            .map(|element| Element(element[ELEMENT].as_str().expect("an element id").to_owned()))
            .collect()
    }

    /// The visible texts of every `css` element, once `accept` takes them, waiting up to
    /// [`PATIENCE`]; a list read while the page redrew it (a stale element) is read again.
    pub async fn wait_for_texts(
        &self,
        css: &str,
        accept: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let texts = self.try_texts(css).await;
            if let Some(texts) = texts.as_ref().filter(|texts| accept(texts)) {
                return texts.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{css} on {} read {texts:?} for {PATIENCE:?}, never what was awaited",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The texts of every `css` element, or `None` if one went stale while reading.
    async fn try_texts(&self, css: &str) -> Option<Vec<String>> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            let path = format!("{}/element/{}/text", self.session, element.0);
            match try_call(&self.http, reqwest::Method::GET, &path, None).await {
                Ok(text) => texts.push(text.as_str().unwrap_or_default().to_owned()),
                Err(error) if error.contains("stale element reference") => return None,
                Err(error) => panic!("{error}"),
            }
        }
        Some(texts)
    }

    /// Types `text` into `element` (an input), as keystrokes.
    pub async fn type_into(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.command(reqwest::Method::POST, &path, Some(json!({"text": text})))
            .await;
    }

    /// Types `text` into `element` and presses Enter.
    pub async fn type_and_enter(&self, element: &Element, text: &str) {
        self.type_into(element, &format!("{text}\u{E007}")).await;
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        let encoded = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64"))
            .expect("a base64 PNG")
    }

    /// Ends the session and stops the driver.
    pub async fn quit(mut self) {
        self.command(reqwest::Method::DELETE, "", None).await;
        let _ = self.driver.kill().await;
    }
}

/// Sends one WebDriver command; its `value`, or a panic with the driver's error.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Value {
    try_call(http, method, url, body)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Sends one WebDriver command; its `value`, or the driver's error as text.
async fn try_call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("chromedriver answers");
    let status = response.status();
    let mut body: Value = response.json().await.expect("a JSON answer");
    if !status.is_success() {
        return Err(format!("WebDriver {url} failed ({status}): {body}"));
    }
    Ok(body["value"].take())
}

async fn wait_until_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(response) = http.get(format!("{base}/status")).send().await {
            let status: Value = response.json().await.unwrap_or_default();
            if status["value"]["ready"] == true {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The path of `name` on `PATH`, or a failure saying how to install it.
fn executable(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed, so the browser tests cannot run: install Debian's \
                 chromium and chromium-driver (`apt-get install -y chromium chromium-driver`; \
                 .ci/run does this)"
            )
        })
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("a local address").port()
}
