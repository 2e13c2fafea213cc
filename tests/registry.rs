//! The household registry through the API: search within scope, the
//! household page, versioned edits, the audited reveal, export and import.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use serde_json::{Value, json};
use zhongfu_domain::identity::Role;
use zhongfu_domain::registry::{Category, Household};

use crate::helpers::{Session, TestApp, demo_households, member_form, send};
use zhongfu_store::Actor;

const STREET_A: &str = "430602001000";

async fn search(app: &TestApp, who: &Session, body: Value) -> Value {
    let res = app.post_as(who, "/api/v1/households/search", body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn in_street_a(households: &[Household]) -> Vec<&Household> {
    households.iter().filter(|h| h.community.as_str().starts_with("430602001")).collect()
}

#[tokio::test]
async fn a_street_searches_its_own_households_by_filter_and_full_id() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(150, 5).await;
    let mine = in_street_a(&households);
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let all = search(&app, &worker, json!({"per_page": 100})).await;
    assert_eq!(all["total"].as_i64().unwrap() as usize, mine.len());
    for item in all["items"].as_array().unwrap() {
        assert!(item["community"].as_str().unwrap().starts_with("430602001"));
        assert!(item["head_id_masked"].as_str().unwrap().contains("********"));
    }
    // Find by a member's full ID number (not the head's): the household comes back.
    let target = mine.iter().find(|h| h.members.len() > 1).unwrap();
    let found = search(&app, &worker, json!({"id_number": target.members[1].id_number.as_str()})).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["number"], target.number.as_str());
    // A number's start finds every household of the street whose number begins so, and only those.
    // (Demo numbers are the community's code and a sequence; the street's biggest community is taken.)
    let shared = |start: &str| mine.iter().filter(|h| h.number.starts_with(start)).count();
    let start = mine.iter().map(|h| &h.number[..12]).max_by_key(|c| shared(c)).unwrap();
    let want = shared(start);
    assert!(want > 1 && want < mine.len(), "the prefix is shared by some of the street");
    let found = search(&app, &worker, json!({"number": start, "per_page": 100})).await;
    assert_eq!(found["total"].as_i64().unwrap() as usize, want);
    assert!(found["items"].as_array().unwrap().iter().all(|i| i["number"].as_str().unwrap().starts_with(start)));
    // Another street's person is not found, even by full ID.
    let other = households.iter().find(|h| !h.community.as_str().starts_with("430602001")).unwrap();
    let none = search(&app, &worker, json!({"id_number": other.members[0].id_number.as_str()})).await;
    assert_eq!(none["total"], 0);
    // A category filter counts what the generator gave.
    let today = chrono::Local::now().date_naive();
    let dibao = mine
        .iter()
        .filter(|h| {
            h.categories
                .iter()
                .chain(h.members.iter().flat_map(|m| &m.categories))
                .any(|c| c.category == Category::Dibao && c.start <= today && c.end.is_none_or(|e| e >= today))
        })
        .count();
    let page = search(&app, &worker, json!({"category": "低保", "per_page": 5, "page": 2})).await;
    assert_eq!(page["total"].as_i64().unwrap() as usize, dibao);
    assert!(page["items"].as_array().unwrap().len() <= 5);
    // Bad input names the field.
    let res = app.post_as(&worker, "/api/v1/households/search", json!({"id_number": "43060219910101007"})).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "id_number");
    let res = app.post_as(&worker, "/api/v1/households/search", json!({"division": "430602002000"})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "division");
}

#[tokio::test]
async fn the_household_page_reveals_an_id_only_on_request_and_audits_it() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(60, 6).await;
    let target = in_street_a(&households)[0].clone();
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let found = search(&app, &district, json!({"number": target.number})).await;
    let id = found["items"][0]["id"].as_i64().unwrap();
    let res = app.get_as(&district, &format!("/api/v1/households/{id}")).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let page: Value = res.json().await.unwrap();
    let text = page.to_string();
    assert!(!text.contains(target.members[0].id_number.as_str()), "no full ID on the page");
    // Nor the date of birth, which with the masked ID's first six and last four digits would make one.
    let born = target.members[0].id_number.birth_date().format("%Y-%m-%d").to_string();
    assert!(!text.contains(&born) && !text.contains(&born.replace('-', "")), "no date of birth on the page: {text}");
    assert_eq!(page["members"].as_array().unwrap().len(), target.members.len());
    let person = page["members"][0]["id"].as_i64().unwrap();
    let res = app.post_as(&district, &format!("/api/v1/persons/{person}/reveal"), json!({})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["id_number"], target.members[0].id_number.as_str());
    let filter = zhongfu_store::identity::AuditFilter {
        action: Some("person.reveal_id".into()),
        limit: 10,
        ..Default::default()
    };
    let trail = app.store.audit_page(&filter).await.unwrap();
    assert_eq!(trail.records.len(), 1);
    assert_eq!(trail.records[0].actor_name, "district");
    assert_eq!(trail.records[0].entity_id, person.to_string());
    // Whose ID it was, as an auditor reads it, and never the ID itself.
    let diff: Value = serde_json::from_str(&trail.records[0].diff).unwrap();
    assert_eq!(
        (diff["number"].as_str(), diff["name"].as_str()),
        (Some(target.number.as_str()), Some(target.members[0].name.as_str()))
    );
    assert!(!trail.records[0].diff.contains(target.members[0].id_number.as_str()));
    // A community worker may read the household but not reveal.
    let community = app.signed_in("community", &[Role::Community], target.community.as_str()).await;
    assert_eq!(app.get_as(&community, &format!("/api/v1/households/{id}")).await.status(), 200);
    assert_eq!(app.post_as(&community, &format!("/api/v1/persons/{person}/reveal"), json!({})).await.status(), 403);
    // Phones too: masked on the page, full on request, each reveal audited.
    let head = &target.members[0];
    let res = app.post_as(&district, &format!("/api/v1/persons/{person}/reveal-phone"), json!({})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["phone"], json!(head.phone), "{:?}", head.phone);
    let res = app.post_as(&district, &format!("/api/v1/households/{id}/reveal-phone"), json!({})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["phone"], json!(target.phone));
    for phone in [&head.phone, &target.phone].into_iter().flatten() {
        assert!(!text.contains(phone.as_str()), "no full phone on the page");
    }
    for action in ["person.reveal_phone", "household.reveal_phone"] {
        let filter =
            zhongfu_store::identity::AuditFilter { action: Some(action.into()), limit: 10, ..Default::default() };
        let revealed = usize::from(
            action.starts_with("person") && head.phone.is_some()
                || action.starts_with("household") && target.phone.is_some(),
        );
        assert_eq!(app.store.audit_page(&filter).await.unwrap().records.len(), revealed, "{action}");
    }
    assert_eq!(
        app.post_as(&community, &format!("/api/v1/households/{id}/reveal-phone"), json!({})).await.status(),
        403
    );
    // The household's history says whose ID was shown in full, and by whom.
    let history: Value = app.get_as(&district, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
    let shown = history["records"].as_array().unwrap().iter().find(|r| r["action"] == "person.reveal_id");
    let shown = shown.unwrap_or_else(|| panic!("the reveal is in the history: {history}"));
    assert_eq!(shown["actor_name"], "district");
    assert!(shown["diff"].as_str().unwrap().contains(target.members[0].name.as_str()), "{shown}");
}

fn household_form(page: &Value, address: &str) -> Value {
    json!({
        "community": page["community"], "address": address, "registration": page["registration"],
        "tenure": page["tenure"], "dangerous_housing": page["dangerous_housing"], "assets_fen": page["assets_fen"],
        "tags": page["tags"],
    })
}

/// Demo households (seed 7), a worker of street A and the path of one of its households.
async fn one_of_street_a(app: &TestApp) -> (Session, String) {
    let households = app.seed_demo(40, 7).await;
    let target = in_street_a(&households)[0].clone();
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let id = search(app, &worker, json!({"number": target.number})).await["items"][0]["id"].as_i64().unwrap();
    (worker, format!("/api/v1/households/{id}"))
}

#[tokio::test]
async fn a_stale_edit_gets_412_with_the_household_as_it_is_now() {
    let app = TestApp::spawn().await;
    let (worker, path) = one_of_street_a(&app).await;
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let first = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), household_form(&page, "洞庭路1号")).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["etag"], "\"2\"");
    // The second tab still holds version 1.
    let second = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), household_form(&page, "洞庭路2号")).await;
    assert_eq!(second.status(), 412);
    let stale: Value = second.json().await.unwrap();
    assert_eq!(stale["code"], "stale_version");
    assert_eq!(stale["current"]["address"], "洞庭路1号");
    assert_eq!(stale["current"]["version"], 2);
    let missing = send(&app, &worker, reqwest::Method::PUT, &path, None, household_form(&page, "x")).await;
    assert_eq!(missing.status(), 428);
    let bad = send(&app, &worker, reqwest::Method::PUT, &path, Some(2), json!({"community": "430602002001",
        "address": "x", "registration": "urban", "tenure": "own", "dangerous_housing": false, "assets_fen": 0, "tags": []}))
    .await;
    assert_eq!(bad.status(), 400, "moving a household out of one's jurisdiction is refused");
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "community");
    let history: Value = app.get_as(&worker, &format!("{path}/history")).await.json().await.unwrap();
    let actions: Vec<&str> =
        history["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    // The edit, then the batch that registered the household (the test's seed).
    assert_eq!(actions, vec!["household.update", "household.create"]);
    assert!(history["records"][0]["diff"].as_str().unwrap().contains("洞庭路1号"));
    // Each actor's display name is given beside the login the records keep (the tests' accounts are named so).
    let actor = history["records"][0]["actor_id"].as_i64().unwrap();
    assert_eq!(history["actors"][actor.to_string()], history["records"][0]["actor_name"]);
}

#[tokio::test]
async fn a_household_stays_in_a_community_and_keeps_each_tag_once() {
    let app = TestApp::spawn().await;
    let (worker, path) = one_of_street_a(&app).await;
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    // A street's code would take the household off every community's list.
    let mut form = household_form(&page, "洞庭路9号");
    form["community"] = json!(STREET_A);
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), form).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("community")));
    let mut form = household_form(&page, "洞庭路9号");
    form["tags"] = json!(["empty_nest", "empty_nest"]);
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), form).await;
    assert_eq!(res.status(), 200);
    let after: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!(after["tags"], json!(["empty_nest"]));
    // An ID number typed into a member's name would be shown whole in every list: refused.
    let member = &after["members"][0];
    let mut renamed = member_form(member);
    renamed["name"] = json!("43060219900101345X");
    let member_path = format!("{path}/members/{}", member["id"]);
    let version = after["version"].as_i64();
    let res = send(&app, &worker, reqwest::Method::PUT, &member_path, version, renamed).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("name")));
    // What an edit cannot take is refused, not dropped unseen: an ID number, a certificate without a disability.
    let mut retyped = member_form(member);
    retyped["id_number"] = json!("110105194912310021");
    retyped["disability_cert"] = json!("ABC123");
    retyped["disability_kind"] = Value::Null;
    retyped["disability_grade"] = Value::Null;
    let res = send(&app, &worker, reqwest::Method::PUT, &member_path, version, retyped).await;
    let error: Value = res.json().await.unwrap();
    let named: Vec<&str> = error["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(named, ["id_number", "disability_cert"], "{error}");
    // A number filter longer than any household number is refused, naming it.
    let res = app.post_as(&worker, "/api/v1/households/search", json!({ "number": "1".repeat(41) })).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("number")));
}

#[tokio::test]
async fn a_misspelt_field_is_refused_by_name_not_ignored() {
    let app = TestApp::spawn().await;
    let (worker, path) = one_of_street_a(&app).await;
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    // 电话 misspelt: ignored, the worker would believe the phone saved.
    let mut form = household_form(&page, "洞庭路9号");
    form["phnoe"] = json!("13900000000");
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), form).await;
    assert_eq!(res.status(), 422);
    let error: Value = res.json().await.unwrap();
    assert_eq!((error["field"].as_str(), error["message"].as_str()), (Some("phnoe"), Some("没有字段 phnoe")));
    let after: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!((after["version"].as_i64(), after["address"].clone()), (Some(1), page["address"].clone()));
}

#[tokio::test]
async fn a_save_that_changes_nothing_keeps_the_version_and_writes_no_record() {
    let app = TestApp::spawn().await;
    let (worker, path) = one_of_street_a(&app).await;
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let address = page["address"].as_str().unwrap();
    let same = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), household_form(&page, address)).await;
    assert_eq!((same.status().as_u16(), same.headers()["etag"].to_str().unwrap()), (200, "\"1\""));
    let member = &page["members"][0];
    let member_form = member_form(member);
    let member_path = format!("{path}/members/{}", member["id"]);
    let same = send(&app, &worker, reqwest::Method::PUT, &member_path, Some(1), member_form.clone()).await;
    assert_eq!((same.status().as_u16(), same.headers()["etag"].to_str().unwrap()), (200, "\"1\""));
    // Another tab that still holds version 1 saves its real change without a conflict.
    let other = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), household_form(&page, "洞庭路3号")).await;
    assert_eq!((other.status().as_u16(), other.headers()["etag"].to_str().unwrap()), (200, "\"2\""));
    let mut renamed = member_form;
    renamed["name"] = json!("改名测试");
    let changed = send(&app, &worker, reqwest::Method::PUT, &member_path, Some(2), renamed).await;
    assert_eq!(changed.headers()["etag"], "\"3\"");
    let history: Value = app.get_as(&worker, &format!("{path}/history")).await.json().await.unwrap();
    let actions: Vec<&str> =
        history["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["household.member_update", "household.update", "household.create"]);
}

#[tokio::test]
async fn a_form_with_several_wrong_fields_names_them_all_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let (worker, path) = one_of_street_a(&app).await;
    let fields = |body: &Value| -> Vec<String> {
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect()
    };
    // A new member with a wrong ID number, phone and date of death: all three, in the form's order.
    let member = json!({
        "name": "周五", "id_number": "430602199001011234", "relation": "child", "phone": "1380000",
        "marital": "single", "health": "healthy", "work_ability": "full", "employment": "not_working",
        "schooling": "none", "monthly_income_fen": 0, "death_date": "2026-13-40",
    });
    let res = send(&app, &worker, reqwest::Method::POST, &format!("{path}/members"), Some(1), member).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["field"], "id_number", "{body}");
    assert_eq!(fields(&body), ["id_number", "phone", "death_date"], "{body}");
    assert!(body["errors"].as_array().unwrap().iter().all(|e| !e["message"].as_str().unwrap().is_empty()));
    // The household form likewise; one wrong field alone has no list.
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let mut form = household_form(&page, "洞庭路9号");
    form["phone"] = json!("12");
    form["tenure"] = json!("castle");
    let body: Value =
        send(&app, &worker, reqwest::Method::PUT, &path, Some(1), form.clone()).await.json().await.unwrap();
    assert_eq!(fields(&body), ["phone", "tenure"], "{body}");
    form["tenure"] = page["tenure"].clone();
    let body: Value = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), form).await.json().await.unwrap();
    assert_eq!((&body["field"], body.get("errors")), (&json!("phone"), None), "{body}");
    let after: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!((&after["version"], &after["address"]), (&page["version"], &page["address"]), "nothing was saved");
}

