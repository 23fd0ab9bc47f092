//! Pipelines, the apps coupled to their stages, and promotions (copying one stage's
//! slug to the next stage's apps without a rebuild).

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::client::{Call, segment};
use super::types::IdRef;
use super::{HerokuClient, HerokuError};
use crate::outbound::Replay;

/// `GET /pipelines/{pipeline}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub owner: Option<PipelineOwner>,
    pub created_at: String,
    pub updated_at: String,
}

/// Who owns a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PipelineOwner {
    pub id: String,
    /// `team` or `user`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// An app's place in a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PipelineCoupling {
    pub id: String,
    pub app: IdRef,
    pub pipeline: IdRef,
    pub stage: Stage,
}

/// A pipeline stage. `Test` belongs to Heroku CI and is never a deploy target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Test,
    Review,
    Development,
    Staging,
    Production,
}

impl Stage {
    /// The stage's name as Heroku spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Test => "test",
            Stage::Review => "review",
            Stage::Development => "development",
            Stage::Staging => "staging",
            Stage::Production => "production",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to promote: the source app's current release, to each target app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPromotion {
    pub pipeline_id: String,
    pub source_app_id: String,
    pub target_app_ids: Vec<String>,
}

/// `POST /pipeline-promotions` and `GET /pipeline-promotions/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PipelinePromotion {
    pub id: String,
    pub pipeline: IdRef,
    pub source: PromotionSource,
    pub status: PromotionStatus,
    pub created_at: String,
    pub updated_at: Option<String>,
}

/// The app and release a promotion copies from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PromotionSource {
    pub app: IdRef,
    pub release: IdRef,
}

/// A promotion is `completed` once every target has its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromotionStatus {
    Pending,
    Completed,
}

/// One target app of a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PromotionTarget {
    pub id: String,
    pub app: IdRef,
    pub pipeline_promotion: IdRef,
    /// The release created on the target; `None` until it exists.
    pub release: Option<IdRef>,
    pub status: TargetStatus,
    pub error_message: Option<String>,
}

/// Whether the slug reached one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    Pending,
    Succeeded,
    Failed,
}

impl HerokuClient {
    /// `GET /pipelines`: the pipelines this user can see.
    #[tracing::instrument(skip_all)]
    pub async fn pipelines(&self, token: &SecretString) -> Result<Vec<Pipeline>, HerokuError> {
        self.list(token, "/pipelines".into(), None, None).await
    }

    /// `GET /pipelines/{pipeline}`, by name or id.
    #[tracing::instrument(skip_all, fields(pipeline = %pipeline))]
    pub async fn pipeline(
        &self,
        token: &SecretString,
        pipeline: &str,
    ) -> Result<Pipeline, HerokuError> {
        self.json(
            token,
            Call::get(format!("/pipelines/{}", segment(pipeline))),
        )
        .await
    }

    /// `GET /pipelines/{pipeline_id}/pipeline-couplings` (by id only: Heroku does not
    /// resolve names here).
    #[tracing::instrument(skip_all, fields(pipeline_id = %pipeline_id))]
    pub async fn pipeline_couplings(
        &self,
        token: &SecretString,
        pipeline_id: &str,
    ) -> Result<Vec<PipelineCoupling>, HerokuError> {
        let path = format!("/pipelines/{}/pipeline-couplings", segment(pipeline_id));
        self.list(token, path, None, None).await
    }

    /// `POST /pipeline-promotions`. Not retried once Heroku may have acted on it.
    #[tracing::instrument(skip_all, fields(pipeline_id = %promotion.pipeline_id, source_app_id = %promotion.source_app_id))]
    pub async fn create_promotion(
        &self,
        token: &SecretString,
        promotion: &NewPromotion,
        two_factor_code: Option<&str>,
    ) -> Result<PipelinePromotion, HerokuError> {
        let targets: Vec<_> = promotion
            .target_app_ids
            .iter()
            .map(|id| json!({"app": {"id": id}}))
            .collect();
        let body = json!({
            "pipeline": {"id": promotion.pipeline_id},
            "source": {"app": {"id": promotion.source_app_id}},
            "targets": targets,
        });
        let call = Call {
            method: Method::POST,
            path: "/pipeline-promotions".into(),
            body: Some(&body),
            two_factor_code,
            range: None,
            replay: Replay::Unsafe,
        };
        self.json(token, call).await
    }

    /// `GET /pipeline-promotions/{id}`.
    #[tracing::instrument(skip_all, fields(promotion_id = %promotion_id))]
    pub async fn promotion(
        &self,
        token: &SecretString,
        promotion_id: &str,
    ) -> Result<PipelinePromotion, HerokuError> {
        self.json(
            token,
            Call::get(format!("/pipeline-promotions/{}", segment(promotion_id))),
        )
        .await
    }

    /// `GET /pipeline-promotions/{id}/promotion-targets`.
    #[tracing::instrument(skip_all, fields(promotion_id = %promotion_id))]
    pub async fn promotion_targets(
        &self,
        token: &SecretString,
        promotion_id: &str,
    ) -> Result<Vec<PromotionTarget>, HerokuError> {
        let path = format!(
            "/pipeline-promotions/{}/promotion-targets",
            segment(promotion_id)
        );
        self.list(token, path, None, None).await
    }
}
