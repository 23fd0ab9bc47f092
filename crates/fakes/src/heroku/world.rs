//! The fake Heroku's in-memory world: accounts, teams, pipelines, apps and everything
//! that happens to them, plus who may see what. Plain data behind one lock; the
//! routes read it, the lifecycle tasks move it forward.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::activity::{
    ActedRequest, Build, Delivery, Dyno, Promotion, Release, SeenRequest, Slug, Webhook,
};
use super::authorizations::Authorization;
use super::buildpacks::Language;
use super::errors::ApiError;
use super::logs::Log;
use super::oauth::{Grant, OAuthClient};
use super::webhooks::Outgoing;

/// How long the fake's background work takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// From `POST /builds` to the build's outcome.
    pub build: Duration,
    /// How long a release phase runs (apps with a release command).
    pub release_phase: Duration,
    /// From a new release to its dynos leaving `starting`.
    pub restart: Duration,
    /// From `POST /pipeline-promotions` to the target releases existing.
    pub promotion: Duration,
}

impl Timings {
    /// `chatops-sandbox sandbox`: a deploy takes a few seconds, slow enough to watch.
    pub const SANDBOX: Timings = Timings {
        build: Duration::from_millis(3000),
        release_phase: Duration::from_millis(1500),
        restart: Duration::from_millis(1500),
        promotion: Duration::from_millis(500),
    };
    /// Tests: a whole deploy in about a tenth of a second.
    pub const FAST: Timings = Timings {
        build: Duration::from_millis(40),
        release_phase: Duration::from_millis(20),
        restart: Duration::from_millis(20),
        promotion: Duration::from_millis(10),
    };
}

/// A Heroku Team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
}

/// A Heroku account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub two_factor_authentication: bool,
    /// Ids of the teams the account is a member of.
    pub teams: Vec<String>,
    pub created_at: i64,
    pub(super) budget: Budget,
}

/// An account's pool of API requests: 4500 at most, refilled at 75 a minute.
#[derive(Debug, Clone)]
pub(super) struct Budget {
    remaining: f64,
    refilled_at: Instant,
}

/// Who owns an app or a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Team(String),
    User(String),
}

/// An app and how the fake's lifecycle treats it.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub name: String,
    pub owner: Owner,
    /// Users with access besides the owner (or the owning team's admins).
    pub collaborators: Vec<String>,
    /// Team members with the permissions they were given on this team app.
    pub members: Vec<super::access::Member>,
    /// `us` or `eu`.
    pub region: &'static str,
    pub language: Language,
    /// Writes need `Heroku-Two-Factor-Code` ("paranoid" apps).
    pub requires_two_factor: bool,
    /// The Procfile's `release:` command: every release runs it first.
    pub release_command: Option<String>,
    pub formation: Vec<Formation>,
    pub created_at: i64,
    pub(super) behaviour: Behaviour,
}

impl App {
    /// The app's default herokuapp.com URL (name plus a stable hash, as Heroku now
    /// makes them).
    pub fn web_url(&self) -> String {
        format!(
            "https://{}-{}.herokuapp.com/",
            self.name,
            &super::ids::seeded_sha(&self.name)[..12]
        )
    }
}

/// What the next lifecycle run of an app does: how long it takes, and which one-shot
/// failures are armed.
#[derive(Debug, Clone)]
pub(super) struct Behaviour {
    pub timings: Timings,
    /// The next build fails; the lines are its own output before the buildpack gives up
    /// (what a compiler or test run of the app printed).
    pub fail_next_build: Option<Vec<String>>,
    pub fail_next_release: bool,
    /// This dyno crashes instead of coming up after the next restart.
    pub crash_next_restart: Option<String>,
}

/// One process type's scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formation {
    pub id: String,
    pub kind: String,
    pub quantity: u32,
    pub size: String,
    pub command: String,
    pub updated_at: i64,
}

/// A pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub owner: Owner,
    pub created_at: i64,
}

/// An app in a pipeline stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupling {
    pub id: String,
    pub pipeline_id: String,
    pub app_id: String,
    pub stage: &'static str,
    pub created_at: i64,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub user_id: String,
    pub scope: String,
    pub expires_at: Instant,
    /// The authorization that issued it; revoking that kills the token.
    pub authorization_id: String,
}

/// Everything the fake knows.
#[derive(Default)]
pub(super) struct World {
    /// Where the fake serves, for the URLs it hands out.
    pub base_url: String,
    pub teams: Vec<Team>,
    pub users: Vec<User>,
    pub pipelines: Vec<Pipeline>,
    pub couplings: Vec<Coupling>,
    pub apps: Vec<App>,
    pub builds: Vec<Build>,
    pub releases: Vec<Release>,
    pub slugs: Vec<Slug>,
    pub dynos: Vec<Dyno>,
    pub promotions: Vec<Promotion>,
    pub webhooks: Vec<Webhook>,
    pub deliveries: Vec<Delivery>,
    pub tokens: HashMap<String, Token>,
    /// Authorization codes waiting to be exchanged.
    pub codes: HashMap<String, Grant>,
    pub refresh_tokens: HashMap<String, Grant>,
    pub authorizations: Vec<Authorization>,
    pub oauth_clients: Vec<OAuthClient>,
    pub token_lifetime: Duration,
    pub requests: VecDeque<SeenRequest>,
    /// Every request ever received: `requests` keeps only the latest.
    pub requests_total: u64,
    /// The account each admitted request acted for, in order (email, method, path).
    pub admitted: VecDeque<ActedRequest>,
    /// Output streams by build or release id.
    pub logs: HashMap<String, Log>,
    /// Webhook deliveries to hand to the sender once the lock is released.
    pub outbox: Vec<Outgoing>,
}