#[tokio::test]
async fn a_death_cleared_gives_back_the_ends_it_changed_and_an_edit_that_leaves_it_out_keeps_it() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(200, 8).await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    // A member holding two categories of their own, one of them given an end next year.
    let mut found = None;
    for h in in_street_a(&households) {
        let id = search(&app, &worker, json!({"number": h.number})).await["items"][0]["id"].as_i64().unwrap();
        let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
        let held = |m: &Value| {
            page["holdings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["person_id"] == m["id"])
                .cloned()
                .collect::<Vec<_>>()
        };
        let member = page["members"].as_array().unwrap().iter().find(|m| {
            let held = held(m);
            m["relation"] != "head"
                && m["death_date"].is_null()
                && m["age"].as_u64().unwrap() >= 3
                && held.len() >= 2
                && held[0]["category"] != held[1]["category"]
        });
        if let Some(m) = member {
            found = Some((id, m.clone(), held(m)));
            break;
        }
    }
    let Some((id, member, held)) = found else { panic!("the generator gives some member two categories") };
    let person = member["id"].as_i64().unwrap();
    let (later, open) = (&held[0], &held[1]);
    // Both start before the deaths below; one ends next year, the other runs on.
    for (version, (holding, end)) in [(later, json!("2027-06-30")), (open, Value::Null)].into_iter().enumerate() {
        let path = format!("/api/v1/households/{id}/holdings/{}", holding["id"]);
        let dates = json!({"start_date": "2025-06-01", "end_date": end});
        let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(version as i64 + 1), dates).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    let member_path = format!("/api/v1/households/{id}/members/{person}");
    let mut died = member_form(&member);
    died["death_date"] = json!("2026-02-10");
    let res = send(&app, &worker, reqwest::Method::PUT, &member_path, Some(3), died.clone()).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let ends = |page: &Value| {
        let end = |h: &Value| {
            let row = page["holdings"].as_array().unwrap().iter().find(|x| x["id"] == h["id"]).unwrap();
            row["end_date"].clone()
        };
        (end(later), end(open))
    };
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    assert_eq!(ends(&page), (json!("2026-02-28"), json!("2026-02-28")));
    // An edit that leaves the date of death out changes nothing: the death stays recorded.
    let mut unsaid = died.clone();
    unsaid.as_object_mut().unwrap().remove("death_date");
    let res = send(&app, &worker, reqwest::Method::PUT, &member_path, Some(4), unsaid).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    let row = page["members"].as_array().unwrap().iter().find(|m| m["id"] == person).unwrap().clone();
    assert_eq!((&row["death_date"], &page["version"]), (&json!("2026-02-10"), &json!(4)));
    assert_eq!(ends(&page), (json!("2026-02-28"), json!("2026-02-28")));
    // Corrected to a later month, each ends then, or earlier where it ended earlier.
    let mut later_death = died.clone();
    later_death["death_date"] = json!("2026-03-05");
    let res = send(&app, &worker, reqwest::Method::PUT, &member_path, Some(4), later_death).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    assert_eq!(ends(&page), (json!("2026-03-31"), json!("2026-03-31")));
    // Cleared (an empty date), each gets back the end it had before the death.
    let mut alive = died.clone();
    alive["death_date"] = json!("");
    let res = send(&app, &worker, reqwest::Method::PUT, &member_path, Some(5), alive).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    assert_eq!(ends(&page), (json!("2027-06-30"), Value::Null));
    let row = page["members"].as_array().unwrap().iter().find(|m| m["id"] == person).unwrap().clone();
    assert!(row["death_date"].is_null(), "{row}");
}

#[tokio::test]
async fn a_recorded_death_ends_the_members_categories_at_the_end_of_that_month() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(200, 8).await;
    let target = in_street_a(&households)
        .into_iter()
        .find(|h| {
            h.members.iter().any(|m| m.relation.code() != "head" && m.death_date.is_none() && !m.categories.is_empty())
        })
        .cloned();
    let Some(target) = target else { panic!("the generator gives some member a category") };
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let id = search(&app, &worker, json!({"number": target.number})).await["items"][0]["id"].as_i64().unwrap();
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    let member = page["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["relation"] != "head"
                && m["death_date"].is_null()
                && page["holdings"].as_array().unwrap().iter().any(|h| h["person_id"] == m["id"])
        })
        .unwrap()
        .clone();
    let person = member["id"].as_i64().unwrap();
    let mut form = member_form(&member);
    form["death_date"] = json!("2026-02-10");
    // Dates before the member was born are refused, naming the field; nothing is written.
    let mut unborn = form.clone();
    unborn["death_date"] = json!("1900-01-02");
    let path = format!("/api/v1/households/{id}/members/{person}");
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), unborn).await;
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()),
        (400, json!("death_date"))
    );
    let holdings = format!("/api/v1/households/{id}/holdings");
    // A day that does not exist is said so, and a day in another shape is told the shape.
    for (day, said) in [("2026-02-30", "没有这一天：2026-02-30"), ("2026/02/01", "日期格式应为 YYYY-MM-DD")]
    {
        let form =
            json!({"category": "judicial_aid", "start_date": "2026-01-01", "end_date": day, "person_id": person});
        let res = send(&app, &worker, reqwest::Method::POST, &holdings, Some(1), form).await;
        assert_eq!(res.status(), 400);
        let err: Value = res.json().await.unwrap();
        assert_eq!((err["field"].as_str(), err["message"].as_str()), (Some("end_date"), Some(said)), "{err}");
    }
    // Every wrong field of the form is named at once.
    let all_wrong = json!({"category": "鞋码", "start_date": "2026-02-30", "end_date": "soon", "person_id": person});
    let res = send(&app, &worker, reqwest::Method::POST, &holdings, Some(1), all_wrong).await;
    let err: Value = res.json().await.unwrap();
    let fields: Vec<&str> = err["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["category", "start_date", "end_date"], "{err}");
    let early = json!({"category": "judicial_aid", "start_date": "1900-01-02", "person_id": person});
    let res = send(&app, &worker, reqwest::Method::POST, &holdings, Some(1), early).await;
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()),
        (400, json!("start_date"))
    );
    let res = send(
        &app,
        &worker,
        reqwest::Method::PUT,
        &format!("/api/v1/households/{id}/members/{person}"),
        Some(1),
        form.clone(),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Nor does a category start after the member died.
    let late = json!({"category": "judicial_aid", "start_date": "2026-03-01", "person_id": person});
    let res = send(&app, &worker, reqwest::Method::POST, &holdings, Some(2), late).await;
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()),
        (400, json!("start_date"))
    );
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    for h in page["holdings"].as_array().unwrap().iter().filter(|h| h["person_id"] == person) {
        assert!(h["end_date"].as_str().unwrap() <= "2026-02-28", "{h}");
    }
    assert!(
        page["holdings"].as_array().unwrap().iter().any(|h| h["end_date"] == "2026-02-28" && h["person_id"] == person)
    );
    let ended: Vec<Value> = (page["holdings"].as_array().unwrap().iter())
        .filter(|h| h["end_date"] == "2026-02-28" && h["person_id"] == person)
        .map(|h| h["id"].clone())
        .collect();
    // A death recorded by mistake and cleared gives the member's categories back.
    let mut alive = form.clone();
    alive["death_date"] = Value::Null;
    let res =
        send(&app, &worker, reqwest::Method::PUT, &format!("/api/v1/households/{id}/members/{person}"), Some(2), alive)
            .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    for h in page["holdings"].as_array().unwrap().iter().filter(|h| ended.contains(&h["id"])) {
        assert!(h["end_date"].is_null(), "reopened: {h}");
    }
    // The head cannot be removed; another member can, with the current version.
    let head = page["members"][0]["id"].as_i64().unwrap();
    let res = send(
        &app,
        &worker,
        reqwest::Method::DELETE,
        &format!("/api/v1/households/{id}/members/{head}"),
        Some(3),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 409);
    // The head stays head until another member is made head; then the former head is 其他.
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    let form_of = |m: &Value, relation: &str| {
        json!({
            "name": m["name"], "relation": relation, "marital": m["marital"], "health": m["health"],
            "disability_kind": m["disability_kind"], "disability_grade": m["disability_grade"],
            "work_ability": m["work_ability"], "employment": m["employment"], "schooling": m["schooling"],
            "monthly_income_fen": m["monthly_income_fen"], "death_date": m["death_date"],
        })
    };
    let version = page["version"].as_i64().unwrap();
    let member_path = |p: i64| format!("/api/v1/households/{id}/members/{p}");
    let head_row = &page["members"][0];
    let res =
        send(&app, &worker, reqwest::Method::PUT, &member_path(head), Some(version), form_of(head_row, "spouse")).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "keep_head");
    let person_row = page["members"].as_array().unwrap().iter().find(|m| m["id"] == person).unwrap();
    let res =
        send(&app, &worker, reqwest::Method::PUT, &member_path(person), Some(version), form_of(person_row, "head"))
            .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    let relation_of =
        |p: i64| page["members"].as_array().unwrap().iter().find(|m| m["id"] == p).unwrap()["relation"].clone();
    assert_eq!((relation_of(person), relation_of(head)), (json!("head"), json!("other")));
    assert_eq!(page["members"].as_array().unwrap().iter().filter(|m| m["relation"] == "head").count(), 1);
}

pub(crate) fn read_xlsx(bytes: &[u8]) -> Vec<Vec<String>> {
    read_sheet(bytes, 0)
}

pub(crate) fn read_sheet(bytes: &[u8], index: usize) -> Vec<Vec<String>> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[index].clone();
    let range = book.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn an_export_masks_ids_says_who_and_is_audited() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(80, 9).await;
    let mine = in_street_a(&households);
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let body = json!({"category": "dibao", "income_max": 76000, "division": STREET_A});
    let res = app.post_as(&worker, "/api/v1/households/export", body).await;
    assert_eq!(res.status(), 200);
    // Named with the day it was made, so two exports do not overwrite each other.
    let day = chrono::Local::now().date_naive();
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains(&format!("households-{day}.xlsx")), "{disposition}");
    let bytes = res.bytes().await.unwrap();
    let rows = read_xlsx(&bytes);
    let header = &rows[1][0];
    assert!(
        header.contains("street-a") && header.contains("类别=低保") && header.contains("人均月收入上限(元)=760.00"),
        "{header}"
    );
    assert!(header.contains("区划=岳阳楼街道（430602001000）"), "{header}");
    // Amounts are numbers, to be summed.
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    assert!(matches!(range.get((4, 9)), Some(Data::Float(_))), "{:?}", range.get((4, 9)));
    assert_eq!(rows[3][5], "户主身份证号");
    for row in &rows[4..] {
        assert!(row[5].contains("********"), "{row:?}");
        assert!(mine.iter().any(|h| h.number == row[0]), "only street A: {row:?}");
    }
    // A second sheet lists every member of the households listed, one row each, IDs masked.
    let members = read_sheet(&bytes, 1);
    assert_eq!((members[3][0].as_str(), members[3][4].as_str()), ("户编号", "身份证号"), "{:?}", members[3]);
    let listed: std::collections::HashSet<&str> = rows[4..].iter().map(|r| r[0].as_str()).collect();
    let expected: usize = mine.iter().filter(|h| listed.contains(h.number.as_str())).map(|h| h.members.len()).sum();
    assert_eq!(members.len() - 4, expected, "every member of the households listed");
    for row in &members[4..] {
        assert!(listed.contains(row[0].as_str()), "{row:?}");
        let household = mine.iter().find(|h| h.number == row[0]).unwrap();
        let person = household.members.iter().find(|m| m.name == row[2]).unwrap_or_else(|| panic!("{row:?}"));
        let id = person.id_number.as_str();
        assert_eq!(row[4], format!("{}********{}", &id[..6], &id[14..]), "{row:?}");
    }
    let trail = app
        .store
        .audit_page(&zhongfu_store::identity::AuditFilter {
            action: Some("household.export".into()),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.records.len(), 1);
    // A community worker has no export permission.
    let community = app.signed_in("community", &[Role::Community], "430602001001").await;
    assert_eq!(app.post_as(&community, "/api/v1/households/export", json!({})).await.status(), 403);
}

async fn import(app: &TestApp, who: &Session, query: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/households/import{query}", app.address))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// The error report (.xlsx) of a ledger checked as `who`.
async fn error_report(app: &TestApp, who: &Session, ledger: impl Into<reqwest::Body>) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/households/import/errors", app.address))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .body(ledger)
        .send()
        .await
        .unwrap()
}

/// A messy ledger as a street office keeps it: a title row, synonyms for
/// headers, GBK, CRLF, merged-style blank household cells, a wrong sex, an
/// income that is not a number, an ID typed twice and a community of another street.
fn messy_csv(ids: &[String]) -> Vec<u8> {
    let text = format!(
        "洞庭街道2026年困难群众花名册,,,,,,\r\n\
         户号,所属社区,成员姓名,公民身份号码,与户主的关系,性别,月收入（元）\r\n\
         T1,430602001001,赵一,{},户主,男,\"1,200元\"\r\n\
         ,,钱二,{},配偶,女,0\r\n\
         ,,,,,,\r\n\
         T2,430602001001,孙三,{},户主,女,800\r\n\
         T3,430602001001,李四,{},户主,男,约800\r\n\
         T4,430602002001,周五,{},户主,男,500\r\n",
        ids[0], ids[1], ids[2], ids[3], ids[4]
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    gbk.into_owned()
}

fn ids() -> Vec<String> {
    let id = |y, seq| {
        zhongfu_domain::IdNumber::from_parts("430602", chrono::NaiveDate::from_ymd_opt(y, 3, 4).unwrap(), seq)
            .unwrap()
            .to_string()
    };
    // Men have odd sequence numbers. 孙三 is marked 女 but her ID says male.
    vec![id(1960, 11), id(1962, 22), id(1970, 31), id(1975, 41), id(1980, 51)]
}

#[tokio::test]
async fn a_messy_ledger_is_checked_in_a_dry_run_then_committed_once() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let file = messy_csv(&ids());
    let res = import(&app, &worker, "", file.clone()).await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["header_row"], 2);
    assert_eq!(report["columns"][3]["field"], "id_number");
    assert!(report["preview"][0][3].as_str().unwrap().contains("********"), "the preview masks IDs");
    assert_eq!(report["preview"][0][6], "1,200.00", "the preview shows values as they will be stored");
    let t = &report["totals"];
    assert_eq!(
        (t["rows"].as_i64(), t["households_new"].as_i64(), t["persons_new"].as_i64()),
        (Some(5), Some(1), Some(2))
    );
    assert_eq!(t["households_rejected"], 3);
    let notices: Vec<&str> =
        report["notices"].as_array().unwrap().iter().map(|n| n["code"].as_str().unwrap()).collect();
    assert_eq!(notices, ["no_assets", "no_registration", "no_tenure", "person_defaults"], "it has an income column");
    // The member facts it lacks are said to be not recorded (劳动能力 decides 特困), each
    // named with the default its form shows.
    let defaults = report["notices"][3]["message_zh"].as_str().unwrap();
    assert!(defaults.contains("记为“未登记”"), "{defaults}");
    assert!(defaults.contains("劳动能力为“有劳动能力”") && defaults.contains("就业状况为“无业”"), "{defaults}");
    let issues: Vec<(i64, String, String)> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["row"].as_i64().unwrap(),
                i["column"].as_i64().map(|c| c.to_string()).unwrap_or_default(),
                i["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        issues,
        vec![
            (6, "5".into(), "sex_mismatch".into()),
            (7, "6".into(), "invalid_amount".into()),
            (8, "1".into(), "community_unknown".into()),
        ]
    );
    assert_eq!(app.store.household_count(&zhongfu_domain::Scope::new(crate::helpers::district())).await.unwrap(), 0);
    // Commit: the good household goes in; the same file again changes nothing.
    let report: Value = import(&app, &worker, "?dry_run=false", file.clone()).await.json().await.unwrap();
    assert_eq!(report["committed"], true);
    let again: Value = import(&app, &worker, "?dry_run=false", file.clone()).await.json().await.unwrap();
    assert_eq!(again["committed"], false);
    assert_eq!(again["totals"]["households_unchanged"], 1);
    let found = search(&app, &worker, json!({"id_number": ids()[1]})).await;
    assert_eq!(found["items"][0]["number"], "T1");
    assert_eq!(found["items"][0]["monthly_income_fen"], 120_000);
    // Its history starts with the import that registered it (the batch's one record).
    let id = found["items"][0]["id"].as_i64().unwrap();
    let history: Value = app.get_as(&worker, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
    let records = history["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{history}");
    assert_eq!((&records[0]["action"], &records[0]["actor_name"]), (&json!("household.import"), &json!("street-a")));
    assert!(records[0]["diff"].as_str().unwrap().contains(r#""households":[null,1]"#), "{history}");
    assert_eq!(records[0]["entity_id"], "", "the batch's numbers stay out of one household's history");
    // The error report highlights the bad cells and lists every issue.
    let res = error_report(&app, &worker, file).await;
    assert_eq!(res.status(), 200);
    let rows = read_xlsx(&res.bytes().await.unwrap());
    assert_eq!(rows[0], vec!["行号", "列", "字段", "值", "原因", "Reason"]);
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str(), rows[1][2].as_str()), ("6", "F", "性别"));
    assert!(rows[2][5].contains("yuan"), "{:?}", rows[2]);
}

