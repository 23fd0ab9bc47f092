//! The vocabulary every feature speaks with the person in Slack: the [`Invocation`] a
//! command arrives with, the [`Reply`] it is answered with, the [`Press`] of a button,
//! and how shas, times and durations are written. It holds no behaviour and knows no
//! feature; features and the dispatcher above it share these types.

mod format;
mod invocation;
mod press;
mod reply;

pub use crate::slack::api::ResponseType;
pub use format::{clock_time, duration, short_sha};
pub use invocation::Invocation;
pub use press::{CANCEL_ACTION, CONFIRM_ACTION, Press, ROLLBACK_ACTION};
pub use reply::Reply;
