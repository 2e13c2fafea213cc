//! The second factor: enrolment, sign-in with a code or a recovery code, and
//! the roles that must have it.

use serde_json::{Value, json};
use zhongfu_domain::identity::Role;
use zhongfu_domain::totp;

use crate::helpers::{DISTRICT, PASSWORD, Session, TestApp};

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap()
}

/// Enrols the signed-in account; returns its recovery codes.
async fn enrol(app: &TestApp, session: &Session) -> Vec<String> {
    let setup = body(app.post_as(session, "/api/v1/auth/totp/setup", json!({})).await).await;
    assert!(setup["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/Zhongfu:"));
    assert!(setup["qr_svg"].as_str().unwrap().starts_with("<svg"));
    assert_eq!(setup["secret"].as_str().unwrap().len(), 32);
    let secret = app.store.totp_secret(session.account_id).await.unwrap().unwrap();
    let res = app.post_as(session, "/api/v1/auth/totp/enable", json!({"code": "000000"})).await;
    assert_eq!(body(res).await["field"], "code", "a wrong code does not enable it");
    let res = app.post_as(session, "/api/v1/auth/totp/enable", json!({"code": totp::code_at(&secret, now())})).await;
    assert_eq!(res.status(), 200);
    body(res).await["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn roles_that_need_it_must_enrol_first() {
    let app = TestApp::spawn_with(|c| c.require_second_factor = true).await;
    app.seed_demo(20, 1).await;
    let district = app.signed_in("district", &[Role::District], DISTRICT).await;
    let res = app.get_as(&district, "/api/v1/dashboard").await;
    assert_eq!(
        (res.status().as_u16(), body(res).await["code"].clone()),
        (403, json!("second_factor_enrolment_required"))
    );
    let me = body(app.get_as(&district, "/api/v1/auth/me").await).await;
    assert_eq!(me["second_factor_required"], true);
    enrol(&app, &district).await;
    assert_eq!(app.get_as(&district, "/api/v1/dashboard").await.status(), 200);
    // A community worker may do without.
    let worker = app.signed_in("community", &[Role::Community], "430602001001").await;
    assert_eq!(app.get_as(&worker, "/api/v1/dashboard").await.status(), 200);
}

#[tokio::test]
async fn an_enrolled_account_signs_in_with_a_code_once() {
    let app = TestApp::spawn_with(|c| c.require_second_factor = true).await;
    let first = app.signed_in("li", &[Role::Street], "430602001000").await;
    enrol(&app, &first).await;
    let secret = app.store.totp_secret(first.account_id).await.unwrap().unwrap();
    let session = app.sign_in("li", PASSWORD).await;
    let me = body(app.get_as(&session, "/api/v1/auth/me").await).await;
    assert_eq!(me["second_factor_pending"], true);
    let res = app.get_as(&session, "/api/v1/dashboard").await;
    assert_eq!(body(res).await["code"], "second_factor_required");
    let res = app.post_as(&session, "/api/v1/auth/totp/verify", json!({"code": "123456"})).await;
    assert_eq!(body(res).await["field"], "code");
    // The code of the next step: the current one was used to enable.
    let code = totp::code_at(&secret, now() + 30);
    let res = app.post_as(&session, "/api/v1/auth/totp/verify", json!({"code": code})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get_as(&session, "/api/v1/dashboard").await.status(), 200);
    // The same code does not work twice.
    let again = app.sign_in("li", PASSWORD).await;
    let res = app.post_as(&again, "/api/v1/auth/totp/verify", json!({"code": code})).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = TestApp::spawn_with(|c| c.require_second_factor = true).await;
    let first = app.signed_in("auditadmin", &[Role::AuditAdmin], DISTRICT).await;
    let codes = enrol(&app, &first).await;
    assert_eq!(codes.len(), 10);
    let session = app.sign_in("auditadmin", PASSWORD).await;
    let typed = codes[3].replace('-', "").to_uppercase();
    let res = app.post_as(&session, "/api/v1/auth/totp/verify", json!({"code": typed})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get_as(&session, "/api/v1/audit").await.status(), 200);
    let other = app.sign_in("auditadmin", PASSWORD).await;
    let res = app.post_as(&other, "/api/v1/auth/totp/verify", json!({"code": codes[3]})).await;
    assert_eq!(res.status(), 400, "used up");
    let log = crate::helpers::raw_text(&app.db_url(), "SELECT action FROM audit_log").await;
    assert!(log.contains("account.totp_enable") && log.contains("account.recovery_code_used"), "{log}");
}