#[tokio::test]
async fn a_ledgers_total_row_is_left_out_with_a_notice_not_rejected() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let file = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系,月收入\nT1,430602001001,赵一,{},户主,600\n合计,,,,,600\n",
        ids()[0]
    );
    let report: Value = import(&app, &worker, "?dry_run=true", file.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["issues"], json!([]), "{report}");
    let t = &report["totals"];
    assert_eq!((&t["households_new"], &t["rows"], &t["total_rows"]), (&json!(1), &json!(1), &json!(1)), "{report}");
    assert!(report["notices"].as_array().unwrap().iter().any(|n| n["code"] == "total_rows"), "{report}");
}

#[tokio::test]
async fn an_id_number_twice_in_a_ledger_holds_back_both_households_and_names_both_rows() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    let file = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系\n\
         D1,430602001001,赵一,{},户主\n\
         D2,430602001001,孙三,{},户主\n\
         D3,430602001001,李四,{},户主\n\
         D3,430602001001,赵一,{},子女\n",
        ids[0], ids[2], ids[3], ids[0]
    );
    let report: Value = import(&app, &worker, "?dry_run=false", file.into_bytes()).await.json().await.unwrap();
    let issues: Vec<(i64, &str, &str)> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["row"].as_i64().unwrap(), i["code"].as_str().unwrap(), i["message_zh"].as_str().unwrap()))
        .collect();
    // 李四 (row 4) is not imported either: the report says so, and why.
    assert_eq!(
        issues,
        [
            (2, "id_repeated", "该身份证号在表中第5行也出现"),
            (4, "held_back", "同户第5行有问题，本户整户暂不导入（本行无误）"),
            (5, "id_repeated", "该身份证号在表中第2行已出现")
        ]
    );
    assert_eq!(
        (report["totals"]["households_new"].as_i64(), report["totals"]["households_rejected"].as_i64()),
        (Some(1), Some(2))
    );
    // No income or assets column: said once for the sheet, nothing held back for it.
    let notices: Vec<&str> =
        report["notices"].as_array().unwrap().iter().map(|n| n["code"].as_str().unwrap()).collect();
    assert_eq!(notices, ["no_income", "no_assets", "no_registration", "no_tenure", "person_defaults"]);
    for (id, registered) in [(&ids[0], false), (&ids[2], true), (&ids[3], false)] {
        let found = search(&app, &worker, json!({ "id_number": id })).await;
        assert_eq!(found["total"] == 1, registered, "{found}");
    }
    // Its income is recorded as not recorded (not as none) until a sheet with the column says it.
    let found = search(&app, &worker, json!({ "id_number": &ids[2] })).await;
    assert_eq!(found["items"][0]["income_unrecorded"], true, "{found}");
    let file = format!("户编号,社区代码,姓名,身份证号,与户主关系,月收入\nD2,430602001001,孙三,{},户主,\n", ids[2]);
    let report: Value = import(&app, &worker, "?dry_run=false", file.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_changed"], 1, "{report}");
    let found = search(&app, &worker, json!({ "id_number": &ids[2] })).await;
    assert_eq!(found["items"][0]["income_unrecorded"], false, "a blank cell says none: {found}");
    // A sheet without the column leaves it recorded, unless it adds a member, whose income it does not say.
    let only_her = format!("户编号,社区代码,姓名,身份证号,与户主关系\nD2,430602001001,孙三,{},户主\n", ids[2]);
    let with_son = format!("{only_her}D2,430602001001,赵一,{},子女\n", ids[0]);
    for (file, unrecorded) in [(only_her, false), (with_son, true)] {
        let report: Value = import(&app, &worker, "?dry_run=false", file.into_bytes()).await.json().await.unwrap();
        assert_eq!(report["totals"]["households_rejected"], 0, "{report}");
        let found = search(&app, &worker, json!({ "id_number": &ids[2] })).await;
        assert_eq!(found["items"][0]["income_unrecorded"], unrecorded, "{found}");
    }
    // The son's income typed in his member form records the household's, as the household form does.
    let id = search(&app, &worker, json!({ "id_number": &ids[2] })).await["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/households/{id}");
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let son = page["members"].as_array().unwrap().iter().find(|m| m["name"] == "赵一").unwrap().clone();
    let version = page["version"].as_i64().unwrap();
    let mut form = member_form(&son);
    form["monthly_income_fen"] = json!(180_000);
    let res =
        send(&app, &worker, reqwest::Method::PUT, &format!("{path}/members/{}", son["id"]), Some(version), form).await;
    assert_eq!(res.status(), 200);
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!(page["income_unrecorded"], false, "{page}");
    let history: Value = app.get_as(&worker, &format!("{path}/history")).await.json().await.unwrap();
    let diff: Value = serde_json::from_str(history["records"][0]["diff"].as_str().unwrap()).unwrap();
    assert_eq!(diff["income_unrecorded"], json!([true, false]), "{diff}");
}

/// An old-format (.xls) ledger, built by `tests/fixtures/make_xls.py`: a hidden
/// notes sheet first, a merged title and a note above the header, household
/// cells merged down, date cells, full-width digits, a blank row, a birth date
/// that disagrees with its ID, and an ID stored as a number.
#[tokio::test]
async fn an_old_format_xls_ledger_is_read_like_any_other() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let file = include_bytes!("fixtures/ledger.xls").to_vec();
    let report: Value = import(&app, &worker, "", file.clone()).await.json().await.unwrap();
    assert_eq!(report["sheets"], json!(["花名册"]), "the hidden sheet is skipped: {report}");
    assert_eq!(report["header_row"], 3);
    let fields: Vec<&str> =
        report["columns"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        ["household_number", "community", "name", "id_number", "relation", "birth_date", "monthly_income"]
    );
    let issues: Vec<(i64, i64, &str)> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["row"].as_i64().unwrap(), i["column"].as_i64().unwrap(), i["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        issues,
        [(7, 5, "birth_mismatch"), (8, 3, "id_as_number")],
        "rows as the sheet numbers them, columns from 0"
    );
    let t = &report["totals"];
    assert_eq!((&t["households_new"], &t["persons_new"], &t["households_rejected"]), (&json!(1), &json!(2), &json!(2)));
    let report: Value = import(&app, &worker, "?dry_run=false", file).await.json().await.unwrap();
    assert_eq!(report["committed"], true);
    // The full-width ID was read as the ID it is; the merged cells gave 钱二 her household.
    let found = search(&app, &worker, json!({"id_number": ids()[1]})).await;
    assert_eq!((&found["total"], &found["items"][0]["number"]), (&json!(1), &json!("X1")));
    assert_eq!((&found["items"][0]["members"], &found["items"][0]["head_name"]), (&json!(2), &json!("赵一")));
}

/// Two few-kilobyte .xls files built by `tests/fixtures/make_xls_spread.py`: one
/// cell at the sheet's far corner (read as a rectangle, about 2 GB), and a
/// stated size past the format's limits (room reserved for it aborted the
/// server). Each is refused, saying why, and the server goes on.
#[tokio::test]
async fn an_xls_spread_past_its_table_is_refused_before_it_is_read() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let spread = import(&app, &worker, "", include_bytes!("fixtures/spread.xls").to_vec()).await;
    assert_eq!(spread.status(), 400);
    let body: Value = spread.json().await.unwrap();
    assert_eq!(body["code"], "cells_too_spread", "{body}");
    assert!(body["message"].as_str().unwrap().contains("IV65536"), "names the far cell: {body}");
    let dimensions = import(&app, &worker, "", include_bytes!("fixtures/dimensions.xls").to_vec()).await;
    assert_eq!(dimensions.status(), 400);
    assert_eq!(dimensions.json::<Value>().await.unwrap()["code"], "unreadable_file");
    // Two streams of the same name (`make_xls_two_workbooks.py`): the one checked is the one read.
    let two = import(&app, &worker, "", include_bytes!("fixtures/xls_two_workbooks.xls").to_vec()).await;
    assert_eq!(two.status(), 200);
    let report: Value = two.json().await.unwrap();
    assert_eq!(report["columns"].as_array().unwrap().len(), 4, "the harmless stream's four columns: {report}");
    // The ordinary old-format ledger still reads.
    let ledger = import(&app, &worker, "", include_bytes!("fixtures/ledger.xls").to_vec()).await;
    assert_eq!(ledger.status(), 200);
}

/// Few-kilobyte .xlsx files built by `tests/fixtures/make_xlsx_bombs.py`:
/// shared strings that state 10^15 strings (room reserved for them aborted the
/// server), one 8 MB cell, and a cell naming a 40,000-character shared string.
/// Each is refused, saying why; the server goes on.
#[tokio::test]
async fn an_xlsx_that_claims_more_than_it_holds_is_refused_before_it_is_read() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    for file in
        [&include_bytes!("fixtures/shared_strings_count.xlsx")[..], &include_bytes!("fixtures/long_cell.xlsx")[..]]
    {
        let res = import(&app, &worker, "", file.to_vec()).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await.unwrap()["code"], "unreadable_file");
    }
    // A cell past Excel's 32,767 characters, through a shared string: named, not read as the sheet's end.
    let long = import(&app, &worker, "", include_bytes!("fixtures/long_shared_string.xlsx").to_vec()).await;
    assert_eq!(long.status(), 400);
    let body: Value = long.json().await.unwrap();
    assert_eq!(body["code"], "cell_too_long", "{body}");
    assert!(body["message"].as_str().unwrap().contains("A2"), "{body}");
    let csv = format!("户编号,姓名,身份证号,与户主关系\nC1,甲,{},户主\n", ids()[0]);
    assert_eq!(import(&app, &worker, "?community=430602001001", csv.into_bytes()).await.status(), 200);
}

#[tokio::test]
async fn a_sheet_without_a_community_column_leaves_registered_households_where_they_are() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], "430602001000").await;
    let csv = format!("户编号,姓名,身份证号,与户主关系,家庭住址\nC1,甲,{},户主,洞庭路1号\n", ids()[0]);
    let first = "?community=430602001001&dry_run=false";
    let report: Value = import(&app, &worker, first, csv.clone().into_bytes()).await.json().await.unwrap();
    assert_eq!((&report["committed"], &report["totals"]["households_new"]), (&json!(true), &json!(1)), "{report}");
    // The same sheet, uploaded with another community chosen: that is for new households.
    let again = "?community=430602001002&dry_run=false";
    let report: Value = import(&app, &worker, again, csv.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_unchanged"], 1, "{report}");
    let found = search(&app, &worker, json!({"number": "C1"})).await;
    assert_eq!(found["items"][0]["community"], "430602001001", "{found}");
}

#[tokio::test]
async fn an_id_stored_as_a_number_a_changed_mapping_and_a_corrupt_file() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("community-a", &[Role::Community], "430602001001").await;
    let ids = ids();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, h) in (0u16..).zip(["姓名", "身份证", "关系", "电话号"]) {
        sheet.write_string(0, col, h).unwrap();
    }
    sheet.write_string(1, 0, "吴六").unwrap();
    sheet.write_string(1, 1, &ids[0]).unwrap();
    sheet.write_string(1, 2, "户主").unwrap();
    sheet.write_string(1, 3, "13812345678").unwrap();
    sheet.write_string(2, 0, "郑七").unwrap();
    sheet.write_number(2, 1, 430602197003040000.0).unwrap();
    sheet.write_string(2, 2, "户主").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    // No community column: the community comes with the upload.
    let report: Value = import(&app, &worker, "?community=430602001001", bytes.clone()).await.json().await.unwrap();
    assert_eq!(report["columns"][3]["field"], Value::Null, "电话号 is not a known header");
    // Its cells are masked in the preview all the same: they look like a phone.
    assert_eq!(report["preview"][0][3], "138****5678", "{}", report["preview"]);
    assert_eq!(report["issues"][0]["code"], "id_as_number");
    assert_eq!(report["issues"][0]["row"], 3);
    assert_eq!(report["totals"]["households_new"], 1);
    // The worker maps the fourth column to the phone.
    let report: Value = import(
        &app,
        &worker,
        "?community=430602001001&mapping=name,id_number,relation,phone&dry_run=false",
        bytes.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(report["columns"][3]["field"], "phone");
    assert_eq!(report["committed"], true);
    let found = search(&app, &worker, json!({"phone": "138-1234-5678"})).await;
    assert_eq!(found["total"], 1);
    // A sheet whose ID column is not recognised: what is recognised is still proposed,
    // and no full ID number is shown while the worker maps the rest.
    let csv = format!("姓名,身份号（公安）,与户主关系,户编号\n吴八,{},户主,W8\n", ids[1]);
    let report: Value = import(&app, &worker, "?community=430602001001", csv.into_bytes()).await.json().await.unwrap();
    let fields: Vec<Value> = report["columns"].as_array().unwrap().iter().map(|c| c["field"].clone()).collect();
    assert_eq!(fields, [json!("name"), Value::Null, json!("relation"), json!("household_number")], "{report}");
    assert!(!report.to_string().contains(&ids[1]), "{report}");
    // Another street's community is refused; so are a corrupt file and an unknown field.
    let res = import(&app, &worker, "?community=430602002001", bytes.clone()).await;
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "community");
    // The worker's own street is no community: said so, not "outside your jurisdiction".
    let res = import(&app, &worker, &format!("?community={STREET_A}"), bytes.clone()).await;
    let err: Value = res.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("不能是街道或区"), "{err}");
    let res = import(&app, &worker, "", b"PK\x03\x04garbage".to_vec()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "unreadable_file");
    let res = import(&app, &worker, "?mapping=name,shoe_size", bytes.clone()).await;
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "mapping");
    let res = import(&app, &worker, "?mapping=name,id_number,relation,name", bytes).await;
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["field"], "mapping");
    assert!(err["message"].as_str().unwrap().contains("A 列和 D 列"), "{err}");
    // Headers nobody recognises: a dry run shows the columns to map by hand, a commit without a mapping is refused.
    let english = format!("Household list\nName,ID,Relation,Phone\n吴八,{},户主,13812345679\n", ids[2]).into_bytes();
    let report: Value = import(&app, &worker, "?community=430602001001", english.clone()).await.json().await.unwrap();
    assert_eq!((&report["header_row"], &report["issues"][0]["code"]), (&json!(2), &json!("no_header")), "{report}");
    assert_eq!(report["columns"][1]["header"], "ID");
    assert_eq!(report["totals"]["rows"], 0);
    let res = import(&app, &worker, "?community=430602001001&dry_run=false", english.clone()).await;
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "no_header");
    let query = "?community=430602001001&mapping=name,id_number,relation,phone&dry_run=false";
    let report: Value = import(&app, &worker, query, english).await.json().await.unwrap();
    assert_eq!((&report["committed"], &report["totals"]["households_new"]), (&json!(true), &json!(1)), "{report}");
    let res = import(&app, &worker, "?dry_run=false", Vec::new()).await;
    assert_eq!(res.status(), 400);
}

