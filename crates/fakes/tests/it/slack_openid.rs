//! The fake Slack's Sign in with Slack, checked against what Slack documents for it
//! (the 2020 OpenAPI document predates `openid.connect.*`): the authorize page
//! redirects back with a code and the `state`; `openid.connect.token` answers
//! `{ok, access_token, token_type, id_token}` with an RS256 ID token that verifies
//! against the JWKS and carries the `nonce`, the audience, the issuer and Slack's
//! team and user claims; `openid.connect.userInfo` answers for the user token; codes
//! work once, for this client, with the same `redirect_uri`.

use std::time::Duration;

use chatops_fakes::slack::FakeSlack;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Client;
use serde_json::{Value, json};

const REDIRECT_URI: &str = "https://bot.example.com/auth/slack/callback";

async fn start() -> (FakeSlack, String, Client) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeSlack::new(&url);
    let router = fake.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (fake, url, http)
}

/// Signs in as `who` on the authorize page; the code Slack redirects back with.
async fn sign_in(fake: &FakeSlack, url: &str, http: &Client, who: &str) -> String {
    let app = fake.app();
    let request = [
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("client_id", app.client_id.as_str()),
        ("state", "st4te"),
        ("nonce", "n0nce"),
        ("team", "T0SANDBOX"),
        ("redirect_uri", REDIRECT_URI),
    ];
    let page = http
        .get(format!("{url}/openid/connect/authorize"))
        .query(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Continue as carol (Sandbox)"), "{page}");
    assert!(
        !page.contains("dave"),
        "only the requested workspace: {page}"
    );
    let mut form = request.to_vec();
    form.push(("sign_in_as", who));
    let back = http
        .post(format!("{url}/openid/connect/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    let query = location
        .strip_prefix(&format!("{REDIRECT_URI}?"))
        .expect("back to the redirect_uri");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    assert_eq!(pairs[1], ("state".to_owned(), "st4te".to_owned()));
    pairs[0].1.clone()
}

async fn token(url: &str, http: &Client, form: &[(&str, &str)]) -> Value {
    let answer = http
        .post(format!("{url}/api/openid.connect.token"))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

#[tokio::test]
async fn sign_in_with_slack_gives_an_id_token_that_verifies_against_the_jwks() {
    let (fake, url, http) = start().await;
    let app = fake.app();
    let code = sign_in(&fake, &url, &http, "T0SANDBOX/U0CAROL").await;
    let form = [
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    let granted = token(&url, &http, &form).await;
    let mut fields: Vec<&str> = granted
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["access_token", "id_token", "ok", "token_type"]);
    assert_eq!(granted["token_type"], "Bearer");
    assert!(
        granted["access_token"]
            .as_str()
            .unwrap()
            .starts_with("xoxp-")
    );

    let keys: JwkSet = http
        .get(format!("{url}/openid/connect/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = granted["id_token"].as_str().unwrap();
    let kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(keys.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&url]);
    validation.set_audience(&[&app.client_id]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(
        (
            &claims["nonce"],
            &claims["sub"],
            &claims["https://slack.com/user_id"],
            &claims["https://slack.com/team_id"],
            &claims["https://slack.com/team_name"],
            &claims["name"],
        ),
        (
            &json!("n0nce"),
            &json!("U0CAROL"),
            &json!("U0CAROL"),
            &json!("T0SANDBOX"),
            &json!("Sandbox"),
            &json!("carol"),
        )
    );

    let info: Value = http
        .post(format!("{url}/api/openid.connect.userInfo"))
        .bearer_auth(granted["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &info["ok"],
            &info["sub"],
            &info["https://slack.com/team_id"]
        ),
        (&json!(true), &json!("U0CAROL"), &json!("T0SANDBOX"))
    );

    let refused = |error: &str| json!({"ok": false, "error": error});
    assert_eq!(token(&url, &http, &form).await, refused("invalid_code"));
    let code = sign_in(&fake, &url, &http, "T0SANDBOX/U0ALICE").await;
    let mut wrong = form;
    wrong[3] = ("code", &code);
    wrong[4] = ("redirect_uri", "https://elsewhere.example.com/");
    assert_eq!(
        token(&url, &http, &wrong).await,
        refused("bad_redirect_uri")
    );
    wrong[1] = ("client_secret", "nope");
    assert_eq!(
        token(&url, &http, &wrong).await,
        refused("bad_client_secret")
    );
}
