//! The Deploy and Promote buttons of the Home tab. A press is the command its button
//! shows (`deploy paipu to staging`, `promote paipu from staging to production`), run
//! as whoever pressed it, exactly as if typed: their own tokens, the CI gate, locks,
//! and the production confirmation. It runs in the channel of the pipeline's last
//! deploy (the only pipelines that get buttons); Slack gives a Home press no
//! `response_url`, so the answer is shown to the presser alone in that channel.

use crate::bot::{Bot, BotState};
use crate::chat::{HOME_DEPLOY_ACTION, HOME_PROMOTE_ACTION, Invocation, Press};
use crate::command::{self, Command, DeployRequest, PromoteRequest};
use crate::outbox::{self, Post};
use crate::slack::api::{Button, Message};
use crate::store::MessageKind;

/// The buttons of `stage`: Deploy to it, and Promote to `next`
/// when the pipeline has a stage after it.
pub fn buttons(pipeline: &str, stage: &str, next: Option<&str>) -> Vec<Button> {
    let mut buttons = vec![Button::new(
        HOME_DEPLOY_ACTION,
        format!("Deploy to {stage}"),
        format!("deploy {pipeline} to {stage}"),
    )];
    if let Some(next) = next {
        buttons.push(Button::new(
            HOME_PROMOTE_ACTION,
            format!("Promote to {next}"),
            format!("promote {pipeline} from {stage} to {next}"),
        ));
    }
    buttons
}

/// The channel a pipeline's buttons post in: where its last deploy was announced.
pub async fn channel_of(
    app: &Bot,
    team_id: &str,
    pipeline: &str,
) -> anyhow::Result<Option<String>> {
    let last = app
        .store
        .pipeline_deploys(team_id, pipeline, None, 1)
        .await?;
    Ok(last.into_iter().next().map(|deploy| deploy.channel_id))
}

/// What a Home button asks for.
enum Asked {
    Deploy(DeployRequest),
    Promote(PromoteRequest),
}

impl Asked {
    fn pipeline(&self) -> &str {
        match self {
            Asked::Deploy(request) => &request.pipeline,
            Asked::Promote(request) => &request.pipeline,
        }
    }
}

/// The plain deploy or promote a button's value shows; anything else (forced, with a
/// code, another command, another button's) is not a value the bot ever shows.
fn asked(press: &Press) -> Option<Asked> {
    match (command::parse(&press.value).ok()?, press.action_id.as_str()) {
        (Command::Deploy(r), HOME_DEPLOY_ACTION) if !r.forced && r.two_factor_code.is_none() => {
            Some(Asked::Deploy(r))
        }
        (Command::Promote(r), HOME_PROMOTE_ACTION) if !r.forced && r.two_factor_code.is_none() => {
            Some(Asked::Promote(r))
        }
        _ => None,
    }
}

/// Runs a press of a Home button; a value the bot never shows is ignored.
pub async fn pressed(state: &BotState, press: &Press) -> anyhow::Result<()> {
    let Some(asked) = asked(press) else {
        tracing::warn!(action = %press.action_id, "a Home button with a value it never shows");
        return Ok(());
    };
    let Some(channel) = channel_of(state, &press.team_id, asked.pipeline()).await? else {
        tracing::warn!(pipeline = %asked.pipeline(), "a Home button of a pipeline never deployed");
        return Ok(());
    };
    let invocation = Invocation {
        team_id: press.team_id.clone(),
        channel_id: channel,
        user_id: press.user_id.clone(),
        response_url: press.response_url.clone(),
        text: press.value.clone(),
    };
    let reply = match asked {
        Asked::Deploy(request) => {
            crate::deploy::requested::deploy(state, &invocation, request).await
        }
        Asked::Promote(request) => {
            crate::deploy::requested::promote(state, &invocation, request).await
        }
    };
    answer(state, &invocation, &reply.text).await
}

/// `text`, to the presser alone in the channel, through the outbox.
async fn answer(app: &Bot, invocation: &Invocation, text: &str) -> anyhow::Result<()> {
    let post = Post {
        message: Message::text(text),
        broadcast: false,
        response_url: Some(outbox::seal_response_url(
            &app.vault,
            &invocation.team_id,
            &invocation.response_url,
        )),
        ephemeral_to: Some(invocation.user_id.clone()),
    };
    let thread = format!("home:{}:{}", invocation.team_id, invocation.user_id);
    let message = outbox::queued(
        &invocation.team_id,
        &invocation.channel_id,
        &thread,
        MessageKind::Response,
        &post,
    )?;
    app.store
        .queue_messages(&[message], app.clock.now_millis())
        .await
}
