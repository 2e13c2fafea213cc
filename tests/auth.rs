//! Sign-in, lockout, sessions, CSRF, roles and jurisdiction, through the API.

use serde_json::{Value, json};
use zhongfu_domain::identity::{Role, Roles};
use zhongfu_domain::signin::Phone;
use zhongfu_store::Actor;
use zhongfu_store::identity::NewAccount;

use crate::helpers::{DISTRICT, PASSWORD, TestApp};

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

#[tokio::test]
async fn wrong_password_and_unknown_account_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.account("wang", &[Role::Community], "430602001001").await;
    let wrong = app.try_sign_in("wang", "Not-The-Pass-1").await;
    assert_eq!(wrong.status(), 401);
    let unknown = app.try_sign_in("nobody", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    let (wrong, unknown) = (body(wrong).await, body(unknown).await);
    assert_eq!(wrong["message"], unknown["message"]);
    assert_eq!(wrong["code"], "sign_in_failed");
    // Failures are audited under the name as typed, a phone typed as the login masked.
    assert_eq!(app.try_sign_in("13912345678", PASSWORD).await.status(), 401);
    let log = crate::helpers::raw_text(&app.db_url(), "SELECT action, actor_name FROM audit_log").await;
    assert!(log.contains("session.sign_in_failed") && log.contains("nobody"), "{log}");
    assert!(log.contains("139****5678") && !log.contains("13912345678"), "{log}");
}

#[tokio::test]
async fn a_captcha_answers_one_sign_in_and_must_be_right() {
    let app = TestApp::spawn().await;
    app.account("wang", &[Role::Community], "430602001001").await;
    let id = zhongfu_web::auth::put_known_captcha(app.store.as_ref(), "XY7Q").await.unwrap();
    let attempt = |answer: &'static str| {
        let id = id.clone();
        let app = &app;
        async move {
            let form = json!({"login": "wang", "password": PASSWORD, "captcha_id": id, "captcha_answer": answer});
            app.client.post(format!("{}/api/v1/auth/sign-in", app.address)).json(&form).send().await.unwrap()
        }
    };
    let res = attempt("XXXX").await;
    assert_eq!(res.status(), 400);
    assert_eq!(body(res).await["field"], "captcha_answer");
    // The wrong try used it up: the right answer no longer works with it.
    assert_eq!(attempt("xy7q").await.status(), 400);
    // The real captcha endpoint gives an image and an id.
    let c = body(app.get("/api/v1/auth/captcha").await).await;
    assert!(c["image"].as_str().unwrap().starts_with("data:image/png;base64,"));
    assert_eq!(c["expires_in"], 120);
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account() {
    let app = TestApp::spawn().await;
    app.account("li", &[Role::Street], "430602001000").await;
    for _ in 0..5 {
        assert_eq!(app.try_sign_in("li", "Wrong-Pass-99").await.status(), 401);
    }
    // Even the right password is refused now, with the same answer.
    let res = app.try_sign_in("li", PASSWORD).await;
    assert_eq!(res.status(), 401);
    assert_eq!(body(res).await["code"], "sign_in_failed");
    let log = crate::helpers::raw_text(&app.db_url(), "SELECT action FROM audit_log").await;
    assert!(log.contains("account.locked"), "{log}");
    assert!(app.store.verify_audit().await.unwrap().broken.is_none());
}

#[tokio::test]
async fn signs_in_by_phone_or_email_and_signs_out() {
    let app = TestApp::spawn().await;
    let account = NewAccount {
        username: "zhao".into(),
        display_name: "赵敏".into(),
        email: Some(zhongfu_domain::signin::Email::parse("zhao@example.com").unwrap()),
        phone: Some(Phone::parse("13912345678").unwrap()),
        volunteer_number: None,
        unit_id: None,
        jurisdiction: zhongfu_domain::DivisionCode::parse(DISTRICT).unwrap(),
        roles: Roles::parse(vec![Role::Leader]).unwrap(),
        password_hash: zhongfu_domain::password::hash(PASSWORD),
        must_change_password: false,
    };
    app.store.create_account(&Actor::system("test"), &account).await.unwrap();
    app.sign_in("139 1234 5678", PASSWORD).await;
    let session = app.sign_in("ZHAO@example.com", PASSWORD).await;
    let me = body(app.get_as(&session, "/api/v1/auth/me").await).await;
    assert_eq!(me["account"]["display_name"], "赵敏");
    assert_eq!(me["account"]["phone_masked"], "139****5678");
    assert_eq!(me["permissions"], json!(["stats_read"]));
    assert_eq!(app.post_as(&session, "/api/v1/auth/sign-out", json!({})).await.status(), 204);
    assert_eq!(app.get_as(&session, "/api/v1/auth/me").await.status(), 401);
}

