//! Sign in with Slack (OpenID Connect): where to send a browser
//! (`{slack}/openid/connect/authorize`, scopes `openid profile`), trading the code it
//! comes back with for an ID token (`openid.connect.token`), and verifying that token:
//! RS256 signature by a key of Slack's JWKS (`{slack}/openid/connect/keys`), issuer
//! (`https://slack.com`, or the fake's URL in the sandbox), audience (this app's client
//! id), expiry, and the `nonce` this browser was given. What it yields is who the person
//! is on Slack: Slack's `https://slack.com/team_id` and `https://slack.com/user_id`
//! claims, and names to show.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// What Sign in with Slack asks for: `openid` for the ID token, `profile` for names.
pub const SIGN_IN_SCOPES: &str = "openid profile";

/// Seconds of clock difference with Slack tolerated on `exp`.
const LEEWAY_SECS: u64 = 60;

/// Sign in with Slack, for one Slack app.
#[derive(Debug, Clone)]
pub struct SlackSignIn {
    http: reqwest::Client,
    /// Also the issuer ID tokens must name.
    slack_url: String,
    client_id: String,
    client_secret: SecretString,
}

/// Who signed in, as a verified ID token says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlackIdentity {
    #[serde(rename = "https://slack.com/team_id")]
    pub team_id: String,
    #[serde(rename = "https://slack.com/user_id")]
    pub user_id: String,
    /// The person's name (the `profile` scope).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "https://slack.com/team_name", default)]
    pub team_name: Option<String>,
}

/// Why no identity came out of a sign-in.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Slack answered `ok: false` (a used or expired code, a wrong secret).
    #[error("Slack refused the sign-in: {0}.")]
    Refused(String),
    /// No usable answer from Slack.
    #[error("Could not reach Slack: {0}.")]
    Unavailable(String),
    /// The ID token is not one Slack issued for this sign-in.
    #[error("Slack's ID token was refused: {0}.")]
    InvalidToken(String),
}

#[derive(Deserialize)]
struct TokenResponse {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    nonce: Option<String>,
    #[serde(flatten)]
    identity: SlackIdentity,
}

impl SlackSignIn {
    /// The Slack app `client_id` at `slack_url` (`https://slack.com`).
    pub fn new(
        http: reqwest::Client,
        slack_url: &str,
        client_id: &str,
        client_secret: SecretString,
    ) -> SlackSignIn {
        SlackSignIn {
            http,
            slack_url: slack_url.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
        }
    }

    /// Where to send the browser: Slack signs the person in (to `team`) and sends it
    /// back to `redirect_uri` with a code and `state`.
    pub fn authorize_url(
        &self,
        state: &str,
        nonce: &str,
        team: &str,
        redirect_uri: &str,
    ) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("scope", SIGN_IN_SCOPES),
            ("client_id", self.client_id.as_str()),
            ("state", state),
            ("team", team),
            ("nonce", nonce),
            ("redirect_uri", redirect_uri),
        ])
        .expect("string pairs always encode");
        format!("{}/openid/connect/authorize?{query}", self.slack_url)
    }

    /// Trades `code` for an ID token and verifies it was issued for this app and for
    /// `nonce`. Codes are single-use, so the exchange is never retried.
    #[tracing::instrument(skip_all)]
    pub async fn identify(
        &self,
        code: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<SlackIdentity, SignInError> {
        let id_token = self.exchange(code, redirect_uri).await?;
        let keys = self.keys().await?;
        self.verify(&id_token, &keys, nonce)
    }

    async fn exchange(&self, code: &str, redirect_uri: &str) -> Result<String, SignInError> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        let url = format!("{}/api/openid.connect.token", self.slack_url);
        let response = self
            .http
            .post(url)
            .header(header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|error| SignInError::Unavailable(error.without_url().to_string()))?;
        let status = response.status();
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|_| SignInError::Unavailable(format!("an unreadable answer ({status})")))?;
        match (body.ok, body.id_token) {
            (true, Some(id_token)) => Ok(id_token),
            (true, None) => Err(SignInError::Unavailable("no ID token in the answer".into())),
            (false, _) => Err(SignInError::Refused(
                body.error.unwrap_or_else(|| "no reason given".into()),
            )),
        }
    }

    /// Slack's published signing keys, fetched each time: sign-ins are rare and Slack
    /// rotates its keys.
    async fn keys(&self) -> Result<JwkSet, SignInError> {
        let url = format!("{}/openid/connect/keys", self.slack_url);
        let unavailable = |error: reqwest::Error| {
            SignInError::Unavailable(format!("its keys: {}", error.without_url()))
        };
        self.http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)
    }

    fn verify(
        &self,
        id_token: &str,
        keys: &JwkSet,
        nonce: &str,
    ) -> Result<SlackIdentity, SignInError> {
        let invalid = |why: String| SignInError::InvalidToken(why);
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|error| invalid(format!("it is not a JWT ({error})")))?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| keys.find(kid))
            .ok_or_else(|| invalid("it is signed with a key Slack does not publish".into()))?;
        let key = DecodingKey::from_jwk(key)
            .map_err(|error| invalid(format!("Slack's key for it is unusable ({error})")))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.slack_url]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Claims>(id_token, &key, &validation)
            .map_err(|error| invalid(why_invalid(&error)))?
            .claims;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(invalid(
                "it was issued for another sign-in (its nonce differs)".into(),
            ));
        }
        Ok(claims.identity)
    }
}

/// A reason people can read for a token `jsonwebtoken` refused.
fn why_invalid(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => "its signature is not by Slack's key".into(),
        ErrorKind::ExpiredSignature => "it has expired".into(),
        ErrorKind::InvalidAudience => "it was issued to another app".into(),
        ErrorKind::InvalidIssuer => "it was not issued by Slack".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("it has no {claim}"),
        _ => format!("it is malformed ({error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_asks_for_openid_profile_with_nonce_and_team() {
        let sign_in = SlackSignIn::new(
            reqwest::Client::new(),
            "https://slack.com/",
            "1.2",
            "s".to_owned().into(),
        );
        assert_eq!(
            sign_in.authorize_url("st", "n0", "T1", "https://bot.example/auth/slack/callback"),
            "https://slack.com/openid/connect/authorize?response_type=code&scope=openid+profile\
             &client_id=1.2&state=st&team=T1&nonce=n0\
             &redirect_uri=https%3A%2F%2Fbot.example%2Fauth%2Fslack%2Fcallback"
        );
    }
}
