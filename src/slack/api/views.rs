//! `views.publish`: the bot's App Home tab, one view per person, replaced whole on
//! every publish. Built from the same [`Block`]s as messages.

use secrecy::SecretString;
use slack_morphism::prelude::{
    SlackApiViewsPublishRequest, SlackBlock, SlackHomeView, SlackUserId, SlackView,
};

use super::client::bot_token;
use super::{Block, SlackApi, SlackError};
use crate::outbound::Replay;

const PUBLISH: &str = "views.publish";

impl SlackApi {
    /// `views.publish`: shows `blocks` as `user`'s Home tab. Publishing again replaces
    /// the view, so a retried call does no harm.
    #[tracing::instrument(skip_all, fields(user = %user))]
    pub async fn publish_home(
        &self,
        token: &SecretString,
        user: &str,
        blocks: &[Block],
    ) -> Result<(), SlackError> {
        let token = bot_token(token);
        let session = self.client.open_session(&token);
        let blocks: Vec<SlackBlock> = blocks.iter().map(SlackBlock::from).collect();
        let request = SlackApiViewsPublishRequest::new(
            SlackUserId(user.into()),
            SlackView::Home(SlackHomeView::new(blocks)),
        );
        self.attempts(PUBLISH, Replay::Safe, || session.views_publish(&request))
            .await?;
        Ok(())
    }

    /// A link to a message, in Slack's archive form: Slack opens it in the workspace
    /// the reader is signed in to (and a thread's parent shows its thread).
    pub fn archive_url(&self, channel: &str, ts: &str) -> String {
        format!(
            "{}/archives/{channel}/p{}",
            self.slack_url,
            ts.replace('.', "")
        )
    }
}
