//! Who typed a `/h` command, where, and how to answer them: what every feature is
//! handed with the command.

/// Who typed a command, where, and how to answer them later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub team_id: String,
    pub channel_id: String,
    pub user_id: String,
    /// Slack's `response_url`: up to 5 follow-ups within 30 minutes.
    pub response_url: String,
    /// The text after `/h`, as typed.
    pub text: String,
}
