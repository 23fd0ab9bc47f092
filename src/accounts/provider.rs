//! The two accounts a person links, and what the bot asks each of them for.

use std::fmt;

/// Heroku asks for `global`, as slash-heroku did. A deploy needs writes (builds,
/// releases, promotions, rollbacks) and reads (pipelines, couplings, dynos), and the
/// callback reads `GET /account` to learn who linked. Heroku's `write` scope covers the
/// app writes but excludes account information, so it would break that identity check;
/// `write-protected` adds config vars the bot never touches. `global` is the one
/// scope that covers all of it; the bot still only does what the person's own Heroku
/// permissions allow.
pub const HEROKU_SCOPE: &str = "global";

/// GitHub asks for `repo` and `read:user`. `repo` is the only OAuth App scope that
/// reads private repositories' code (the source tarball Heroku builds), commit statuses
/// and check runs (the CI gate), and writes deployments and their statuses;
/// `repo_deployment` alone cannot read private code or statuses. `read:user` reads the
/// profile (`GET /user`) so the bot can say who is linked; slash-heroku's `user` would
/// also let it change the profile and follow people, which the bot never does.
pub const GITHUB_SCOPES: &[&str] = &["repo", "read:user"];

/// What the bot asks a workspace for on install: the `/h` command, posting, and
/// reading back its own posts in public and private channels (the outbox does, after a
/// post whose answer was lost, so it never posts twice). `slack-app-manifest.yml`
/// asks for the same.
pub const SLACK_SCOPES: &[&str] = &[
    "commands",
    "chat:write",
    "channels:history",
    "groups:history",
];

/// A service whose account a person links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Heroku,
    GitHub,
}

impl Provider {
    /// Both, in the order a person links them.
    pub const ALL: [Provider; 2] = [Provider::Heroku, Provider::GitHub];

    /// The lowercase key used in URLs and the database (`heroku`, `github`).
    pub fn key(self) -> &'static str {
        match self {
            Provider::Heroku => "heroku",
            Provider::GitHub => "github",
        }
    }

    /// The name people read.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Heroku => "Heroku",
            Provider::GitHub => "GitHub",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
