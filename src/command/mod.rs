//! The `/h` slash-command grammar: the text Slack sends after `/h` becomes a typed
//! [`Command`], or a [`ParseError`] whose text is the complete reply for the user.
//!
//! This module owns the command specs in `commands/*.toml` (embedded by `build.rs`; they
//! are the source of `/h help` and of the grammar's table tests), the parser and every
//! parse-error message. It does no I/O and knows nothing of Slack requests, Heroku,
//! GitHub or the store: defaults such as the default branch or the default stage stay
//! `None` here and are resolved by whoever executes the command.

mod error;
mod grammar;
mod links;
mod spec;
mod suggest;
mod values;
mod words;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use error::ParseError;
pub use spec::{CommandSpec, Example, Reject, help_for, help_index, specs};

/// Parses the text of a `/h` slash command (without the `/h`). Blank text asks for help.
pub fn parse(text: &str) -> Result<Command, ParseError> {
    grammar::parse(text)
}

/// A Heroku pipeline stage (Heroku CI's `test` stage cannot be deployed to, so it is absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Review,
    Development,
    Staging,
    Production,
}

/// Every word accepted for a stage, with the aliases people type (as slash-heroku did).
const STAGE_WORDS: &[(&str, Stage)] = &[
    ("review", Stage::Review),
    ("development", Stage::Development),
    ("dev", Stage::Development),
    ("staging", Stage::Staging),
    ("stage", Stage::Staging),
    ("stg", Stage::Staging),
    ("production", Stage::Production),
    ("prod", Stage::Production),
    ("prd", Stage::Production),
];

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Review,
        Stage::Development,
        Stage::Staging,
        Stage::Production,
    ];

    /// Heroku's name for the stage, as in pipeline couplings.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Review => "review",
            Stage::Development => "development",
            Stage::Staging => "staging",
            Stage::Production => "production",
        }
    }

    /// The stage a word names, aliases (`prod`, `stg`, `dev`, ...) and any case included.
    pub fn from_word(word: &str) -> Option<Stage> {
        STAGE_WORDS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|&(_, stage)| stage)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `<stage>[/<app>]`: a stage, and one app of it when the stage has several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub stage: Stage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.app {
            Some(app) => write!(f, "{}/{app}", self.stage),
            None => write!(f, "{}", self.stage),
        }
    }
}

/// A Slack channel as typed: `<#C123ABC|deploys>` (Slack's own link, both parts),
/// `<#C123ABC>` (id only) or `#deploys` (name only, to be looked up). At least one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.id) {
            (Some(name), _) => write!(f, "#{name}"),
            // Slack renders an id-only link as the channel's current name.
            (None, Some(id)) => write!(f, "<#{id}>"),
            (None, None) => f.write_str("this channel"),
        }
    }
}

/// One `/h` command. Names are lowercased; `None` means "the default", resolved later.
/// The serde shape is what `parsed` spells in `commands/*.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Build a branch (default: the repo's default branch) and release it to a stage
    /// (default: the pipeline's default stage).
    Deploy(DeployRequest),
    /// Heroku pipeline promotion.
    Promote(PromoteRequest),
    Login,
    /// Extension.
    Logout,
    /// Extension.
    Whoami,
    Pipelines,
    Info {
        pipeline: String,
    },
    /// `target` defaults to production.
    Releases {
        pipeline: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
    },
    /// Both `None`: list what is routed to this channel. Otherwise both are set.
    Route {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pipeline: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<Channel>,
    },
    /// Extension.
    Rollback(RollbackRequest),
    /// Extension.
    Lock(LockRequest),
    /// Extension. `forced` (`unlock!`) removes a lock someone else holds.
    Unlock {
        pipeline: String,
        target: Target,
        forced: bool,
    },
    /// Extension. The deploys waiting for the apps of a pipeline (`target: None`:
    /// every stage).
    Queue {
        pipeline: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
    },
    /// Extension. Takes the asker's own queued deploys of a pipeline (of one stage or
    /// app when given) out of the line.
    Dequeue {
        pipeline: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
    },
    /// Extension. `target: None` means every stage.
    History {
        pipeline: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<Target>,
    },
    /// Extension. `repo` is `owner/name`, case kept as typed.
    Connect {
        pipeline: String,
        repo: String,
    },
    /// Extension. Without a pipeline, checks only the user's own setup.
    Doctor {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pipeline: Option<String>,
    },
    /// `topic` is always a known command name.
    Help {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
    },
}

