//! Keeps alice's API budgets full for runs that measure the bot, not the quotas
//! (the soak and deploys benchmarks, the chaos run).

use std::time::Duration;

use chatops_fakes::github::FakeGitHub;
use chatops_fakes::heroku::FakeHeroku;

/// One person typing at a benchmark's rate spends more than an hour's API budget on
/// both services (Heroku 4,500, GitHub 5,000 requests; Heroku refills 75 a minute):
/// the soak's `whoami` alone asks each service five times a second. Real teams
/// spread that over many people, so the budgets are refilled every 100 ms.
pub async fn keep_budgets_full(heroku: FakeHeroku, github: FakeGitHub) {
    loop {
        heroku.set_rate_limit_remaining("alice@example.com", 4500);
        github.set_rate_limit_remaining("alice", 5000);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
