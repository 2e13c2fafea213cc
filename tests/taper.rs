//! 渐退期 (gradual exit from 低保): a household above the line whose period a
//! worker started is listed as 渐退期, not 应退未退, until the period ends.

use chrono::{Days, Months, NaiveDate};
use reqwest::Method;
use serde_json::{Value, json};
use zhongfu_domain::identity::Role;
use zhongfu_domain::registry::{Category, Holding};
use zhongfu_store::Actor;

use crate::helpers::{Session, TestApp, member_form, send};
use crate::policies::alone;

const DISTRICT: &str = "430602000000";

async fn policy_id(app: &TestApp, who: &Session, code: &str) -> i64 {
    let list: Value = app.get_as(who, "/api/v1/policies").await.json().await.unwrap();
    list["items"].as_array().unwrap().iter().find(|p| p["active"]["definition"]["code"] == code).unwrap()["policy_id"]
        .as_i64()
        .unwrap()
}

/// The result list of one policy and kind.
async fn listed(app: &TestApp, who: &Session, policy: i64, kind: &str) -> Value {
    let body = json!({ "policy_id": policy, "kind": kind, "limit": 200 });
    let res = app.post_as(who, "/api/v1/sweep/results", body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The row of household `number` in a list, if it is there.
fn row_of<'a>(page: &'a Value, number: &str) -> Option<&'a Value> {
    page["items"].as_array().unwrap().iter().find(|r| r["household_number"] == number)
}

