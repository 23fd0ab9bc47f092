//! The vocabulary every feature speaks with the person in Slack: the [`Invocation`] a
//! command arrives with, the [`Reply`] it is answered with, the [`Press`] of a button,
//! how shas, times and durations are written, and how text from outside is escaped so
//! it is never taken for markup. It holds no behaviour and knows no feature; features
//! and the dispatcher above it share these types.

mod format;
mod invocation;
mod mrkdwn;
mod press;
mod reply;

pub use crate::slack::api::ResponseType;
pub use format::{clock_time, duration, ordinal, short_sha};
pub use invocation::Invocation;
pub use mrkdwn::{code_block, escape};
pub use press::{
    CANCEL_ACTION, CONFIRM_ACTION, DEQUEUE_ACTION, HOME_DEPLOY_ACTION, HOME_PROMOTE_ACTION, Press,
    QUEUE_ACTION, ROLLBACK_ACTION,
};
pub use reply::Reply;
