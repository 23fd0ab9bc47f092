//! A stateful fake of GitHub: the REST API the bot calls (served at the root, so the
//! client's `api_url` is the fake's base URL), the OAuth App pages under
//! `/login/oauth/…`, and codeload tarballs under `/codeload/…`.
//!
//! It enforces what GitHub enforces: tokens (401 `Bad credentials`), visibility (404
//! for a private repository the caller may not see, and for writes without push
//! access), validation (422 `Validation Failed`), the deployment status check gate
//! (409), the hourly rate limit (`x-ratelimit-*` on every API answer, 403 when spent).
//!
//! # Seeded world
//!
//! Accounts: `alice` (id 1, admin everywhere), `bob` (id 2, collaborator nowhere: he
//! sees only public `acme/atlas`, read-only), `erin` (id 3, push access to
//! `heroku/paipu-repo` and `acme/atlas`), `bruno` (id 4, Alice's teammate: admin of
//! `heroku/paipu-repo` and `acme/atlas`), `olga` (id 5, an outsider like bob, for a
//! second person who must not share bob's account).
//!
//! | repository | visibility | default | branches |
//! |---|---|---|---|
//! | `heroku/paipu-repo` | private | `master` | `master` (protected, requires `ci/circleci`): "Initial commit", "Add a Procfile", "Serve /health"; `feature-x` forks after "Add a Procfile": "Start feature x", "Finish feature x" (so it is behind `master` by one) |
//! | `acme/atlas` | public | `main` | `main` (unprotected): "Initial commit", "Add the map" |
//! | `acme/vault` | private | `main` | `main`: "Initial commit" (alice only) |
//!
//! Shas are deterministic (a hash of repository, parents and message). Every seeded
//! commit is green: status `ci/circleci` `success` and check run `build`
//! `completed`/`success`; new commits get [`FakeGitHub::set_new_commit_ci`]'s state
//! (green by default). The OAuth App is [`OAUTH_CLIENT_ID`] / [`OAUTH_CLIENT_SECRET`].

mod ci;
mod deployments;
mod http;
mod oauth;
mod repos;
mod seed;
mod shapes;
mod tarball;
mod validate;
mod world;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};

use super::Faults;
use world::World;

pub use ci::CiState;
pub use deployments::{DeploymentRecord, DeploymentStatusRecord};
pub use oauth::{OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};

/// The scopes [`FakeGitHub::token_for`] grants, as the bot asks for them.
pub const DEFAULT_SCOPES: &str = "repo,read:user";

/// The fake service and its in-memory world; clones share the world.
#[derive(Clone)]
pub struct FakeGitHub {
    /// Faults injected into this fake's endpoints.
    pub faults: Faults,
    base_url: String,
    world: Arc<Mutex<World>>,
}

impl FakeGitHub {
    /// The seeded world (see the module documentation), served at `base_url`.
    pub fn seeded(base_url: &str) -> FakeGitHub {
        FakeGitHub {
            faults: Faults::default(),
            base_url: base_url.trim_end_matches('/').into(),
            world: Arc::new(Mutex::new(World::seeded())),
        }
    }

