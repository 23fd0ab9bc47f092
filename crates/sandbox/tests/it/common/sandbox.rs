//! `chatops-sandbox sandbox` started in-process the way the command starts it, for the page
//! suites.

use chatops_fakes::heroku::Timings;
use chatops_fakes::slack::Pacing;
use chatops_sandbox::launch::{Ports, Running};
use tokio::sync::oneshot;

use super::TestDb;

/// The channel the page shows.
pub const CHANNEL: &str = "C0DEPLOYS";

/// A sandbox started as `chatops-sandbox sandbox` starts it, on free ports.
pub struct Started {
    pub running: Running,
    stop: oneshot::Sender<()>,
    db: TestDb,
}

impl Started {
    /// With the fakes at test speed: a deploy in a fraction of a second, and Slack
    /// unpaced (pacing is the outbox's business, proven in its own suites).
    pub async fn new(db: TestDb) -> Started {
        let (stop, stopped) = oneshot::channel::<()>();
        let ports = Ports { bot: 0, page: 0 };
        let running = Running::start(ports, &db.url, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        running.fakes.heroku.set_timings(Timings::FAST);
        running.fakes.slack.set_pacing(Pacing::unlimited());
        Started { running, stop, db }
    }

    pub async fn finish(self) {
        let _ = self.stop.send(());
        self.running.wait().await.unwrap();
        self.db.finish().await;
    }
}