/// A workbook a program wrote, its formulas saved without their results: a dry run says
/// so, and the import refuses it rather than write blanks over what is registered.
#[tokio::test]
async fn formulas_saved_without_their_results_are_said_and_refuse_the_import() {
    use std::io::Write;
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    let text = |cell: &str, v: &str| format!(r#"<c r="{cell}" t="inlineStr"><is><t>{v}</t></is></c>"#);
    let header: String = ["A1:户编号", "B1:社区代码", "C1:姓名", "D1:身份证号", "E1:与户主关系", "F1:月收入(元)"]
        .iter()
        .map(|c| c.split_once(':').unwrap())
        .map(|(cell, v)| text(cell, v))
        .collect();
    let row = [("A2", "F1"), ("B2", "430602001001"), ("C2", "钱一"), ("D2", ids[0].as_str()), ("E2", "户主")]
        .iter()
        .map(|(cell, v)| text(cell, v))
        .collect::<String>();
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">{header}</row><row r="2">{row}<c r="F2"><f>100*3</f></c></row></sheetData></worksheet>"#
    );
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, xml) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(xml.as_bytes()).unwrap();
    }
    let book = zip.finish().unwrap().into_inner();
    let report: Value = import(&app, &worker, "?dry_run=true", book.clone()).await.json().await.unwrap();
    let notices = report["notices"].as_array().unwrap_or_else(|| panic!("{report}"));
    assert!(notices.iter().any(|n| n["code"] == "formulas_without_values"), "{report}");
    assert_eq!(report["totals"]["households_new"], 1, "the dry run reads the rest: {report}");
    let res = import(&app, &worker, "?dry_run=false", book).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!((&err["code"], &err["field"]), (&json!("formulas_without_values"), &json!("file")), "{err}");
    assert_eq!(search(&app, &worker, json!({"number": "F1"})).await["total"], 0, "nothing written");
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_before_reading() {
    let app = TestApp::spawn_with(|c| c.import_max_mb = 1).await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let res = import(&app, &worker, "", vec![b'a'; 2 * 1024 * 1024]).await;
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.unwrap();
    assert_eq!((&err["code"], &err["field"]), (&json!("file_too_large"), &json!("file")), "{err}");
    assert!(err["message"].as_str().unwrap().contains("（1 MB）"), "the limit is said: {err}");
}

#[tokio::test]
async fn the_template_lists_the_columns() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let res = app.get_as(&worker, "/api/v1/households/template").await;
    assert_eq!(res.status(), 200);
    let rows = read_xlsx(&res.bytes().await.unwrap());
    assert_eq!(rows[0][0], "户编号");
    for column in ["身份证号", "住房条件", "经营净收入(元)", "转移净收入(元)", "享受起始日期"]
    {
        assert!(rows[0].contains(&column.to_owned()), "{column}: {:?}", rows[0]);
    }
    // The template's own headers map back to fields: a filled-in template imports as it is.
    let ids = ids();
    let mut sheet = rows[0].join(",");
    let mut row = vec![String::new(); rows[0].len()];
    for (header, value) in [
        ("户编号", "TP1"),
        ("社区代码", "430602001001"),
        ("姓名", "甲"),
        ("身份证号", ids[0].as_str()),
        ("与户主关系", "户主"),
        ("其他收入(元)", "120"),
    ] {
        row[rows[0].iter().position(|h| h == header).unwrap()] = value.to_owned();
    }
    sheet.push_str(&format!("\n{}\n", row.join(",")));
    let report: Value = import(&app, &worker, "?dry_run=false", sheet.into_bytes()).await.json().await.unwrap();
    let unmapped: Vec<&Value> = report["columns"].as_array().unwrap().iter().filter(|c| c["field"].is_null()).collect();
    assert!(unmapped.is_empty(), "every column is a field: {unmapped:?}");
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
}

#[tokio::test]
async fn a_paired_helper_sees_only_the_households_paired_with_them() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(30, 10).await;
    let helper = app.signed_in("helper", &[Role::Helper], "430602000000").await;
    assert_eq!(search(&app, &helper, json!({})).await["total"], 0);
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let id = search(&app, &district, json!({"number": households[3].number})).await["items"][0]["id"].as_i64().unwrap();
    let other =
        search(&app, &district, json!({"number": households[4].number})).await["items"][0]["id"].as_i64().unwrap();
    let scope = zhongfu_domain::Scope::new(crate::helpers::district());
    let today = chrono::Local::now().date_naive();
    let actor = zhongfu_store::Actor::system("test");
    assert!(app.store.pair(&actor, &scope, id, helper.account_id, today).await.unwrap());
    let seen = search(&app, &helper, json!({})).await;
    assert_eq!(seen["total"], 1);
    assert_eq!(seen["items"][0]["id"], id);
    assert_eq!(app.get_as(&helper, &format!("/api/v1/households/{id}")).await.status(), 200);
    assert_eq!(app.get_as(&helper, &format!("/api/v1/households/{other}")).await.status(), 404);
    // The household's history names the helper, not an account number.
    let history: Value = app.get_as(&district, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
    assert_eq!(history["records"][0]["diff"], r#"{"paired_with":[null,"helper（helper）"]}"#);
}

#[tokio::test]
async fn a_worker_saves_a_column_mapping_and_finds_it_again() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("community-a", &[Role::Community], "430602001001").await;
    let form = json!({"name": "洞庭社区格式", "columns": {"电话号": "phone", "身份证": "id_number"}});
    assert_eq!(app.post_as(&worker, "/api/v1/import-mappings", form).await.status(), 200);
    let again = json!({"name": "洞庭社区格式", "columns": {"电话号": "household_phone"}});
    assert_eq!(app.post_as(&worker, "/api/v1/import-mappings", again).await.status(), 200, "the same name replaces");
    let list: Value = app.get_as(&worker, "/api/v1/import-mappings").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["columns"], json!({"电话号": "household_phone"}));
    // Each wrong mapping is refused, saying what is wrong with it; none is saved.
    for (columns, said) in [
        (json!({"电话号": "shoe_size"}), "未知字段：shoe_size"),
        (json!({"  ": "phone"}), "表头不能为空"),
        (json!({"长".repeat(101): "phone"}), "表头最多100个字"),
    ] {
        let res = app.post_as(&worker, "/api/v1/import-mappings", json!({"name": "坏的", "columns": columns})).await;
        let err: Value = res.json().await.unwrap();
        assert_eq!((err["field"].as_str(), err["message"].as_str()), (Some("columns"), Some(said)), "{err}");
    }
    let misspelt = json!({"name": "坏的", "colums": {"电话号": "phone"}, "columns": {"电话号": "phone"}});
    let res = app.post_as(&worker, "/api/v1/import-mappings", misspelt).await;
    assert_eq!(res.status(), 422, "a field the form does not have is refused");
    let list: Value = app.get_as(&worker, "/api/v1/import-mappings").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let other = app.signed_in("community-b", &[Role::Community], "430602002001").await;
    let list: Value = app.get_as(&other, "/api/v1/import-mappings").await.json().await.unwrap();
    assert_eq!(list["items"], json!([]), "mappings are one's own");
}

