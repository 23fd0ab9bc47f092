//! [`SlackApi`]: the Web API calls the bot makes, on slack-morphism's hyper client,
//! pointed at a configurable Slack (the real one or the sandbox fake). Every call takes
//! the token it acts with; there is no global token.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::IgnoredAny;
use slack_morphism::prelude::{
    SlackApiChatPostEphemeralRequest, SlackApiChatPostMessageRequest, SlackApiChatUpdateRequest,
    SlackApiToken, SlackApiTokenValue, SlackChannelId, SlackClient, SlackClientHyperConnector,
    SlackClientHyperHttpsConnector, SlackMessageContent, SlackMessageMetadata,
    SlackOAuthV2AccessTokenRequest, SlackOAuthV2AccessTokenResponse, SlackResponseUrl, SlackTs,
    SlackUserId,
};
use slack_morphism::{SlackClientApiCallContext, SlackClientHttpConnector};

use super::ResponseType;
use super::conversations::{OUTBOX_EVENT_TYPE, OUTBOX_ID};
use super::retry::with_retries;
use super::{Message, SlackError};
use crate::metrics::{ExternalCalls, Service};
use crate::outbound::{Replay, Retrier, RetryPolicy};

/// Where the real Slack lives; the Web API is under `/api`, the install page under
/// `/oauth/v2/authorize`.
pub const SLACK_URL: &str = "https://slack.com";

/// A message Slack accepted: where it is and its `ts`, the key for threading replies
/// under it and for updating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
}

/// What an OAuth v2 install grants: the workspace and the bot's token for it.
#[derive(Debug, Clone)]
pub struct Installation {
    pub team_id: String,
    pub team_name: Option<String>,
    /// The bot token (`xoxb-…`) for this workspace.
    pub access_token: SecretString,
    pub bot_user_id: String,
    /// Comma-separated scopes granted to the bot.
    pub scope: String,
    /// Who clicked Allow.
    pub installer_user_id: String,
}

/// The Slack Web API client. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct SlackApi {
    pub(super) client: SlackClient<SlackClientHyperHttpsConnector>,
    pub(super) slack_url: String,
    timeout: Duration,
    retry: Retrier,
}

pub(super) const POST_MESSAGE: &str = "chat.postMessage";
pub(super) const UPDATE: &str = "chat.update";
const POST_EPHEMERAL: &str = "chat.postEphemeral";
const OAUTH_ACCESS: &str = "oauth.v2.access";
const RESPOND: &str = "response_url";

/// Where Slack's real `response_url`s live; any other URL in a payload is refused.
pub const RESPONSE_URL_PREFIX: &str = "https://hooks.slack.com/";

/// The body of a `response_url` post.
#[derive(Serialize)]
struct ResponseUrlPost {
    #[serde(flatten)]
    content: SlackMessageContent,
    response_type: ResponseType,
    /// A slash command's own message cannot be replaced; say so rather than rely on
    /// the default.
    replace_original: bool,
}

