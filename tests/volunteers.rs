//! Volunteer self-registration, approval by a community worker, sign-in by phone.

use serde_json::{Value, json};
use zhongfu_domain::identity::Role;

use crate::helpers::TestApp;

const COMMUNITY: &str = "430602001001";
const OTHER_STREET_COMMUNITY: &str = "430602002001";

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

/// A registration; each phone number its own person (the ID number follows the phone's last digits).
fn registration(phone: &str, community: &str) -> Value {
    let last: u16 = phone[phone.len() - 2..].parse().unwrap();
    let born = chrono::NaiveDate::from_ymd_opt(1992, 3, 15).unwrap();
    let id = zhongfu_domain::IdNumber::from_parts("430602", born, 2 * last).unwrap().to_string();
    json!({
        "name": "周婷", "phone": phone, "email": "zhouting@example.com", "id_number": id,
        "community": community, "skills": "陪伴老人、理发", "availability": "周末上午",
        "password": "Help-Others-9",
    })
}

async fn register(app: &TestApp, form: Value) -> reqwest::Response {
    let captcha = zhongfu_web::auth::put_known_captcha(app.store.as_ref(), "AB12").await.unwrap();
    let mut form = form;
    form["captcha_id"] = json!(captcha);
    form["captcha_answer"] = json!("AB12");
    app.client.post(format!("{}/api/v1/volunteers/register", app.address)).json(&form).send().await.unwrap()
}