/// `/h deploy[!] <pipeline>[/<branch>] [to <stage>[/<app>]] [queue] [<2fa code>]`.
/// `forced` (`deploy!`) skips the CI gate; `queue` waits in line for a busy app
/// instead of being refused (an extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    pub pipeline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor_code: Option<String>,
    pub forced: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub queue: bool,
}

/// `/h promote[!] <pipeline> [from <stage>[/<app>]] [to <stage>[/<app>]] [<2fa code>]`:
/// `from` defaults upstream, `to` defaults to production.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    pub pipeline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor_code: Option<String>,
    pub forced: bool,
}

/// `/h rollback[!] <pipeline> [in <stage>[/<app>]] [to v<N>] [<2fa code>]`: `target`
/// defaults to production, `version` to the previous release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    pub pipeline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor_code: Option<String>,
    pub forced: bool,
}

/// `/h lock <pipeline> <stage>[/<app>] [for <duration>] [<reason>]`: `duration_secs:
/// None` locks until unlocked; `reason` keeps its case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    pub pipeline: String,
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a masked 2FA code reads as in the audit trail.
pub const REDACTED_CODE: &str = "******";

impl Command {
    /// The 2FA code typed with the command, if any.
    pub fn two_factor_code(&self) -> Option<&str> {
        match self {
            Command::Deploy(DeployRequest {
                two_factor_code, ..
            })
            | Command::Promote(PromoteRequest {
                two_factor_code, ..
            })
            | Command::Rollback(RollbackRequest {
                two_factor_code, ..
            }) => two_factor_code.as_deref(),
            _ => None,
        }
    }

    /// `text`, the command as typed, with its 2FA code masked wherever it occurs. The
    /// parsed code is lowercased (a YubiKey OTP is modhex, which may come in capitals),
    /// so it is matched without regard to ASCII case.
    pub fn redacted_text(&self, text: &str) -> String {
        let Some(code) = self.two_factor_code().filter(|code| !code.is_empty()) else {
            return text.to_owned();
        };
        // ASCII lowercasing changes no byte offsets: a match in `lower` is one in `text`.
        let lower = text.to_ascii_lowercase();
        let mut redacted = String::with_capacity(text.len());
        let mut kept = 0;
        for (start, _) in lower.match_indices(code) {
            redacted.push_str(&text[kept..start]);
            redacted.push_str(REDACTED_CODE);
            kept = start + code.len();
        }
        redacted.push_str(&text[kept..]);
        redacted
    }

    /// The command with its 2FA code masked: a code is a credential while it is valid
    /// and has no place at rest or in logs.
    pub fn redacted(&self) -> Command {
        let mut redacted = self.clone();
        if let Command::Deploy(DeployRequest {
            two_factor_code, ..
        })
        | Command::Promote(PromoteRequest {
            two_factor_code, ..
        })
        | Command::Rollback(RollbackRequest {
            two_factor_code, ..
        }) = &mut redacted
        {
            if two_factor_code.is_some() {
                *two_factor_code = Some(REDACTED_CODE.into());
            }
        }
        redacted
    }

    /// The command's name as typed after `/h` (and as its spec file is named).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Deploy(_) => "deploy",
            Command::Promote(_) => "promote",
            Command::Login => "login",
            Command::Logout => "logout",
            Command::Whoami => "whoami",
            Command::Pipelines => "pipelines",
            Command::Info { .. } => "info",
            Command::Releases { .. } => "releases",
            Command::Route { .. } => "route",
            Command::Rollback(_) => "rollback",
            Command::Lock(_) => "lock",
            Command::Unlock { .. } => "unlock",
            Command::Queue { .. } => "queue",
            Command::Dequeue { .. } => "dequeue",
            Command::History { .. } => "history",
            Command::Connect { .. } => "connect",
            Command::Doctor { .. } => "doctor",
            Command::Help { .. } => "help",
        }
    }
}