impl SlackApi {
    /// A client for the Slack at `slack_url` (e.g. [`SLACK_URL`], or a fake on loopback
    /// `http://`), giving up on one attempt after `timeout`.
    pub fn new(
        slack_url: &str,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> std::io::Result<SlackApi> {
        let slack_url = slack_url.trim_end_matches('/').to_owned();
        // The provider is named because two may be compiled in (the jsonschema
        // dev-dependency adds aws-lc-rs) and rustls then refuses to guess;
        // `https_or_http` lets the sandbox fake be plain http.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let connector = SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(&format!("{slack_url}/api"));
        Ok(SlackApi {
            client: SlackClient::new(connector),
            slack_url,
            timeout,
            retry: Retrier::new(retry, Service::Slack),
        })
    }

    /// The same client, counting its calls in `calls` (the app's metrics).
    pub fn with_calls(mut self, calls: ExternalCalls) -> SlackApi {
        self.retry.calls = calls;
        self
    }

    /// Whether `url` may be posted to as a `response_url`: Slack's own hooks, or a URL
    /// under the configured Slack (the sandbox's fake). Anything else came from a
    /// forged or tampered payload and would make the bot post wherever it says.
    pub fn is_response_url(&self, url: &str) -> bool {
        let own = format!("{}/", self.slack_url);
        [RESPONSE_URL_PREFIX, own.as_str()]
            .iter()
            .any(|prefix| url.starts_with(prefix))
    }

    /// The page to send an installing user to (OAuth v2 step 1).
    pub fn authorize_url(
        &self,
        client_id: &str,
        scopes: &[&str],
        redirect_uri: &str,
        state: &str,
    ) -> String {
        let query = serde_urlencoded::to_string([
            ("client_id", client_id),
            ("scope", &scopes.join(",")),
            ("redirect_uri", redirect_uri),
            ("state", state),
        ])
        .expect("string pairs always encode");
        format!("{}/oauth/v2/authorize?{query}", self.slack_url)
    }

    /// `chat.postMessage`: a new message, or a reply in the thread of `thread_ts`
    /// (also shown in the channel when `reply_broadcast`). With `outbox_id`, the post
    /// carries [`OUTBOX_EVENT_TYPE`] metadata naming it, so it can be found again.
    #[tracing::instrument(skip_all, fields(channel = %channel, thread_ts = ?thread_ts, outbox_id = ?outbox_id))]
    pub async fn post_message(
        &self,
        token: &SecretString,
        channel: &str,
        message: &Message,
        thread_ts: Option<&str>,
        reply_broadcast: bool,
        outbox_id: Option<i64>,
    ) -> Result<Posted, SlackError> {
        let token = bot_token(token);
        let session = self.client.open_session(&token);
        let content = SlackMessageContent::from(message).opt_metadata(outbox_id.map(outbox_tag));
        let request = SlackApiChatPostMessageRequest::new(SlackChannelId(channel.into()), content)
            .opt_thread_ts(thread_ts.map(|ts| SlackTs(ts.into())))
            .opt_reply_broadcast(reply_broadcast.then_some(true));
        let posted = self
            .attempts(POST_MESSAGE, Replay::Unsafe, || {
                session.chat_post_message(&request)
            })
            .await?;
        Ok(Posted {
            channel: posted.channel.0,
            ts: posted.ts.0,
        })
    }

    /// `chat.update`: replaces the text and blocks of the message at `ts`.
    #[tracing::instrument(skip_all, fields(channel = %channel, ts = %ts))]
    pub async fn update(
        &self,
        token: &SecretString,
        channel: &str,
        ts: &str,
        message: &Message,
    ) -> Result<Posted, SlackError> {
        let token = bot_token(token);
        let session = self.client.open_session(&token);
        let request = SlackApiChatUpdateRequest::new(
            SlackChannelId(channel.into()),
            message.into(),
            SlackTs(ts.into()),
        );
        let updated = self
            .attempts(UPDATE, Replay::Safe, || session.chat_update(&request))
            .await?;
        Ok(Posted {
            channel: updated.channel.0,
            ts: updated.ts.0,
        })
    }

    /// `chat.postEphemeral`: a message only `user` sees, which cannot be updated later.
    #[tracing::instrument(skip_all, fields(channel = %channel, user = %user))]
    pub async fn post_ephemeral(
        &self,
        token: &SecretString,
        channel: &str,
        user: &str,
        message: &Message,
    ) -> Result<(), SlackError> {
        let token = bot_token(token);
        let session = self.client.open_session(&token);
        let request = SlackApiChatPostEphemeralRequest::new(
            SlackChannelId(channel.into()),
            SlackUserId(user.into()),
            message.into(),
        );
        self.attempts(POST_EPHEMERAL, Replay::Safe, || {
            session.chat_post_ephemeral(&request)
        })
        .await?;
        Ok(())
    }

    /// Answers through a command's `response_url` (no token: the URL is the
    /// credential, and it is never logged).
    #[tracing::instrument(skip_all, fields(response_type = ?response_type))]
    pub async fn respond(
        &self,
        response_url: &str,
        message: &Message,
        response_type: ResponseType,
    ) -> Result<(), SlackError> {
        if !self.is_response_url(response_url) {
            return Err(SlackError::Unexpected {
                method: RESPOND,
                detail: "the response_url is not Slack's; it was not called".into(),
            });
        }
        // Wrapping it names the URL type without a direct dependency on `url`.
        let url = SlackResponseUrl(response_url.parse().map_err(|_| SlackError::Unexpected {
            method: RESPOND,
            detail: "the response_url is not a URL".into(),
        })?);
        let body = ResponseUrlPost {
            content: message.into(),
            response_type,
            replace_original: false,
        };
        let span = tracing::Span::current();
        let connector = &self.client.http_api.connector;
        let _: IgnoredAny = self
            .attempts(RESPOND, Replay::Safe, || {
                let context = SlackClientApiCallContext {
                    rate_control_params: None,
                    token: None,
                    tracing_span: &span,
                    is_sensitive_url: true,
                };
                connector.http_post_uri(url.0.clone(), &body, context)
            })
            .await?;
        Ok(())
    }

    /// `oauth.v2.access`: exchanges an install's `code` for the bot token. Send the
    /// same `redirect_uri` as the authorize step, or none if it had none.
    #[tracing::instrument(skip_all, fields(client_id = %client_id))]
    pub async fn oauth_v2_access(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<Installation, SlackError> {
        let redirect_uri =
            redirect_uri
                .map(str::parse)
                .transpose()
                .map_err(|_| SlackError::Unexpected {
                    method: OAUTH_ACCESS,
                    detail: "the redirect_uri is not a URL".into(),
                })?;
        let request = SlackOAuthV2AccessTokenRequest::new(
            client_id.to_owned().into(),
            client_secret.expose_secret().to_owned().into(),
            code.to_owned().into(),
        )
        .opt_redirect_uri(redirect_uri);
        let granted = self
            .attempts(OAUTH_ACCESS, Replay::Safe, || {
                self.client.oauth2_access(&request)
            })
            .await?;
        installation(granted)
    }

    pub(super) async fn attempts<T, Fut>(
        &self,
        method: &'static str,
        replay: Replay,
        call: impl Fn() -> Fut,
    ) -> Result<T, SlackError>
    where
        Fut: Future<Output = slack_morphism::ClientResult<T>>,
    {
        with_retries(&self.retry, self.timeout, method, replay, call).await
    }
}

pub(super) fn bot_token(token: &SecretString) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue(token.expose_secret().to_owned()))
}

/// The metadata naming outbox message `id`.
fn outbox_tag(id: i64) -> SlackMessageMetadata {
    let payload = HashMap::from([(OUTBOX_ID.to_owned(), id.to_string())]);
    SlackMessageMetadata::new(OUTBOX_EVENT_TYPE.into()).with_event_payload(payload)
}

/// Only a bot install is useful to the bot; anything else is a misconfigured app.
fn installation(granted: SlackOAuthV2AccessTokenResponse) -> Result<Installation, SlackError> {
    let bot_user_id = granted.bot_user_id.ok_or_else(|| SlackError::Unexpected {
        method: OAUTH_ACCESS,
        detail: "the install granted no bot user (is `scope` empty?)".into(),
    })?;
    Ok(Installation {
        team_id: granted.team.id.0,
        team_name: granted.team.name,
        access_token: granted.access_token.0.into(),
        bot_user_id: bot_user_id.0,
        scope: granted.scope.0,
        installer_user_id: granted.authed_user.id.0,
    })
}
