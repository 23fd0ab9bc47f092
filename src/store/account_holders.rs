//! Who holds a Heroku or GitHub account in a workspace. One account belongs to at most
//! one Slack user of a workspace (a unique index on both backends): a second person
//! linking it is refused with [`AlreadyLinked`], naming the holder, and nothing is
//! overwritten. The same person linking their own account again is not a conflict.

use anyhow::Context;

use super::Store;

/// An account of one of the providers.
#[derive(Debug, Clone, Copy)]
pub enum ProviderAccount<'a> {
    /// Heroku's account id.
    Heroku(&'a str),
    /// GitHub's numeric user id.
    GitHub(i64),
}

/// The account is linked to another Slack user of the workspace.
#[derive(Debug, thiserror::Error)]
#[error("the account is already linked to Slack user {holder}")]
pub struct AlreadyLinked {
    /// That user's Slack id.
    pub holder: String,
}

impl Store {
    /// The Slack user of `team_id`, other than `user_id`, who holds `account`.
    pub async fn account_holder(
        &self,
        team_id: &str,
        user_id: &str,
        account: ProviderAccount<'_>,
    ) -> anyhow::Result<Option<String>> {
        let column = match account {
            ProviderAccount::Heroku(_) => "heroku_user_id",
            ProviderAccount::GitHub(_) => "github_user_id",
        };
        let query = format!(
            "SELECT user_id FROM users WHERE team_id = $1 AND user_id <> $2 AND {column} = $3"
        );
        let query = sqlx::query_scalar(&query).bind(team_id).bind(user_id);
        let query = match account {
            ProviderAccount::Heroku(id) => query.bind(id.to_owned()),
            ProviderAccount::GitHub(id) => query.bind(id),
        };
        query
            .fetch_optional(&self.pool)
            .await
            .context("cannot look up who holds an account")
    }

    /// Fails with [`AlreadyLinked`] if someone else holds `account`.
    pub(super) async fn refuse_if_held(
        &self,
        team_id: &str,
        user_id: &str,
        account: ProviderAccount<'_>,
    ) -> anyhow::Result<()> {
        match self.account_holder(team_id, user_id, account).await? {
            Some(holder) => Err(AlreadyLinked { holder }.into()),
            None => Ok(()),
        }
    }

    /// The outcome of storing a link of `account`: a failed write that lost a race to
    /// another person linking the same account (the unique index) is that refusal.
    pub(super) async fn stored_unless_held(
        &self,
        written: Result<sqlx::any::AnyQueryResult, sqlx::Error>,
        (team_id, user_id): (&str, &str),
        account: ProviderAccount<'_>,
    ) -> anyhow::Result<()> {
        let Err(error) = written else {
            return Ok(());
        };
        self.refuse_if_held(team_id, user_id, account).await?;
        Err(error).context("cannot store the link")
    }
}
