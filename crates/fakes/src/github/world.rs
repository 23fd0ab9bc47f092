//! The fake GitHub's in-memory world: accounts, tokens, repositories with their commit
//! graph, branches, CI results, deployments, and the short-lived OAuth codes and
//! tarball links. Pure data and the rules over it; HTTP lives in the route files, the
//! seeded content in `seed.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::ci::{CheckRunRecord, CiState, StatusRecord};
use super::deployments::DeploymentRecord;

/// A seeded GitHub account.
pub(super) struct Account {
    pub login: &'static str,
    pub id: u64,
    pub name: &'static str,
    pub email: String,
}

/// What a token stands for.
pub(super) struct Grant {
    pub login: String,
    pub scopes: String,
}

/// A collaborator's role on a repository.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Admin,
    Write,
}

/// The access a caller has to a repository, as `permissions` reports it.
#[derive(Clone, Copy)]
pub(super) struct Access {
    pub admin: bool,
    pub push: bool,
}

/// One commit of a repository's graph.
pub(super) struct Commit {
    pub sha: String,
    pub message: String,
    pub author: String,
    pub parents: Vec<String>,
    pub date: i64,
}

/// A branch: its head, and the contexts its protection requires (`None`: unprotected).
pub(super) struct BranchState {
    pub head: String,
    pub required_contexts: Option<Vec<String>>,
}

/// One repository and everything recorded on it.
pub(super) struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub default_branch: String,
    pub collaborators: Vec<(String, Role)>,
    pub branches: BTreeMap<String, BranchState>,
    /// In creation order, which is also the order compare lists them in.
    pub commits: Vec<Commit>,
    pub statuses: Vec<StatusRecord>,
    pub check_runs: Vec<CheckRunRecord>,
    pub deployments: Vec<DeploymentRecord>,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// What `login` (`None`: anonymous) may do here; `None` if it may not even see it.
    pub fn access(&self, login: Option<&str>) -> Option<Access> {
        let role = login
            .and_then(|login| self.collaborators.iter().find(|(who, _)| who == login))
            .map(|(_, role)| *role);
        match role {
            Some(role) => Some(Access {
                admin: role == Role::Admin,
                push: true,
            }),
            None if !self.private => Some(Access {
                admin: false,
                push: false,
            }),
            None => None,
        }
    }

    /// The sha `git_ref` names: a branch, `refs/heads/<branch>`, or a (short) sha.
    pub fn resolve(&self, git_ref: &str) -> Option<String> {
        let branch = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
        if let Some(state) = self.branches.get(branch) {
            return Some(state.head.clone());
        }
        let mut matching = self
            .commits
            .iter()
            .filter(|commit| git_ref.len() >= 7 && commit.sha.starts_with(git_ref));
        match (matching.next(), matching.next()) {
            (Some(commit), None) => Some(commit.sha.clone()),
            _ => None,
        }
    }

    pub fn commit(&self, sha: &str) -> Option<&Commit> {
        self.commits.iter().find(|commit| commit.sha == sha)
    }

    /// `sha` and every commit it descends from.
    pub fn ancestry(&self, sha: &str) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut stack = vec![sha.to_owned()];
        while let Some(next) = stack.pop() {
            if let Some(commit) = self.commit(&next).filter(|_| seen.insert(next.clone())) {
                stack.extend(commit.parents.iter().cloned());
            }
        }
        seen
    }

    /// The commits reachable from `head` but not from `base`, oldest first.
    pub fn only_in(&self, head: &str, base: &str) -> Vec<&Commit> {
        let (head, base) = (self.ancestry(head), self.ancestry(base));
        self.commits
            .iter()
            .filter(|commit| head.contains(&commit.sha) && !base.contains(&commit.sha))
            .collect()
    }

    /// Adds a commit on top of `branch` (with `extra_parent` for a merge); returns its sha.
    pub fn commit_on(
        &mut self,
        branch: &str,
        message: &str,
        author: &str,
        date: i64,
        extra_parent: Option<String>,
    ) -> Option<String> {
        let state = self.branches.get_mut(branch)?;
        // A branch of an empty repository has no head yet: its first commit is a root.
        let head = Some(state.head.clone()).filter(|head| !head.is_empty());
        let parents: Vec<String> = head.into_iter().chain(extra_parent).collect();
        let seed = format!(
            "{}/{}\n{}\n{message}\n{}",
            self.owner,
            self.name,
            parents.join(" "),
            self.commits.len()
        );
        let sha = hex::encode(Sha256::digest(seed.as_bytes()))[..40].to_owned();
        state.head = sha.clone();
        self.commits.push(Commit {
            sha: sha.clone(),
            message: message.into(),
            author: author.into(),
            parents,
            date,
        });
        Some(sha)
    }
}

