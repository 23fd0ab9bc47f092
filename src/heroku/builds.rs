//! Builds: turning a source tarball into a slug (and, on success, a release), and the
//! build's output stream, whose tail explains a failed deploy.

use reqwest::{Method, header};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::client::{Call, check, segment};
use super::types::{IdRef, UserRef};
use super::{HerokuClient, HerokuError};
use crate::outbound::Replay;

/// `POST /apps/{app}/builds` and `GET /apps/{app}/builds/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Build {
    pub id: String,
    pub app: IdRef,
    pub status: BuildStatus,
    /// Where the build's output streams (plain text, ends when the build ends).
    pub output_stream_url: Option<String>,
    pub source_blob: SourceBlob,
    /// The release the build created; set once it succeeded.
    pub release: Option<IdRef>,
    pub slug: Option<IdRef>,
    pub user: UserRef,
    pub created_at: String,
    pub updated_at: String,
}

/// A build moves from `pending` to one of the two outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    Pending,
    Succeeded,
    Failed,
}

/// The tarball a build was made from, as Heroku echoes it back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SourceBlob {
    pub url: String,
    pub version: Option<String>,
    pub version_description: Option<String>,
    pub checksum: Option<String>,
}

/// What to build: a tarball URL Heroku downloads, and the commit it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSourceBlob {
    /// A URL Heroku can fetch without credentials (GitHub's tarball redirect target).
    pub url: String,
    /// The full commit sha; Heroku keeps it as the slug's `commit`.
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_description: Option<String>,
}

#[derive(Serialize)]
struct NewBuild<'a> {
    source_blob: &'a NewSourceBlob,
}

impl HerokuClient {
    /// `POST /apps/{app}/builds`. Never retried once Heroku may have started it, so a
    /// lost answer cannot start a second build.
    #[tracing::instrument(skip_all, fields(app = %app, version = %source.version))]
    pub async fn create_build(
        &self,
        token: &SecretString,
        app: &str,
        source: &NewSourceBlob,
        two_factor_code: Option<&str>,
    ) -> Result<Build, HerokuError> {
        let call = Call {
            method: Method::POST,
            path: format!("/apps/{}/builds", segment(app)),
            body: Some(&NewBuild {
                source_blob: source,
            }),
            two_factor_code,
            range: None,
            replay: Replay::Unsafe,
        };
        self.json(token, call).await
    }

    /// `GET /apps/{app}/builds/{id}`.
    #[tracing::instrument(skip_all, fields(app = %app, build_id = %build_id))]
    pub async fn build(
        &self,
        token: &SecretString,
        app: &str,
        build_id: &str,
    ) -> Result<Build, HerokuError> {
        self.json(
            token,
            Call::get(format!(
                "/apps/{}/builds/{}",
                segment(app),
                segment(build_id)
            )),
        )
        .await
    }

    /// `GET /apps/{app}/builds`: every build, across as many pages as it takes.
    #[tracing::instrument(skip_all, fields(app = %app))]
    pub async fn builds(&self, token: &SecretString, app: &str) -> Result<Vec<Build>, HerokuError> {
        self.list(token, format!("/apps/{}/builds", segment(app)), None, None)
            .await
    }

    /// The whole text at an `output_stream_url` (a build's or a release's). While the
    /// build runs this waits for it to end, bounded by the client's timeout. The URL is
    /// a capability on another host, so no token is sent with it.
    #[tracing::instrument(skip_all)]
    pub async fn output_stream(&self, output_stream_url: &str) -> Result<String, HerokuError> {
        let response = self
            .retry()
            .send(Replay::Safe, || {
                self.http()
                    .get(output_stream_url)
                    .header(header::ACCEPT, "text/plain")
            })
            .await
            .map_err(HerokuError::Unreachable)?;
        check(response)
            .await?
            .text()
            .await
            .map_err(HerokuError::Unreachable)
    }

    /// The last `lines` lines at an `output_stream_url`: what a failed deploy shows.
    pub async fn output_tail(
        &self,
        output_stream_url: &str,
        lines: usize,
    ) -> Result<String, HerokuError> {
        Ok(last_lines(
            &self.output_stream(output_stream_url).await?,
            lines,
        ))
    }
}

/// The last `count` lines of `text`, joined by newlines.
pub fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::last_lines;

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a\nb", 5), "a\nb");
        assert_eq!(last_lines("", 3), "");
    }
}
