//! The world of a scale-out run: the fakes in this process at Slack's documented
//! pace, [`WORKSPACES`] workspaces of [`CHANNELS_PER_WORKSPACE`] channels each with
//! the app installed and alice linked, one pipeline and app per deploy connected to
//! [`REPO`] with the webhook recorder subscribed first, and the configuration each
//! `chatops serve` process starts with (its own port, one database).

use std::time::Duration;

use chatops::bot::{Bot, Patience};
use chatops::clock::Clock;
use chatops::config::Config;
use chatops::store::{Store, StoredWorkspace};
use chatops_fakes::Fakes;
use chatops_fakes::heroku::Timings;
use chatops_fakes::slack::Pacing;
use chatops_sandbox::process::free_port;
use secrecy::SecretString;

use crate::database::Database;
use crate::recorder::{self, Recorded};

/// Slack allows about 50 `chat.update` a minute per workspace, and every deploy
/// updates its parent message a few times: in one workspace 1,000 deploys would take
/// over half an hour to tell. A bot serving many workspaces is what scale-out is for,
/// so the 50 channels are spread over 25 workspaces of 2.
pub const WORKSPACES: usize = 25;
pub const CHANNELS_PER_WORKSPACE: usize = 2;
/// Who types every deploy (linked in each workspace, under the same id).
pub const ALICE: &str = "U0ALICE";
pub const REPO: &str = "heroku/paipu-repo";
/// Production's `POLL_INTERVAL_MS` default: webhooks, not polling, move deploys on.
const POLL: Duration = Duration::from_secs(5);
/// Short, realistic stages, so deploys overlap.
pub const STAGES: Timings = Timings {
    build: Duration::from_millis(1000),
    release_phase: Duration::from_millis(500),
    restart: Duration::from_millis(500),
    promotion: Duration::from_millis(10),
};
const RELEASE_COMMAND: &str = "bundle exec rake db:migrate";

/// Where one deploy is typed, and what it deploys.
pub struct Target {
    pub team: String,
    pub channel: String,
    pub pipeline: String,
}

pub struct World {
    pub sandbox: Fakes,
    /// The bot's code in this process, for the setup only: it serves nothing.
    pub setup: Bot,
    pub config: Config,
    pub targets: Vec<Target>,
    pub recorded: Recorded,
}

impl World {
    pub async fn new(database: &Database, deploys: usize) -> anyhow::Result<World> {
        let sandbox = Fakes::start().await?;
        sandbox.slack.set_pacing(Pacing::default());
        sandbox.heroku.set_timings(STAGES);
        let store = Store::connect(&database.url).await?;
        store.migrate().await?;
        let mut config =
            chatops_sandbox::bot_config(&sandbox, 0, "http://127.0.0.1", &database.url);
        config.poll_interval = POLL;
        let setup = Bot::new(config.clone(), store, Clock::system(), Patience::default())?;
        let channels = install_workspaces(&sandbox, &setup).await?;
        let (url, recorded) = recorder::start().await?;
        let token: SecretString = sandbox.heroku.token_for("alice@example.com").into();
        let mut targets = Vec::new();
        for n in 0..deploys {
            let (team, channel) = channels[n % channels.len()].clone();
            let pipeline = format!("scale-{n:04}");
            let app = format!("{pipeline}-staging");
            sandbox
                .heroku
                .add_pipeline(&pipeline, &[("staging", app.as_str())]);
            sandbox
                .heroku
                .set_release_command(&app, Some(RELEASE_COMMAND));
            let now = setup.clock.now();
            setup
                .store
                .set_pipeline_repo(&team, &pipeline, REPO, ALICE, now)
                .await?;
            recorder::subscribe(&setup.heroku, &token, &app, &url).await?;
            targets.push(Target {
                team,
                channel,
                pipeline,
            });
        }
        Ok(World {
            sandbox,
            setup,
            config,
            targets,
            recorded,
        })
    }

    /// The configuration of one more process on the database, on a port of its own.
    pub fn process_config(&self) -> Config {
        let port = free_port();
        Config {
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            ..self.config.clone()
        }
    }

    pub async fn finish(self) {
        self.setup.store.close().await;
    }
}

/// Adds the workspaces to the fake Slack, stores each install as the install flow
/// would (its bot token sealed), and links alice in each; returns every
/// `(team, channel)`.
async fn install_workspaces(sandbox: &Fakes, setup: &Bot) -> anyhow::Result<Vec<(String, String)>> {
    let mut channels = Vec::new();
    for w in 0..WORKSPACES {
        let team = format!("T0SCALE{w:02}");
        let ids: Vec<(String, String)> = (0..CHANNELS_PER_WORKSPACE)
            .map(|c| (format!("C0SCALE{w:02}{c}"), format!("deploys-{c}")))
            .collect();
        let named: Vec<(&str, &str)> = ids
            .iter()
            .map(|(id, name)| (id.as_str(), name.as_str()))
            .collect();
        let token =
            sandbox
                .slack
                .add_workspace(&team, &format!("Scale {w}"), &[(ALICE, "alice")], &named);
        let sealed_for = chatops::workspaces::sealed_for(&team);
        let install = StoredWorkspace {
            bot_token: setup.vault.seal(&token, &sealed_for),
            team_id: team.clone(),
            team_name: Some(format!("Scale {w}")),
            bot_user_id: format!("U0BOT{team}"),
            scope: "chat:write,commands".into(),
            installer_user_id: ALICE.into(),
            installed_at: setup.clock.now(),
        };
        setup.store.install_workspace(&install).await?;
        chatops_sandbox::bot::link_user(setup, sandbox, &team, ALICE, "alice@example.com", "alice")
            .await?;
        channels.extend(ids.into_iter().map(|(id, _)| (team.clone(), id)));
    }
    Ok(channels)
}
