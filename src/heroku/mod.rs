//! Heroku Platform API client (plus Heroku OAuth and app webhooks). It owns the wire
//! format of every Heroku call the bot makes and nothing else: it holds no token (each
//! call takes the acting person's), no state beyond the last rate-limit reading, and
//! makes no deploy decisions.
//!
//! Calls are grouped by noun: [`apps`] (account, app, dynos, formation), [`pipelines`]
//! (pipelines, couplings, promotions), [`builds`], [`releases`] (and slugs),
//! [`webhooks`], [`authorizations`] (revoking tokens); [`oauth`] talks to id.heroku.com.
//! Creating POSTs are never repeated once Heroku may have acted on them; reads are retried on transient failures.

pub mod apps;
pub mod authorizations;
pub mod builds;
mod client;
mod error;
pub mod oauth;
pub mod pipelines;
pub mod releases;
pub mod types;
pub mod webhooks;

pub use apps::{
    Account, App, AppOwner, Collaborator, Dyno, DynoRelease, DynoState, Formation, NamedPermission,
    RateLimit,
};
pub use authorizations::Revocation;
pub use builds::{Build, BuildStatus, NewSourceBlob, SourceBlob, last_lines};
pub use client::{HerokuClient, RATE_LIMIT_WARNING};
pub use error::{ErrorBody, HerokuError};
pub use oauth::{HerokuOAuth, OAuthTokens};
pub use pipelines::{
    NewPromotion, Pipeline, PipelineCoupling, PipelineOwner, PipelinePromotion, PromotionSource,
    PromotionStatus, PromotionTarget, Stage, TargetStatus,
};
pub use releases::{Release, ReleaseStatus, Slug};
pub use types::{IdRef, NamedRef, UserRef};
pub use webhooks::{AppWebhook, NewWebhook, WebhookLevel};
