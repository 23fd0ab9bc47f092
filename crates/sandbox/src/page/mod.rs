//! The sandbox's Slack-like page: #deploys of the Sandbox workspace in a browser, and
//! the app's Home tab. It shows what the fake Slack records, live over server-sent
//! events; sends typed `/h` commands, button clicks and Home openings to the real bot,
//! signed as Slack signs them; and has a panel that plays the fakes' world (CI, failures, crashes, pace, who you are).
//!
//! Plain HTML, CSS and JavaScript compiled into the binary ([`assets`]); the page
//! never puts message text into HTML, it builds DOM text nodes.

mod assets;
mod feed;
mod home;
mod typing;
mod world;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::net::TcpListener;

use chatops_fakes::Fakes;
use chatops_fakes::github::FakeGitHub;
use chatops_fakes::heroku::FakeHeroku;
use chatops_fakes::slack::FakeSlack;

use crate::slash::SlashSender;

/// The channel the page shows.
pub const CHANNEL: &str = "C0DEPLOYS";
/// The bot's user in the sandbox workspace, as its messages name it.
const BOT_USER: &str = "U0BOTSANDBOX";

/// Someone the page lets you be.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Person {
    pub id: &'static str,
    pub name: &'static str,
    /// What being them shows, for the user switcher.
    pub about: &'static str,
    /// The fakes' Heroku email and GitHub login they are linked to at start, if any.
    #[serde(skip)]
    pub linked_as: Option<(&'static str, &'static str)>,
}

/// The people of the sandbox workspace; the first is who you are at first.
pub const PEOPLE: [Person; 3] = [
    Person {
        id: "U0ALICE",
        name: "alice",
        about: "linked to Heroku and GitHub, can deploy paipu and atlas",
        linked_as: Some(("alice@example.com", "alice")),
    },
    Person {
        id: "U0BOB",
        name: "bob",
        about: "linked, but his Heroku account has no access to the pipelines",
        linked_as: Some(("bob@example.com", "bob")),
    },
    Person {
        id: "U0CAROL",
        name: "carol",
        about: "not linked yet: try /h login",
        linked_as: None,
    },
];

/// What the page's handlers share.
#[derive(Clone)]
pub struct Page {
    slack: FakeSlack,
    heroku: FakeHeroku,
    github: FakeGitHub,
    bot: SlashSender,
    interactions_url: String,
    /// The bot's immediate answers to commands, which Slack shows but never records
    /// through its API, kept so a reload still shows them.
    said: Arc<Mutex<Vec<typing::Said>>>,
}

impl Page {
    /// A page over `sandbox`'s fakes, sending commands with `bot` and button clicks
    /// to `interactions_url`.
    pub fn new(sandbox: &Fakes, bot: SlashSender, interactions_url: &str) -> Page {
        Page {
            slack: sandbox.slack.clone(),
            heroku: sandbox.heroku.clone(),
            github: sandbox.github.clone(),
            bot,
            interactions_url: interactions_url.into(),
            said: Arc::default(),
        }
    }

    /// Its routes.
    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(assets::index))
            .route("/assets/{name}", get(assets::asset))
            .route("/api/setup", get(setup))
            .route("/api/events", get(feed::events))
            .route("/api/commands", post(typing::command))
            .route("/api/clicks", post(typing::click))
            .route("/api/home", post(home::open))
            .route("/api/world", post(world::play))
            .with_state(self)
    }
}

/// Serves `page` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, page: Page) {
    if let Err(error) = axum::serve(listener, page.router()).await {
        tracing::error!(%error, "the sandbox page stopped");
    }
}

fn person(id: &str) -> Result<&'static Person, PageError> {
    PEOPLE
        .iter()
        .find(|person| person.id == id)
        .ok_or_else(|| PageError::UnknownUser(id.to_owned()))
}

/// `GET /api/setup`: who and what the page can show and play with.
async fn setup() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "workspace": "Sandbox",
        "channel": {"id": CHANNEL, "name": "deploys"},
        "bot": {"id": BOT_USER, "name": "chatops"},
        "people": PEOPLE,
        "pipelines": world::PIPELINES,
        "apps": world::APPS,
    }))
}

/// What the page's API refuses, answered as `{"error": ...}` with a 400.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(
        "there is no {0:?} in the Sandbox workspace: pick alice (U0ALICE), bob (U0BOB) or carol (U0CAROL)"
    )]
    UnknownUser(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the bot did not answer: {0:#}")]
    Bot(anyhow::Error),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = match self {
            PageError::Bot(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, Json(serde_json::json!({"error": self.to_string()}))).into_response()
    }
}
