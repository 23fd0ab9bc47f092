//! What happens to the fake's apps: builds, releases, slugs, dynos, promotions,
//! webhook subscriptions and deliveries, and the requests that asked for them.

use std::time::Instant;

/// The status builds, releases and promotion targets share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Succeeded,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
        }
    }
}

/// The tarball a build was asked to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceBlob {
    pub url: String,
    pub version: Option<String>,
    pub version_description: Option<String>,
    pub checksum: Option<String>,
}

/// A build.
#[derive(Debug, Clone)]
pub struct Build {
    pub id: String,
    pub app_id: String,
    pub user_id: String,
    pub status: Status,
    pub source_blob: SourceBlob,
    pub slug_id: Option<String>,
    pub release_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A release.
#[derive(Debug, Clone)]
pub struct Release {
    pub id: String,
    pub app_id: String,
    pub version: u64,
    pub status: Status,
    pub description: String,
    pub slug_id: Option<String>,
    pub user_id: String,
    pub current: bool,
    /// Whether a release phase ran (or runs) for it, with output to stream.
    pub release_phase: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A compiled slug.
#[derive(Debug, Clone)]
pub struct Slug {
    pub id: String,
    pub app_id: String,
    pub commit: Option<String>,
    pub commit_description: Option<String>,
    pub size: u64,
    pub created_at: i64,
}

/// A dyno's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynoState {
    Starting,
    Up,
    Crashed,
}

impl DynoState {
    pub fn as_str(self) -> &'static str {
        match self {
            DynoState::Starting => "starting",
            DynoState::Up => "up",
            DynoState::Crashed => "crashed",
        }
    }
}

/// A dyno.
#[derive(Debug, Clone)]
pub struct Dyno {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub kind: String,
    pub command: String,
    pub size: String,
    pub state: DynoState,
    pub release_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Dyno {
    /// One-off dynos are not part of the formation and are left alone by restarts.
    pub fn is_one_off(&self) -> bool {
        matches!(self.kind.as_str(), "run" | "scheduler" | "release")
    }
}

/// A pipeline promotion.
#[derive(Debug, Clone)]
pub struct Promotion {
    pub id: String,
    pub pipeline_id: String,
    pub source_app_id: String,
    pub source_release_id: String,
    pub user_id: String,
    pub completed: bool,
    pub targets: Vec<PromotionTarget>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One target app of a promotion.
#[derive(Debug, Clone)]
pub struct PromotionTarget {
    pub id: String,
    pub app_id: String,
    pub release_id: Option<String>,
    pub status: Status,
    pub error_message: Option<String>,
}

/// An app webhook subscription.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: String,
    pub app_id: String,
    pub include: Vec<String>,
    pub level: String,
    pub url: String,
    pub secret: String,
    pub authorization: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One webhook delivery and how it went.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    /// The entity, e.g. `api:build`.
    pub include: String,
    pub action: String,
    pub attempts: u32,
    /// The receiver's status code on the last attempt; `None` if it could not be reached.
    pub last_status: Option<u16>,
    pub succeeded: bool,
    /// When the event happened (and the delivery was queued): the sender posts one
    /// delivery at a time, so a receiver may hear of it much later.
    pub published: Instant,
}

/// A request the fake received, before faults and authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
}

/// A request the fake let through, and whose account it acted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActedRequest {
    pub account: String,
    pub method: String,
    pub path: String,
}
