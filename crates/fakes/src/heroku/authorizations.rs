//! OAuth authorizations: what an account allowed a client (or made directly), holding
//! the current access token and refresh token. `GET /oauth/authorizations` lists the
//! caller's, `GET /oauth/authorizations/{id}` shows one, and `DELETE` revokes one: its
//! tokens and its refresh token stop working at once, as on Heroku.

use std::time::Instant;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::FakeHeroku;
use super::errors::ApiError;
use super::gate::Actor;
use super::ids::{new_id, now, rfc3339, seeded_id};
use super::oauth::OAuthClient;
use super::read::Answer;
use super::world::{Token, World};

/// One authorization and the tokens it stands behind.
#[derive(Debug, Clone)]
pub(super) struct Authorization {
    pub id: String,
    pub user_id: String,
    /// `None` for a direct authorization (the dashboard's API key, `token_for`).
    pub client: Option<OAuthClient>,
    pub scope: String,
    /// The access token issued last (a refresh replaces it).
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `GET /oauth/authorizations`
pub(super) async fn list(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
) -> Answer {
    fake.with_world(|world| {
        let mine = world
            .authorizations
            .iter()
            .filter(|authorization| authorization.user_id == actor.user_id);
        let rendered: Vec<Value> = mine.map(|found| world.render(found)).collect();
        Ok(Json(rendered).into_response())
    })
}

/// `GET /oauth/authorizations/{id}`
pub(super) async fn info(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Answer {
    fake.with_world(|world| {
        let found = world.authorization_of(&actor.user_id, &id)?;
        Ok(Json(world.render(found)).into_response())
    })
}

/// `DELETE /oauth/authorizations/{id}`: answers the authorization as it was.
pub(super) async fn revoke(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Answer {
    fake.with_world(|world| {
        let rendered = world.render(world.authorization_of(&actor.user_id, &id)?);
        world.authorizations.retain(|found| found.id != id);
        world.tokens.retain(|_, token| token.authorization_id != id);
        if let Some(refresh) = rendered["refresh_token"]["token"].as_str() {
            world.refresh_tokens.remove(refresh);
        }
        Ok(Json(rendered).into_response())
    })
}

impl World {
    /// A new authorization of `user_id` for `client` (`None`: a direct one); its first
    /// access token.
    pub fn authorize(
        &mut self,
        user_id: &str,
        scope: &str,
        client: Option<OAuthClient>,
        refresh_token: Option<String>,
    ) -> String {
        let id = new_id();
        self.authorizations.push(Authorization {
            id: id.clone(),
            user_id: user_id.to_owned(),
            client,
            scope: scope.to_owned(),
            access_token: String::new(),
            refresh_token,
            created_at: now(),
            updated_at: now(),
        });
        self.issue_token(&id)
    }

    /// A new access token for the authorization `id`, expiring after the configured
    /// lifetime; it becomes the authorization's current one.
    pub fn issue_token(&mut self, id: &str) -> String {
        let token = super::ids::secret("HRKU-");
        let expires_at = Instant::now() + self.token_lifetime;
        let authorization = self
            .authorizations
            .iter_mut()
            .find(|authorization| authorization.id == id)
            .expect("tokens are issued for known authorizations");
        authorization.access_token = token.clone();
        authorization.updated_at = now();
        let issued = Token {
            user_id: authorization.user_id.clone(),
            scope: authorization.scope.clone(),
            expires_at,
            authorization_id: id.to_owned(),
        };
        self.tokens.insert(token.clone(), issued);
        token
    }

    /// The authorization holding `refresh_token`, if it was not revoked.
    pub fn authorization_by_refresh(&self, refresh_token: &str) -> Option<String> {
        self.authorizations
            .iter()
            .find(|found| found.refresh_token.as_deref() == Some(refresh_token))
            .map(|found| found.id.clone())
    }

    /// Someone else's authorization is as unknown as one that does not exist.
    fn authorization_of(&self, user_id: &str, id: &str) -> Result<&Authorization, ApiError> {
        self.authorizations
            .iter()
            .find(|found| found.id == id && found.user_id == user_id)
            .ok_or_else(|| ApiError::not_found("authorization"))
    }

    /// The authorization as the schema's `oauth-authorization`.
    fn render(&self, authorization: &Authorization) -> Value {
        let user = self.user(&authorization.user_id);
        let expires_in = self.tokens.get(&authorization.access_token).map(|token| {
            token
                .expires_at
                .saturating_duration_since(Instant::now())
                .as_secs()
        });
        let client = authorization.client.as_ref().map(|client| {
            json!({"id": client.id, "name": client.id, "redirect_uri": client.redirect_uri})
        });
        let description = match &authorization.client {
            Some(client) => client.id.clone(),
            None => "Long-lived user authorization".to_owned(),
        };
        let refresh_token = authorization
            .refresh_token
            .as_ref()
            .map(|token| json!({"expires_in": null, "id": seeded_id(token), "token": token}));
        json!({
            "access_token": {
                "expires_in": expires_in,
                "id": seeded_id(&authorization.access_token),
                "token": authorization.access_token,
            },
            "client": client,
            "created_at": rfc3339(authorization.created_at),
            "description": description,
            "grant": null,
            "id": authorization.id,
            "refresh_token": refresh_token,
            "scope": authorization.scope.split([' ', ',']).collect::<Vec<_>>(),
            "session": null,
            "updated_at": rfc3339(authorization.updated_at),
            "user": {"id": user.id, "email": user.email, "full_name": user.name},
        })
    }
}
