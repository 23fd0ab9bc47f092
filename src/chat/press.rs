//! A button press, as Slack sent it to `/slack/interactions`, and the `action_id` of
//! every button the bot shows: the dispatcher routes a press by its action, as it routes
//! a command by its noun.

/// The Deploy button of a production confirmation.
pub const CONFIRM_ACTION: &str = "confirm_go";
/// The Cancel button of a production confirmation.
pub const CANCEL_ACTION: &str = "confirm_cancel";
/// The Rollback button of a failed deploy's card.
pub const ROLLBACK_ACTION: &str = "rollback";
/// The Queue it button of a deploy refused because its app is busy.
pub const QUEUE_ACTION: &str = "queue_it";
/// The Cancel button of a queued deploy's answer: leave the line.
pub const DEQUEUE_ACTION: &str = "queue_cancel";
/// A stage's Deploy button in the App Home tab.
pub const HOME_DEPLOY_ACTION: &str = "home_deploy";
/// A stage's Promote button in the App Home tab.
pub const HOME_PROMOTE_ACTION: &str = "home_promote";

/// One press of one of the bot's buttons.
#[derive(Debug, Clone)]
pub struct Press {
    pub team_id: String,
    pub user_id: String,
    pub action_id: String,
    pub value: String,
    pub response_url: String,
}