#[tokio::test]
async fn a_volunteer_registers_is_approved_and_signs_in_by_phone() {
    let app = TestApp::spawn().await;
    let res = register(&app, registration("13812340001", COMMUNITY)).await;
    assert_eq!(res.status(), 201);
    let id = body(res).await["id"].as_i64().unwrap();
    // Pending: cannot sign in yet.
    assert_eq!(app.try_sign_in("13812340001", "Help-Others-9").await.status(), 401);
    let worker = app.signed_in("community", &[Role::Community], COMMUNITY).await;
    let pending = body(app.get_as(&worker, "/api/v1/volunteers?status=pending").await).await;
    let item = &pending["items"][0];
    assert_eq!((item["name"].clone(), item["phone_masked"].clone()), (json!("周婷"), json!("138****0001")));
    assert_eq!(item["id_masked"], "430602********0022");
    let res = app.post_as(&worker, &format!("/api/v1/volunteers/{id}/approve"), json!({})).await;
    assert_eq!(res.status(), 200);
    let number = body(res).await["volunteer_number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("ZY") && number.len() == 12, "{number}");
    let volunteer = app.sign_in("138 1234 0001", "Help-Others-9").await;
    let me = body(app.get_as(&volunteer, "/api/v1/auth/me").await).await;
    assert_eq!(me["account"]["roles"], json!(["volunteer"]));
    assert_eq!(me["account"]["volunteer_number"], number.as_str());
    assert_eq!(me["permissions"], json!(["tasks_read"]));
    app.sign_in(&number.to_lowercase(), "Help-Others-9").await;
    // Decided once only.
    let again = app.post_as(&worker, &format!("/api/v1/volunteers/{id}/approve"), json!({})).await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn bad_registrations_name_the_field_and_a_phone_registers_once() {
    let app = TestApp::spawn().await;
    let with = |field: &str, value: Value| {
        let mut f = registration("13812340002", COMMUNITY);
        f[field] = value;
        f
    };
    let cases = [
        (with("phone", json!("1381234")), "phone"),
        (with("id_number", json!("430602199213150028")), "id_number"),
        (with("community", json!("430602001000")), "community"),
        (with("community", json!("110101001001")), "community"),
        (with("community", json!("")), "community"),
        (with("email", json!("zhou@")), "email"),
        (with("password", json!("password")), "password"),
        (with("name", json!("")), "name"),
        (with("skills", json!("技".repeat(201))), "skills"),
    ];
    for (form, field) in cases {
        let res = register(&app, form.clone()).await;
        assert_eq!(res.status(), 400, "{form}");
        assert_eq!(body(res).await["field"], field, "{form}");
    }
    // Several wrong at once: each named in the one answer, in the form's order.
    let mut several = with("name", json!(""));
    several["id_number"] = json!("430602199213150028");
    several["community"] = json!("110101001001");
    several["password"] = json!("password");
    let res = register(&app, several).await;
    assert_eq!(res.status(), 400);
    let answer = body(res).await;
    assert_eq!(answer["field"], "name");
    let named: Vec<&str> = answer["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(named, ["name", "id_number", "community", "password"], "{answer}");
    let none_chosen = body(register(&app, with("community", json!(" "))).await).await;
    assert_eq!(none_chosen["message"], "请选择本区的一个社区或村", "{none_chosen}");
    let mut wrong_captcha = registration("13812340002", COMMUNITY);
    wrong_captcha["captcha_id"] = json!("nope");
    wrong_captcha["captcha_answer"] = json!("nope");
    let res = app
        .client
        .post(format!("{}/api/v1/volunteers/register", app.address))
        .json(&wrong_captcha)
        .send()
        .await
        .unwrap();
    assert_eq!(body(res).await["field"], "captcha_answer");
    assert_eq!(register(&app, registration("13812340002", COMMUNITY)).await.status(), 201);
    let res = register(&app, registration("13812340002", COMMUNITY)).await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (409, json!("phone")));
    // Nor does one person register twice under two phone numbers.
    let mut twice = registration("13812340099", COMMUNITY);
    twice["id_number"] = registration("13812340002", COMMUNITY)["id_number"].clone();
    let res = register(&app, twice).await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (409, json!("id_number")));
}

#[tokio::test]
async fn only_workers_of_the_community_decide_and_never_their_own() {
    let app = TestApp::spawn().await;
    let res = register(&app, registration("13812340003", OTHER_STREET_COMMUNITY)).await;
    let id = body(res).await["id"].as_i64().unwrap();
    let elsewhere = app.signed_in("community", &[Role::Community], COMMUNITY).await;
    let listed = body(app.get_as(&elsewhere, "/api/v1/volunteers").await).await;
    assert_eq!(listed["items"], json!([]));
    let res = app.post_as(&elsewhere, &format!("/api/v1/volunteers/{id}/approve"), json!({})).await;
    assert_eq!(res.status(), 404);
    let res =
        app.post_as(&elsewhere, &format!("/api/v1/volunteers/{id}/reject"), json!({"reason": "不在本社区"})).await;
    assert_eq!(res.status(), 404);
    let leader = app.signed_in("leader", &[Role::Leader], "430602000000").await;
    assert_eq!(app.get_as(&leader, "/api/v1/volunteers").await.status(), 403);

    // A street worker who registered with the same phone cannot approve it.
    let own = app.signed_in("street", &[Role::Street], "430602002000").await;
    let phone = zhongfu_domain::signin::Phone::parse("13812340004").unwrap();
    let mine = register(&app, registration(phone.as_str(), OTHER_STREET_COMMUNITY)).await;
    let mine = body(mine).await["id"].as_i64().unwrap();
    crate::helpers::raw_execute(
        &app.db_url(),
        format!("UPDATE account SET phone_bidx = (SELECT phone_bidx FROM volunteer_application WHERE id = {mine}) WHERE id = {}", own.account_id),
    )
    .await
    .unwrap();
    let res = app.post_as(&own, &format!("/api/v1/volunteers/{mine}/approve"), json!({})).await;
    assert_eq!((res.status().as_u16(), body(res).await["code"].clone()), (403, json!("own_registration")));
    let res = app.post_as(&own, &format!("/api/v1/volunteers/{id}/reject"), json!({"reason": " "})).await;
    assert_eq!(body(res).await["field"], "reason");
    let res = app.post_as(&own, &format!("/api/v1/volunteers/{id}/reject"), json!({"reason": "联系不上本人"})).await;
    assert_eq!(res.status(), 204);
    let rejected = body(app.get_as(&own, "/api/v1/volunteers?status=rejected").await).await;
    assert_eq!(rejected["items"][0]["reason"], "联系不上本人");
    // Rejected: the phone may register again.
    assert_eq!(register(&app, registration("13812340003", OTHER_STREET_COMMUNITY)).await.status(), 201);
}

#[tokio::test]
async fn volunteer_numbers_skip_those_already_given() {
    let app = TestApp::spawn().await;
    let district = crate::helpers::district();
    let communities = zhongfu::demo::communities(&district).unwrap();
    // The demo volunteer already holds a number.
    zhongfu::accounts::create_demo_accounts(app.store.as_ref(), &district, &communities, true).await.unwrap();
    let id = body(register(&app, registration("13812340005", COMMUNITY)).await).await["id"].as_i64().unwrap();
    let worker = app.signed_in("worker", &[Role::Community], COMMUNITY).await;
    let res = app.post_as(&worker, &format!("/api/v1/volunteers/{id}/approve"), json!({})).await;
    assert_eq!(res.status(), 200);
    let number = body(res).await["volunteer_number"].as_str().unwrap().to_owned();
    assert!(!number.ends_with("000001"), "{number}");
}