    /// Its routes: API, OAuth pages and codeload, behind the request log and faults.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/user", get(repos::user))
            .route("/repos/{owner}/{repo}", get(repos::repo))
            .route(
                "/repos/{owner}/{repo}/branches/{branch}",
                get(repos::branch),
            )
            .route(
                "/repos/{owner}/{repo}/compare/{basehead}",
                get(repos::compare),
            )
            .route(
                "/repos/{owner}/{repo}/commits/{git_ref}/status",
                get(ci::combined_status),
            )
            .route(
                "/repos/{owner}/{repo}/commits/{git_ref}/check-runs",
                get(ci::check_runs),
            )
            .route(
                "/repos/{owner}/{repo}/tarball",
                get(tarball::redirect_default),
            )
            .route(
                "/repos/{owner}/{repo}/tarball/{git_ref}",
                get(tarball::redirect),
            )
            .route(
                "/repos/{owner}/{repo}/deployments",
                get(deployments::list).post(deployments::create),
            )
            .route(
                "/repos/{owner}/{repo}/deployments/{id}/statuses",
                get(deployments::list_statuses).post(deployments::create_status),
            )
            .route("/applications/{client_id}/token", delete(oauth::revoke))
            .fallback(|| async { http::not_found() })
            .layer(from_fn_with_state(self.clone(), http::guard));
        let web = Router::new()
            .route(
                "/login/oauth/authorize",
                get(oauth::page).post(oauth::authorize),
            )
            .route("/login/oauth/access_token", post(oauth::exchange))
            .route(
                "/codeload/{owner}/{repo}/legacy.tar.gz/{sha}",
                get(tarball::download),
            );
        web.merge(api)
            .layer(from_fn_with_state(
                self.faults.clone(),
                crate::faults::apply,
            ))
            .layer(from_fn_with_state(self.clone(), http::record))
            .with_state(self.clone())
    }

    /// Where it serves.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().expect("the fake GitHub's world lock")
    }

    /// A new API token for a seeded account, with [`DEFAULT_SCOPES`].
    ///
    /// # Panics
    /// If `login` is not a seeded account: a test asking for one is broken.
    pub fn token_for(&self, login: &str) -> String {
        let mut world = self.world();
        assert!(
            world.account(login).is_some(),
            "the fake GitHub has no account {login}"
        );
        world.mint_token(login, DEFAULT_SCOPES)
    }

    /// Revokes `token` as if its owner did it on github.com; whether it existed.
    pub fn revoke_token(&self, token: &str) -> bool {
        self.world().tokens.remove(token).is_some()
    }

    /// How many live tokens the account `login` has.
    pub fn token_count(&self, login: &str) -> usize {
        let world = self.world();
        world
            .tokens
            .values()
            .filter(|grant| grant.login == login)
            .count()
    }

    /// Replaces the clock (code and tarball link expiry, timestamps, rate windows).
    pub fn set_clock(&self, now: impl Fn() -> i64 + Send + Sync + 'static) {
        self.world().clock = std::sync::Arc::new(now);
    }

    /// The head sha of `branch` in `repo` (`owner/name`).
    pub fn head(&self, repo: &str, branch: &str) -> anyhow::Result<String> {
        self.locate(repo, branch).map(|(_, sha)| sha)
    }

    /// Whether `repo` (`owner/name`) has commit `sha`.
    pub fn has_commit(&self, repo: &str, sha: &str) -> anyhow::Result<bool> {
        let world = self.world();
        let index = world.repo_named(repo)?;
        Ok(world.repos[index].commit(sha).is_some())
    }

    /// The default branch of `repo` (`owner/name`).
    pub fn default_branch(&self, repo: &str) -> anyhow::Result<String> {
        let world = self.world();
        let index = world.repo_named(repo)?;
        Ok(world.repos[index].default_branch.clone())
    }

    /// Pushes a commit by `author` (a login) on top of `branch`; returns its sha. Its
    /// CI is [`FakeGitHub::set_new_commit_ci`]'s state.
    pub fn push_commit(
        &self,
        repo: &str,
        branch: &str,
        message: &str,
        author: &str,
    ) -> anyhow::Result<String> {
        let mut world = self.world();
        let index = world.repo_named(repo)?;
        let now = world.now();
        let sha = world.repos[index]
            .commit_on(branch, message, author, now, None)
            .ok_or_else(|| anyhow::anyhow!("{repo} has no branch {branch}"))?;
        let ci = world.new_commit_ci;
        world.record_ci(index, &sha, ci);
        Ok(sha)
    }

    /// Renames `repo`'s branch `from` to `to` (its default branch follows, as on GitHub).
    pub fn rename_branch(&self, repo: &str, from: &str, to: &str) -> anyhow::Result<()> {
        let mut world = self.world();
        let index = world.repo_named(repo)?;
        let repo = &mut world.repos[index];
        let state = (repo.branches.remove(from))
            .ok_or_else(|| anyhow::anyhow!("{} has no branch {from}", repo.full_name()))?;
        repo.branches.insert(to.to_owned(), state);
        if repo.default_branch == from {
            repo.default_branch = to.to_owned();
        }
        Ok(())
    }

    /// Sets every status and check run of the commit `git_ref` names to `state`;
    /// returns its sha.
    pub fn set_ci(&self, repo: &str, git_ref: &str, state: CiState) -> anyhow::Result<String> {
        let (index, sha) = self.locate(repo, git_ref)?;
        self.world().set_all_ci(index, &sha, state);
        Ok(sha)
    }

    /// Posts a commit status `context` on `git_ref`'s commit.
    pub fn set_status(
        &self,
        repo: &str,
        git_ref: &str,
        context: &str,
        state: CiState,
    ) -> anyhow::Result<()> {
        let (index, sha) = self.locate(repo, git_ref)?;
        self.world().set_status(index, &sha, context, state);
        Ok(())
    }

    /// Creates or updates the check run `name` on `git_ref`'s commit.
    pub fn set_check_run(
        &self,
        repo: &str,
        git_ref: &str,
        name: &str,
        state: CiState,
    ) -> anyhow::Result<()> {
        let (index, sha) = self.locate(repo, git_ref)?;
        self.world().set_check_run(index, &sha, name, state);
        Ok(())
    }

    /// The CI state commits pushed or merged from now on start with.
    pub fn set_new_commit_ci(&self, state: CiState) {
        self.world().new_commit_ci = state;
    }

    /// Every deployment of `repo`, oldest first, each with its statuses oldest first.
    pub fn deployments(&self, repo: &str) -> anyhow::Result<Vec<DeploymentRecord>> {
        let world = self.world();
        let index = world.repo_named(repo)?;
        Ok(world.repos[index].deployments.clone())
    }

    /// Leaves `login` this many API requests in the current hour.
    pub fn set_rate_limit_remaining(&self, login: &str, remaining: u32) {
        let mut world = self.world();
        let reset_at = world.now() + 3600;
        let window = world::RateWindow {
            limit: http::USER_LIMIT,
            used: http::USER_LIMIT.saturating_sub(remaining),
            reset_at,
        };
        world.rate.insert(login.into(), window);
    }

    /// Every request received so far, as `METHOD /path`, faulted ones included.
    pub fn requests(&self) -> Vec<String> {
        self.world().requests.clone()
    }

    fn locate(&self, repo: &str, git_ref: &str) -> anyhow::Result<(usize, String)> {
        let world = self.world();
        let index = world.repo_named(repo)?;
        let sha = world.repos[index]
            .resolve(git_ref)
            .ok_or_else(|| anyhow::anyhow!("{repo} has no ref {git_ref}"))?;
        Ok((index, sha))
    }
}
