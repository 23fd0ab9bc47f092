//! The account behind a token, its request budget, and what runs in an app: the app
//! itself, who may change it (its collaborators), its dynos and its formation.

use secrecy::SecretString;
use serde::Deserialize;

use super::client::{Call, segment};
use super::types::{NamedRef, UserRef};
use super::{HerokuClient, HerokuError};

/// `GET /account`: who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub two_factor_authentication: bool,
    pub default_team: Option<NamedRef>,
}

/// `GET /account/rate-limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RateLimit {
    /// Requests left in the account's pool.
    pub remaining: u32,
}

/// `GET /apps/{app}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct App {
    pub id: String,
    pub name: String,
    pub web_url: Option<String>,
    pub owner: AppOwner,
    /// The team owning the app; `None` for personal apps.
    pub team: Option<NamedRef>,
    pub region: NamedRef,
    pub released_at: Option<String>,
    pub maintenance: bool,
}

/// The account owning an app (for team apps, the team's own account).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppOwner {
    pub id: String,
    pub email: String,
}

/// `GET /apps/{app}/collaborators`: one account with access to an app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Collaborator {
    pub user: UserRef,
    /// `owner`, `admin` (of the owning team), `member` or `collaborator`.
    pub role: String,
    /// Team app permissions (`view`, `deploy`, `operate`, `manage`); empty on
    /// personal apps, where they do not apply.
    #[serde(default)]
    pub permissions: Vec<NamedPermission>,
}

/// A team app permission as a collaborator holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NamedPermission {
    pub name: String,
}

impl Collaborator {
    /// Whether Heroku lets this account change what the app runs: the owner, the
    /// owning team's admins and a personal app's collaborators may do everything; a
    /// team member needs the `deploy` permission.
    pub fn can_deploy(&self) -> bool {
        matches!(self.role.as_str(), "owner" | "admin")
            || (self.role == "collaborator" && self.permissions.is_empty())
            || self.permissions.iter().any(|p| p.name == "deploy")
    }

    /// The permissions held, e.g. `view`, or `none`.
    pub fn permission_names(&self) -> String {
        let names: Vec<&str> = self.permissions.iter().map(|p| p.name.as_str()).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }
}

/// One running (or crashed) process of an app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dyno {
    pub id: String,
    /// `web.1`, `worker.2`, `run.4821`.
    pub name: String,
    /// The process type: `web`, `worker`, `run`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub state: DynoState,
    pub command: String,
    pub size: String,
    pub release: DynoRelease,
    pub created_at: String,
    pub updated_at: String,
}

impl Dyno {
    /// One-off dynos (`heroku run`, the scheduler, the release phase) are not restarted
    /// by a deploy, so a deploy must not wait for them.
    pub fn is_one_off(&self) -> bool {
        matches!(self.kind.as_str(), "run" | "scheduler" | "release")
    }
}

/// The release a dyno runs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DynoRelease {
    pub id: String,
    pub version: u64,
}

/// A dyno's state, as Heroku reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DynoState {
    Crashed,
    Down,
    Idle,
    Starting,
    Up,
    /// A state this client does not know (the schema leaves the field open).
    #[serde(other)]
    Other,
}

/// How many dynos of one process type an app runs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Formation {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub quantity: u32,
    pub size: String,
    pub command: String,
}

impl HerokuClient {
    /// `GET /account`: the account the token belongs to.
    #[tracing::instrument(skip_all)]
    pub async fn account(&self, token: &SecretString) -> Result<Account, HerokuError> {
        self.json(token, Call::get("/account".into())).await
    }

    /// `GET /account/rate-limits` (free: it does not count against the budget).
    #[tracing::instrument(skip_all)]
    pub async fn rate_limits(&self, token: &SecretString) -> Result<RateLimit, HerokuError> {
        self.json(token, Call::get("/account/rate-limits".into()))
            .await
    }

    /// `GET /apps/{app}`, by name or id.
    #[tracing::instrument(skip_all, fields(app = %app))]
    pub async fn app(&self, token: &SecretString, app: &str) -> Result<App, HerokuError> {
        self.json(token, Call::get(format!("/apps/{}", segment(app))))
            .await
    }

    /// `GET /apps/{app}/collaborators`: every account with access and its permissions.
    #[tracing::instrument(skip_all, fields(app = %app))]
    pub async fn collaborators(
        &self,
        token: &SecretString,
        app: &str,
    ) -> Result<Vec<Collaborator>, HerokuError> {
        self.list(
            token,
            format!("/apps/{}/collaborators", segment(app)),
            None,
            None,
        )
        .await
    }

    /// `GET /apps/{app}/dynos`: every dyno, one-off dynos included.
    #[tracing::instrument(skip_all, fields(app = %app))]
    pub async fn dynos(&self, token: &SecretString, app: &str) -> Result<Vec<Dyno>, HerokuError> {
        self.list(token, format!("/apps/{}/dynos", segment(app)), None, None)
            .await
    }

    /// `GET /apps/{app}/formation`: the process types and their quantities.
    #[tracing::instrument(skip_all, fields(app = %app))]
    pub async fn formation(
        &self,
        token: &SecretString,
        app: &str,
    ) -> Result<Vec<Formation>, HerokuError> {
        self.list(
            token,
            format!("/apps/{}/formation", segment(app)),
            None,
            None,
        )
        .await
    }
}
