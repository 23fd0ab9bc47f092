//! Walking the OAuth pages over plain HTTP, one hop at a time, as a browser would: a
//! [`Walker`] keeps the cookies it is given and never follows a redirect by itself, so
//! a test sees (and checks) every `Location`. Plus readers for what the bot answers:
//! the connect button in a Slack reply, and the heading and button of its pages.

use std::collections::BTreeMap;

use serde_json::Value;

use super::forms::{Form, unescape};
use super::{TestApp, no_redirects};

/// One browser: its cookies (every host on loopback shares them, as in a browser that
/// ignores ports), a client that stops at each redirect, and who it is signed in to
/// Slack as.
pub struct Walker {
    pub http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// How the sandbox Slack's sign-in page names that person: `alice (Sandbox)`.
    slack_user: String,
}

/// A page or redirect as the browser received it.
#[derive(Debug)]
pub struct Hop {
    pub status: u16,
    /// The `Location` of a redirect.
    pub location: Option<String>,
    /// Every `Set-Cookie`, as sent.
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Walker {
    /// A browser signed in to the sandbox Slack as Alice.
    pub fn new() -> Walker {
        Walker::signed_in_as("alice (Sandbox)")
    }

    /// A browser signed in to Slack as `who`, as the sandbox Slack's sign-in page names
    /// people: `carol (Sandbox)`, `dave (Other Workspace)`.
    pub fn signed_in_as(who: &str) -> Walker {
        Walker {
            http: no_redirects(),
            cookies: BTreeMap::new(),
            slack_user: who.to_owned(),
        }
    }

    /// Opens a link's start page; when the bot sends the browser to sign in with
    /// Slack, signs in as this browser's person and returns the bot's answer to Slack's
    /// redirect back (on to the provider, or a refusal page). Otherwise returns the
    /// start page's answer.
    pub async fn start(&mut self, start_url: &str) -> Hop {
        let to_slack = self.get(start_url).await;
        let signs_in = to_slack
            .location
            .as_deref()
            .is_some_and(|location| location.contains("/openid/connect/authorize?"));
        if !signs_in {
            return to_slack;
        }
        let button = format!("Continue as {}", self.slack_user);
        let back = self.authorize(to_slack.redirect(), None, &button).await;
        self.get(&back).await
    }

    /// `GET url` with this browser's cookies, keeping the ones it sets.
    pub async fn get(&mut self, url: &str) -> Hop {
        let mut request = self.http.get(url);
        if !self.cookies.is_empty() {
            let cookies: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", cookies.join("; "));
        }
        let response = request.send().await.expect("the page answers");
        let hop = Hop {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|value| value.to_str().unwrap().to_owned()),
            set_cookies: response
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|value| value.to_str().unwrap().to_owned())
                .collect(),
            body: response.text().await.unwrap(),
        };
        for cookie in &hop.set_cookies {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        hop
    }

    /// On a provider's authorize page at `url`: presses `button` (after checking the
    /// radio `choice`, if given) and returns where the provider redirects back to.
    pub async fn authorize(
        &mut self,
        url: &str,
        choice: Option<(&str, &str)>,
        button: &str,
    ) -> String {
        let page = self.get(url).await;
        assert_eq!(page.status, 200, "{url}: {}", page.body);
        let mut form = Form::of(&page.body);
        if let Some((name, value)) = choice {
            form = form.choose(name, value);
        }
        let decided = form.submit(&self.http, url, button).await;
        assert_eq!(decided.status().as_u16(), 302, "pressing {button} on {url}");
        decided.headers()["location"].to_str().unwrap().to_owned()
    }
}

impl Default for Walker {
    fn default() -> Walker {
        Walker::new()
    }
}

impl Hop {
    /// The redirect target, asserting this is a `302 Found`.
    pub fn redirect(&self) -> &str {
        assert_eq!(self.status, 302, "expected a redirect, got: {}", self.body);
        self.location.as_deref().expect("a Location")
    }

    /// The text of the page's `<h1>`.
    pub fn heading(&self) -> String {
        between(&self.body, "<h1>", "</h1>")
            .map(unescape)
            .unwrap_or_default()
    }

    /// The texts of the page's paragraphs, tags removed.
    pub fn paragraphs(&self) -> Vec<String> {
        self.body
            .split("<p>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</p>").map(|(p, _)| p))
            .filter(|p| !p.contains("class=\"button\""))
            .map(|p| unescape(&p.replace("<code>", "`").replace("</code>", "`")))
            .collect()
    }

    /// The page's button: (label, href).
    pub fn action(&self) -> Option<(String, String)> {
        let link = between(&self.body, "<a class=\"button\" href=\"", "</a>")?;
        let (href, label) = link.split_once("\">")?;
        Some((unescape(label), unescape(href)))
    }
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// The query parameters of `url`, and the URL without them.
pub fn split_url(url: &str) -> (String, BTreeMap<String, String>) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("a query string");
    (base.to_owned(), params.into_iter().collect())
}

/// The URL of the connect button in a Slack reply.
pub fn button_url(reply: &Value) -> String {
    let url = reply["blocks"]
        .as_array()
        .expect("the reply has blocks")
        .iter()
        .find(|block| block["type"] == "actions")
        .expect("an actions block")["elements"][0]["url"]
        .as_str()
        .expect("a URL button");
    url.to_owned()
}

/// How the sandbox Slack's sign-in page names seeded user `user` of `team`:
/// `alice (Sandbox)`, `dave (Other Workspace)`.
pub fn slack_name(team: &str, user: &str) -> String {
    let workspace = match team {
        "T0SANDBOX" => "Sandbox",
        "T0OTHER" => "Other Workspace",
        _ => panic!("{team} is not a seeded workspace"),
    };
    let name = user.trim_start_matches("U0").to_lowercase();
    format!("{name} ({workspace})")
}

/// From a start link through the provider's page (pressing `button`, after checking
/// `choice`) and back to the bot's callback page.
pub async fn walk_provider(
    walker: &mut Walker,
    start_url: &str,
    choice: Option<(&str, &str)>,
    button: &str,
) -> Hop {
    let authorize = walker.start(start_url).await.redirect().to_owned();
    let callback = walker.authorize(&authorize, choice, button).await;
    walker.get(&callback).await
}

/// Runs `/h login` as `user` of `team` in `channel`, and walks both providers as
/// `heroku_email` and `github_login`; returns the last page.
pub async fn link_both(
    app: &TestApp,
    (team, channel, user): (&str, &str, &str),
    heroku_email: &str,
    github_login: &str,
) -> Hop {
    let (status, body) = app.command_as(team, channel, user, "login").await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    let mut walker = Walker::signed_in_as(&slack_name(team, user));
    let heroku = walk_provider(
        &mut walker,
        &button_url(&reply),
        Some(("email", heroku_email)),
        "Allow",
    )
    .await;
    let (_, github_start) = heroku.action().expect("a Connect GitHub button");
    let button = format!("Authorize as {github_login}");
    walk_provider(&mut walker, &github_start, None, &button).await
}
