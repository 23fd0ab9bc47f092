//! The App Home dashboard: when someone opens the bot's Home tab in Slack, it shows
//! the pipelines they can see (read with their own tokens, like `/h pipelines` and
//! `/h info`), what each stage's apps run, locks, and the deploys running now; and it
//! is republished when something changes while they may be looking.
//!
//! [`opened`] records an opening (the edge's `app_home_opened`); `publish` owns the
//! loop that publishes owed views; `read` gathers a person's dashboard; `view` turns
//! it into Block Kit within Slack's limits; `press` runs its Deploy and Promote
//! buttons ([`pressed`]) as the commands they show.

mod press;
mod publish;
mod read;
mod view;

pub use press::pressed;
pub use publish::{DEBOUNCE, Pace, REFRESH_WINDOW, publish_due, run};
pub use view::{Dashboard, MAX_BLOCKS, MAX_SECTION_CHARS, Part, PipelineView, blocks};

use crate::bot::BotState;
use crate::store::HomeOpening;

/// Records that `user_id` of `team_id` opened Home (claiming the event's
/// `signature`, verified at Unix second `signed_at`) and wakes the publisher.
/// `false` for a replayed signature. Events from a workspace the bot has never heard
/// of are acknowledged and ignored: the fallback bot token belongs to another one.
pub async fn opened(
    state: &BotState,
    signature: &str,
    signed_at: i64,
    team_id: &str,
    user_id: &str,
) -> anyhow::Result<bool> {
    if !state.store.team_known(team_id).await? {
        tracing::warn!(team = %team_id, "app_home_opened from an unknown workspace ignored");
        return state.store.claim_signature(signature, signed_at).await;
    }
    let opening = HomeOpening {
        signature,
        signed_at,
        team_id,
        user_id,
        now: state.clock.now_millis(),
    };
    let recorded = state.store.home_opened(opening).await?;
    if recorded {
        state.wakeups.homes.notify_one();
    }
    Ok(recorded)
}
