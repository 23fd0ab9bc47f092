//! [`Command::understood`]: the command read back in words, so a reply can show the
//! user exactly what was understood ("deploy paipu, branch feature-x, to staging").

use std::fmt::Display;

use super::error::slack_escape;
use super::values::format_duration;
use super::{Command, DeployRequest, LockRequest, PromoteRequest, RollbackRequest};

impl Command {
    /// The command and what it was given, parts left at their default omitted, e.g.
    /// `deploy paipu, branch feature-x, to staging/app2, forced`. 2FA codes are never
    /// echoed, and free text is escaped so it cannot mention anyone.
    pub fn understood(&self) -> String {
        let name = self.name();
        let parts = match self {
            Command::Deploy(DeployRequest {
                pipeline,
                branch,
                target,
                two_factor_code,
                forced,
            }) => vec![
                Some(format!("{name} {pipeline}")),
                labelled("branch", branch),
                labelled("to", target),
                flag(*forced, "forced"),
                two_factor_code
                    .as_ref()
                    .map(|_| "with a 2FA code".to_string()),
            ],
            Command::Promote(PromoteRequest {
                pipeline,
                from,
                to,
                two_factor_code,
                forced,
            }) => vec![
                Some(format!("{name} {pipeline}")),
                labelled("from", from),
                labelled("to", to),
                flag(*forced, "forced"),
                two_factor_code
                    .as_ref()
                    .map(|_| "with a 2FA code".to_string()),
            ],
            Command::Rollback(RollbackRequest {
                pipeline,
                target,
                version,
                two_factor_code,
                forced,
            }) => vec![
                Some(format!("{name} {pipeline}")),
                labelled("in", target),
                labelled("to", &version.map(|v| format!("v{v}"))),
                flag(*forced, "forced"),
                two_factor_code
                    .as_ref()
                    .map(|_| "with a 2FA code".to_string()),
            ],
            Command::Lock(LockRequest {
                pipeline,
                target,
                duration_secs,
                reason,
            }) => vec![
                Some(format!("{name} {pipeline}")),
                Some(format!("in {target}")),
                labelled("for", &duration_secs.map(format_duration)),
                labelled("reason:", &reason.as_deref().map(slack_escape)),
            ],
            Command::Unlock {
                pipeline,
                target,
                forced,
            } => {
                vec![
                    Some(format!("{name} {pipeline}")),
                    Some(format!("in {target}")),
                    flag(*forced, "forced"),
                ]
            }
            Command::Releases { pipeline, target } | Command::History { pipeline, target } => {
                vec![Some(format!("{name} {pipeline}")), labelled("in", target)]
            }
            Command::Route { pipeline, channel } => {
                vec![labelled(name, pipeline), labelled("to", channel)]
            }
            Command::Connect { pipeline, repo } => vec![
                Some(format!("{name} {pipeline}")),
                Some(format!("to {repo}")),
            ],
            Command::Info { pipeline } => vec![Some(format!("{name} {pipeline}"))],
            Command::Doctor { pipeline } => vec![labelled(name, pipeline)],
            Command::Help { topic } => vec![labelled(name, topic)],
            Command::Login | Command::Logout | Command::Whoami | Command::Pipelines => vec![],
        };
        let parts: Vec<String> = parts.into_iter().flatten().collect();
        if parts.is_empty() {
            name.to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// `label value` when the value was given.
fn labelled<T: Display>(label: &str, value: &Option<T>) -> Option<String> {
    value.as_ref().map(|value| format!("{label} {value}"))
}

fn flag(on: bool, text: &str) -> Option<String> {
    on.then(|| text.to_string())
}