/// An account's pool holds at most this many requests.
const BUDGET: f64 = 4500.0;
const REFILL_PER_SECOND: f64 = 75.0 / 60.0;

impl Budget {
    pub fn full() -> Budget {
        Budget {
            remaining: BUDGET,
            refilled_at: Instant::now(),
        }
    }

    pub fn set(&mut self, remaining: u32) {
        *self = Budget {
            remaining: f64::from(remaining),
            refilled_at: Instant::now(),
        };
    }

    /// Requests left now, after refilling for the time passed.
    pub fn remaining(&mut self) -> u32 {
        let now = Instant::now();
        let refill = now.duration_since(self.refilled_at).as_secs_f64() * REFILL_PER_SECOND;
        self.remaining = (self.remaining + refill).min(BUDGET);
        self.refilled_at = now;
        self.remaining.floor() as u32
    }

    /// Spends one request; `None` when the pool is empty.
    pub fn spend(&mut self) -> Option<u32> {
        if self.remaining() == 0 {
            return None;
        }
        self.remaining -= 1.0;
        Some(self.remaining.floor() as u32)
    }
}

impl World {
    pub fn user(&self, id: &str) -> &User {
        self.users
            .iter()
            .find(|user| user.id == id)
            .expect("tokens belong to known users")
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users.iter().find(|user| user.email == email)
    }

    pub fn app(&self, id: &str) -> &App {
        self.apps
            .iter()
            .find(|app| app.id == id)
            .expect("ids in the world point at apps")
    }

    pub fn app_mut(&mut self, id: &str) -> &mut App {
        self.apps
            .iter_mut()
            .find(|app| app.id == id)
            .expect("ids in the world point at apps")
    }

    /// The app named or identified by `ident`, if `user_id` may see it: 404 when it
    /// does not exist, 403 when it does but the user has no access (as Heroku answers).
    pub fn app_for(&self, user_id: &str, ident: &str) -> Result<&App, ApiError> {
        let app = self
            .apps
            .iter()
            .find(|app| app.id == ident || app.name == ident)
            .ok_or_else(|| ApiError::not_found("app"))?;
        if self.can_access(user_id, app) {
            Ok(app)
        } else {
            Err(ApiError::no_access_to_app(&app.name))
        }
    }

    pub fn can_access(&self, user_id: &str, app: &App) -> bool {
        self.owns(user_id, &app.owner)
            || app.collaborators.iter().any(|id| id == user_id)
            || app.members.iter().any(|member| member.user_id == user_id)
    }

    pub(super) fn owns(&self, user_id: &str, owner: &Owner) -> bool {
        match owner {
            Owner::User(owner_id) => owner_id == user_id,
            Owner::Team(team_id) => self.user(user_id).teams.contains(team_id),
        }
    }

    /// Pipelines the user can see: their team's or their own, or one holding an app
    /// they can access. Others do not exist for them (404).
    pub fn pipeline_for(&self, user_id: &str, ident: &str) -> Result<&Pipeline, ApiError> {
        self.pipelines
            .iter()
            .find(|pipeline| {
                (pipeline.id == ident || pipeline.name == ident)
                    && self.sees_pipeline(user_id, pipeline)
            })
            .ok_or_else(|| ApiError::not_found("pipeline"))
    }

    pub fn sees_pipeline(&self, user_id: &str, pipeline: &Pipeline) -> bool {
        self.owns(user_id, &pipeline.owner)
            || self
                .couplings
                .iter()
                .filter(|coupling| coupling.pipeline_id == pipeline.id)
                .any(|coupling| self.can_access(user_id, self.app(&coupling.app_id)))
    }

    /// Writes to a protected app need the second factor.
    pub fn check_two_factor(app: &App, code: Option<&str>) -> Result<(), ApiError> {
        if app.requires_two_factor && code != Some(super::FakeHeroku::TWO_FACTOR_CODE) {
            return Err(ApiError::two_factor());
        }
        Ok(())
    }

    pub fn release_mut(&mut self, id: &str) -> &mut Release {
        self.releases
            .iter_mut()
            .find(|release| release.id == id)
            .expect("release ids are known")
    }

    pub fn current_release(&self, app_id: &str) -> Option<&Release> {
        self.releases
            .iter()
            .find(|release| release.app_id == app_id && release.current)
    }

    pub fn next_version(&self, app_id: &str) -> u64 {
        self.releases
            .iter()
            .filter(|release| release.app_id == app_id)
            .map(|release| release.version)
            .max()
            .unwrap_or(0)
            + 1
    }

    pub fn slug(&self, id: &str) -> Option<&Slug> {
        self.slugs.iter().find(|slug| slug.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_spends_one_per_request_and_refills_75_a_minute() {
        let mut budget = Budget {
            remaining: 2.0,
            refilled_at: Instant::now(),
        };
        assert_eq!(
            (budget.spend(), budget.spend(), budget.spend()),
            (Some(1), Some(0), None)
        );
        let mut budget = Budget {
            remaining: 0.0,
            refilled_at: Instant::now() - Duration::from_secs(60),
        };
        assert_eq!(budget.remaining(), 75);
        let mut full = Budget {
            remaining: BUDGET - 1.0,
            refilled_at: Instant::now() - Duration::from_secs(3600),
        };
        assert_eq!(full.remaining(), 4500, "the pool never overflows");
    }
}