/// A start asked for in English, answered with its status and body.
async fn start_en(app: &TestApp, who: &Session, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/api/v1/sweep/tapers", app.address))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .header("accept-language", "en")
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn a_started_taper_keeps_the_household_off_the_stale_list_until_it_ends() {
    let app = TestApp::spawn().await;
    let template = crate::helpers::demo_households(1, 3).remove(0);
    let today = chrono::Local::now().date_naive();
    let held = vec![Holding { category: Category::Dibao, start: today - Days::new(400), end: None }];
    let birth = NaiveDate::from_ymd_opt(1970, 5, 1).unwrap();
    // Receives 低保 with 1,000 yuan a month, above the 760 line: 应退未退.
    let mut above = alone(&template, "T-ABOVE", birth, 11, 100_000);
    above.categories = held.clone();
    // Receives 低保 and qualifies: on no list.
    let mut below = alone(&template, "T-BELOW", birth, 13, 10_000);
    below.categories = held;
    app.store.insert_households(&Actor::system("test"), &[above, below]).await.unwrap();
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep_with(&district, json!({ "date": today.to_string() })).await;
    let dibao = policy_id(&app, &district, "dibao").await;
    let stale = listed(&app, &district, dibao, "stale").await;
    let row = row_of(&stale, "T-ABOVE").unwrap_or_else(|| panic!("T-ABOVE is 应退未退: {stale}"));
    assert!(row["taper_ends"].is_null(), "{row}");
    let household = row["household_id"].as_i64().unwrap();
    let search: Value =
        app.post_as(&district, "/api/v1/households/search", json!({"number": "T-BELOW"})).await.json().await.unwrap();
    let qualifying = search["items"][0]["id"].as_i64().unwrap();

    // A policy without a gradual-exit period: refused, naming the field, in both languages.
    let visiting = policy_id(&app, &district, "elderly_visiting").await;
    let res = app
        .post_as(&district, "/api/v1/sweep/tapers", json!({ "policy_id": visiting, "household_id": household }))
        .await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!((err["code"].as_str(), err["field"].as_str()), (Some("no_taper"), Some("policy_id")), "{err}");
    assert!(err["message"].as_str().unwrap().contains("渐退期"), "{err}");
    let (status, err) = start_en(&app, &district, json!({ "policy_id": visiting, "household_id": household })).await;
    assert_eq!(status, 400);
    assert!(err["message"].as_str().unwrap().contains("gradual-exit period"), "{err}");
    // A row that is not 应退未退: refused, naming the field.
    let (status, err) = start_en(&app, &district, json!({ "policy_id": dibao, "household_id": qualifying })).await;
    assert_eq!((status, err["code"].as_str(), err["field"].as_str()), (400, Some("not_stale"), Some("household_id")));
    assert!(err["message"].as_str().unwrap().contains("not 应退未退"), "{err}");
    let res = app
        .post_as(
            &district,
            "/api/v1/sweep/tapers",
            json!({ "policy_id": dibao, "household_id": household, "person_id": 1 }),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "person_id", "a household policy's row has no member");
    // Another street's worker does not find the household at all.
    let community = template.community.as_str();
    let other = if community.starts_with("430602001") { "430602002000" } else { "430602001000" };
    let stranger = app.signed_in("other-street", &[Role::Street], other).await;
    let start = json!({ "policy_id": dibao, "household_id": household });
    assert_eq!(app.post_as(&stranger, "/api/v1/sweep/tapers", start.clone()).await.status(), 404);
    // A leader reads, but does not decide.
    let leader = app.signed_in("leader", &[Role::Leader], DISTRICT).await;
    assert_eq!(app.post_as(&leader, "/api/v1/sweep/tapers", start.clone()).await.status(), 403);

    // Started: six calendar months from the sweep's date.
    let res = app.post_as(&district, "/api/v1/sweep/tapers", start.clone()).await;
    assert_eq!(res.status(), 200);
    let started: Value = res.json().await.unwrap();
    let ends = today.checked_add_months(Months::new(6)).unwrap();
    assert_eq!((started["as_of"].as_str(), started["months"].as_i64()), (Some(today.to_string().as_str()), Some(6)));
    assert_eq!(started["ends_on"], ends.to_string(), "{started}");
    // Audited, with who and until when.
    let log = crate::helpers::raw_text(
        &app.db_url(),
        "SELECT actor_name, entity, entity_id, diff FROM audit_log WHERE action = 'sweep.taper'",
    )
    .await;
    assert!(log.contains("district-officer") && log.contains(&ends.to_string()), "{log}");
    assert!(log.contains(&format!("\"{household}\"")) && log.contains("household"), "{log}");
    // Not twice while it runs.
    let res = app.post_as(&district, "/api/v1/sweep/tapers", start.clone()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "taper_running");

    // Listed as 渐退期 with its end, no longer as 应退未退; counted so too.
    let check_tapering = |why: &'static str| {
        let (app, district) = (&app, &district);
        async move {
            let stale = listed(app, district, dibao, "stale").await;
            assert!(row_of(&stale, "T-ABOVE").is_none(), "{why}: not 应退未退 while tapering: {stale}");
            let taper = listed(app, district, dibao, "taper").await;
            let row = row_of(&taper, "T-ABOVE").unwrap_or_else(|| panic!("{why}: 渐退期: {taper}"));
            assert_eq!(
                (row["kind"].as_str(), row["taper_ends"].as_str()),
                (Some("taper"), Some(ends.to_string().as_str()))
            );
            let counts = taper["by_policy"].as_array().unwrap().iter().find(|c| c["policy_id"] == dibao).unwrap();
            assert_eq!(counts["taper"], 1, "{why}: {counts}");
            assert_eq!(counts["stale"].as_u64(), stale["total"].as_u64(), "{why}: {counts}");
        }
    };
    check_tapering("started").await;
    let all: Value =
        app.post_as(&district, "/api/v1/sweep/results", json!({ "limit": 200 })).await.json().await.unwrap();
    let kinds: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["household_number"] == "T-ABOVE" && r["policy_id"] == dibao)
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["taper"]);
    // The export says so.
    let res = app.post_as(&district, "/api/v1/sweep/export", json!({ "policy_id": dibao, "kind": "taper" })).await;
    assert_eq!(res.status(), 200);

    // An edit re-evaluates the household in the request, and does not end the period.
    let page: Value = app.get_as(&district, &format!("/api/v1/households/{household}")).await.json().await.unwrap();
    let form = json!({ "community": page["community"], "address": "新地址 1 号", "phone": null,
        "registration": page["registration"], "tenure": page["tenure"], "dangerous_housing": page["dangerous_housing"],
        "assets_fen": page["assets_fen"], "tags": page["tags"] });
    let path = format!("/api/v1/households/{household}");
    let res = send(&app, &district, Method::PUT, &path, page["version"].as_i64(), form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    check_tapering("after an edit").await;

    // As of its last day it still runs; the day after, the household is 应退未退 again.
    app.sweep_with(&district, json!({ "date": ends.to_string() })).await;
    check_tapering("on the last day").await;
    app.sweep_with(&district, json!({ "date": ends.succ_opt().unwrap().to_string() })).await;
    let stale = listed(&app, &district, dibao, "stale").await;
    let row = row_of(&stale, "T-ABOVE").unwrap_or_else(|| panic!("应退未退 after the period: {stale}"));
    assert_eq!(row["taper_ends"], ends.to_string(), "the ended period is shown: {row}");
    assert!(row_of(&listed(&app, &district, dibao, "taper").await, "T-ABOVE").is_none());

    // Qualifying again (income below the line, in the same request): on neither list; the mark does nothing.
    app.sweep_with(&district, json!({ "date": today.to_string() })).await;
    check_tapering("as of the start again").await;
    let page: Value = app.get_as(&district, &path).await.json().await.unwrap();
    let member = &page["members"][0];
    let mut form = member_form(member);
    form["monthly_income_fen"] = json!(20_000);
    let member_path = format!("{path}/members/{}", member["id"]);
    let res = send(&app, &district, Method::PUT, &member_path, page["version"].as_i64(), form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    for kind in ["stale", "taper"] {
        let page = listed(&app, &district, dibao, kind).await;
        assert!(row_of(&page, "T-ABOVE").is_none(), "qualifies again, not {kind}: {page}");
    }
}

#[tokio::test]
async fn a_bad_taper_months_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let maker = app.signed_in("maker", &[Role::District], DISTRICT).await;
    let list: Value = app.get_as(&maker, "/api/v1/policies").await.json().await.unwrap();
    let entry =
        list["items"].as_array().unwrap().iter().find(|p| p["active"]["definition"]["code"] == "dibao").unwrap();
    let mut def = entry["active"]["definition"].clone();
    assert_eq!(def["taper_months"], 6, "the shipped 低保 has a six-month 渐退期");
    let path = format!("/api/v1/policies/{}/draft", entry["policy_id"]);
    def["taper_months"] = json!(0);
    let res = send(&app, &maker, Method::PUT, &path, None, json!({ "definition": def })).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "taper_months");
    def["taper_months"] = json!(12);
    let res = send(&app, &maker, Method::PUT, &path, None, json!({ "definition": def })).await;
    assert_eq!(res.status(), 200);
    let draft: Value = res.json().await.unwrap();
    assert_eq!(draft["definition"]["taper_months"], 12, "kept in the version: {draft}");
}

