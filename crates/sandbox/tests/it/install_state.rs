//! The install's OAuth state is signed, not stored: anonymous `GET /slack/install`s
//! write nothing, and the callback refuses a forged, tampered, expired or other
//! browser's state with nothing written; on every backend. (The whole install going
//! through is `accounts::a_workspace_install_keeps_its_bot_token_sealed_and_posts_with_it`.)

use crate::common;

use common::walk::{Hop, Walker, split_url};
use common::{TestApp, TestClock};

/// `GET /slack/oauth/callback` with a code, `state`, and (if any) its cookie.
async fn callback(app: &TestApp, state: &str, cookie: Option<&str>) -> Hop {
    let mut request = Walker::new().http.get(format!(
        "{}/slack/oauth/callback?code=c0de&state={state}",
        app.base_url
    ));
    if let Some(value) = cookie {
        request = request.header("cookie", format!("chatops_oauth_slack={value}"));
    }
    let response = request.send().await.unwrap();
    Hop {
        status: response.status().as_u16(),
        location: None,
        set_cookies: Vec::new(),
        body: response.text().await.unwrap(),
    }
}

/// A state as the install page hands it out.
async fn issued(app: &TestApp) -> String {
    let hop = Walker::new()
        .get(&format!("{}/slack/install", app.base_url))
        .await;
    split_url(hop.redirect()).1["state"].clone()
}

fn assert_page(hop: &Hop, status: u16, heading: &str, why: &str) {
    assert_eq!(
        (hop.status, hop.heading(), hop.paragraphs()),
        (
            status,
            heading.to_owned(),
            vec![
                format!("{why} Nothing was changed."),
                "Open the install link again to start over.".to_owned()
            ]
        )
    );
}

#[tokio::test]
async fn install_pages_write_no_state_rows_however_many_are_asked_for() {
    for db in common::databases().await {
        let app = TestApp::spawn(db).await;
        let mut states = std::collections::BTreeSet::new();
        for _ in 0..200 {
            states.insert(issued(&app).await);
        }
        assert_eq!(states.len(), 200, "each state is fresh");
        let cells = common::dump(&app.db)
            .await
            .into_iter()
            .filter(|(table, _, _)| table == "oauth_states")
            .count();
        assert_eq!(cells, 0, "{}", app.db.backend_name());
        app.finish().await;
    }
}

#[tokio::test]
async fn a_forged_tampered_expired_or_other_browsers_install_state_is_refused() {
    const NOT_VALID: &str = "This bot did not issue it, or it was changed on the way.";
    for db in common::databases().await {
        let clock = TestClock::default();
        let app = TestApp::spawn_configured(db, clock.clock(), |_| {}).await;
        let state = issued(&app).await;
        let parts: Vec<&str> = state.split('.').collect();
        assert_eq!(parts.len(), 4, "{state}");
        let later: i64 = parts[1].parse::<i64>().unwrap() + 3600;
        let tampered = [
            format!("{}.{later}.{}.{}", parts[0], parts[2], parts[3]),
            format!("{}.{}.{}A.{}", parts[0], parts[1], parts[2], parts[3]),
            format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], &parts[3][1..]),
            format!(
                "i1.{later}.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            ),
        ];
        for forged in &tampered {
            let hop = callback(&app, forged, Some(forged)).await;
            assert_page(&hop, 400, "This sign-in link is not valid", NOT_VALID);
        }
        let hop = callback(&app, &state, None).await;
        assert_page(
            &hop,
            403,
            "This sign-in was started in another browser",
            "Finish it in the browser where you opened the link, or start again.",
        );
        clock.advance(600);
        let hop = callback(&app, &state, Some(&state)).await;
        assert_page(
            &hop,
            410,
            "This sign-in link expired",
            "Links work for 10 minutes.",
        );
        let written = common::dump(&app.db)
            .await
            .into_iter()
            .filter(|(table, _, _)| ["workspaces", "oauth_states"].contains(&table.as_str()));
        assert_eq!(written.count(), 0, "nothing was installed or stored");
        app.finish().await;
    }
}