#[tokio::test]
async fn a_household_is_split_and_merged_back_with_versions_checked() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(120, 11).await;
    let target = in_street_a(&households).into_iter().find(|h| h.members.len() >= 3).cloned().unwrap();
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let id = search(&app, &worker, json!({"number": target.number})).await["items"][0]["id"].as_i64().unwrap();
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    let members: Vec<i64> = page["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    let (head, leaving) = (members[0], members[1..].to_vec());
    let path = format!("/api/v1/households/{id}/split");
    // The head cannot leave; the new head must be among those leaving.
    let res = send(
        &app,
        &worker,
        reqwest::Method::POST,
        &path,
        Some(1),
        json!({"number": "S-1", "members": [head], "head": head}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let res = send(
        &app,
        &worker,
        reqwest::Method::POST,
        &path,
        Some(1),
        json!({"number": "S-1", "members": leaving, "head": head}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!((&body["code"], &body["field"]), (&json!("split_members"), &json!("members")), "{body}");
    let res = send(
        &app,
        &worker,
        reqwest::Method::POST,
        &path,
        Some(1),
        json!({"number": "S-1", "members": leaving, "head": leaving[0]}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let new_id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let split: Value = app.get_as(&worker, &format!("/api/v1/households/{new_id}")).await.json().await.unwrap();
    assert_eq!(split["members"].as_array().unwrap().len(), leaving.len());
    assert_eq!(split["members"][0]["relation"], "head");
    assert_eq!(split["community"], page["community"]);
    // Each history names the other household by its number.
    let history = |id: i64| {
        let (app, worker) = (&app, &worker);
        async move {
            let h: Value = app.get_as(worker, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
            h["records"][0]["diff"].as_str().unwrap().to_owned()
        }
    };
    assert!(history(id).await.contains(r#""into":[null,"S-1"]"#), "{}", history(id).await);
    let number = page["number"].as_str().unwrap();
    assert!(history(new_id).await.contains(&format!(r#""from":[null,"{number}"]"#)), "{}", history(new_id).await);
    let res = send(
        &app,
        &worker,
        reqwest::Method::POST,
        &path,
        Some(2),
        json!({"number": target.number, "members": [leaving[0]], "head": leaving[0]}),
    )
    .await;
    assert_eq!(res.status(), 409, "the member has left already");
    // A number another household holds is refused as such.
    let taken = send(
        &app,
        &worker,
        reqwest::Method::POST,
        &format!("/api/v1/households/{new_id}/split"),
        Some(1),
        json!({"number": target.number, "members": [leaving[1]], "head": leaving[1]}),
    )
    .await;
    assert_eq!(taken.status(), 409);
    let body: Value = taken.json().await.unwrap();
    assert_eq!((&body["code"], &body["field"]), (&json!("number_taken"), &json!("number")), "{body}");
    // The new household gets its own income and assets: a merge keeps both households'.
    let mut form = household_form(&split, "洞庭路2号");
    (form["assets_fen"], form["income_items"]) = (json!(100_000), json!([{"kind": "other", "monthly_fen": 50_000}]));
    // The number given at the split is corrected in the household's form, but not to another's.
    let household_path = format!("/api/v1/households/{new_id}");
    form["number"] = json!(target.number);
    let res = send(&app, &worker, reqwest::Method::PUT, &household_path, Some(1), form.clone()).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!((&body["code"], &body["field"]), (&json!("number_taken"), &json!("number")), "{body}");
    form["number"] = json!("S-2");
    let res = send(&app, &worker, reqwest::Method::PUT, &household_path, Some(1), form).await;
    assert_eq!(res.status(), 200);
    assert_eq!(search(&app, &worker, json!({"number": "S-2"})).await["items"][0]["id"], json!(new_id));
    assert!(history(new_id).await.contains(r#""number":["S-1","S-2"]"#), "{}", history(new_id).await);
    // Both come to hold one category on common days; in the new one a member becomes the head's spouse.
    for (h, start) in [(id, "2026-01-01"), (new_id, "2026-03-01")] {
        let path = format!("/api/v1/households/{h}/holdings");
        let form = json!({"category": "judicial_aid", "start_date": start});
        let res = send(&app, &worker, reqwest::Method::POST, &path, Some(2), form).await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    let mut spouse = member_form(&split["members"][1]);
    spouse["relation"] = json!("spouse");
    let path = format!("/api/v1/households/{new_id}/members/{}", split["members"][1]["id"]);
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(3), spouse).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let before: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    // Merge it back: the stale version of the absorbed household is refused first.
    let merge = format!("/api/v1/households/{id}/merge");
    let res =
        send(&app, &worker, reqwest::Method::POST, &merge, Some(3), json!({"other": id, "other_version": 3})).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "other");
    let res =
        send(&app, &worker, reqwest::Method::POST, &merge, Some(3), json!({"other": new_id, "other_version": 0})).await;
    assert_eq!(res.status(), 412);
    let res =
        send(&app, &worker, reqwest::Method::POST, &merge, Some(3), json!({"other": new_id, "other_version": 4})).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let merged: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    // The category is held once, from the earlier start; those who came in are 其他 to this head.
    let joined: Vec<&Value> = (merged["holdings"].as_array().unwrap().iter())
        .filter(|h| h["category"] == "judicial_aid" && h["person_id"].is_null())
        .collect();
    assert_eq!(joined.len(), 1, "{joined:?}");
    assert_eq!((&joined[0]["start_date"], &joined[0]["end_date"]), (&json!("2026-01-01"), &Value::Null));
    for m in merged["members"].as_array().unwrap().iter().filter(|m| leaving.contains(&m["id"].as_i64().unwrap())) {
        assert_eq!(m["relation"], "other", "{m}");
    }
    assert_eq!(merged["assets_fen"].as_i64(), before["assets_fen"].as_i64().map(|a| a + 100_000));
    let other_income = |h: &Value| {
        h["income_items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "other")
            .map_or(0, |i| i["monthly_fen"].as_i64().unwrap())
    };
    assert_eq!(other_income(&merged), other_income(&before) + 50_000, "{}", merged["income_items"]);
    assert_eq!(merged["members"].as_array().unwrap().len(), members.len());
    assert_eq!(merged["members"].as_array().unwrap().iter().filter(|m| m["relation"] == "head").count(), 1);
    // The absorbed household is gone, and says where to.
    let res = app.get_as(&worker, &format!("/api/v1/households/{new_id}")).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!((&body["code"], &body["see"]), (&json!("merged"), &merged["number"]), "{body}");
    assert!(body["message"].as_str().unwrap().contains("并入户"), "{body}");
    // Someone who cannot see the household it went into learns nothing of it.
    let elsewhere = app.signed_in("community-b", &[Role::Community], "430602002001").await;
    let body: Value = app.get_as(&elsewhere, &format!("/api/v1/households/{new_id}")).await.json().await.unwrap();
    assert_eq!(body["code"], "not_found", "{body}");
    assert!(body.get("see").is_none(), "{body}");
}

/// Compares `actual` with the snapshot file; `UPDATE_SNAPSHOTS=1` rewrites it.
fn assert_snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots").join(name);
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "snapshot {name} differs; run with UPDATE_SNAPSHOTS=1 if the change is intended");
}

#[tokio::test]
async fn the_error_report_of_a_messy_ledger_matches_its_snapshot() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let res = app
        .client
        .post(format!("{}/api/v1/households/import/errors", app.address))
        .header("cookie", &worker.cookie)
        .header("x-csrf-token", &worker.csrf)
        .body(messy_csv(&ids()))
        .send()
        .await
        .unwrap();
    let bytes = res.bytes().await.unwrap();
    let tsv = |rows: Vec<Vec<String>>| rows.iter().map(|r| r.join("\t") + "\n").collect::<String>();
    assert_snapshot("messy_ledger_errors.tsv", &tsv(read_xlsx(&bytes)));
    // The marked copy: the header and the rejected rows only, in their own columns, their sheet row
    // numbers after them, IDs masked.
    assert_snapshot("messy_ledger_marked.tsv", &tsv(read_sheet(&bytes, 1)));
}

#[tokio::test]
async fn the_error_report_keeps_headers_as_typed_and_masks_a_value_alike_in_both_sheets() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ledger =
        format!("户编号,社区代码,姓名,身份证号,与户主关系,联系电话\nP1,430602001001,钱一,{},户主,1390000\n", ids()[0]);
    let res = error_report(&app, &worker, ledger).await;
    let bytes = res.bytes().await.unwrap();
    let (issues, marked) = (read_xlsx(&bytes), read_sheet(&bytes, 1));
    assert_eq!(marked[0], ["户编号", "社区代码", "姓名", "身份证号", "与户主关系", "联系电话", "原行号"]);
    assert_eq!(marked[1][6], "2", "each row's own number after its cells");
    let phone = issues.iter().find(|r| r[2] == "联系电话").unwrap_or_else(|| panic!("{issues:?}"));
    // The column the list names is the column of the copy: the letters agree.
    let column = usize::from(phone[1].as_bytes()[0] - b'A');
    assert_eq!(phone[3], marked[1][column], "the value reads the same in both sheets, in the same column");
    assert!(!phone[3].contains("1390000"), "a phone is masked: {phone:?}");
}

/// Polls an import job until it is no longer running (five seconds at most).
async fn finished_job(app: &TestApp, who: &Session, id: &str) -> Value {
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.get_as(who, &format!("/api/v1/import-jobs/{id}")).await.json().await.unwrap();
        if status["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    status
}

#[tokio::test]
async fn a_background_import_reports_progress_and_belongs_to_its_starter() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let res = app
        .client
        .post(format!("{}/api/v1/import-jobs?dry_run=false", app.address))
        .header("cookie", &worker.cookie)
        .header("x-csrf-token", &worker.csrf)
        .body(messy_csv(&ids()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let status = finished_job(&app, &worker, &id).await;
    assert_eq!(status["status"], "done", "{status}");
    assert_eq!(status["done"], status["total"]);
    assert_eq!(status["report"]["committed"], true);
    assert_eq!(status["report"]["totals"]["households_new"], 1);
    let other = app.signed_in("street-a2", &[Role::Street], STREET_A).await;
    assert_eq!(app.get_as(&other, &format!("/api/v1/import-jobs/{id}")).await.status(), 404);
    assert_eq!(app.post_as(&other, &format!("/api/v1/import-jobs/{id}/cancel"), json!({})).await.status(), 404);
    assert_eq!(app.post_as(&worker, &format!("/api/v1/import-jobs/{id}/cancel"), json!({})).await.status(), 204);
    // A commit that finds nothing to read in its file says why.
    let res = app
        .client
        .post(format!("{}/api/v1/import-jobs?dry_run=false", app.address))
        .header("cookie", &worker.cookie)
        .header("x-csrf-token", &worker.csrf)
        .body(" \n,\n".as_bytes().to_vec())
        .send()
        .await
        .unwrap();
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let status = finished_job(&app, &worker, &id).await;
    assert_eq!(status["status"], "failed");
    assert_eq!(status["error"]["code"], "no_header");
}

#[tokio::test]
async fn a_community_worker_imports_into_their_community_and_a_blank_community_says_so() {
    let app = TestApp::spawn().await;
    let ids = ids();
    // No community column: a community's own worker needs to choose nothing.
    let worker = app.signed_in("community", &[Role::Community], "430602001001").await;
    let ledger = format!("户编号,姓名,身份证号,与户主关系\nC1,冯一,{},户主\n", ids[0]);
    let report: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let found = search(&app, &worker, json!({"number": "C1"})).await;
    assert_eq!(found["items"][0]["community"], "430602001001", "{found}");
    // A street's worker with a community column left blank for one household: held back, with the reason.
    let street = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ledger = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系\nC2,,陈二,{},户主\nC3,430602001001,张三,{},户主\n",
        ids[1], ids[2]
    );
    let report: Value = import(&app, &street, "", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(
        (&report["totals"]["households_new"], &report["totals"]["households_rejected"]),
        (&json!(1), &json!(1)),
        "{report}"
    );
    let issue = &report["issues"][0];
    assert_eq!(
        (&issue["row"], &issue["column"], &issue["code"]),
        (&json!(2), &json!(1), &json!("community_blank")),
        "{issue}"
    );
}

/// The sweep's rows of household number `number` in community 430602001001, as the district sees them.
async fn rows_of(app: &TestApp, who: &Session, number: &str) -> Vec<(String, String, Value)> {
    let body = json!({ "area": "430602001001", "limit": 200 });
    let res: Value = app.post_as(who, "/api/v1/sweep/results", body).await.json().await.unwrap();
    assert!(res["total"].as_u64().unwrap() < 200, "the page holds them all");
    let mut rows: Vec<_> = (res["items"].as_array().unwrap().iter())
        .filter(|r| r["household_number"] == number)
        .map(|r| {
            (r["policy_code"].as_str().unwrap().to_owned(), r["kind"].as_str().unwrap().to_owned(), r["reason"].clone())
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    rows
}

#[tokio::test]
async fn an_import_puts_its_households_on_the_sweeps_lists_before_it_answers() {
    let app = TestApp::spawn().await;
    app.seed_demo(60, 5).await;
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let swept = app.sweep(&district).await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    // A man alone with no income, holding nothing: some policy finds him.
    let ledger =
        format!("户编号,社区代码,姓名,身份证号,与户主关系,月收入(元)\nL1,430602001001,冯一,{},户主,0\n", ids()[0]);
    let report: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    // On the lists as the import answers, with no sweep run since.
    let incremental = rows_of(&app, &district, "L1").await;
    assert!(!incremental.is_empty());
    let status: Value = app.get_as(&district, "/api/v1/sweep").await.json().await.unwrap();
    assert_eq!((&status["finished_at"], &status["running"]), (&swept["finished_at"], &json!(false)), "{status}");
    // What a full sweep finds for it.
    app.sweep(&district).await;
    assert_eq!(rows_of(&app, &district, "L1").await, incremental);
}

#[tokio::test]
async fn a_reimport_updates_a_changed_household_and_refuses_a_person_of_another() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(150, 12).await;
    let elsewhere = in_street_a(&households)[0].members[0].id_number.to_string();
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    let ledger = |income: &str| {
        format!(
            "户编号,社区代码,姓名,身份证号,与户主关系,月收入(元)\n\
             U1,430602001001,冯一,{},户主,{income}\n\
             U2,430602001001,陈二,{elsewhere},户主,0\n",
            ids[0]
        )
        .into_bytes()
    };
    let first: Value = import(&app, &worker, "?dry_run=false", ledger("500")).await.json().await.unwrap();
    assert_eq!(first["totals"]["households_new"], 1);
    assert_eq!(first["totals"]["households_rejected"], 1);
    let conflict = &first["issues"][0];
    assert_eq!((conflict["row"].as_i64(), conflict["column"].as_i64()), (Some(3), Some(3)));
    assert_eq!(conflict["code"], "registry_conflict");
    // The same household with a new income is an update, not a second household.
    let second: Value = import(&app, &worker, "?dry_run=false", ledger("650")).await.json().await.unwrap();
    assert_eq!(second["totals"]["households_changed"], 1);
    assert_eq!(second["totals"]["households_new"], 0);
    let found = search(&app, &worker, json!({"number": "U1"})).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["monthly_income_fen"], 65_000);
    assert_eq!(found["items"][0]["version"], 2);
    // Another family under U1 (a worker's own numbering) is not taken into it.
    let strangers = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系\nU1,430602001002,褚三,{},户主\nU1,430602001002,卫四,{},配偶\n",
        ids[2], ids[3]
    );
    let report: Value = import(&app, &worker, "?dry_run=false", strangers.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_rejected"], 1, "{report}");
    let conflict = &report["issues"][0];
    assert_eq!((conflict["code"].as_str(), conflict["column"].as_i64()), (Some("registry_conflict"), Some(0)));
    assert!(conflict["message_zh"].as_str().unwrap().contains("另一户的编号"), "{conflict}");
    // 卫四's row is said to be held back with the household.
    assert_eq!(
        (report["issues"][1]["row"].as_i64(), report["issues"][1]["code"].as_str()),
        (Some(3), Some("held_back"))
    );
    let found = search(&app, &worker, json!({"number": "U1"})).await;
    assert_eq!((&found["items"][0]["members"], &found["items"][0]["version"]), (&json!(1), &json!(2)), "{found}");
    // Without a 户编号 column the household is numbered from its head's ID: the message
    // says why a registered person then conflicts, and what to do.
    let unnumbered = format!("社区代码,姓名,身份证号,与户主关系\n430602001001,陈二,{elsewhere},户主\n").into_bytes();
    let report: Value = import(&app, &worker, "", unnumbered).await.json().await.unwrap();
    let conflict = &report["issues"][0];
    assert_eq!(conflict["code"], "registry_conflict", "{report}");
    assert!(conflict["message_zh"].as_str().unwrap().contains("户编号列"), "{conflict}");
}

/// A household registered while an import runs is seen by it: the import waits
/// for the other writer and takes the household as registered, instead of
/// failing on the number it meanwhile took. (SQLite's write lock always did
/// this; on PostgreSQL it is the import's table lock.)
#[tokio::test]
async fn an_import_waits_for_a_registration_under_way() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ledger = format!("户编号,社区代码,姓名,身份证号,与户主关系\nR1,430602001001,冯一,{},户主\n", ids()[0]);
    // Another writer has inserted R1 and not yet committed when the import starts.
    let url = app.db_url();
    let insert = "INSERT INTO household (number, community, address, registration, tenure)
        VALUES ('R1', '430602001001', '北环路1号', 'urban', 'own')";
    let (held, holding) = tokio::sync::oneshot::channel::<()>();
    let other = async {
        let commit_later = |held: tokio::sync::oneshot::Sender<()>| async move {
            held.send(()).unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        };
        if url.starts_with("postgres") {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN; {insert}"))).execute(&mut conn).await.unwrap();
            commit_later(held).await;
            sqlx::raw_sql("COMMIT").execute(&mut conn).await.unwrap();
        } else {
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN IMMEDIATE; {insert}"))).execute(&mut conn).await.unwrap();
            commit_later(held).await;
            sqlx::raw_sql("COMMIT").execute(&mut conn).await.unwrap();
        }
    };
    let started = async {
        holding.await.unwrap();
        import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await
    };
    let ((), res) = tokio::join!(other, started);
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 0, "{report}");
    assert_eq!(report["totals"]["households_changed"], 1, "{report}");
    let found = search(&app, &worker, json!({"number": "R1"})).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["members"], 1, "{found}");
}

/// An update from a ledger changes what the sheet says and keeps the rest: the
/// members keep their ids, a phone typed in the console stays (the sheet has no
/// phone column), a member added in the console stays, and a category still
/// listed keeps its row (and its start).
#[tokio::test]
async fn a_reimport_changes_what_the_sheet_says_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    let header = "户编号,社区代码,姓名,身份证号,与户主关系,月收入(元),家庭救助类别\n";
    let first =
        format!("{header}U1,430602001001,冯一,{},户主,500,低保\nU1,430602001001,陈二,{},配偶,0,\n", ids[0], ids[1]);
    let report: Value = import(&app, &worker, "?dry_run=false", first.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let id = search(&app, &worker, json!({"number": "U1"})).await["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/households/{id}");
    let before: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let member_id = |page: &Value, name: &str| {
        page["members"].as_array().unwrap().iter().find(|m| m["name"] == name).map(|m| m["id"].as_i64().unwrap())
    };
    let (head, spouse) = (member_id(&before, "冯一").unwrap(), member_id(&before, "陈二").unwrap());
    let dibao = before["holdings"][0].clone();
    assert_eq!(dibao["category"], "dibao", "{before}");
    // In the console: the spouse's phone, and a member the ledger does not have yet.
    let form = |name: &str, relation: &str, id_number: Option<&str>, phone: Option<&str>| {
        json!({
            "name": name, "id_number": id_number, "relation": relation, "phone": phone, "marital": "married",
            "health": "healthy", "work_ability": "full", "employment": "not_working", "schooling": "none",
            "monthly_income_fen": 0,
        })
    };
    let edit = format!("{path}/members/{spouse}");
    let res =
        send(&app, &worker, reqwest::Method::PUT, &edit, Some(1), form("陈二", "spouse", None, Some("13800001234")))
            .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let add = format!("{path}/members");
    let res =
        send(&app, &worker, reqwest::Method::POST, &add, Some(2), form("冯三", "child", Some(&ids[2]), None)).await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    // Next month's ledger: the spouse is now the head, the former head earns more.
    let second =
        format!("{header}U1,430602001001,陈二,{},户主,0,低保\nU1,430602001001,冯一,{},配偶,650,\n", ids[1], ids[0]);
    let report: Value = import(&app, &worker, "?dry_run=false", second.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_changed"], 1, "{report}");
    let after: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!((member_id(&after, "冯一"), member_id(&after, "陈二")), (Some(head), Some(spouse)), "{after}");
    assert!(member_id(&after, "冯三").is_some(), "the member added in the console stays: {after}");
    let member = |name: &str| after["members"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap().clone();
    assert_eq!((&member("陈二")["relation"], &member("冯一")["relation"]), (&json!("head"), &json!("spouse")));
    assert_eq!(member("冯一")["monthly_income_fen"], 65_000);
    assert_eq!(member("陈二")["phone_masked"], "138****1234", "the phone typed in the console stays");
    assert_eq!(after["holdings"].as_array().unwrap().len(), 1, "{after}");
    assert_eq!(
        (&after["holdings"][0]["id"], &after["holdings"][0]["start_date"]),
        (&dibao["id"], &dibao["start_date"])
    );
    // The household's history shows the update.
    let history: Value = app.get_as(&worker, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
    assert!(history.to_string().contains("household.import_update"), "{history}");
    // The same ledger again changes nothing.
    let again =
        format!("{header}U1,430602001001,陈二,{},户主,0,低保\nU1,430602001001,冯一,{},配偶,650,\n", ids[1], ids[0]);
    let report: Value = import(&app, &worker, "?dry_run=false", again.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_unchanged"], 1, "{report}");
    // A sheet with a phone column sets the phones it gives and clears those it leaves blank.
    let phones = format!(
        "{},联系电话\nU1,430602001001,陈二,{},户主,0,低保,\nU1,430602001001,冯一,{},配偶,650,,139-0000-1111\n\
         U1,430602001001,冯四,{},子女,0,,\n",
        header.trim_end(),
        ids[1],
        ids[0],
        ids[3]
    );
    let report: Value = import(&app, &worker, "?dry_run=false", phones.into_bytes()).await.json().await.unwrap();
    let t = &report["totals"];
    assert_eq!(
        (&t["households_changed"], &t["persons_changed"], &t["persons_new"]),
        (&json!(1), &json!(2), &json!(1)),
        "{report}"
    );
    let after: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let phone = |name: &str| {
        after["members"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap()["phone_masked"].clone()
    };
    assert_eq!((phone("冯一"), phone("陈二")), (json!("139****1111"), Value::Null), "{after}");
}

/// The diff of a household's newest `household.import_update` record, from its history.
async fn import_update_diff(app: &TestApp, who: &Session, id: i64) -> Value {
    let history: Value = app.get_as(who, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
    let update = history["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "household.import_update")
        .unwrap_or_else(|| panic!("{history}"));
    serde_json::from_str(update["diff"].as_str().unwrap()).unwrap()
}

/// A ledger read again tells the members it changes from those it leaves as
/// they are, in its totals and in the household's history; a member changed by
/// hand meanwhile is written again, whatever the sheet said before.
#[tokio::test]
async fn a_reimport_counts_and_writes_only_the_members_it_changes() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    let header = "户编号,社区代码,姓名,身份证号,与户主关系,月收入(元)\n";
    let ledger = |income: u32| {
        format!(
            "{header}M1,430602001001,冯一,{},户主,500\nM1,430602001001,陈二,{},配偶,{income}\n\
             M1,430602001001,冯三,{},子女,0\n",
            ids[0], ids[1], ids[2]
        )
    };
    let totals = |report: &Value| {
        let t = &report["totals"];
        [&t["households_changed"], &t["persons_changed"], &t["persons_unchanged"], &t["persons_new"]].map(Value::clone)
    };
    let report: Value = import(&app, &worker, "?dry_run=false", ledger(0).into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["persons_new"], 3, "{report}");
    // One member's income changed: one person changed, two unchanged, in the dry run and the import.
    for query in ["?dry_run=true", "?dry_run=false"] {
        let report: Value = import(&app, &worker, query, ledger(300).into_bytes()).await.json().await.unwrap();
        assert_eq!(totals(&report), [json!(1), json!(1), json!(2), json!(0)], "{query}: {report}");
    }
    let id = search(&app, &worker, json!({"number": "M1"})).await["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/households/{id}");
    let diff = import_update_diff(&app, &worker, id).await;
    assert_eq!((&diff["members_changed"][1], &diff["members_joined"]), (&json!(["陈二"]), &Value::Null), "{diff}");
    // By hand: the child's income. The same ledger again writes it back as the sheet says.
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let child = page["members"].as_array().unwrap().iter().find(|m| m["name"] == "冯三").unwrap().clone();
    let form = json!({
        "name": "冯三", "relation": "child", "marital": "single", "health": "healthy", "work_ability": "full",
        "employment": "not_working", "schooling": "none", "monthly_income_fen": 12_300,
    });
    let edit = format!("{path}/members/{}", child["id"]);
    let version = page["version"].as_i64().unwrap();
    let res = send(&app, &worker, reqwest::Method::PUT, &edit, Some(version), form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let report: Value = import(&app, &worker, "?dry_run=false", ledger(300).into_bytes()).await.json().await.unwrap();
    assert_eq!(totals(&report), [json!(1), json!(1), json!(2), json!(0)], "only the member edited: {report}");
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let child = page["members"].as_array().unwrap().iter().find(|m| m["name"] == "冯三").unwrap().clone();
    assert_eq!(child["monthly_income_fen"], 0, "{page}");
    // And once more: nothing to change.
    let report: Value = import(&app, &worker, "?dry_run=false", ledger(300).into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["persons_unchanged"], 3, "{report}");
    // A sheet that leaves a member out changes nothing: the member stays, the version too.
    let version = app.get_as(&worker, &path).await.json::<Value>().await.unwrap()["version"].clone();
    let without_child = ledger(300).lines().take(3).map(|l| format!("{l}\n")).collect::<String>();
    let report: Value = import(&app, &worker, "?dry_run=false", without_child.into_bytes()).await.json().await.unwrap();
    assert_eq!(
        (&report["totals"]["households_unchanged"], &report["totals"]["persons_unchanged"]),
        (&json!(1), &json!(2)),
        "{report}"
    );
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!((&page["version"], page["members"].as_array().unwrap().len()), (&version, 3), "{page}");
}

/// An update from a ledger records what it changed of the household's own facts, as an
/// edit's record does, and only the fields the sheet has columns for.
#[tokio::test]
async fn a_reimport_records_the_household_facts_it_changed() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    let ledger = |address: &str| {
        format!("户编号,社区代码,家庭住址,姓名,身份证号,与户主关系\nA9,430602001001,{address},冯一,{},户主\n", ids[0])
    };
    let report: Value =
        import(&app, &worker, "?dry_run=false", ledger("洞庭路1号").into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let report: Value =
        import(&app, &worker, "?dry_run=false", ledger("洞庭路2号").into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_changed"], 1, "{report}");
    let id = search(&app, &worker, json!({"number": "A9"})).await["items"][0]["id"].as_i64().unwrap();
    let diff = import_update_diff(&app, &worker, id).await;
    assert_eq!(diff["address"], json!(["洞庭路1号", "洞庭路2号"]), "{diff}");
    assert!(diff.get("tenure").is_none() && diff.get("members_changed").is_none(), "only what changed: {diff}");
}

/// A death a ledger records ends the member's categories; the same ledger with the
/// death cleared gives them back, and one that died in an earlier month keeps the
/// category's one record however often the household is read again.
#[tokio::test]
async fn a_death_a_ledger_clears_gives_back_the_categories_it_ended() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    use chrono::Datelike;
    let header = "户编号,社区代码,姓名,身份证号,与户主关系,月收入(元),个人救助类别,享受起始日期,死亡日期\n";
    let since =
        chrono::Local::now().date_naive().with_day(1).unwrap().checked_sub_months(chrono::Months::new(12)).unwrap();
    let ledger = |died: &str, income: u32| {
        format!(
            "{header}D1,430602001001,冯一,{},户主,{income},,,\nD1,430602001001,陈二,{},配偶,0,特困,{since},{died}\n",
            ids[0], ids[1]
        )
    };
    let report: Value =
        import(&app, &worker, "?dry_run=false", ledger("", 500).into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["persons_new"], 2, "{report}");
    let id = search(&app, &worker, json!({"number": "D1"})).await["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/households/{id}");
    let tekun = |page: &Value| -> Vec<Value> {
        page["holdings"].as_array().unwrap().iter().filter(|h| h["category"] == "tekun").cloned().collect()
    };
    let today = chrono::Local::now().date_naive();
    let month_end = |d: chrono::NaiveDate| {
        let next = d.with_day(1).unwrap().checked_add_months(chrono::Months::new(1)).unwrap();
        next.pred_opt().unwrap()
    };
    let report: Value = import(&app, &worker, "?dry_run=false", ledger(&today.to_string(), 500).into_bytes())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["totals"]["persons_changed"], 1, "{report}");
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!(tekun(&page)[0]["end_date"], month_end(today).to_string(), "the death ends it: {page}");
    // The death cleared by the sheet: the category runs on, as before.
    let report: Value =
        import(&app, &worker, "?dry_run=false", ledger("", 500).into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["persons_changed"], 1, "{report}");
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!((tekun(&page).len(), &tekun(&page)[0]["end_date"]), (1, &Value::Null), "{page}");
    // A death in an earlier month, then the household read again twice with another change.
    let earlier = today.with_day(1).unwrap().checked_sub_months(chrono::Months::new(2)).unwrap();
    for income in [500, 600, 700] {
        let sheet = ledger(&earlier.to_string(), income);
        let report: Value = import(&app, &worker, "?dry_run=false", sheet.into_bytes()).await.json().await.unwrap();
        assert_eq!(report["totals"]["households_changed"], 1, "{report}");
    }
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let held = tekun(&page);
    assert_eq!(held.len(), 1, "one record of the category, no empty ones: {page}");
    assert_eq!(held[0]["end_date"], month_end(earlier).to_string(), "{page}");
}

#[tokio::test]
async fn a_disability_certificate_is_kept_encrypted_shown_masked_and_cleared_with_the_disability() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    let ledger = format!("户编号,社区代码,姓名,身份证号,与户主关系\nC1,430602001001,卫一,{},户主\n", ids[0]);
    let report: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let id = search(&app, &worker, json!({"number": "C1"})).await["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/households/{id}");
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let person = page["members"][0]["id"].as_i64().unwrap();
    let form = |kind: Option<&str>, cert: Option<&str>| {
        json!({
            "name": "卫一", "relation": "head", "marital": "married", "health": "healthy",
            "disability_kind": kind, "disability_grade": kind.map(|_| 2), "disability_cert": cert,
            "work_ability": "partial", "employment": "not_working", "schooling": "none", "monthly_income_fen": 0,
        })
    };
    let edit = format!("{path}/members/{person}");
    let certificate = format!("{} 12", ids[0].to_lowercase());
    let res = send(&app, &worker, reqwest::Method::PUT, &edit, Some(1), form(Some("physical"), Some("证-1"))).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "disability_cert");
    let res =
        send(&app, &worker, reqwest::Method::PUT, &edit, Some(1), form(Some("physical"), Some(&certificate))).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    let full = format!("{}12", ids[0].to_uppercase());
    let masked = format!("{}********{}", &full[..6], &full[full.len() - 4..]);
    assert_eq!(page["members"][0]["disability_cert_masked"], masked.as_str());
    // Absent keeps it (a save that changes nothing: the version stays); the record of the change
    // holds the masked number only.
    let res = send(&app, &worker, reqwest::Method::PUT, &edit, Some(2), form(Some("physical"), None)).await;
    assert_eq!((res.status().as_u16(), res.headers()["etag"].to_str().unwrap()), (200, "\"2\""));
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!(page["members"][0]["disability_cert_masked"], masked.as_str());
    let history: Value = app.get_as(&worker, &format!("{path}/history")).await.json().await.unwrap();
    assert!(history.to_string().contains(&masked) && !history.to_string().contains(&full), "{history}");
    // No disability, no certificate.
    let res = send(&app, &worker, reqwest::Method::PUT, &edit, Some(2), form(None, None)).await;
    assert_eq!(res.status(), 200);
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!(page["members"][0]["disability_cert_masked"], Value::Null);
    // The ledger gave no address: the household can still be edited without one.
    assert_eq!(page["address"], "");
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(3), household_form(&page, "")).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn a_member_moves_to_another_household_in_one_audited_step() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(120, 13).await;
    let mine = in_street_a(&households);
    let from = mine.iter().find(|h| h.members.len() >= 3).unwrap();
    let to = mine.iter().find(|h| h.number != from.number).unwrap();
    let b = households.iter().find(|h| h.community.as_str().starts_with("430602002")).unwrap();
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let id_of = |found: Value| found["items"][0]["id"].as_i64().unwrap();
    let from_id = id_of(search(&app, &worker, json!({"number": from.number})).await);
    let to_id = id_of(search(&app, &worker, json!({"number": to.number})).await);
    let b_id = id_of(search(&app, &district, json!({"number": b.number})).await);
    let page = |id: i64| {
        let (app, worker) = (&app, &worker);
        async move { app.get_as(worker, &format!("/api/v1/households/{id}")).await.json::<Value>().await.unwrap() }
    };
    let (before, target) = (page(from_id).await, page(to_id).await);
    let (version, to_version) = (before["version"].as_i64().unwrap(), target["version"].as_i64().unwrap());
    let head = before["members"][0]["id"].as_i64().unwrap();
    let person = before["members"][1]["id"].as_i64().unwrap();
    let body = |to: i64, version: i64, to_version: i64, relation: &str| {
        (version, json!({"to_household": to, "to_version": to_version, "relation": relation}))
    };
    let post = |person: i64, (version, body): (i64, Value)| {
        let (app, worker) = (&app, &worker);
        async move {
            let path = format!("/api/v1/households/{from_id}/members/{person}/move");
            send(app, worker, reqwest::Method::POST, &path, Some(version), body).await
        }
    };

    // The head of a household with other members cannot leave: the error names the field.
    let res = post(head, body(to_id, version, to_version, "other")).await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!((err["code"].as_str(), err["field"].as_str()), (Some("move_head"), Some("person")));
    assert!(err["message"].as_str().unwrap().contains("户主"), "{err}");
    // A relation that is not one, a stale version of either household, a target of another street.
    let res = post(person, body(to_id, version, to_version, "cousin-ish")).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "relation");
    assert_eq!(post(person, body(to_id, version - 1, to_version, "other")).await.status(), 412);
    let res = post(person, body(to_id, version, to_version + 5, "other")).await;
    assert_eq!(res.status(), 412);
    assert_eq!(res.json::<Value>().await.unwrap()["current"]["id"], to_id, "the stale target as it is now");
    assert_eq!(post(person, body(b_id, version, 1, "other")).await.status(), 404);
    // From a household of another street: 404, whatever the target's version (it read 412 with the target).
    let from_b = format!("/api/v1/households/{b_id}/members/1/move");
    let stale_target = json!({"to_household": to_id, "to_version": to_version + 5, "relation": "other"});
    assert!(b_id > to_id, "the target's version is checked first");
    let res = send(&app, &worker, reqwest::Method::POST, &from_b, Some(1), stale_target).await;
    assert_eq!(res.status(), 404);
    assert_eq!(post(person, body(from_id, version, version, "other")).await.status(), 409);
    // The target already has a head.
    let res = post(person, body(to_id, version, to_version, "head")).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "relation");

    // The refusals changed nothing; now the move itself.
    let res = post(person, body(to_id, version, to_version, "grandchild")).await;
    assert_eq!(res.status(), 200);
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved, json!({"version": version + 1, "to_version": to_version + 1}));
    let (left, joined) = (page(from_id).await, page(to_id).await);
    assert_eq!(left["version"], version + 1);
    assert_eq!(joined["version"], to_version + 1);
    assert!(left["members"].as_array().unwrap().iter().all(|m| m["id"] != person));
    assert_eq!(left["members"].as_array().unwrap().len(), before["members"].as_array().unwrap().len() - 1);
    let arrived = joined["members"].as_array().unwrap().iter().find(|m| m["id"] == person).unwrap();
    assert_eq!(arrived["relation"], "grandchild");
    // The member's own categories travelled with them.
    let held = |page: &Value| page["holdings"].as_array().unwrap().iter().filter(|h| h["person_id"] == person).count();
    assert_eq!(held(&left), 0);
    assert_eq!(held(&joined), held(&before));
    for (id, action, number) in
        [(from_id, "household.member_move_out", &to.number), (to_id, "household.member_move_in", &from.number)]
    {
        let history: Value =
            app.get_as(&worker, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
        let record = &history["records"][0];
        assert_eq!(record["action"], action);
        assert!(record["diff"].as_str().unwrap().contains(number.as_str()), "{record}");
    }
    // The old versions are stale now.
    assert_eq!(post(person, body(to_id, version, to_version, "other")).await.status(), 412);
    // A household's last member does not move out and leave it empty: that is a merge.
    let ledger = format!("户编号,社区代码,姓名,身份证号,与户主关系\nS1,430602001001,孤一,{},户主\n", ids()[3]);
    let report: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let alone = page(id_of(search(&app, &worker, json!({"number": "S1"})).await)).await;
    let path = format!("/api/v1/households/{}/members/{}/move", alone["id"], alone["members"][0]["id"]);
    let body = json!({"to_household": to_id, "to_version": to_version + 1, "relation": "parent"});
    let res = send(&app, &worker, reqwest::Method::POST, &path, alone["version"].as_i64(), body).await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!((err["code"].as_str(), err["field"].as_str()), (Some("move_last"), Some("person")), "{err}");
    assert_eq!(page(alone["id"].as_i64().unwrap()).await["members"], alone["members"]);
    // A member who has died stays in the household the death was recorded in.
    let ledger = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系,死亡日期\nS2,430602001001,存一,{},户主,\nS2,430602001001,故二,{},配偶,2026-01-05\n",
        crate::helpers::id_number(1990, 61),
        crate::helpers::id_number(1991, 72)
    );
    let report: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let pair = page(id_of(search(&app, &worker, json!({"number": "S2"})).await)).await;
    let died = pair["members"].as_array().unwrap().iter().find(|m| !m["death_date"].is_null()).unwrap();
    let path = format!("/api/v1/households/{}/members/{}/move", pair["id"], died["id"]);
    let now = page(to_id).await["version"].as_i64();
    let body = json!({"to_household": to_id, "to_version": now, "relation": "parent"});
    let res = send(&app, &worker, reqwest::Method::POST, &path, pair["version"].as_i64(), body).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "move_deceased");
    // Nor is such a member split off into a household of their own.
    let path = format!("/api/v1/households/{}/split", pair["id"]);
    let body = json!({"number": "S3", "members": [died["id"]], "head": died["id"]});
    let res = send(&app, &worker, reqwest::Method::POST, &path, pair["version"].as_i64(), body).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "move_deceased");
}

/// Each count beside a filter option equals the total the list shows when that option is chosen.
async fn assert_facets_match(app: &TestApp, who: &Session, base: Value) {
    let with = |key: &str, value: &str| {
        let mut body = base.clone();
        // A grade is a number; the counts name it as text, as every other value.
        body[key] = value.parse::<u8>().map_or(json!(value), |grade| json!(grade));
        body
    };
    let page = search(app, who, base.clone()).await;
    let facets = &page["facets"];
    // The console asks for the counts on their own, beside the page: the same counts.
    let mut paged = base.clone();
    paged["page"] = json!(2);
    let res = app.post_as(who, "/api/v1/households/facets", paged).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), *facets, "alone under {base}");
    let divisions = facets["divisions"].as_object().unwrap();
    assert_eq!(divisions.values().map(|n| n.as_i64().unwrap()).sum::<i64>(), page["total"].as_i64().unwrap(), "{base}");
    for (code, n) in divisions.iter().take(3) {
        assert!(code.starts_with(&facets["area"].as_str().unwrap()[..6]), "{code}");
        assert_eq!(search(app, who, with("division", code)).await["total"], *n, "division {code} under {base}");
    }
    let facets_of = [
        ("categories", "category"),
        ("tags", "tag"),
        ("disability_kinds", "disability_kind"),
        ("disability_grades", "disability_grade"),
        ("work_abilities", "work_ability"),
    ];
    for (facet, key) in facets_of {
        let counts = facets[facet].as_object().unwrap();
        assert!(!counts.is_empty(), "{facet} under {base}");
        for (code, n) in counts.iter().take(4) {
            assert_eq!(search(app, who, with(key, code)).await["total"], *n, "{key} {code} under {base}");
        }
    }
}

#[tokio::test]
async fn counts_per_filter_option_equal_the_lists_they_lead_to() {
    let app = TestApp::spawn().await;
    app.seed_demo(200, 17).await;
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let page = search(&app, &district, json!({})).await;
    assert_eq!(page["facets"]["area"], "430602000000");
    assert!(
        page["facets"]["divisions"].as_object().unwrap().keys().all(|k| k.ends_with("000")),
        "streets of a district"
    );
    assert_facets_match(&app, &district, json!({})).await;
    assert_facets_match(&app, &district, json!({"work_ability": "full", "age_min": 16})).await;
    // A street's list counts its communities; so does a district's list narrowed to one street.
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let page = search(&app, &worker, json!({})).await;
    assert_eq!(page["facets"]["area"], STREET_A);
    assert!(
        page["facets"]["divisions"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| k.starts_with("430602001") && !k.ends_with("000"))
    );
    assert_facets_match(&app, &worker, json!({})).await;
    let narrowed = search(&app, &district, json!({"division": STREET_A})).await;
    assert_eq!(narrowed["facets"]["divisions"], page["facets"]["divisions"]);
    // Beside the street's communities, its sibling streets are counted as without the choice.
    let whole = search(&app, &district, json!({})).await;
    assert_eq!(narrowed["facets"]["around"], whole["facets"]["divisions"], "{narrowed}");
    assert_eq!(whole["facets"]["around"], json!({}), "nothing chosen, nothing around");
    // A category filter narrows the other facets, not its own (one whose households have tags to count).
    let mut chosen = None;
    for category in page["facets"]["categories"].as_object().unwrap().keys() {
        let filtered = search(&app, &worker, json!({"category": category})).await;
        if !filtered["facets"]["tags"].as_object().unwrap().is_empty() {
            chosen = Some((category.clone(), filtered));
            break;
        }
    }
    let (category, filtered) = chosen.expect("a category held by a tagged household");
    assert_eq!(filtered["facets"]["categories"], page["facets"]["categories"]);
    assert_facets_match(&app, &worker, json!({"category": category})).await;
    // Asked not to count, the list comes alone.
    assert!(search(&app, &worker, json!({"facets": false})).await.get("facets").is_none());
}

#[tokio::test]
async fn two_moves_in_opposite_directions_at_once_end_in_one_move_and_one_stale() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(120, 19).await;
    let mut big = in_street_a(&households).into_iter().filter(|h| h.members.len() >= 2);
    let (a, b) = (big.next().unwrap(), big.next().unwrap());
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let mut pages = Vec::new();
    for h in [a, b] {
        let id = search(&app, &worker, json!({"number": h.number})).await["items"][0]["id"].as_i64().unwrap();
        pages.push(app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json::<Value>().await.unwrap());
    }
    let request = |from: &Value, to: &Value| {
        let path = format!("/api/v1/households/{}/members/{}/move", from["id"], from["members"][1]["id"]);
        let body = json!({"to_household": to["id"], "to_version": to["version"], "relation": "other"});
        let (app, worker, version) = (&app, &worker, from["version"].as_i64());
        async move { send(app, worker, reqwest::Method::POST, &path, version, body).await }
    };
    let (one, other) = tokio::join!(request(&pages[0], &pages[1]), request(&pages[1], &pages[0]));
    let mut statuses = [one.status().as_u16(), other.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "one wins, the other hears that the households changed");
}

/// Holds `category` today, itself or through a member.
fn holds(h: &Household, category: Category) -> bool {
    let today = chrono::Local::now().date_naive();
    h.categories
        .iter()
        .chain(h.members.iter().flat_map(|m| &m.categories))
        .any(|c| c.category == category && c.start <= today && c.end.is_none_or(|e| e >= today))
}

#[tokio::test]
async fn a_category_list_follows_a_household_or_member_into_another_street() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(200, 23).await;
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let street_b = &households.iter().find(|h| h.community.as_str().starts_with("430602002")).unwrap();
    let worker_a = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let worker_b = app.signed_in("street-b", &[Role::Street], "430602002000").await;
    let listed = |who: &'static str, category: &'static str| {
        let (app, who) = (&app, if who == "a" { &worker_a } else { &worker_b });
        async move {
            let page = search(app, who, json!({"category": category, "per_page": 100})).await;
            let numbers: Vec<String> =
                page["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap().to_owned()).collect();
            (page["total"].as_i64().unwrap(), numbers)
        }
    };
    let dibao = |who: &'static str| listed(who, "低保");
    let (a_before, _) = dibao("a").await;
    let (b_before, _) = dibao("b").await;

    // The district moves a 低保 household of street A to a community of street B.
    let moving = in_street_a(&households).into_iter().find(|h| holds(h, Category::Dibao)).unwrap();
    let id = search(&app, &district, json!({"number": moving.number})).await["items"][0]["id"].as_i64().unwrap();
    let page: Value = app.get_as(&district, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    let mut form = household_form(&page, "金鹗东路9号");
    form["community"] = json!(street_b.community.as_str());
    let path = format!("/api/v1/households/{id}");
    let version = page["version"].as_i64().unwrap();
    assert_eq!(send(&app, &district, reqwest::Method::PUT, &path, Some(version), form).await.status(), 200);
    let (a_after, a_numbers) = dibao("a").await;
    let (b_after, b_numbers) = dibao("b").await;
    assert_eq!((a_after, b_after), (a_before - 1, b_before + 1));
    assert!(!a_numbers.contains(&moving.number) && b_numbers.contains(&moving.number));

    // A member holding a disability subsidy in their own name joins a household of street A that holds none.
    let today = chrono::Local::now().date_naive();
    let (from, member) = households
        .iter()
        .filter(|h| !h.community.as_str().starts_with("430602001") && h.number != moving.number)
        .find_map(|h| {
            let own = |m: &zhongfu_domain::registry::Person| {
                m.relation.code() != "head"
                    && m.categories
                        .iter()
                        .any(|c| c.category == Category::DisabilityLiving && c.start <= today && c.end.is_none())
            };
            Some((h, h.members.iter().position(own)?))
        })
        .expect("seed 23 has a member outside street A with a disability subsidy of their own");
    let to = in_street_a(&households).into_iter().find(|h| !holds(h, Category::DisabilityLiving)).unwrap();
    let find = |number: &str| {
        let (app, district, number) = (&app, &district, number.to_owned());
        async move { search(app, district, json!({"number": number})).await["items"][0].clone() }
    };
    let (from_row, to_row) = (find(&from.number).await, find(&to.number).await);
    let from_page: Value =
        app.get_as(&district, &format!("/api/v1/households/{}", from_row["id"])).await.json().await.unwrap();
    let person = from_page["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == from.members[member].name.as_str())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/households/{}/members/{person}/move", from_row["id"]);
    let body = json!({"to_household": to_row["id"], "to_version": to_row["version"], "relation": "other"});
    let version = from_row["version"].as_i64();
    assert_eq!(send(&app, &district, reqwest::Method::POST, &path, version, body).await.status(), 200);
    let (_, a_numbers) = listed("a", "disability_living").await;
    assert!(a_numbers.contains(&to.number), "the member's subsidy came with them into street A");
}

/// A category list comes in the ledger's order (community, then 户编号) whichever
/// way the page is read: walked in index order (a page near the start of a long
/// list) or gathered and sorted (a later page). Ended and future holdings are
/// left out either way.
#[tokio::test]
async fn a_category_list_pages_in_the_ledgers_order() {
    let app = TestApp::spawn().await;
    let today = chrono::Local::now().date_naive();
    let mut households = demo_households(500, 31);
    // Some 低保 ended last month, some starts next month: not held today.
    let holders = households.iter_mut().filter(|h| h.categories.iter().any(|c| c.category == Category::Dibao));
    for (n, h) in holders.enumerate() {
        let held = h.categories.iter_mut().find(|c| c.category == Category::Dibao).unwrap();
        match n % 7 {
            0 => held.end = Some(today - chrono::Days::new(20)),
            1 => held.start = today + chrono::Days::new(20),
            _ => {}
        }
    }
    app.store.insert_households(&Actor::system("test"), &households).await.unwrap();
    let mut expected: Vec<&Household> = households.iter().filter(|h| holds(h, Category::Dibao)).collect();
    expected.sort_by(|a, b| (a.community.as_str(), &a.number).cmp(&(b.community.as_str(), &b.number)));
    let expected: Vec<&str> = expected.iter().map(|h| h.number.as_str()).collect();
    assert!(expected.len() >= 150, "enough 低保 households for pages read in index order ({})", expected.len());

    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let page = |body: Value| {
        let (app, district, matches) = (&app, &district, expected.len());
        async move {
            let page = search(app, district, body).await;
            assert_eq!(page["total"].as_u64().unwrap() as usize, matches);
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    // Pages of one near the start: read in index order.
    for n in 1..=3 {
        let one = page(json!({"category": "dibao", "per_page": 1, "page": n, "facets": false})).await;
        assert_eq!(one, [expected[n - 1]], "page {n} of one");
    }
    // Pages of 20: gathered and sorted.
    let mut all = Vec::new();
    for n in 1..=expected.len().div_ceil(20) {
        all.extend(page(json!({"category": "dibao", "per_page": 20, "page": n, "facets": false})).await);
    }
    assert_eq!(all, expected);
    let last = page(json!({"category": "dibao", "per_page": 1, "descending": true, "facets": false})).await;
    assert_eq!(last, [*expected.last().unwrap()]);
}

#[tokio::test]
async fn the_demo_generators_own_ledger_imports_whole_and_then_changes_nothing() {
    let app = TestApp::spawn().await;
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    let households = demo_households(1500, 11);
    // Labels with full-width brackets, such as 刑事被害人（未获赔偿）, are among them.
    assert!(households.iter().any(|h| h.tags.iter().any(|t| t.label_zh().contains('（'))));
    let mut file = Vec::new();
    zhongfu_domain::demo::write_csv_header(&mut file).unwrap();
    for h in &households {
        zhongfu_domain::demo::write_csv_household(&mut file, h).unwrap();
    }
    let persons: usize = households.iter().map(|h| h.members.len()).sum();
    let first: Value = import(&app, &district, "?dry_run=false", file.clone()).await.json().await.unwrap();
    assert_eq!(first["issues_total"], 0, "{}", first["issues"]);
    let t = &first["totals"];
    assert_eq!((t["households_new"].as_u64(), t["persons_new"].as_u64()), (Some(1500), Some(persons as u64)));
    // Members' categories come last in a batch, past the first statement of its
    // holdings (5,000 rows on PostgreSQL): each holder is found by category.
    let holds = |m: &zhongfu_domain::registry::Person, c| m.categories.iter().any(|h| h.category == c);
    for category in [Category::PremiumDibao, Category::DisabilityCare] {
        let holders = households.iter().filter(|h| h.members.iter().any(|m| holds(m, category))).count();
        assert!(holders > 50, "{holders} households hold {category:?}");
        let found = search(&app, &district, json!({"category": category.code(), "per_page": 1, "facets": false})).await;
        assert_eq!(found["total"].as_u64(), Some(holders as u64), "{category:?}");
    }
    let again: Value = import(&app, &district, "?dry_run=false", file).await.json().await.unwrap();
    let t = &again["totals"];
    assert_eq!(
        (t["households_unchanged"].as_u64(), t["households_new"].as_u64(), t["households_changed"].as_u64()),
        (Some(1500), Some(0), Some(0))
    );
}

#[tokio::test]
async fn a_street_finds_its_households_on_a_database_that_sorts_text_as_chinese() {
    // Jurisdictions and number starts are index ranges; under a linguistic
    // collation (ICU `zh`) they once came back empty on PostgreSQL.
    let app = TestApp::spawn_on(crate::helpers::TestDb::sorting_as_chinese().await, |_| {}).await;
    let households = app.seed_demo(80, 9).await;
    let mine = in_street_a(&households);
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let all = search(&app, &worker, json!({"per_page": 100})).await;
    assert_eq!(all["total"].as_i64().unwrap() as usize, mine.len());
    let community = &mine[0].number[..12];
    let want = mine.iter().filter(|h| h.number.starts_with(community)).count();
    let found = search(&app, &worker, json!({"number": community, "per_page": 100})).await;
    assert_eq!(found["total"].as_i64().unwrap() as usize, want);
    let page = search(&app, &worker, json!({"category": "低保", "per_page": 100})).await;
    assert!(page["total"].as_i64().unwrap() > 0, "the street's 低保 households are listed");
}

/// A book whose first sheet is empty: its ledger sheet is read, the dry run names the
/// book's sheets, and a sheet chosen is read as chosen (an empty one said to be empty).
#[tokio::test]
async fn an_empty_first_sheet_is_passed_over_for_the_ledger_sheet() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("community-a", &[Role::Community], "430602001001").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().set_name("说明").unwrap();
    let sheet = book.add_worksheet().set_name("花名册").unwrap();
    for (col, h) in (0u16..).zip(["姓名", "身份证号", "与户主关系"]) {
        sheet.write_string(0, col, h).unwrap();
    }
    for (col, v) in (0u16..).zip(["吴六", ids()[0].as_str(), "户主"]) {
        sheet.write_string(1, col, v).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let report: Value = import(&app, &worker, "", bytes.clone()).await.json().await.unwrap();
    assert_eq!(report["sheets"], json!(["说明", "花名册"]), "{report}");
    assert_eq!((&report["sheet"], &report["totals"]["households_new"]), (&json!("花名册"), &json!(1)), "{report}");
    let chosen = |name: &str| format!("?sheet={}", urlencoding(name));
    let report: Value = import(&app, &worker, &chosen("说明"), bytes.clone()).await.json().await.unwrap();
    assert_eq!(report["issues"][0]["code"], "empty_sheet", "{report}");
    let report: Value = import(&app, &worker, &chosen("花名册"), bytes).await.json().await.unwrap();
    assert_eq!((&report["sheet"], &report["totals"]["households_new"]), (&json!("花名册"), &json!(1)), "{report}");
}

fn urlencoding(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn a_worker_starts_corrects_ends_and_removes_a_category_on_the_household_page() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(60, 21).await;
    let mine = in_street_a(&households);
    let judicial = |held: &[zhongfu_domain::registry::Holding]| {
        held.iter().any(|g| g.category == zhongfu_domain::registry::Category::JudicialAid)
    };
    let h = mine
        .iter()
        .find(|h| {
            h.members.len() >= 2 && !judicial(&h.categories) && !h.members.iter().any(|m| judicial(&m.categories))
        })
        .unwrap();
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let other = app.signed_in("street-b", &[Role::Street], "430602002000").await;
    let id = search(&app, &worker, json!({"number": h.number})).await["items"][0]["id"].as_i64().unwrap();
    let page = || {
        let (app, worker) = (&app, &worker);
        async move { app.get_as(worker, &format!("/api/v1/households/{id}")).await.json::<Value>().await.unwrap() }
    };
    let listed = |category: &'static str| {
        let (app, worker, number) = (&app, &worker, h.number.clone());
        async move { search(app, worker, json!({"number": number, "category": category})).await["total"].clone() }
    };
    let before = page().await;
    let version = before["version"].as_i64().unwrap();
    let held = |p: &Value| p["holdings"].as_array().unwrap().clone();
    let path = format!("/api/v1/households/{id}/holdings");
    assert_eq!(listed("judicial_aid").await, 0);

    // Bad input names its field; nothing is written.
    for (body, field) in [
        (json!({"category": "not-a-category", "start_date": "2026-01-01"}), "category"),
        (json!({"category": "国家司法救助", "start_date": "2026/01/01"}), "start_date"),
        (json!({"category": "国家司法救助", "start_date": "2026-03-01", "end_date": "2026-02-01"}), "end_date"),
        (json!({"category": "国家司法救助", "start_date": "20255-01-01"}), "start_date"),
    ] {
        let res = send(&app, &worker, reqwest::Method::POST, &path, Some(version), body).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await.unwrap()["field"], field);
    }
    // A member of another household, a stale version, a worker of another street.
    let body = json!({"category": "judicial_aid", "start_date": "2026-01-01", "person_id": 999_999});
    assert_eq!(send(&app, &worker, reqwest::Method::POST, &path, Some(version), body).await.status(), 404);
    let body = json!({"category": "judicial_aid", "start_date": "2026-01-01"});
    assert_eq!(send(&app, &worker, reqwest::Method::POST, &path, Some(version - 1), body.clone()).await.status(), 412);
    assert_eq!(send(&app, &other, reqwest::Method::POST, &path, Some(version), body.clone()).await.status(), 404);
    assert_eq!(page().await["version"], version, "the refusals changed nothing");

    // Started by its Chinese name: the household holds it, the list finds it.
    let body = json!({"category": "国家司法救助", "start_date": "2026-01-01"});
    let res = send(&app, &worker, reqwest::Method::POST, &path, Some(version), body).await;
    assert_eq!(res.status(), 200);
    let after = page().await;
    assert_eq!(after["version"], version + 1);
    let added = held(&after).into_iter().find(|g| g["category"] == "judicial_aid").unwrap();
    assert_eq!((added["person_id"].clone(), added["start_date"].clone()), (Value::Null, json!("2026-01-01")));
    assert_eq!(listed("judicial_aid").await, 1);
    // The same category again for a day it already runs: refused, naming the start date.
    let body = json!({"category": "judicial_aid", "start_date": "2026-06-01"});
    let res = send(&app, &worker, reqwest::Method::POST, &path, Some(version + 1), body).await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!((err["code"].as_str(), err["field"].as_str()), (Some("holding_overlap"), Some("start_date")), "{err}");

    // Ended at the end of February: no longer listed today; it may start again from March.
    let one = format!("{path}/{}", added["id"]);
    // An edit changes the dates only: a category or holder sent with it is refused, not ignored.
    for (body, field) in [
        (json!({"start_date": "2026-01-01", "category": "dibao"}), "category"),
        (json!({"start_date": "2026-01-01", "person_id": 1}), "person_id"),
    ] {
        let res = send(&app, &worker, reqwest::Method::PUT, &one, Some(version + 1), body).await;
        assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!(field)));
    }
    let body = json!({"start_date": "2026-01-01", "end_date": "2026-02-28"});
    assert_eq!(send(&app, &worker, reqwest::Method::PUT, &one, Some(version + 1), body).await.status(), 200);
    assert_eq!(listed("judicial_aid").await, 0);
    let body = json!({"category": "judicial_aid", "start_date": "2026-03-01"});
    assert_eq!(send(&app, &worker, reqwest::Method::POST, &path, Some(version + 2), body).await.status(), 200);
    assert_eq!(listed("judicial_aid").await, 1);
    // A member's own category, then removed as a mistake.
    let member = after["members"][1]["id"].as_i64().unwrap();
    let body = json!({"category": "disability_rehab", "start_date": "2026-02-01", "person_id": member});
    assert_eq!(send(&app, &worker, reqwest::Method::POST, &path, Some(version + 3), body).await.status(), 200);
    let now = page().await;
    let theirs = held(&now)
        .into_iter()
        .find(|g| g["person_id"] == member && g["category"] == "disability_rehab" && g["start_date"] == "2026-02-01")
        .unwrap();
    let gone = format!("{path}/{}", theirs["id"]);
    assert_eq!(send(&app, &other, reqwest::Method::DELETE, &gone, Some(version + 4), json!({})).await.status(), 404);
    assert_eq!(send(&app, &worker, reqwest::Method::DELETE, &gone, Some(version + 4), json!({})).await.status(), 200);
    let last = page().await;
    assert!(!held(&last).iter().any(|g| g["id"] == theirs["id"]));
    assert_eq!(held(&last).len(), held(&before).len() + 2);

    // Each step is in the household's history, newest first, with the dates it changed.
    let history: Value = app.get_as(&worker, &format!("/api/v1/households/{id}/history")).await.json().await.unwrap();
    let actions: Vec<&str> =
        history["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions[..5],
        [
            "household.holding_remove",
            "household.holding_add",
            "household.holding_add",
            "household.holding_update",
            "household.holding_add"
        ]
    );
    let update: Value = serde_json::from_str(history["records"][3]["diff"].as_str().unwrap()).unwrap();
    assert_eq!(update["end_date"], json!([null, "2026-02-28"]), "{update}");
    assert_eq!(update["category"], "judicial_aid");
}

#[tokio::test]
async fn the_housing_condition_is_kept_edited_cleared_and_imported() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    // A ledger with a 住房状况 column (a synonym): one household poor, one with a value nobody knows.
    let ledger = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系,住房状况\nH1,430602001001,甲,{},户主,较差\nH2,430602001001,乙,{},户主,破旧\n",
        ids[0], ids[2]
    );
    let report: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(report["columns"][5]["field"], "housing_condition", "{report}");
    let issue = &report["issues"][0];
    assert_eq!(
        (&issue["row"], &issue["code"], &report["totals"]["households_new"]),
        (&json!(3), &json!("unknown_value"), &json!(1))
    );
    assert!(issue["message_zh"].as_str().unwrap().contains("一般"), "the allowed values are named: {issue}");
    let id = search(&app, &worker, json!({"number": "H1"})).await["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/households/{id}");
    let page = || {
        let (app, worker, path) = (&app, &worker, &path);
        async move { app.get_as(worker, path).await.json::<Value>().await.unwrap() }
    };
    let before = page().await;
    assert_eq!(before["housing_condition"], "poor");
    // An edit that does not name it keeps it; a value sets it; "" clears it; an unknown one is refused.
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), household_form(&before, "湖滨路1号")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(page().await["housing_condition"], "poor");
    let mut form = household_form(&before, "湖滨路1号");
    form["housing_condition"] = json!("fair");
    assert_eq!(send(&app, &worker, reqwest::Method::PUT, &path, Some(2), form.clone()).await.status(), 200);
    assert_eq!(page().await["housing_condition"], "fair");
    form["housing_condition"] = json!("shabby");
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(3), form.clone()).await;
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()),
        (400, json!("housing_condition"))
    );
    form["housing_condition"] = json!("");
    assert_eq!(send(&app, &worker, reqwest::Method::PUT, &path, Some(3), form).await.status(), 200);
    assert_eq!(page().await["housing_condition"], Value::Null);
    let history: Value = app.get_as(&worker, &format!("{path}/history")).await.json().await.unwrap();
    let diff = history["records"][1]["diff"].as_str().unwrap();
    assert!(diff.contains(r#""housing_condition":["poor","fair"]"#), "{diff}");
}

#[tokio::test]
async fn a_ledger_says_when_each_category_began() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    // The head's row lists the household's 低保 and her own 高龄津贴 from March 2024; the
    // spouse's 残疾人护理补贴 from a date cell's text; another household's date does not read.
    let ledger = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系,家庭救助类别,个人救助类别,纳入时间\n\
         Q1,430602001001,甲,{},户主,低保,高龄津贴,2024-03-01\n\
         Q1,430602001001,乙,{},配偶,,重度残疾人护理补贴,2025年7月1日\n\
         Q2,430602001001,丙,{},户主,低保,,去年\n",
        ids[0], ids[1], ids[2]
    );
    let report: Value =
        import(&app, &worker, "?dry_run=false", ledger.clone().into_bytes()).await.json().await.unwrap();
    assert_eq!(report["columns"][7]["field"], "category_start", "{report}");
    let issue = &report["issues"][0];
    assert_eq!((&issue["row"], &issue["field"]), (&json!(4), &json!("category_start")), "{report}");
    assert_eq!((&report["totals"]["households_new"], &report["totals"]["households_rejected"]), (&json!(1), &json!(1)));
    let id = search(&app, &worker, json!({"number": "Q1"})).await["items"][0]["id"].as_i64().unwrap();
    let page: Value = app.get_as(&worker, &format!("/api/v1/households/{id}")).await.json().await.unwrap();
    let start = |category: &str| {
        let held = page["holdings"].as_array().unwrap().iter().find(|h| h["category"] == category).unwrap();
        held["start_date"].as_str().unwrap().to_owned()
    };
    assert_eq!(start("dibao"), "2024-03-01");
    assert_eq!(start("elderly_allowance"), "2024-03-01");
    assert_eq!(start("disability_care"), "2025-07-01");
    // The same sheet again changes nothing: the categories keep their starts.
    let again: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(again["totals"]["households_unchanged"], 1, "{again}");
}