/// A pending OAuth authorization code.
pub(super) struct OAuthCode {
    pub login: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub expires_at: i64,
    /// PKCE: the S256 `code_challenge` the authorize request carried, if any.
    pub challenge: Option<String>,
}

/// A tarball download link handed out by the tarball endpoint.
pub(super) struct TarballGrant {
    pub repo: String,
    pub sha: String,
    pub expires_at: i64,
}

/// One token's (or the anonymous caller's) hourly request budget.
pub(super) struct RateWindow {
    pub limit: u32,
    pub used: u32,
    pub reset_at: i64,
}

/// Everything the fake knows.
pub(super) struct World {
    /// Unix seconds: the system clock unless a test set its own.
    pub clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    pub accounts: Vec<Account>,
    pub tokens: HashMap<String, Grant>,
    pub repos: Vec<Repo>,
    pub codes: HashMap<String, OAuthCode>,
    pub tarballs: HashMap<String, TarballGrant>,
    pub rate: HashMap<String, RateWindow>,
    /// The CI result new commits (pushed or merged) get.
    pub new_commit_ci: CiState,
    /// Every request received, as `METHOD /path`, faulted ones included.
    pub requests: Vec<String>,
    next_id: u64,
}

impl World {
    /// The current Unix time in seconds, by this world's clock.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// A world with these accounts and nothing else, on the system clock.
    pub fn new(accounts: Vec<Account>) -> World {
        World {
            clock: Arc::new(system_now),
            accounts,
            tokens: HashMap::new(),
            repos: Vec::new(),
            codes: HashMap::new(),
            tarballs: HashMap::new(),
            rate: HashMap::new(),
            new_commit_ci: CiState::Green,
            requests: Vec::new(),
            next_id: 1000,
        }
    }

    /// A fresh id, unique across every kind of object.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn account(&self, login: &str) -> Option<&Account> {
        self.accounts.iter().find(|account| account.login == login)
    }

    pub fn repo_index(&self, owner: &str, name: &str) -> Option<usize> {
        self.repos
            .iter()
            .position(|repo| repo.owner == owner && repo.name == name)
    }

    /// Finds `full_name` (`owner/name`) for the control methods.
    pub fn repo_named(&self, full_name: &str) -> anyhow::Result<usize> {
        let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
        self.repo_index(owner, name)
            .ok_or_else(|| anyhow::anyhow!("the fake GitHub has no repository {full_name}"))
    }

    /// A new token for `login` with `scopes` (comma-separated, as GitHub reports them).
    pub fn mint_token(&mut self, login: &str, scopes: &str) -> String {
        let token = format!("gho_{}", random_alphanumeric(36));
        self.tokens.insert(
            token.clone(),
            Grant {
                login: login.into(),
                scopes: scopes.into(),
            },
        );
        token
    }
}

/// `len` random ASCII letters and digits: tokens, codes, link secrets.
pub(super) fn random_alphanumeric(len: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(len)
        .collect()
}

/// Unix seconds as GitHub writes timestamps: `2024-05-01T12:00:00Z`.
pub(super) fn timestamp(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(1_714_564_800), "2024-05-01T12:00:00Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(1_735_689_599), "2024-12-31T23:59:59Z");
    }
}
