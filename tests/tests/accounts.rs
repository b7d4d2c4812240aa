//! `cohortsync account …` on the real binary, against a running server: a password reset
//! ends the account's sessions and tokens; a disabled account cannot sign in.

use cohortsync_e2e::{Server, client};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use serde_json::{Value, json};

async fn login(server: &Server, password: &str) -> anyhow::Result<(StatusCode, Option<String>)> {
    let response = client()
        .post(server.at("/api/login"))
        .json(&json!({"username": "prof", "password": password}))
        .send()
        .await?;
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|c| c.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or_default().to_owned());
    Ok((response.status(), cookie))
}

async fn me(
    server: &Server,
    header: (reqwest::header::HeaderName, &str),
) -> anyhow::Result<StatusCode> {
    Ok(client()
        .get(server.at("/api/me"))
        .header(header.0, header.1)
        .send()
        .await?
        .status())
}

#[tokio::test]
async fn a_password_reset_ends_sessions_and_tokens_and_a_disabled_account_cannot_sign_in()
-> anyhow::Result<()> {
    let server = Server::start_sqlite().await?;
    let (code, out) = server
        .cli(
            &["account", "add", "prof", "--role", "teacher"],
            "first-password\n",
        )
        .await?;
    assert_eq!(code, 0, "{out}");
    let (status, cookie) = login(&server, "first-password").await?;
    assert_eq!(status, StatusCode::OK);
    let cookie = cookie.unwrap_or_default();
    let token: Value = client()
        .post(server.at("/api/tokens"))
        .header(COOKIE, &cookie)
        .json(&json!({"name": "nightly"}))
        .send()
        .await?
        .json()
        .await?;
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap_or_default());
    assert_eq!(me(&server, (AUTHORIZATION, &bearer)).await?, StatusCode::OK);
    let (_, list) = server.cli(&["account", "list"], "").await?;
    assert_eq!(
        list.trim(),
        "prof\tteacher\tactive\t1 session(s)\t1 token(s)"
    );

    // The password is reset: whoever had the old one is out, session and token alike.
    let (code, out) = server
        .cli(
            &["account", "add", "prof", "--role", "teacher"],
            "second-password\n",
        )
        .await?;
    assert_eq!(code, 0);
    assert!(
        out.contains("ended 1 session(s) and revoked 1 token(s) of prof"),
        "{out}"
    );
    assert_eq!(
        me(&server, (COOKIE, &cookie)).await?,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me(&server, (AUTHORIZATION, &bearer)).await?,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&server, "first-password").await?.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, cookie) = login(&server, "second-password").await?;
    assert_eq!(status, StatusCode::OK);

    // Disabled: the session ends and signing in fails; enabled again, it works.
    let (code, out) = server.cli(&["account", "disable", "prof"], "").await?;
    assert_eq!((code, out.trim()), (0, "account prof disabled"));
    assert_eq!(
        me(&server, (COOKIE, &cookie.unwrap_or_default())).await?,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&server, "second-password").await?.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, list) = server.cli(&["account", "list"], "").await?;
    assert!(
        list.starts_with("prof\tteacher\tdisabled\t0 session(s)\t0 token(s)"),
        "{list}"
    );
    assert_eq!(server.cli(&["account", "enable", "prof"], "").await?.0, 0);
    assert_eq!(login(&server, "second-password").await?.0, StatusCode::OK);
    assert_eq!(
        server.cli(&["account", "disable", "nobody"], "").await?.0,
        1
    );
    server.stop().await
}