#[tokio::test]
async fn a_taper_ended_early_lists_the_row_as_stale_again_with_the_reason_audited() {
    let app = TestApp::spawn().await;
    let template = crate::helpers::demo_households(1, 5).remove(0);
    let today = chrono::Local::now().date_naive();
    let mut above = alone(&template, "T-END", NaiveDate::from_ymd_opt(1971, 3, 2).unwrap(), 15, 100_000);
    above.categories = vec![Holding { category: Category::Dibao, start: today - Days::new(300), end: None }];
    app.store.insert_households(&Actor::system("test"), &[above]).await.unwrap();
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep_with(&district, json!({ "date": today.to_string() })).await;
    let dibao = policy_id(&app, &district, "dibao").await;
    let stale = listed(&app, &district, dibao, "stale").await;
    let household = row_of(&stale, "T-END").unwrap_or_else(|| panic!("T-END is 应退未退: {stale}"))["household_id"]
        .as_i64()
        .unwrap();
    let end = |reason: &str| json!({ "policy_id": dibao, "household_id": household, "reason": reason });
    // Nothing runs yet.
    let res = app.post_as(&district, "/api/v1/sweep/tapers/end", end("误操作")).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "no_taper_running");
    let start = json!({ "policy_id": dibao, "household_id": household });
    assert_eq!(app.post_as(&district, "/api/v1/sweep/tapers", start.clone()).await.status(), 200);
    assert!(row_of(&listed(&app, &district, dibao, "taper").await, "T-END").is_some());

    // A reason is required; another street does not find the household; a leader does not decide.
    let res = app.post_as(&district, "/api/v1/sweep/tapers/end", end("  ")).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "reason");
    let community = template.community.as_str();
    let other = if community.starts_with("430602001") { "430602002000" } else { "430602001000" };
    let stranger = app.signed_in("other-street", &[Role::Street], other).await;
    assert_eq!(app.post_as(&stranger, "/api/v1/sweep/tapers/end", end("误操作")).await.status(), 404);
    let leader = app.signed_in("leader", &[Role::Leader], DISTRICT).await;
    assert_eq!(app.post_as(&leader, "/api/v1/sweep/tapers/end", end("误操作")).await.status(), 403);

    // Ended: its last day is the day before the sweep's date, so the row is 应退未退 again.
    let res = app.post_as(&district, "/api/v1/sweep/tapers/end", end("误操作，本户未申请渐退")).await;
    assert_eq!(res.status(), 200);
    let yesterday = today.pred_opt().unwrap().to_string();
    assert_eq!(res.json::<Value>().await.unwrap()["ends_on"], yesterday);
    assert!(row_of(&listed(&app, &district, dibao, "taper").await, "T-END").is_none());
    let stale = listed(&app, &district, dibao, "stale").await;
    let row = row_of(&stale, "T-END").unwrap_or_else(|| panic!("应退未退 again: {stale}"));
    assert_eq!(row["taper_ends"], yesterday.as_str(), "the ended period is shown: {row}");
    let log = crate::helpers::raw_text(
        &app.db_url(),
        "SELECT actor_name, diff FROM audit_log WHERE action = 'sweep.taper_end'",
    )
    .await;
    assert!(
        log.contains("district-officer") && log.contains("误操作，本户未申请渐退") && log.contains(&yesterday),
        "{log}"
    );
    // Not twice; a new period can be started.
    assert_eq!(app.post_as(&district, "/api/v1/sweep/tapers/end", end("再次")).await.status(), 409);
    assert_eq!(app.post_as(&district, "/api/v1/sweep/tapers", start).await.status(), 200);
    assert!(row_of(&listed(&app, &district, dibao, "taper").await, "T-END").is_some());
}
