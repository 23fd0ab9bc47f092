//! Notification routes: `/h route <pipeline> to #channel` chooses the channel a
//! pipeline's news goes to, and `/h route` lists what comes to this channel. Deploys
//! started from chat also show their (live-updated) parent message there
//! ([`routed_copies`], called by the deploy worker), and releases made elsewhere
//! (CLI, dashboard, git push) are announced there once ([`announce`]: Heroku's signed
//! webhook deliveries, with a polling fallback).

pub mod announce;

use crate::accounts::seen_by;
use crate::bot::{Bot, BotState};
use crate::chat::Invocation;
use crate::chat::{Reply, ResponseType};
use crate::command::Channel;
use crate::resolver::{Asking, Layout};
use crate::store::{DeployRow, MessageKind, NewMessage, Route, RoutedApp};

/// `/h route`: the pipelines routed to this channel.
pub async fn list(state: &BotState, invocation: &Invocation) -> Reply {
    let routes = match state.store.routes(&invocation.team_id).await {
        Ok(routes) => routes,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot list routes");
            return Reply::ephemeral(
                "I could not read the routes just now. Try again in a minute.",
            );
        }
    };
    let here: Vec<String> = routes
        .iter()
        .filter(|route| route.channel == invocation.channel_id)
        .map(|route| format!("`{}`", route.pipeline))
        .collect();
    if here.is_empty() {
        return Reply::ephemeral(
            "No pipeline's notifications come to this channel. Send one here with `/h route <pipeline> to #<channel>`.",
        );
    }
    Reply::ephemeral(format!(
        "Notifications of {} come to this channel.",
        here.join(", ")
    ))
}

/// How `/h route` names itself in the resolver's refusals.
pub(crate) const ROUTE: Asking = Asking {
    command: "route",
    preposition: "to",
};

/// `/h route <pipeline> to #channel`: checked against what the person sees on Heroku;
/// the pipeline's apps are subscribed to release webhooks (best effort).
pub async fn set(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    channel: &Channel,
) -> Reply {
    let (linked, layout) = match seen_by(state, invocation, pipeline, ROUTE).await {
        Ok(seen) => seen,
        Err(reply) => return reply,
    };
    let apps = routed_apps(&layout, &invocation.team_id);
    let route = Route {
        team_id: invocation.team_id.clone(),
        pipeline: pipeline.into(),
        channel: channel
            .id
            .clone()
            .unwrap_or_else(|| format!("#{}", channel.name.as_deref().unwrap_or_default())),
        label: channel.to_string(),
        set_by: invocation.user_id.clone(),
        set_at: state.clock.now_millis(),
    };
    if let Err(error) = state.store.set_route(&route, &apps).await {
        tracing::error!(error = format!("{error:#}"), "cannot save a route");
        return Reply::ephemeral(
            "I could not save that (the database did not answer), so nothing was changed.",
        );
    }
    for app in &apps {
        crate::webhooks::subscribe(state, &linked.heroku_token, &app.app_name, None).await;
    }
    Reply {
        response_type: ResponseType::InChannel,
        ..Reply::ephemeral(format!(
            "<@{}> routed `{pipeline}` to {}: deploys started from Slack and releases made elsewhere \
             (CLI, dashboard, git push) are posted there.",
            invocation.user_id, route.label
        ))
    }
}

/// Every app of a routed pipeline, as the store remembers them.
fn routed_apps(layout: &Layout, team_id: &str) -> Vec<RoutedApp> {
    layout
        .stages
        .iter()
        .flat_map(|stage| &stage.apps)
        .map(|app| RoutedApp {
            app_id: app.id.clone(),
            team_id: team_id.into(),
            pipeline: layout.pipeline.name.clone(),
            app_name: app.name.clone(),
        })
        .collect()
}

/// Copies of a deploy step's parent posts for the pipeline's routed channel (when it
/// is not the deploy's own): the parent when it is first posted, then its updates,
/// which follow the copy to wherever it went even if the route changed since.
pub async fn routed_copies(
    app: &Bot,
    deploy: &DeployRow,
    messages: &[NewMessage],
) -> anyhow::Result<Vec<NewMessage>> {
    let wanted = |kind| matches!(kind, MessageKind::Parent | MessageKind::UpdateParent);
    if !messages.iter().any(|message| wanted(message.kind)) {
        return Ok(Vec::new());
    }
    // Most pipelines are not routed: one primary-key read settles it.
    let Some(route) = app.store.route(&deploy.team_id, &deploy.pipeline).await? else {
        return Ok(Vec::new());
    };
    let key = format!("deploy:{}:routed", deploy.id);
    let mut copies = Vec::new();
    for message in messages {
        let channel = match message.kind {
            MessageKind::Parent => {
                Some(route.channel.clone()).filter(|channel| *channel != deploy.channel_id)
            }
            MessageKind::UpdateParent => app.store.thread_channel(&key).await?,
            MessageKind::Reply | MessageKind::Response => None,
        };
        if let Some(channel_id) = channel {
            copies.push(NewMessage {
                thread_key: key.clone(),
                channel_id,
                ..message.clone()
            });
        }
    }
    Ok(copies)
}
