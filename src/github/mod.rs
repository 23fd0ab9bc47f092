//! The GitHub side of a deploy: a REST client ([`GitHubClient`]) for repositories,
//! branch protection, the CI gate (statuses and check runs), tarball links,
//! deployments and their statuses, and compare; plus the OAuth App flow
//! ([`GitHubOAuth`]) that links a person's account.
//!
//! Every call acts with the requesting person's own token, passed in per call. This
//! module owns no state and never logs a token; deciding what to do with an answer
//! (gate, retry later, tell the user) is the deploy orchestrator's job.

mod ci;
mod client;
mod deployments;
mod error;
mod oauth;
mod types;

pub use ci::CiVerdict;
pub use client::{API_URL, API_VERSION, GitHubClient, TokenCheck};
pub use deployments::{ContextState, DeploymentOutcome, DeploymentSearch};
pub use error::{ErrorBody, GitHubError, RateLimit};
pub use oauth::{GitHubOAuth, GitHubToken, OAUTH_URL};
pub use types::*;
