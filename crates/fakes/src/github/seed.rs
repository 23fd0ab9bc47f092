//! The fake GitHub's seeded content, as the parent module's documentation describes
//! it: five accounts, three repositories with a small commit graph each, all green.

use std::collections::BTreeMap;

use super::ci::CiState;
use super::world::{Account, BranchState, Repo, Role, World};

/// When the seeded history happened: 2024-05-01T12:00:00Z, ten minutes per commit.
const SEED_EPOCH: i64 = 1_714_564_800;

impl World {
    /// The world described in the module documentation.
    pub fn seeded() -> World {
        let accounts = ["alice", "bob", "erin", "bruno", "olga"]
            .iter()
            .zip(1u64..)
            .map(|(login, id)| account(login, id));
        let mut world = World::new(accounts.collect());
        world.seed_paipu();
        world.seed_repo(
            "acme",
            "atlas",
            false,
            &[
                ("alice", Role::Admin),
                ("erin", Role::Write),
                ("bruno", Role::Admin),
            ],
            &["Initial commit", "Add the map"],
        );
        world.seed_repo(
            "acme",
            "vault",
            true,
            &[("alice", Role::Admin)],
            &["Initial commit"],
        );
        world
    }

    fn seed_paipu(&mut self) {
        let collaborators = [
            ("alice", Role::Admin),
            ("erin", Role::Write),
            ("bruno", Role::Admin),
        ];
        let repo = self.seed_repo(
            "heroku",
            "paipu-repo",
            true,
            &collaborators,
            &["Initial commit", "Add a Procfile"],
        );
        let fork_point = self.repos[repo].branches["master"].head.clone();
        self.repos[repo].branches.insert(
            "feature-x".into(),
            BranchState {
                head: fork_point,
                required_contexts: None,
            },
        );
        self.seed_commits(repo, "master", &["Serve /health"]);
        self.seed_commits(repo, "feature-x", &["Start feature x", "Finish feature x"]);
        let master = self.repos[repo]
            .branches
            .get_mut("master")
            .expect("seeded above");
        master.required_contexts = Some(vec!["ci/circleci".into()]);
    }

    /// A repository whose default branch is `master` for `heroku/*`, `main` otherwise.
    fn seed_repo(
        &mut self,
        owner: &str,
        name: &str,
        private: bool,
        collaborators: &[(&str, Role)],
        history: &[&str],
    ) -> usize {
        let default_branch = if owner == "heroku" { "master" } else { "main" };
        let id = self.next_id();
        let repo = Repo {
            id,
            owner: owner.into(),
            name: name.into(),
            private,
            default_branch: default_branch.into(),
            collaborators: collaborators
                .iter()
                .map(|(login, role)| ((*login).into(), *role))
                .collect(),
            branches: BTreeMap::from([(
                default_branch.into(),
                BranchState {
                    head: String::new(),
                    required_contexts: None,
                },
            )]),
            commits: Vec::new(),
            statuses: Vec::new(),
            check_runs: Vec::new(),
            deployments: Vec::new(),
        };
        self.repos.push(repo);
        let index = self.repos.len() - 1;
        self.seed_commits(index, default_branch, history);
        index
    }

    fn seed_commits(&mut self, repo: usize, branch: &str, messages: &[&str]) {
        for message in messages {
            let count = self.repos[repo].commits.len() as i64;
            let author = if message.contains("feature") {
                "erin"
            } else {
                "alice"
            };
            let sha = self.repos[repo]
                .commit_on(branch, message, author, SEED_EPOCH + count * 600, None)
                .expect("seeded branches exist");
            self.record_ci(repo, &sha, CiState::Green);
        }
    }
}

fn account(login: &'static str, id: u64) -> Account {
    let name = match login {
        "alice" => "Alice Admin",
        "bob" => "Bob Outsider",
        "bruno" => "Bruno Teammate",
        "olga" => "Olga Outsider",
        _ => "Erin Engineer",
    };
    Account {
        login,
        id,
        name,
        email: format!("{login}@example.com"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::world::Commit;

    #[test]
    fn the_seeded_graph_forks_feature_x_before_the_last_master_commit() {
        let world = World::seeded();
        let repo = &world.repos[world.repo_named("heroku/paipu-repo").unwrap()];
        let master = repo.resolve("master").unwrap();
        let feature = repo.resolve("feature-x").unwrap();
        let messages = |commits: Vec<&Commit>| {
            commits
                .iter()
                .map(|c| c.message.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            messages(repo.only_in(&feature, &master)),
            ["Start feature x", "Finish feature x"]
        );
        assert_eq!(messages(repo.only_in(&master, &feature)), ["Serve /health"]);
        assert_eq!(repo.resolve(&master[..7]), Some(master.clone()));
        assert_eq!(repo.commits[0].parents, Vec::<String>::new());
    }
}