#[tokio::test]
async fn a_households_own_income_counts_in_its_per_capita_income_and_its_lists() {
    let app = TestApp::spawn().await;
    app.seed_demo(20, 3).await;
    let district = app.signed_in("district", &[Role::District], "430602000000").await;
    app.sweep(&district).await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let ids = ids();
    // No member earns; the family's shop and a son's support (赡养费) do: 1,700 yuan for two.
    let ledger = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系,月收入(元),经营净收入(元),赡养费\n\
         N1,430602001001,甲,{},户主,0,\"1,500\",\nN1,430602001001,乙,{},配偶,0,,200\n",
        ids[0], ids[1]
    );
    let report: Value = import(&app, &worker, "?dry_run=false", ledger.into_bytes()).await.json().await.unwrap();
    assert_eq!(
        (&report["columns"][6]["field"], &report["columns"][7]["field"]),
        (&json!("business_income"), &json!("transfer_income")),
        "{report}"
    );
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let found = search(&app, &worker, json!({"number": "N1"})).await;
    let row = &found["items"][0];
    assert_eq!((&row["monthly_income_fen"], &row["per_capita_income_fen"]), (&json!(170_000), &json!(85_000)));
    let under_line = search(&app, &worker, json!({"number": "N1", "income_max": 80_000})).await;
    assert_eq!(under_line["total"], 0, "the per-capita filter counts the household's own income");
    let dibao = |rows: Vec<(String, String, Value)>| rows.iter().any(|(p, k, _)| p == "dibao" && k == "missing");
    assert!(!dibao(rows_of(&app, &district, "N1").await), "85,000 fen a head is over the 76,000 line");

    let id = row["id"].as_i64().unwrap();
    let path = format!("/api/v1/households/{id}");
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!(
        page["income_items"],
        json!([{"kind": "business", "monthly_fen": 150_000}, {"kind": "transfer", "monthly_fen": 20_000}])
    );
    // Refused: a kind nobody knows, a kind twice, a negative amount; the field is named.
    for items in [
        json!([{"kind": "lottery", "monthly_fen": 1}]),
        json!([{"kind": "other", "monthly_fen": 1}, {"kind": "other", "monthly_fen": 2}]),
        json!([{"kind": "other", "monthly_fen": -1}]),
        json!([{"kind": "other", "monthly_fen": 100_000_000_001_i64}]),
    ] {
        let mut form = household_form(&page, "湖滨路1号");
        form["income_items"] = items;
        let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), form).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await.unwrap()["field"], "income_items");
    }
    // Assets past the same bound are refused the same way.
    let mut form = household_form(&page, "湖滨路1号");
    form["assets_fen"] = json!(100_000_000_001_i64);
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), form).await;
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()),
        (400, json!("assets_fen"))
    );
    // An edit that leaves them out keeps them; the shop closes: the support alone is left.
    let res = send(&app, &worker, reqwest::Method::PUT, &path, Some(1), household_form(&page, "湖滨路1号")).await;
    assert_eq!(res.status(), 200);
    let mut form = household_form(&page, "湖滨路1号");
    form["income_items"] = json!([{"kind": "business", "monthly_fen": 0}, {"kind": "transfer", "monthly_fen": 20_000}]);
    assert_eq!(send(&app, &worker, reqwest::Method::PUT, &path, Some(2), form.clone()).await.status(), 200);
    let page: Value = app.get_as(&worker, &path).await.json().await.unwrap();
    assert_eq!(page["income_items"], json!([{"kind": "transfer", "monthly_fen": 20_000}]));
    // 10,000 fen a head, but the sheet had no assets column: 低保 cannot decide, and says why.
    let rows = rows_of(&app, &district, "N1").await;
    let why = rows.iter().find(|r| r.0 == "dibao" && r.1 == "unknown").map(|r| r.2.to_string());
    assert!(why.as_deref().is_some_and(|w| w.contains("家庭财产未登记")), "{rows:?}");
    // The worker records the assets (none): the lists follow in the same request.
    form["assets_unrecorded"] = json!(false);
    assert_eq!(send(&app, &worker, reqwest::Method::PUT, &path, Some(3), form).await.status(), 200);
    assert!(dibao(rows_of(&app, &district, "N1").await));
    let history: Value = app.get_as(&worker, &format!("{path}/history")).await.json().await.unwrap();
    let diff = history["records"][1]["diff"].as_str().unwrap();
    assert!(diff.contains(r#""income_items":["business:150000,transfer:20000","transfer:20000"]"#), "{diff}");
}

#[tokio::test]
async fn a_workbook_opening_on_a_sheet_of_notes_is_read_from_its_ledger_sheet() {
    let app = TestApp::spawn().await;
    let worker = app.signed_in("street-a", &[Role::Street], STREET_A).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let notes = book.add_worksheet().set_name("填表说明").unwrap();
    notes.write_string(0, 0, "请按下表填写，身份证号列设为文本").unwrap();
    notes.write_string(1, 0, "一户多人时，户编号相同").unwrap();
    let ledger = book.add_worksheet().set_name("台账").unwrap();
    for (col, h) in (0u16..).zip(["户编号", "社区代码", "姓名", "身份证号", "与户主关系"]) {
        ledger.write_string(0, col, h).unwrap();
    }
    for (col, v) in (0u16..).zip(["N1", "430602001001", "陈九", ids()[2].as_str(), "户主"]) {
        ledger.write_string(1, col, v).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let report: Value = import(&app, &worker, "", bytes.clone()).await.json().await.unwrap();
    assert_eq!(report["sheet"], "台账", "{report}");
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    // The error report reads the same sheet.
    let res = error_report(&app, &worker, bytes).await;
    assert_eq!(res.status(), 200);
}
