//! Releases (a slug plus config, running or about to), rollbacks, and slugs, which
//! say which commit a release runs.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::client::{Call, segment};
use super::types::{IdRef, NamedRef, UserRef};
use super::{HerokuClient, HerokuError};
use crate::outbound::Replay;

/// The largest page Heroku serves.
const MAX_PAGE: usize = 1000;

/// `GET /apps/{app}/releases/{id_or_version}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Release {
    pub id: String,
    pub version: u64,
    pub status: ReleaseStatus,
    /// Whether this is the release the app runs now.
    pub current: bool,
    /// `Deploy 576d16a`, `Rollback to v41`, `Promote ...`.
    pub description: String,
    pub slug: Option<IdRef>,
    pub user: UserRef,
    pub app: NamedRef,
    /// The release phase's output; `None` when the app has no release phase.
    pub output_stream_url: Option<String>,
    pub eligible_for_rollback: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A release is `pending` while its release phase runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseStatus {
    Pending,
    Succeeded,
    Failed,
    Expired,
}

/// `GET /apps/{app}/slugs/{id}`: only what maps a release back to git.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Slug {
    pub id: String,
    /// The full commit sha the slug was built from.
    pub commit: Option<String>,
    pub commit_description: Option<String>,
    pub created_at: String,
}

impl HerokuClient {
    /// The newest `max` releases, newest first (`Range: version ..; order=desc, max=N`).
    #[tracing::instrument(skip_all, fields(app = %app, max))]
    pub async fn releases(
        &self,
        token: &SecretString,
        app: &str,
        max: usize,
    ) -> Result<Vec<Release>, HerokuError> {
        let range = format!("version ..; order=desc, max={}", max.clamp(1, MAX_PAGE));
        self.list(
            token,
            format!("/apps/{}/releases", segment(app)),
            Some(range),
            Some(max),
        )
        .await
    }

    /// `GET /apps/{app}/releases/{id_or_version}`: `release` is an id or a version number.
    #[tracing::instrument(skip_all, fields(app = %app, release = %release))]
    pub async fn release(
        &self,
        token: &SecretString,
        app: &str,
        release: &str,
    ) -> Result<Release, HerokuError> {
        self.json(
            token,
            Call::get(format!(
                "/apps/{}/releases/{}",
                segment(app),
                segment(release)
            )),
        )
        .await
    }

    /// Rolls `app` back by creating a new release of an earlier one's slug and config
    /// (`POST /apps/{app}/releases {"release": id}`). Not retried once Heroku may have
    /// acted on it.
    #[tracing::instrument(skip_all, fields(app = %app, release_id = %release_id))]
    pub async fn rollback(
        &self,
        token: &SecretString,
        app: &str,
        release_id: &str,
        two_factor_code: Option<&str>,
    ) -> Result<Release, HerokuError> {
        let body = json!({ "release": release_id });
        let call = Call {
            method: Method::POST,
            path: format!("/apps/{}/releases", segment(app)),
            body: Some(&body),
            two_factor_code,
            range: None,
            replay: Replay::Unsafe,
        };
        self.json(token, call).await
    }

    /// `GET /apps/{app}/slugs/{id}`.
    #[tracing::instrument(skip_all, fields(app = %app, slug_id = %slug_id))]
    pub async fn slug(
        &self,
        token: &SecretString,
        app: &str,
        slug_id: &str,
    ) -> Result<Slug, HerokuError> {
        self.json(
            token,
            Call::get(format!("/apps/{}/slugs/{}", segment(app), segment(slug_id))),
        )
        .await
    }
}
