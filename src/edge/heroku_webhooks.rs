//! `POST /webhooks/heroku`: Heroku's signed app-webhook deliveries, which move
//! deploys along at once instead of at their next poll.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use crate::bot::BotState;
use crate::webhooks::{delivery_secret, signature_header, verify_delivery};

/// `POST /webhooks/heroku`: verifies the signature, announces releases made outside
/// chat in routed channels, then wakes the app's deploys.
pub async fn receive(
    State(state): State<BotState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let secret = delivery_secret(&state);
    let verified = signature_header(&headers)
        .and_then(|signature| verify_delivery(secret.as_bytes(), signature, &body));
    let app_id = match verified {
        Ok(Some(app_id)) => app_id,
        // Signed by Heroku but about something without an app: nothing to wake.
        Ok(None) => return (StatusCode::OK, "ignored".into()),
        Err(refused) => return (StatusCode::UNAUTHORIZED, refused.to_string()),
    };
    if let Err(error) = crate::channels::announce::on_delivery(&state, &body).await {
        tracing::error!(error = format!("{error:#}"), "cannot announce a release");
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into());
    }
    let woken = state
        .store
        .wake_deploys_of_app(&app_id, state.clock.now_millis())
        .await;
    match woken {
        Ok(0) => (StatusCode::OK, "no running deploy".into()),
        Ok(_) => {
            state.wakeups.deploys.notify_one();
            (StatusCode::OK, "woken".into())
        }
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "cannot wake deploys from a webhook"
            );
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
        }
    }
}