#[tokio::test]
async fn routes_need_a_session_the_permission_and_the_csrf_token() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/api/v1/dashboard").await.status(), 401);
    let volunteer = app.signed_in("vol", &[Role::Volunteer], "430602001001").await;
    let res = app.get_as(&volunteer, "/api/v1/dashboard").await;
    assert_eq!(res.status(), 403);
    assert_eq!(body(res).await["code"], "forbidden");
    // A change without the CSRF token is refused, and the session lives on.
    let res = app
        .client
        .post(format!("{}/api/v1/auth/sign-out", app.address))
        .header("cookie", &volunteer.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(body(res).await["code"], "csrf");
    assert_eq!(app.get_as(&volunteer, "/api/v1/auth/me").await.status(), 200);
    // API answers are never cached.
    assert_eq!(app.get_as(&volunteer, "/api/v1/auth/me").await.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_street_worker_sees_only_their_street() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(200, 3).await;
    let street = &households[0].community.as_str()[..9];
    let worker = app.signed_in("street", &[Role::Street], &format!("{street}000")).await;
    let dash = body(app.get_as(&worker, "/api/v1/dashboard").await).await;
    // The street's own communities, each with its households: not the district's streets.
    assert_eq!(dash["level"], "community", "{dash}");
    let communities = dash["areas"].as_array().unwrap();
    assert!(communities.len() > 1, "{dash}");
    for c in communities {
        let code = c["code"].as_str().unwrap();
        assert!(code.starts_with(street) && !code.ends_with("000"), "{c}");
        let theirs = households.iter().filter(|h| h.community.as_str() == code).count();
        assert_eq!(c["households"], theirs, "{c}");
    }
    let mine = households.iter().filter(|h| h.community.as_str().starts_with(street)).count();
    assert_eq!(dash["totals"]["households"], mine);
    // A community's worker sees that community alone.
    let community = households[0].community.as_str();
    let worker = app.signed_in("community", &[Role::Community], community).await;
    let dash = body(app.get_as(&worker, "/api/v1/dashboard").await).await;
    let only: Vec<&str> = dash["areas"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(only, vec![community], "{dash}");
}

#[tokio::test]
async fn a_forced_password_change_comes_first_and_follows_the_policy() {
    let app = TestApp::spawn().await;
    let id = app.account("chen", &[Role::District], DISTRICT).await;
    app.store
        .set_password(&Actor::system("test"), id, &zhongfu_domain::password::hash(PASSWORD), true, None)
        .await
        .unwrap();
    let session = app.sign_in("chen", PASSWORD).await;
    let res = app.get_as(&session, "/api/v1/dashboard").await;
    assert_eq!(res.status(), 403);
    assert_eq!(body(res).await["code"], "password_change_required");
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let res = app.post_as(&session, "/api/v1/auth/password", change(PASSWORD, "short")).await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (400, json!("new_password")));
    let res = app.post_as(&session, "/api/v1/auth/password", change("Wrong-Pass-1", "Fresh-Pass-77")).await;
    assert_eq!(body(res).await["field"], "current_password");
    let res = app.post_as(&session, "/api/v1/auth/password", change(PASSWORD, PASSWORD)).await;
    assert_eq!(body(res).await["code"], "password_reused");
    let other = app.sign_in("chen", PASSWORD).await;
    let res = app.post_as(&session, "/api/v1/auth/password", change(PASSWORD, "Fresh-Pass-77")).await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_as(&session, "/api/v1/dashboard").await.status(), 200);
    // The account's other sessions ended with the change.
    assert_eq!(app.get_as(&other, "/api/v1/auth/me").await.status(), 401);
    app.sign_in("chen", "Fresh-Pass-77").await;
}

#[tokio::test]
async fn changing_roles_ends_the_sessions() {
    let app = TestApp::spawn().await;
    let session = app.signed_in("sun", &[Role::Community], "430602001001").await;
    let roles = Roles::parse(vec![Role::Leader]).unwrap();
    app.store.set_roles(&Actor::system("test"), session.account_id, &roles).await.unwrap();
    assert_eq!(app.get_as(&session, "/api/v1/auth/me").await.status(), 401);
    let again = app.sign_in("sun", PASSWORD).await;
    let me = body(app.get_as(&again, "/api/v1/auth/me").await).await;
    assert_eq!(me["account"]["roles"], json!(["leader"]));
}

