//! The CI gate: commit statuses and check runs of one commit, and the verdict drawn
//! from both. Statuses alone are not enough (repositories on GitHub Actions only have
//! check runs, and their combined status stays `pending` forever), and neither are
//! check runs alone (CircleCI and friends post statuses).

use std::ops::ControlFlow;

use secrecy::SecretString;

use super::client::{GitHubClient, repo_path, segment};
use super::error::GitHubError;
use super::types::{
    CheckConclusion, CheckRun, CheckRunPage, CheckStatus, CombinedStatus, RepoName, StatusState,
};

/// Pages of check runs read at most (100 each): a commit with more is not a real one.
const MAX_CHECK_RUN_PAGES: usize = 10;

/// What CI says about one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiVerdict {
    /// Every check passed and every required context reported success.
    Green,
    /// Nothing failed, but these checks are still running or have not reported.
    Pending { pending: Vec<String> },
    /// These checks failed (and these others are still pending).
    Red {
        failing: Vec<String>,
        pending: Vec<String>,
    },
}

impl CiVerdict {
    /// The verdict from a commit's latest statuses and check runs. A context in
    /// `required` that reported nothing at all counts as pending, as GitHub shows it.
    pub fn from_checks(
        combined: &CombinedStatus,
        runs: &[CheckRun],
        required: &[String],
    ) -> CiVerdict {
        let mut failing = Vec::new();
        let mut pending = Vec::new();
        let mut reported = Vec::new();
        let statuses = combined
            .statuses
            .iter()
            .map(|status| (&status.context, status_outcome(status.state)));
        let checks = runs.iter().map(|run| (&run.name, run_outcome(run)));
        for (name, outcome) in statuses.chain(checks) {
            reported.push(name.as_str());
            match outcome {
                Outcome::Passed => {}
                Outcome::Pending => push_once(&mut pending, name),
                Outcome::Failed => push_once(&mut failing, name),
            }
        }
        for missing in required
            .iter()
            .filter(|context| !reported.contains(&context.as_str()))
        {
            push_once(&mut pending, missing);
        }
        match (failing.is_empty(), pending.is_empty()) {
            (false, _) => CiVerdict::Red { failing, pending },
            (true, false) => CiVerdict::Pending { pending },
            (true, true) => CiVerdict::Green,
        }
    }
}

enum Outcome {
    Passed,
    Pending,
    Failed,
}

fn status_outcome(state: StatusState) -> Outcome {
    match state {
        StatusState::Success => Outcome::Passed,
        StatusState::Pending => Outcome::Pending,
        // An unknown state is not a pass: the gate fails closed.
        StatusState::Failure | StatusState::Error | StatusState::Unknown => Outcome::Failed,
    }
}

fn run_outcome(run: &CheckRun) -> Outcome {
    match (run.status, run.conclusion) {
        (
            CheckStatus::Completed,
            Some(CheckConclusion::Success | CheckConclusion::Neutral | CheckConclusion::Skipped),
        ) => Outcome::Passed,
        (CheckStatus::Completed, _) => Outcome::Failed,
        _ => Outcome::Pending,
    }
}

fn push_once(names: &mut Vec<String>, name: &str) {
    if !names.iter().any(|known| known == name) {
        names.push(name.to_owned());
    }
}

impl GitHubClient {
    /// `GET /repos/{owner}/{repo}/commits/{ref}/status`: the latest status per context.
    #[tracing::instrument(skip_all, fields(repo = %repo, git_ref = %git_ref))]
    pub async fn combined_status(
        &self,
        token: &SecretString,
        repo: &RepoName,
        git_ref: &str,
    ) -> Result<CombinedStatus, GitHubError> {
        let path = format!(
            "{}/commits/{}/status?per_page=100",
            repo_path(repo),
            segment(git_ref)
        );
        self.get_json("combined status", &path, token).await
    }

    /// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`, every page (following the
    /// `Link: rel="next"` header).
    #[tracing::instrument(skip_all, fields(repo = %repo, git_ref = %git_ref))]
    pub async fn check_runs(
        &self,
        token: &SecretString,
        repo: &RepoName,
        git_ref: &str,
    ) -> Result<Vec<CheckRun>, GitHubError> {
        let path = format!(
            "{}/commits/{}/check-runs?per_page=100",
            repo_path(repo),
            segment(git_ref)
        );
        let mut runs = Vec::new();
        let collect = |page: CheckRunPage| {
            runs.extend(page.check_runs);
            ControlFlow::<()>::Continue(())
        };
        self.visit_pages("check runs", &path, token, MAX_CHECK_RUN_PAGES, collect)
            .await?;
        Ok(runs)
    }

    /// Statuses and check runs of `sha`, judged together; `required` are the contexts
    /// branch protection requires.
    #[tracing::instrument(skip_all, fields(repo = %repo, sha = %sha))]
    pub async fn ci_verdict(
        &self,
        token: &SecretString,
        repo: &RepoName,
        sha: &str,
        required: &[String],
    ) -> Result<CiVerdict, GitHubError> {
        let combined = self.combined_status(token, repo, sha).await?;
        let runs = self.check_runs(token, repo, sha).await?;
        Ok(CiVerdict::from_checks(&combined, &runs, required))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, status: CheckStatus, conclusion: Option<CheckConclusion>) -> CheckRun {
        CheckRun {
            id: 1,
            name: name.into(),
            head_sha: "abc".into(),
            status,
            conclusion,
            details_url: None,
        }
    }

    fn no_statuses() -> CombinedStatus {
        CombinedStatus {
            state: StatusState::Pending,
            sha: "abc".into(),
            total_count: 0,
            statuses: Vec::new(),
        }
    }

    #[test]
    fn neutral_and_skipped_runs_pass_and_unknown_conclusions_fail_closed() {
        let runs = [
            run(
                "docs",
                CheckStatus::Completed,
                Some(CheckConclusion::Skipped),
            ),
            run(
                "lint",
                CheckStatus::Completed,
                Some(CheckConclusion::Neutral),
            ),
        ];
        assert_eq!(
            CiVerdict::from_checks(&no_statuses(), &runs, &[]),
            CiVerdict::Green
        );
        let runs = [
            run(
                "deploy-preview",
                CheckStatus::Completed,
                Some(CheckConclusion::Unknown),
            ),
            run("e2e", CheckStatus::Queued, None),
            run("e2e", CheckStatus::Queued, None),
        ];
        let verdict = CiVerdict::from_checks(&no_statuses(), &runs, &[]);
        assert_eq!(
            verdict,
            CiVerdict::Red {
                failing: vec!["deploy-preview".into()],
                pending: vec!["e2e".into()]
            }
        );
    }

    #[test]
    fn a_commit_without_any_checks_is_green_unless_something_is_required() {
        // GitHub's combined state says `pending` here; the gate must not wait forever.
        assert_eq!(
            CiVerdict::from_checks(&no_statuses(), &[], &[]),
            CiVerdict::Green
        );
        let required = ["ci/circleci".to_owned()];
        let verdict = CiVerdict::from_checks(&no_statuses(), &[], &required);
        assert_eq!(
            verdict,
            CiVerdict::Pending {
                pending: vec!["ci/circleci".into()]
            }
        );
    }
}
