//! Why a provider's code did not become a stored link, and the page that says so: the
//! provider refused or did not answer, someone else already holds the account, or the
//! store failed. Nothing is stored in any of these cases.

use axum::http::StatusCode;
use axum::response::Response;

use super::states::Purpose;
use crate::pages::Page;
use crate::store::AlreadyLinked;

/// Why a code did not become a stored link.
#[derive(Debug, thiserror::Error)]
pub enum LinkFailure {
    #[error("{provider} refused: {detail}")]
    Refused {
        provider: &'static str,
        detail: String,
    },
    #[error("{provider} did not answer: {detail}")]
    Unavailable {
        provider: &'static str,
        detail: String,
    },
    /// Another Slack user of the workspace holds the account.
    #[error("the {provider} account {account} is already linked to Slack user {holder}")]
    Taken {
        provider: &'static str,
        account: String,
        holder: String,
    },
    #[error("{0:#}")]
    Store(anyhow::Error),
}

impl LinkFailure {
    /// A provider's error, classified as a refusal or an outage.
    pub fn new(
        provider: &'static str,
        transient: bool,
        error: &dyn std::fmt::Display,
    ) -> LinkFailure {
        let detail = error.to_string();
        if transient {
            LinkFailure::Unavailable { provider, detail }
        } else {
            LinkFailure::Refused { provider, detail }
        }
    }

    /// Why `account` of `provider` could not be stored: someone else holds it, or the
    /// store failed.
    pub fn unsaved(error: anyhow::Error, provider: &'static str, account: &str) -> LinkFailure {
        match error.downcast_ref::<AlreadyLinked>() {
            Some(taken) => LinkFailure::Taken {
                provider,
                account: account.to_owned(),
                holder: taken.holder.clone(),
            },
            None => LinkFailure::Store(error),
        }
    }

    /// The page telling the person the sign-in did not complete.
    pub fn page(&self, purpose: Purpose) -> Response {
        tracing::warn!(failure = %self, "a sign-in did not complete");
        if let LinkFailure::Taken {
            provider,
            account,
            holder,
        } = self
        {
            return Page::new(format!("This {provider} account is already linked"))
                .paragraph(format!(
                    "This {provider} account ({account}) is already linked to Slack user \
                     {holder} in this workspace: one account belongs to one person. \
                     Nothing was stored."
                ))
                .paragraph(format!(
                    "Sign in to {provider} with your own account, or if this one is yours, \
                     have {holder} run `/h logout` first. Then run `/h login` in Slack."
                ))
                .respond(StatusCode::CONFLICT);
        }
        let (status, title, detail) = match self {
            LinkFailure::Refused { provider, detail } => (
                StatusCode::BAD_REQUEST,
                format!("{provider} did not accept this sign-in"),
                detail.as_str(),
            ),
            LinkFailure::Unavailable { provider, detail } => (
                StatusCode::BAD_GATEWAY,
                format!("{provider} did not answer"),
                detail.as_str(),
            ),
            LinkFailure::Taken { .. } | LinkFailure::Store(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong".to_owned(),
                "The sign-in could not be saved.",
            ),
        };
        Page::new(title)
            .paragraph(format!("{detail} Nothing was stored."))
            .paragraph(purpose.retry_hint())
            .respond(status)
    }
}