#[tokio::test]
async fn demo_accounts_must_change_their_password_outside_demo_mode() {
    let app = TestApp::spawn().await;
    let district = crate::helpers::district();
    let communities = zhongfu::demo::communities(&district).unwrap();
    let logins =
        zhongfu::accounts::create_demo_accounts(app.store.as_ref(), &district, &communities, false).await.unwrap();
    let mut roles: Vec<Role> = logins.iter().map(|l| l.role).collect();
    roles.sort_unstable();
    let mut expected = Role::ALL.to_vec();
    // A second district officer publishes the first one's policy drafts.
    expected.push(Role::District);
    expected.sort_unstable();
    assert_eq!(roles, expected, "one demo account per role, two district officers");
    let session = app.sign_in("community", zhongfu::accounts::DEMO_PASSWORD).await;
    let me = body(app.get_as(&session, "/api/v1/auth/me").await).await;
    assert_eq!(me["account"]["must_change_password"], true);
    assert!(me["account"]["jurisdiction"].as_str().unwrap().starts_with(&communities[0].code.as_str()[..12]));
    // Made once: a second run adds nobody.
    let again = zhongfu::accounts::create_demo_accounts(app.store.as_ref(), &district, &communities, false).await;
    assert!(again.unwrap().is_empty());
}

#[tokio::test]
async fn the_first_administrator_is_made_once_and_must_change_the_password() {
    let app = TestApp::spawn().await;
    let district = crate::helpers::district();
    let password = zhongfu::accounts::create_first_admin(app.store.as_ref(), "Admin", &district).await.unwrap();
    let err = zhongfu::accounts::create_first_admin(app.store.as_ref(), "admin2", &district).await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let session = app.sign_in("admin", &password).await;
    let me = body(app.get_as(&session, "/api/v1/auth/me").await).await;
    assert_eq!(me["account"]["must_change_password"], true);
    assert_eq!(me["permissions"], json!(["units_manage", "accounts_manage"]));
}

#[tokio::test]
async fn a_malformed_sign_in_gets_the_error_shape() {
    let app = TestApp::spawn().await;
    // A value of the wrong type is named; a body that is not JSON at all is just malformed.
    for (content_type, text, code, field) in [
        ("application/json", "{\"login\": 5", "invalid_body", Some("login")),
        ("text/plain", "login=wang", "bad_request", None),
    ] {
        let res = app
            .client
            .post(format!("{}/api/v1/auth/sign-in", app.address))
            .header("content-type", content_type)
            .header("accept-language", "en")
            .body(text)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
        let answer = body(res).await;
        assert_eq!(answer["code"], code, "{answer}");
        assert_eq!(answer["field"].as_str(), field, "{answer}");
        assert!(answer["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
}

#[tokio::test]
async fn guessing_across_accounts_from_one_address_is_stopped() {
    let app = TestApp::spawn().await;
    app.account("wang", &[Role::Community], "430602001001").await;
    for n in 0..20 {
        assert_eq!(app.try_sign_in(&format!("guess{n}"), "Wrong-Pass-1").await.status(), 401);
    }
    // Even the right password of an unlocked account waits for the window to end.
    let res = app.try_sign_in("wang", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert_eq!(body(res).await["code"], "too_many_attempts");
}

#[tokio::test]
async fn an_expired_captcha_is_refused() {
    let app = TestApp::spawn().await;
    app.account("wang", &[Role::Community], "430602001001").await;
    let id = "expired-captcha";
    let hash = zhongfu_web::auth::captcha_hash(id, "AB12");
    app.store.put_captcha(id, &hash, chrono::Utc::now() - chrono::Duration::seconds(1)).await.unwrap();
    let form = json!({"login": "wang", "password": PASSWORD, "captcha_id": id, "captcha_answer": "AB12"});
    let res = app.client.post(format!("{}/api/v1/auth/sign-in", app.address)).json(&form).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(body(res).await["field"], "captcha_answer");
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_or_too_old() {
    let app = TestApp::spawn().await;
    let idle = app.signed_in("idle", &[Role::Community], "430602001001").await;
    let old = app.signed_in("old", &[Role::Community], "430602001001").await;
    let fresh = app.signed_in("fresh", &[Role::Community], "430602001001").await;
    let ago = |minutes: i64| {
        (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    let sql = format!(
        "UPDATE session SET last_seen = '{}' WHERE account_id = {};
         UPDATE session SET created_at = '{}', last_seen = '{}' WHERE account_id = {};",
        ago(31),
        idle.account_id,
        ago(12 * 60 + 1),
        ago(1),
        old.account_id
    );
    crate::helpers::raw_execute(&app.db_url(), sql).await.unwrap();
    assert_eq!(app.get_as(&idle, "/api/v1/auth/me").await.status(), 401, "30 minutes idle");
    assert_eq!(app.get_as(&old, "/api/v1/auth/me").await.status(), 401, "12 hours old");
    assert_eq!(app.get_as(&fresh, "/api/v1/auth/me").await.status(), 200);
}
