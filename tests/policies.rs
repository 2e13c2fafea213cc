//! The policy catalogue and the 政策找人 sweep, through the API.

use reqwest::Method;
use serde_json::{Value, json};
use zhongfu_domain::identity::Role;

use chrono::Datelike;
use zhongfu_domain::registry::{Household, Tag};
use zhongfu_domain::{Fen, IdNumber};
use zhongfu_store::Actor;
use zhongfu_store::identity::{NewUnit, UnitKind};

use crate::helpers::{Session, TestApp, send};

const DISTRICT: &str = "430602000000";

async fn dibao(app: &TestApp, session: &crate::helpers::Session) -> Value {
    let list: Value = app.get_as(session, "/api/v1/policies").await.json().await.unwrap();
    list["items"].as_array().unwrap().iter().find(|p| p["active"]["definition"]["code"] == "dibao").unwrap().clone()
}

#[tokio::test]
async fn a_draft_is_checked_and_published_only_by_another_account() {
    let app = TestApp::spawn().await;
    let maker = app.signed_in("maker", &[Role::District], DISTRICT).await;
    let checker = app.signed_in("checker", &[Role::District], DISTRICT).await;
    let entry = dibao(&app, &maker).await;
    let id = entry["policy_id"].as_i64().unwrap();
    let mut def = entry["active"]["definition"].clone();
    let draft_path = format!("/api/v1/policies/{id}/draft");
    // A misspelt field: refused with its position.
    def["condition"] = json!("per_capita_incom < params.dibao_line");
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": def })).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["field"], "condition", "{err}");
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("第 1 行第 1 列") && msg.contains("per_capita_incom"), "{msg}");
    // While typing: the problem and its position, without saving.
    let typed: Value =
        app.post_as(&maker, "/api/v1/policies/check", json!({ "definition": def })).await.json().await.unwrap();
    assert_eq!((typed["ok"].as_bool(), typed["problem"]["line"].as_i64()), (Some(false), Some(1)), "{typed}");
    assert_eq!(typed["problem"]["column"], 1);
    // A rule the engine leaves to the interpreter says so, in both languages.
    let mut double = def.clone();
    double["condition"] = json!("per_capita_income < 76000.0");
    let typed: Value =
        app.post_as(&maker, "/api/v1/policies/check", json!({ "definition": double })).await.json().await.unwrap();
    let (zh, en) = (typed["interpreted"].as_str().unwrap_or(""), typed["interpreted_en"].as_str().unwrap_or(""));
    assert!(typed["ok"] == true && zh.starts_with("规则引擎") && en.starts_with("the engine"), "{typed}");
    // A value of the wrong shape is named by its path.
    let mut odd = def.clone();
    odd["level"] = json!("family");
    let res = app.post_as(&maker, "/api/v1/policies", json!({ "definition": odd })).await;
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "definition.level");
    let res = app.post_as(&maker, "/api/v1/policies", json!({ "definition": { "code": "x" } })).await;
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "definition.name");
    // A field the definition does not have (a misspelt 渐退期) is refused by name, not dropped.
    let mut misspelt = def.clone();
    misspelt["condition"] = json!("per_capita_income < params.dibao_line");
    misspelt["taper_month"] = json!(6);
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": misspelt })).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("没有字段 taper_month"), "{err}");
    let drafts: Value = app.get_as(&maker, "/api/v1/policies").await.json().await.unwrap();
    let entry = drafts["items"].as_array().unwrap().iter().find(|p| p["policy_id"] == id).unwrap();
    assert!(entry["draft"].is_null(), "nothing was saved: {entry}");
    // A policy cannot end before it begins.
    let mut backwards = def.clone();
    backwards["effective_to"] = json!("2000-01-01");
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": backwards })).await;
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()),
        (400, json!("effective_to"))
    );
    let err: Value = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": backwards }))
        .await
        .json()
        .await
        .unwrap();
    // A field that is not a rule is named as the editor labels it, without a rule's line and column.
    assert!(
        err["message"].as_str().unwrap().starts_with("失效日期：") && !err["message"].as_str().unwrap().contains("行")
    );
    // The form's limits hold for the API too: a code is letters, digits, _ and -; a name fits a line.
    for (field, value) in [
        ("code", json!("测 试;drop")),
        ("name", json!("长".repeat(61))),
        ("basis", json!("x".repeat(501))),
        // A year no policy was or will be in force.
        ("effective_from", json!("1899-12-31")),
        ("effective_to", json!("2101-01-01")),
    ] {
        let mut odd = def.clone();
        odd[field] = value;
        let res = app.post_as(&maker, "/api/v1/policies", json!({ "definition": odd })).await;
        assert_eq!(res.status(), 400, "{field}");
        assert_eq!(res.json::<Value>().await.unwrap()["field"], field);
    }
    // A date not written YYYY-MM-DD (chrono alone reads signs, five digits and 2026-1-5).
    for (field, value) in
        [("effective_from", "-0001-01-01"), ("effective_to", "+12026-01-01"), ("effective_from", "2026-1-5")]
    {
        let mut odd = def.clone();
        odd[field] = json!(value);
        let res = app.post_as(&maker, "/api/v1/policies", json!({ "definition": odd })).await;
        assert_eq!(res.status(), 422, "{value}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], format!("definition.{field}"), "{body}");
        assert!(body["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{body}");
    }
    // A rule only the interpreter could run, and it can't: refused where it is written.
    let mut bad = def.clone();
    bad["condition"] = json!("size >= 1 && members.exists(m, m.sex.matches('('))");
    let typed: Value =
        app.post_as(&maker, "/api/v1/policies/check", json!({ "definition": bad })).await.json().await.unwrap();
    assert_eq!((typed["ok"].as_bool(), typed["problem"]["column"].as_i64()), (Some(false), Some(38)), "{typed}");
    // A form wrong in four places names all four, in the form's order, when checked and when saved.
    let mut wrong = bad.clone();
    wrong["code"] = json!("低保 2");
    wrong["name"] = json!(" ");
    wrong["taper_months"] = json!(99);
    let fields = ["code", "name", "taper_months", "condition"];
    let typed: Value =
        app.post_as(&maker, "/api/v1/policies/check", json!({ "definition": wrong })).await.json().await.unwrap();
    let named: Vec<&str> = typed["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
    assert_eq!((named, &typed["problem"]["field"]), (fields.to_vec(), &json!("code")), "{typed}");
    assert_eq!(typed["problems"][3]["column"], 38, "{typed}");
    let res = app.post_as(&maker, "/api/v1/policies", json!({ "definition": wrong })).await;
    assert_eq!(res.status(), 400);
    let refused: Value = res.json().await.unwrap();
    let named: Vec<&str> = refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(named, fields, "{refused}");
    // No category chosen for it to record: asked for, not called an unknown category "";
    // the rule is still checked.
    wrong["records"] = json!("");
    let typed: Value =
        app.post_as(&maker, "/api/v1/policies/check", json!({ "definition": wrong })).await.json().await.unwrap();
    let problem = |field: &str| typed["problems"].as_array().unwrap().iter().find(|p| p["field"] == field).cloned();
    assert_eq!(problem("records").map(|p| p["message_zh"].clone()), Some(json!("必填")), "{typed}");
    assert_eq!(problem("condition").map(|p| p["column"].clone()), Some(json!(38)), "{typed}");
    // A second policy in force recording 低保 as received is refused: each would list the other's recipients.
    let mut copy = def.clone();
    copy["code"] = json!("dibao_copy");
    copy["condition"] = json!("size >= 1");
    let res = app.post_as(&maker, "/api/v1/policies", json!({ "definition": copy })).await;
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["field"], "records", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("最低生活保障") || err["message"].as_str().unwrap().contains("低保"),
        "{err}"
    );
    // The version in force saved as it is makes no draft for a checker to review.
    let unchanged = entry["active"]["definition"].clone();
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": unchanged })).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["code"].clone()), (409, json!("unchanged")));
    let versions: Value = app.get_as(&maker, &format!("/api/v1/policies/{id}")).await.json().await.unwrap();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1, "{versions}");
    // A rule far longer than any of the catalogue's is refused, naming it.
    let mut long = def.clone();
    long["condition"] = json!(format!("size in [{}]", (0..2000).map(|n| n.to_string()).collect::<Vec<_>>().join(",")));
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": long })).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("condition")));
    // A policy keeps its code.
    let mut renamed = def.clone();
    renamed["code"] = json!("dibao2");
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": renamed })).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("code")));
    // Fixed: a draft, not yet active.
    def["condition"] =
        json!("per_capita_income < params.dibao_line && assets <= params.dibao_assets_per_person * size");
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": def })).await;
    assert_eq!(res.status(), 200);
    let draft: Value = res.json().await.unwrap();
    assert_eq!((draft["status"].as_str(), draft["version"].as_i64()), (Some("draft"), Some(2)));
    let version = draft["id"].as_i64().unwrap();
    // Saved again unchanged: the same draft, not a third version.
    let again: Value =
        send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": def })).await.json().await.unwrap();
    assert_eq!((again["id"].as_i64(), again["version"].as_i64()), (Some(version), Some(2)));
    // Maker ≠ checker.
    let own = app.post_as(&maker, &format!("/api/v1/policy-versions/{version}/publish"), json!({})).await;
    assert_eq!(own.status(), 409);
    // Publishing starts a sweep, so the lists follow the version now in force.
    let mut before = None;
    for _ in 0..600 {
        before = last_finished(&app, &checker).await;
        if before.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // finished_at is to the second
    let published = app.post_as(&checker, &format!("/api/v1/policy-versions/{version}/publish"), json!({})).await;
    assert_eq!(published.status(), 200);
    let mut after = None;
    for _ in 0..600 {
        after = last_finished(&app, &checker).await.filter(|f| Some(f) != before.as_ref());
        if after.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(after.is_some(), "no sweep followed the publication (last finished {before:?})");
    let detail: Value = app.get_as(&maker, &format!("/api/v1/policies/{id}")).await.json().await.unwrap();
    let statuses: Vec<&str> =
        detail["versions"].as_array().unwrap().iter().map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["superseded", "active"], "the old version stays for the record");
    // Who drafted and who published, told apart by their logins.
    let active = &detail["versions"][1];
    assert!(active["drafted_by_name"].as_str().unwrap().ends_with("（maker）"), "{active}");
    assert!(active["approved_by_name"].as_str().unwrap().ends_with("（checker）"), "{active}");
    let again = app.post_as(&checker, &format!("/api/v1/policy-versions/{version}/publish"), json!({})).await;
    assert_eq!(again.status(), 409);
    assert!(again.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("已发布"));
    // Who changed what is in the audit trail.
    let log = crate::helpers::raw_text(&app.db_url(), "SELECT actor_name, action FROM audit_log ORDER BY seq").await;
    assert!(
        log.contains("maker")
            && log.contains("policy.draft")
            && log.contains("checker")
            && log.contains("policy.publish"),
        "{log}"
    );
    // A street worker can read the catalogue but not draft.
    let street = app.signed_in("street-a", &[Role::Street], "430602001000").await;
    let res = send(&app, &street, Method::PUT, &draft_path, None, json!({ "definition": def })).await;
    assert_eq!(res.status(), 403);
    // A checker turns a draft down, saying why; it stays for the record as discarded.
    def["basis"] = json!("岳政发〔2026〕1号");
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": def })).await;
    let draft = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let discard = format!("/api/v1/policy-versions/{draft}/discard");
    let res = app.post_as(&checker, &discard, json!({ "reason": " " })).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("reason")));
    assert_eq!(app.post_as(&checker, &discard, json!({ "reason": "文号有误" })).await.status(), 204);
    assert_eq!(
        app.post_as(&checker, &discard, json!({ "reason": "文号有误" })).await.status(),
        404,
        "no longer a draft"
    );
    let detail: Value = app.get_as(&maker, &format!("/api/v1/policies/{id}")).await.json().await.unwrap();
    let statuses: Vec<&str> =
        detail["versions"].as_array().unwrap().iter().map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["superseded", "active", "discarded"]);
    let filter =
        zhongfu_store::identity::AuditFilter { action: Some("policy.discard".into()), limit: 5, ..Default::default() };
    let trail = app.store.audit_page(&filter).await.unwrap();
    assert!(trail.records.len() == 1 && trail.records[0].diff.contains("文号有误"), "{:?}", trail.records);
    assert_eq!(app.post_as(&street, &discard, json!({ "reason": "x" })).await.status(), 403);
    // A checker publishing a draft its maker has since replaced is told which one to review.
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": def })).await;
    let reviewed = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    def["basis"] = json!("岳政发〔2026〕2号");
    let res = send(&app, &maker, Method::PUT, &draft_path, None, json!({ "definition": def })).await;
    let newer = res.json::<Value>().await.unwrap()["version"].as_i64().unwrap();
    let res = app.post_as(&checker, &format!("/api/v1/policy-versions/{reviewed}/publish"), json!({})).await;
    assert_eq!(res.status(), 409);
    let msg = res.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_owned();
    assert!(msg.contains(&format!("第 {newer} 版")), "{msg}");
}

#[tokio::test]
async fn the_sweep_lists_both_kinds_within_scope_and_keeps_up_with_edits() {
    let app = TestApp::spawn().await;
    app.seed_demo(400, 21).await;
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    let status = app.sweep(&district).await;
    assert!(status["households"].as_u64().unwrap() >= 400, "{status}");
    // Who ran it, as of which day, is in the audit trail.
    let filter =
        zhongfu_store::identity::AuditFilter { action: Some("sweep.start".into()), limit: 5, ..Default::default() };
    let trail = app.store.audit_page(&filter).await.unwrap();
    assert_eq!(trail.records.len(), 1);
    assert_eq!(trail.records[0].actor_name, "district-officer");
    assert!(trail.records[0].diff.contains(&status["as_of"].as_str().unwrap().to_owned()), "{:?}", trail.records[0]);
    let entry = dibao(&app, &district).await;
    let id = entry["policy_id"].as_i64().unwrap();
    let list = |session, kind: &'static str| {
        let app = &app;
        async move {
            let body = json!({ "policy_id": id, "kind": kind, "limit": 200 });
            app.post_as(session, "/api/v1/sweep/results", body).await.json::<Value>().await.unwrap()
        }
    };
    let missing = list(&district, "missing").await;
    let stale = list(&district, "stale").await;
    assert!(missing["total"].as_u64().unwrap() > 0 && stale["total"].as_u64().unwrap() > 0, "{missing} {stale}");
    // The counts per street are the chosen policy's; those per policy, every policy's.
    let per_street =
        |kind: &str| missing["by_street"].as_array().unwrap().iter().map(|s| s[kind].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        (per_street("missing"), per_street("stale")),
        (missing["total"].as_u64().unwrap(), stale["total"].as_u64().unwrap())
    );
    assert!(missing["by_policy"].as_array().unwrap().len() > 1);
    // Per community too: each street's count is its communities' sum, and a
    // community's count is the rows of the list narrowed to it.
    for street in missing["by_street"].as_array().unwrap() {
        let prefix = &street["code"].as_str().unwrap()[..9];
        let communities: Vec<&Value> = missing["by_community"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["code"].as_str().unwrap().starts_with(prefix))
            .collect();
        assert_eq!(
            communities.iter().map(|c| c["missing"].as_u64().unwrap()).sum::<u64>(),
            street["missing"].as_u64().unwrap()
        );
    }
    let community = &missing["by_community"][0];
    let body = json!({ "policy_id": id, "kind": "missing", "area": community["code"], "limit": 1 });
    let narrowed: Value = app.post_as(&district, "/api/v1/sweep/results", body).await.json().await.unwrap();
    assert_eq!(narrowed["total"], community["missing"], "{community}");
    // What qualifying brings: on an 应享未享 row, nothing below zero; none on an 应退未退 row.
    assert!(missing["items"].as_array().unwrap().iter().any(|r| r["benefit_fen"].as_i64().is_some_and(|b| b > 0)));
    assert!(missing["items"].as_array().unwrap().iter().all(|r| r["benefit_fen"].as_i64().is_none_or(|b| b >= 0)));
    assert!(stale["items"].as_array().unwrap().iter().all(|r| r["benefit_fen"].is_null()), "{stale}");
    let row = &stale["items"][0];
    // The condition that fails, with the values that fail it.
    let failing = row["conditions"].as_array().unwrap().iter().find(|c| c["holds"] == false).unwrap();
    assert_eq!(row["reason"], failing["detail"], "{row}");
    assert!(row["reason"].as_str().unwrap().contains("params."), "{row}");
    assert!(row["id_masked"].as_str().unwrap().contains("********"), "{row}");
    // A street sees only its own rows.
    let street = app.signed_in("street-a", &[Role::Street], "430602001000").await;
    let theirs = list(&street, "stale").await;
    assert!(theirs["total"].as_u64().unwrap() < stale["total"].as_u64().unwrap());
    for r in theirs["items"].as_array().unwrap() {
        assert!(r["community"].as_str().unwrap().starts_with("430602001"), "{r}");
    }
    // Dismissed with a reason: gone from the list until the household changes.
    let household = row["household_id"].as_i64().unwrap();
    let dismiss = json!({ "policy_id": id, "household_id": household, "kind": "stale", "status": "dismissed" });
    assert_eq!(
        app.post_as(&district, "/api/v1/sweep/marks", dismiss.clone()).await.status(),
        400,
        "a reason is required"
    );
    // Only a row on the lists can be marked, as what it is listed as, at its policy's level.
    let mut as_missing = dismiss.clone();
    as_missing["kind"] = json!("missing");
    as_missing["reason"] = json!("核实");
    let res = app.post_as(&district, "/api/v1/sweep/marks", as_missing.clone()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "kind");
    let mut with_member = dismiss.clone();
    with_member["person_id"] = json!(999_999);
    with_member["reason"] = json!("核实");
    let res = app.post_as(&district, "/api/v1/sweep/marks", with_member).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "person_id");
    let mut with_reason = dismiss.clone();
    with_reason["reason"] = json!("渐退期内");
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", with_reason.clone()).await.status(), 204);
    // The same mark again changes nothing, and the audit trail does not say it did.
    let history = format!("/api/v1/households/{household}/history");
    let records = |v: Value| v["records"].as_array().unwrap().len();
    let before = records(app.get_as(&district, &history).await.json().await.unwrap());
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", with_reason).await.status(), 204);
    assert_eq!(records(app.get_as(&district, &history).await.json().await.unwrap()), before);
    let after = list(&district, "stale").await;
    assert_eq!(after["total"].as_u64().unwrap() + 1, stale["total"].as_u64().unwrap());
    assert!(!after["items"].as_array().unwrap().iter().any(|r| r["household_id"] == household));
    // An edit re-evaluates the household at once: it changed, so it shows again.
    let page: Value = app.get_as(&district, &format!("/api/v1/households/{household}")).await.json().await.unwrap();
    let version = page["version"].as_i64().unwrap();
    let form = json!({ "community": page["community"], "address": "新地址 1 号", "phone": null,
        "registration": page["registration"], "tenure": page["tenure"], "dangerous_housing": page["dangerous_housing"],
        "assets_fen": page["assets_fen"], "tags": page["tags"] });
    let res = send(&app, &district, Method::PUT, &format!("/api/v1/households/{household}"), Some(version), form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let back = list(&district, "stale").await;
    let again = back["items"].as_array().unwrap().iter().find(|r| r["household_id"] == household);
    let again = again.expect("shown again after the edit");
    assert!(again["mark"].is_null() && again["mark_reason"].is_null(), "no longer dismissed: {again}");
    // A proposal is taken back in one more step, and only a proposal.
    let mark_of = |v: Value| v["items"].as_array().unwrap().iter().find(|r| r["household_id"] == household).cloned();
    let (mut propose, mut withdraw) = (dismiss.clone(), dismiss.clone());
    propose["status"] = json!("proposed");
    withdraw["status"] = json!("withdrawn");
    assert_eq!(
        app.post_as(&district, "/api/v1/sweep/marks", withdraw.clone()).await.status(),
        404,
        "nothing to withdraw"
    );
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", propose).await.status(), 204);
    assert_eq!(mark_of(list(&district, "stale").await).unwrap()["mark"], "proposed");
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", withdraw.clone()).await.status(), 204);
    assert!(mark_of(list(&district, "stale").await).unwrap()["mark"].is_null());
    let trail: Value = app.get_as(&district, &history).await.json().await.unwrap();
    assert!(trail["records"][0]["diff"].as_str().unwrap().contains(r#""status":["proposed",null]"#), "{trail}");
    // So is a dismissal, audited as such: the row is back on the list unmarked.
    let mut dismissed = dismiss.clone();
    dismissed["reason"] = json!("已核实");
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", dismissed).await.status(), 204);
    assert!(mark_of(list(&district, "stale").await).is_none(), "a dismissed row leaves the list");
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", withdraw).await.status(), 204);
    assert!(mark_of(list(&district, "stale").await).unwrap()["mark"].is_null());
    let trail: Value = app.get_as(&district, &history).await.json().await.unwrap();
    assert!(trail["records"][0]["diff"].as_str().unwrap().contains(r#""status":["dismissed",null]"#), "{trail}");
    // Export: masked IDs only, under a header that says the filter in words.
    let res = app.post_as(&district, "/api/v1/sweep/export", json!({ "policy_id": id, "kind": "missing" })).await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"));
    let header = crate::registry::read_sheet(&bytes, 0)[1][0].clone();
    assert!(header.contains("政策=城乡最低生活保障") && header.contains("名单=应享未享"), "{header}");
    assert!(header.contains("区域=岳阳楼区") && header.contains("不含已排除") && !header.contains('{'), "{header}");
    // The reasons read as the screen shows them, not as rules are written.
    let reason = crate::registry::read_sheet(&bytes, 0)[4][7].clone();
    assert!(reason.contains("家庭月人均收入") && !reason.contains("params."), "{reason}");
    // What the lists cannot mean is refused, naming the field.
    for (body, field) in [
        (json!({ "policy_id": 999_999 }), "policy_id"),
        (json!({ "limit": 0 }), "limit"),
        (json!({ "polcy_id": id }), "polcy_id"),
    ] {
        let res = app.post_as(&district, "/api/v1/sweep/results", body.clone()).await;
        assert!(res.status() == 400 || res.status() == 422, "{body}");
        let err = res.json::<Value>().await.unwrap();
        assert_eq!(err["field"], field, "{body}: {err}");
    }
    // A field the lists do not take is named alone, not as a value that is wrong.
    let err: Value =
        app.post_as(&district, "/api/v1/sweep/results", json!({ "polcy_id": id })).await.json().await.unwrap();
    assert_eq!(err["message"], "没有字段 polcy_id", "{err}");
    // The district's figures are for the district: a street's status and lists leave them out.
    let whole: Value = app.get_as(&district, "/api/v1/sweep").await.json().await.unwrap();
    assert!(whole["findings"].as_u64().unwrap() > 0 && whole["households"].as_u64().unwrap() >= 400, "{whole}");
    let dashboard: Value = app.get_as(&district, "/api/v1/dashboard").await.json().await.unwrap();
    assert_eq!(whole["persons"], dashboard["totals"]["persons"], "the sweep and the dashboard count the living alike");
    let narrow: Value = app.get_as(&street, "/api/v1/sweep").await.json().await.unwrap();
    assert!(narrow.get("households").is_none() && narrow.get("persons").is_none(), "{narrow}");
    assert!(narrow.get("findings").is_none() && narrow["policies"] == whole["policies"], "{narrow}");
    assert!(theirs["status"].get("findings").is_none(), "{}", theirs["status"]);
    // The lists are shared: a street sweeps them again as of their date, and can't move it.
    let as_of = chrono::NaiveDate::parse_from_str(whole["as_of"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let earlier = json!({ "date": (as_of - chrono::Days::new(40)).to_string() });
    let res = app.post_as(&street, "/api/v1/sweep", earlier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["field"], "date");
    let again = app.sweep(&street).await;
    assert_eq!(again["as_of"], whole["as_of"], "{again}");
    assert!(again.get("findings").is_none(), "{again}");
}

#[tokio::test]
async fn a_department_sees_only_its_own_policies_rows() {
    let app = TestApp::spawn().await;
    app.seed_demo(300, 8).await;
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep(&district).await;
    let all: Value = app.post_as(&district, "/api/v1/sweep/results", json!({ "limit": 5 })).await.json().await.unwrap();
    let departments: Vec<&str> =
        all["by_policy"].as_array().unwrap().iter().map(|p| p["department"].as_str().unwrap()).collect();
    assert!(departments.contains(&"区残疾人联合会") && departments.contains(&"区民政局"), "{departments:?}");
    let unit = NewUnit {
        name: "区残疾人联合会".into(),
        kind: UnitKind::Department,
        division: zhongfu_domain::DivisionCode::parse(DISTRICT).unwrap(),
    };
    let unit = app.store.create_unit(&Actor::system("test"), &unit).await.unwrap().id;
    app.account_of_unit("federation", &[Role::Department], DISTRICT, Some(unit)).await;
    let handler = app.sign_in("federation", crate::helpers::PASSWORD).await;
    let theirs: Value =
        app.post_as(&handler, "/api/v1/sweep/results", json!({ "limit": 200 })).await.json().await.unwrap();
    assert!(theirs["total"].as_u64().unwrap() > 0, "{theirs}");
    for p in theirs["by_policy"].as_array().unwrap() {
        assert_eq!(p["department"], "区残疾人联合会", "{p}");
    }
    // Nor the count of every department's rows.
    assert!(theirs["status"].get("findings").is_none() && all["status"]["findings"].as_u64().unwrap() > 0, "{theirs}");
    // Its unit is named even where a filter finds nothing, so the console can offer its policies.
    let none: Value = app
        .post_as(&handler, "/api/v1/sweep/results", json!({ "area": "430602999999", "limit": 1 }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["status"]["department"], "区残疾人联合会", "{none}");
    assert!(all["status"].get("department").is_none(), "the district sees every department: {all}");
    // Not a sweep runner, not a marker.
    assert_eq!(app.post_as(&handler, "/api/v1/sweep", json!({})).await.status(), 403);
    // Its lists go out as Excel, its policies' rows only.
    let res = app.post_as(&handler, "/api/v1/sweep/export", json!({ "limit": 200 })).await;
    assert_eq!(res.status(), 200);
    let sheet = crate::registry::read_xlsx(&res.bytes().await.unwrap());
    let names: Vec<&str> =
        theirs["by_policy"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(sheet.len() > 4, "{sheet:?}");
    for row in &sheet[4..] {
        assert!(names.contains(&row[0].as_str()), "{row:?} is not among {names:?}");
    }
    // A community worker reads the lists of its community but may not take them away as a file.
    let worker = app.signed_in("community-worker", &[Role::Community], "430602001001").await;
    let res = app.post_as(&worker, "/api/v1/sweep/results", json!({ "limit": 1 })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.post_as(&worker, "/api/v1/sweep/export", json!({})).await.status(), 403);
}

/// When the last sweep finished, or `None` while one runs.
async fn last_finished(app: &TestApp, who: &Session) -> Option<Value> {
    let status: Value = app.get_as(who, "/api/v1/sweep").await.json().await.unwrap();
    (status["running"] == false).then(|| status["finished_at"].clone())
}

/// The household's one member with a physical disability of `grade`.
fn disabled(mut h: Household, grade: u8) -> Household {
    h.members[0].disability = Some(zhongfu_domain::registry::Disability {
        kind: zhongfu_domain::registry::DisabilityKind::Physical,
        grade,
        certificate: format!("4306021986010100{grade}2"),
    });
    h
}

/// A person living alone, born on `birth`, with `income` fen a month and nothing held.
pub(crate) fn alone(
    template: &Household,
    number: &str,
    birth: chrono::NaiveDate,
    sequence: u16,
    income: i64,
) -> Household {
    let mut h = template.clone();
    h.number = number.to_owned();
    h.members.truncate(1);
    h.categories.clear();
    h.tags = vec![Tag::LivingAlone];
    h.assets = Fen(0);
    let head = &mut h.members[0];
    head.id_number = IdNumber::from_parts("430602", birth, sequence).unwrap();
    head.monthly_income = Fen(income);
    head.categories.clear();
    head.disability = None;
    head.death_date = None;
    h
}

/// The rows of shipped policy `code`'s list `kind`, as `who` sees them (one page of 200).
async fn shipped_rows(app: &TestApp, who: &Session, code: &str, kind: &str) -> Vec<Value> {
    let policies: Value = app.get_as(who, "/api/v1/policies").await.json().await.unwrap();
    let items = policies["items"].as_array().unwrap();
    let policy = items.iter().find(|p| p["active"]["definition"]["code"] == code).unwrap();
    let body = json!({ "policy_id": policy["policy_id"], "kind": kind, "limit": 200 });
    let page: Value = app.post_as(who, "/api/v1/sweep/results", body).await.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_shipped_rules_decide_at_their_boundaries_through_the_store() {
    let app = TestApp::spawn().await;
    let template = crate::helpers::demo_households(1, 3).remove(0);
    let today = chrono::Local::now().date_naive();
    let years_ago = |y: i32| today.with_year(today.year() - y).unwrap_or(today);
    let sixty = years_ago(60);
    let fifty_nine = sixty.succ_opt().unwrap();
    let households = vec![
        alone(&template, "B-UNDER", fifty_nine, 11, 75_999),
        alone(&template, "B-AT", fifty_nine, 13, 76_000),
        alone(&template, "B-OVER", fifty_nine, 15, 76_001),
        alone(&template, "B-SIXTY", sixty, 17, 200_000),
        disabled(alone(&template, "B-GRADE2", years_ago(40), 23, 200_000), 2),
        disabled(alone(&template, "B-GRADE3", years_ago(40), 25, 200_000), 3),
    ];
    app.store.insert_households(&Actor::system("test"), &households).await.unwrap();
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep(&district).await;
    let listed = |code: &'static str| {
        let (app, district) = (&app, &district);
        async move {
            let rows = shipped_rows(app, district, code, "missing").await;
            rows.iter().map(|r| r["household_number"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    // 低保: below the line by one fen qualifies, at or above it does not; the benefit tops it up.
    let dibao = listed("dibao").await;
    assert!(dibao.contains(&"B-UNDER".to_owned()), "{dibao:?}");
    assert!(!dibao.contains(&"B-AT".to_owned()) && !dibao.contains(&"B-OVER".to_owned()), "{dibao:?}");
    // The top-up is (line − per-capita income) × size: one fen for B-UNDER alone.
    let rows = shipped_rows(&app, &district, "dibao", "missing").await;
    let under = rows.iter().find(|r| r["household_number"] == "B-UNDER").unwrap();
    assert_eq!(under["benefit_fen"], 1, "{under}");
    // 探访关爱: living alone from 60.
    let visiting = listed("elderly_visiting").await;
    assert!(visiting.contains(&"B-SIXTY".to_owned()), "{visiting:?}");
    assert!(!visiting.contains(&"B-UNDER".to_owned()), "59 is too young: {visiting:?}");
    // 重度残疾人护理补贴: a physical disability of grade 2 qualifies, grade 3 does not.
    let care = listed("disability_care").await;
    assert!(care.contains(&"B-GRADE2".to_owned()) && !care.contains(&"B-GRADE3".to_owned()), "{care:?}");
    // As of tomorrow, when B-UNDER turns 60.
    let tomorrow = today.succ_opt().unwrap();
    let status = app.sweep_with(&district, json!({ "date": tomorrow.to_string() })).await;
    assert_eq!(status["as_of"], tomorrow.to_string());
    let visiting = listed("elderly_visiting").await;
    assert!(visiting.contains(&"B-UNDER".to_owned()), "60 tomorrow: {visiting:?}");
    // As of a day before the 低保 line had a value, 低保 finds no one, and the status says so.
    let before = app.sweep_with(&district, json!({ "date": "2024-12-31" })).await;
    let left_out = before["left_out"].as_array().unwrap();
    assert!(left_out.iter().any(|w| w.as_str().unwrap().starts_with("城乡最低生活保障：条件第1行")), "{before}");
    let back = app.sweep_with(&district, json!({ "date": today.to_string() })).await;
    assert_eq!(back["left_out"], json!([]), "{back}");
    // A day far from today would judge everyone on what never was: refused, and the lists stay.
    for far in ["9999-12-31", "1900-01-01", &(today + chrono::Days::new(400)).to_string()] {
        let res = app.post_as(&district, "/api/v1/sweep", json!({ "date": far })).await;
        assert_eq!(res.status(), 400, "{far}");
        assert_eq!(res.json::<Value>().await.unwrap()["field"], "date");
    }
    let status: Value = app.get_as(&district, "/api/v1/sweep").await.json().await.unwrap();
    assert_eq!(status["as_of"], today.to_string());
    // A date that is not one, or not written YYYY-MM-DD, is refused, naming the field.
    let short = format!("{}-{}-1", today.year(), today.month());
    for (bad, says) in [("2026-13-01", "没有这一天"), (short.as_str(), "日期应写作 YYYY-MM-DD")] {
        let res = app.post_as(&district, "/api/v1/sweep", json!({ "date": bad })).await;
        assert_eq!(res.status(), 422, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["field"], "date", "{body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{body}");
    }
}

#[tokio::test]
async fn a_household_registered_without_its_income_is_unknown_for_dibao_until_its_income_is_recorded() {
    let app = TestApp::spawn().await;
    let template = crate::helpers::demo_households(1, 3).remove(0);
    let today = chrono::Local::now().date_naive();
    let seventy = today.with_year(today.year() - 70).unwrap_or(today);
    let mut unrecorded = alone(&template, "U-INCOME", seventy, 31, 0);
    unrecorded.income_unrecorded = true;
    let recorded = alone(&template, "U-ZERO", seventy, 33, 0);
    app.store.insert_households(&Actor::system("test"), &[unrecorded, recorded]).await.unwrap();
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep(&district).await;
    let listed = |code: &'static str, kind: &'static str| {
        let (app, district) = (&app, &district);
        async move {
            let rows = shipped_rows(app, district, code, kind).await;
            let text = |r: &Value, key: &str| r[key].as_str().unwrap().to_owned();
            rows.iter().map(|r| (text(r, "household_number"), text(r, "reason"))).collect::<Vec<_>>()
        }
    };
    let has = |rows: &[(String, String)], number: &str| rows.iter().any(|(n, _)| n == number);
    // No income recorded is not no income: 低保 cannot decide, and says why.
    let missing = listed("dibao", "missing").await;
    assert!(has(&missing, "U-ZERO") && !has(&missing, "U-INCOME"), "{missing:?}");
    let unknown = listed("dibao", "unknown").await;
    let (_, why) = unknown.iter().find(|(n, _)| n == "U-INCOME").expect("listed as unknown");
    assert!(why.contains("收入未登记"), "{why}");
    // A policy that does not look at income still decides.
    assert!(has(&listed("elderly_visiting", "missing").await, "U-INCOME"));
    // The household page says so; recording the income (here: none) decides it at once.
    let found: Value = app
        .post_as(&district, "/api/v1/households/search", json!({ "number": "U-INCOME" }))
        .await
        .json()
        .await
        .unwrap();
    let household = found["items"][0]["id"].as_i64().unwrap();
    assert_eq!(found["items"][0]["income_unrecorded"], true, "{found}");
    // Nor is it in any income range of the registry's filter.
    let poor = json!({ "number": "U-", "income_max": 50_000 });
    let poor: Value = app.post_as(&district, "/api/v1/households/search", poor).await.json().await.unwrap();
    let numbers: Vec<&str> = poor["items"].as_array().unwrap().iter().map(|h| h["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["U-ZERO"], "{poor}");
    let page: Value = app.get_as(&district, &format!("/api/v1/households/{household}")).await.json().await.unwrap();
    assert_eq!((page["income_unrecorded"].as_bool(), page["assets_unrecorded"].as_bool()), (Some(true), Some(false)));
    let form = json!({ "community": page["community"], "address": page["address"],
        "registration": page["registration"], "tenure": page["tenure"], "dangerous_housing": page["dangerous_housing"],
        "assets_fen": page["assets_fen"], "tags": page["tags"], "income_unrecorded": false });
    let path = format!("/api/v1/households/{household}");
    let res = send(&app, &district, Method::PUT, &path, page["version"].as_i64(), form).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(has(&listed("dibao", "missing").await, "U-INCOME"), "re-evaluated on the edit");
    assert!(!has(&listed("dibao", "unknown").await, "U-INCOME"));
    let history: Value = app.get_as(&district, &format!("{path}/history")).await.json().await.unwrap();
    assert!(history.to_string().contains(r#"\"income_unrecorded\":[true,false]"#), "{history}");
}

/// A ledger without the member facts the policies read registers them as not
/// recorded: 特困, which looks at who in the household can work, cannot decide until
/// each member's form is saved, and the household page says which facts are missing.
#[tokio::test]
async fn member_facts_a_ledger_lacks_are_not_recorded_until_each_member_is_saved() {
    let app = TestApp::spawn().await;
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    let today = chrono::Local::now().date_naive();
    let id = |age: i32, seq: u16| crate::helpers::id_number(today.year() - age - 1, seq);
    // A widower of 71 and his son of 40; income and assets recorded, none of the member facts.
    let ledger = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系,月收入(元),家庭财产(元)\n\
         W1,430602001001,周老汉,{},户主,300,0\n\
         W1,430602001001,周大,{},子女,0,0\n",
        id(71, 11),
        id(40, 13)
    );
    let import = |ledger: String| {
        let (app, district) = (&app, &district);
        async move {
            let url = format!("{}/api/v1/households/import?dry_run=false", app.address);
            let res = app.client.post(url).header("cookie", &district.cookie).header("x-csrf-token", &district.csrf);
            res.body(ledger).send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let report = import(ledger).await;
    assert_eq!(report["totals"]["households_new"], 1, "{report}");
    let found: Value =
        app.post_as(&district, "/api/v1/households/search", json!({ "number": "W1" })).await.json().await.unwrap();
    let path = format!("/api/v1/households/{}", found["items"][0]["id"]);
    let page: Value = app.get_as(&district, &path).await.json().await.unwrap();
    let all = json!(["marital", "health", "work_ability", "employment", "schooling"]);
    assert!(page["members"].as_array().unwrap().iter().all(|m| m["unrecorded"] == all), "{page}");
    // Nor is a member found by the work ability the sheet did not give.
    let by_work = |work: &'static str| {
        let (app, district) = (&app, &district);
        async move {
            let body = json!({ "number": "W1", "work_ability": work });
            let found: Value = app.post_as(district, "/api/v1/households/search", body).await.json().await.unwrap();
            found["total"].as_i64()
        }
    };
    assert_eq!(by_work("full").await, Some(0));
    // The same sheet with a 婚姻状况 column records that fact, and only that one.
    let with_marital = format!(
        "户编号,社区代码,姓名,身份证号,与户主关系,月收入(元),家庭财产(元),婚姻状况\n\
         W1,430602001001,周老汉,{},户主,300,0,丧偶\n\
         W1,430602001001,周大,{},子女,0,0,已婚\n",
        id(71, 11),
        id(40, 13)
    );
    let report = import(with_marital).await;
    assert_eq!(report["totals"]["households_changed"], 1, "{report}");
    let page: Value = app.get_as(&district, &path).await.json().await.unwrap();
    let rest = json!(["health", "work_ability", "employment", "schooling"]);
    assert!(page["members"].as_array().unwrap().iter().all(|m| m["unrecorded"] == rest), "{page}");
    assert_eq!(page["members"][0]["marital"], "widowed");
    // The son's work ability is not known: 特困 cannot decide for his father, and says why.
    app.sweep(&district).await;
    let listed = |kind: &'static str| {
        let (app, district) = (&app, &district);
        async move {
            let rows = shipped_rows(app, district, "tekun", kind).await;
            rows.into_iter().filter(|r| r["household_number"] == "W1").collect::<Vec<_>>()
        }
    };
    let unknown = listed("unknown").await;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0]["reason"].as_str().unwrap().contains("成员劳动能力未登记"), "{unknown:?}");
    assert!(listed("missing").await.is_empty());
    // Each member's form saved records their facts: the son cannot work, and 特困 decides.
    for (i, work) in [(1, "none"), (0, "none")] {
        let page: Value = app.get_as(&district, &path).await.json().await.unwrap();
        let member = &page["members"][i];
        let mut form = crate::helpers::member_form(member);
        form["work_ability"] = json!(work);
        let member_path = format!("{path}/members/{}", member["id"]);
        let res = send(&app, &district, Method::PUT, &member_path, page["version"].as_i64(), form).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    let page: Value = app.get_as(&district, &path).await.json().await.unwrap();
    assert!(page["members"].as_array().unwrap().iter().all(|m| m["unrecorded"] == json!([])), "{page}");
    assert_eq!(by_work("none").await, Some(1));
    assert_eq!(listed("missing").await.len(), 1, "re-evaluated on the edits");
    assert!(listed("unknown").await.is_empty());
    let history: Value = app.get_as(&district, &format!("{path}/history")).await.json().await.unwrap();
    assert!(history.to_string().contains("unrecorded"), "{history}");
}

#[tokio::test]
async fn a_list_pages_through_one_order_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    app.seed_demo(120, 5).await;
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep(&district).await;
    let page = |offset: usize, limit: usize| {
        let (app, district) = (&app, &district);
        async move {
            let body = json!({ "offset": offset, "limit": limit });
            let page: Value = app.post_as(district, "/api/v1/sweep/results", body).await.json().await.unwrap();
            page
        }
    };
    let key = |r: &Value| {
        (r["policy_id"].as_i64().unwrap(), r["household_id"].as_i64().unwrap(), r["person_id"].as_i64().unwrap_or(0))
    };
    // Pages of 200 from the start, and pages of 37 (which cut the first ones elsewhere).
    let total = page(0, 1).await["total"].as_u64().unwrap() as usize;
    assert!(total > 400, "{total}");
    let mut long = Vec::new();
    while long.len() < total {
        let items = page(long.len(), 200).await["items"].as_array().unwrap().clone();
        assert!(!items.is_empty());
        long.extend(items.iter().map(key));
    }
    let mut short = Vec::new();
    while short.len() < 400 {
        short.extend(page(short.len(), 37).await["items"].as_array().unwrap().iter().map(key));
    }
    assert_eq!(short[..400], long[..400]);
    // One order: a policy's rows together, by household and person within it; none twice.
    let mut seen = std::collections::HashSet::new();
    let mut done_policies = std::collections::HashSet::new();
    for pair in long.windows(2) {
        let ((p0, h0, m0), (p1, h1, m1)) = (pair[0], pair[1]);
        if p0 == p1 {
            assert!((h0, m0) < (h1, m1), "{:?} before {:?}", pair[0], pair[1]);
        } else {
            assert!(done_policies.insert(p0), "policy {p0} appears in two places");
        }
    }
    for k in &long {
        assert!(seen.insert(*k), "{k:?} twice");
    }
    assert_eq!(long.len(), total);
    // Past the end: nothing, and the total still said.
    let after = page(total + 5, 20).await;
    assert_eq!(after["items"], json!([]));
    assert_eq!(after["total"].as_u64().unwrap() as usize, total);
}

/// Every finding row of `area` (all pages) as (household, person, policy, kind), sorted.
async fn findings_of(app: &TestApp, who: &crate::helpers::Session, area: &str) -> Vec<(i64, i64, i64, String)> {
    let mut rows = Vec::new();
    loop {
        let body = json!({ "area": area, "offset": rows.len(), "limit": 200 });
        let page: Value = app.post_as(who, "/api/v1/sweep/results", body).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        rows.extend(items.iter().map(|r| {
            let person = r["person_id"].as_i64().unwrap_or(0);
            (r["household_id"].as_i64().unwrap(), person, r["policy_id"].as_i64().unwrap(), r["kind"].to_string())
        }));
        if items.is_empty() || rows.len() as u64 >= page["total"].as_u64().unwrap() {
            break;
        }
    }
    rows.sort();
    rows
}

#[tokio::test]
async fn a_member_move_re_evaluates_both_households_as_a_full_sweep_would() {
    let app = TestApp::spawn().await;
    app.seed_demo(300, 21).await;
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep(&district).await;
    // A member with a finding of their own, not the head, in a household with others.
    let all: Value =
        app.post_as(&district, "/api/v1/sweep/results", json!({ "limit": 200 })).await.json().await.unwrap();
    let mut chosen = None;
    for row in all["items"].as_array().unwrap().iter().filter(|r| r["person_id"].is_i64()) {
        let household = row["household_id"].as_i64().unwrap();
        let page: Value = app.get_as(&district, &format!("/api/v1/households/{household}")).await.json().await.unwrap();
        let member = page["members"].as_array().unwrap().iter().find(|m| m["id"] == row["person_id"]).unwrap().clone();
        if member["relation"] != "head" {
            chosen = Some((page, member));
            break;
        }
    }
    let (from, member) = chosen.expect("a member's own finding");
    let community = from["community"].as_str().unwrap();
    let found: Value = app
        .post_as(&district, "/api/v1/households/search", json!({ "division": community, "facets": false }))
        .await
        .json()
        .await
        .unwrap();
    let to = found["items"].as_array().unwrap().iter().find(|h| h["id"] != from["id"]).unwrap().clone();
    let (from_id, to_id, person) =
        (from["id"].as_i64().unwrap(), to["id"].as_i64().unwrap(), member["id"].as_i64().unwrap());
    let before = findings_of(&app, &district, community).await;
    assert!(before.iter().any(|r| r.0 == from_id && r.1 == person));

    let body = json!({ "to_household": to_id, "to_version": to["version"], "relation": "other" });
    let path = format!("/api/v1/households/{from_id}/members/{person}/move");
    let res = send(&app, &district, Method::POST, &path, from["version"].as_i64(), body).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let ours = |rows: Vec<(i64, i64, i64, String)>| -> Vec<_> {
        rows.into_iter().filter(|r| r.0 == from_id || r.0 == to_id).collect()
    };
    // Re-evaluated in the request: what a full sweep finds for both households now.
    let after = ours(findings_of(&app, &district, community).await);
    assert!(!after.iter().any(|r| r.0 == from_id && r.1 == person), "the member's rows left the old household");
    app.sweep(&district).await;
    assert_eq!(after, ours(findings_of(&app, &district, community).await));
}

/// A policy that has ended, whose category nothing in force records: whoever
/// still receives it is 应退未退, and the row says the policy ended.
#[tokio::test]
async fn the_holders_of_a_policy_that_has_ended_are_listed_to_stop() {
    let app = TestApp::spawn().await;
    app.seed_demo(300, 21).await;
    let maker = app.signed_in("maker", &[Role::District], DISTRICT).await;
    let checker = app.signed_in("checker", &[Role::District], DISTRICT).await;
    let entry = dibao(&app, &maker).await;
    let id = entry["policy_id"].as_i64().unwrap();
    let mut def = entry["active"]["definition"].clone();
    def["effective_to"] = json!("2025-12-31");
    let res =
        send(&app, &maker, Method::PUT, &format!("/api/v1/policies/{id}/draft"), None, json!({ "definition": def }))
            .await;
    assert_eq!(res.status(), 200);
    let version = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app.post_as(&checker, &format!("/api/v1/policy-versions/{version}/publish"), json!({})).await;
    assert_eq!(res.status(), 200);
    app.sweep(&checker).await;
    let list = |kind: &'static str| {
        let (app, checker) = (&app, &checker);
        async move {
            let body = json!({ "policy_id": id, "kind": kind, "limit": 200 });
            app.post_as(checker, "/api/v1/sweep/results", body).await.json::<Value>().await.unwrap()
        }
    };
    let (missing, stale) = (list("missing").await, list("stale").await);
    assert_eq!(missing["total"], 0, "{missing}");
    let rows = stale["items"].as_array().unwrap();
    assert!(!rows.is_empty(), "{stale}");
    for row in rows {
        let reason = row["conditions"][0]["detail"].as_str().unwrap_or_default();
        assert!(reason.contains("2025-12-31"), "{row}");
    }
    // Every household holding 低保 now is on the list.
    let holders = app
        .post_as(&checker, "/api/v1/households/search", json!({ "category": "低保", "per_page": 1, "facets": false }))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(stale["total"], holders["total"], "{holders}");
}

/// Next year's 低保 line is proposed by one officer and applied by another, from
/// its day on; the rules read it on their date.
#[tokio::test]
async fn a_district_parameter_takes_a_new_value_from_a_day_on_once_a_second_officer_applies_it() {
    let app = TestApp::spawn().await;
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    let checker = app.signed_in("district-checker", &[Role::District], DISTRICT).await;
    let today = chrono::Local::now().date_naive();
    let set = |name: &'static str, from: String, value: i64| {
        let (app, district) = (&app, &district);
        async move {
            send(
                app,
                district,
                Method::PUT,
                &format!("/api/v1/policy-params/{name}"),
                None,
                json!({ "from": from, "value": value }),
            )
            .await
        }
    };
    let line_now = |who| {
        let app = &app;
        async move {
            let vocab: Value = app.get_as(who, "/api/v1/policies/fields").await.json().await.unwrap();
            vocab["params"].as_array().unwrap().iter().find(|p| p["name"] == "dibao_line").unwrap().clone()
        }
    };
    let before = line_now(&district).await;
    // A value outside what its unit can mean is refused: a share over 100%, an age of 5,000 years.
    for (name, value) in [("premium_share_dibao", 1000), ("retirement_age_male", 5000), ("dibao_line", -1)] {
        let res = set(name, today.to_string(), value).await;
        assert_eq!(res.status(), 400, "{name} {value}");
        assert_eq!(res.json::<Value>().await.unwrap()["field"], "value");
    }
    assert_eq!(set("no_such_param", today.to_string(), 1).await.status(), 404);
    let res = set("dibao_line", today.to_string(), 123_400).await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    let change: Value = res.json().await.unwrap();
    assert_eq!((&change["status"], &change["proposed_by_name"]), (&json!("proposed"), &json!("district-officer")));
    // Proposed, not in force: the line stays, and the proposal waits in the list.
    assert_eq!(line_now(&district).await, before);
    let open: Value = app.get_as(&checker, "/api/v1/param-changes").await.json().await.unwrap();
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let apply = |who, id: &Value| {
        let app = &app;
        let path = format!("/api/v1/param-changes/{id}/apply");
        async move { send(app, who, Method::POST, &path, None, json!({})).await }
    };
    // Its proposer may not apply it; another officer does.
    let res = apply(&district, &change["id"]).await;
    assert_eq!(
        (res.status().as_u16(), res.json::<Value>().await.unwrap()["code"].clone()),
        (409, json!("maker_checker"))
    );
    assert_eq!(apply(&checker, &change["id"]).await.status(), 200);
    let line = line_now(&district).await;
    assert_eq!(line["value"], 123_400, "in force today: {line}");
    assert!(line["values"].as_array().unwrap().len() >= 2, "the earlier values stay: {line}");
    assert_eq!(apply(&checker, &change["id"]).await.status(), 409, "applied once");
    assert_eq!(apply(&checker, &json!(999_999)).await.status(), 404);
    let open: Value = app.get_as(&checker, "/api/v1/param-changes").await.json().await.unwrap();
    assert_eq!(open["items"], json!([]));
    let audited = |action: &str| {
        let filter =
            zhongfu_store::identity::AuditFilter { action: Some(action.into()), limit: 5, ..Default::default() };
        let store = app.store.clone();
        async move { store.audit_page(&filter).await.unwrap().records }
    };
    assert_eq!(audited("policy.param_propose").await.len(), 1);
    let applied = audited("policy.param").await;
    assert_eq!((applied.len(), applied[0].actor_name.as_str()), (1, "district-checker"));
    // A proposal discarded with a reason never takes effect.
    let change: Value = set("dibao_line", today.to_string(), 99_900).await.json().await.unwrap();
    let path = format!("/api/v1/param-changes/{}/discard", change["id"]);
    let res = send(&app, &checker, Method::POST, &path, None, json!({ "reason": " " })).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("reason")));
    let res = send(&app, &checker, Method::POST, &path, None, json!({ "reason": "数字有误" })).await;
    assert_eq!(res.status(), 204);
    assert_eq!(apply(&checker, &change["id"]).await.status(), 409);
    assert_eq!(line_now(&district).await["value"], 123_400);
    assert_eq!(audited("policy.param_discard").await.len(), 1);
    // Refused: a value below zero, a parameter that does not exist, a street.
    let res = set("dibao_line", today.to_string(), -1).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("value")));
    assert_eq!(set("no_such_param", today.to_string(), 1).await.status(), 404);
    let street = app.signed_in("street-a", &[Role::Street], "430602001000").await;
    let res = send(
        &app,
        &street,
        Method::PUT,
        "/api/v1/policy-params/dibao_line",
        None,
        json!({ "from": today, "value": 1 }),
    )
    .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_person_level_row_is_marked_by_its_member_and_only_within_scope() {
    let app = TestApp::spawn().await;
    app.seed_demo(200, 9).await;
    let district = app.signed_in("district-officer", &[Role::District], DISTRICT).await;
    app.sweep(&district).await;
    // Any 应享未享 row of a policy decided per person.
    let page: Value = app
        .post_as(&district, "/api/v1/sweep/results", json!({ "kind": "missing", "limit": 200 }))
        .await
        .json()
        .await
        .unwrap();
    let row = page["items"].as_array().unwrap().iter().find(|r| !r["person_id"].is_null()).unwrap().clone();
    let mark = |person: Value| {
        json!({ "policy_id": row["policy_id"], "household_id": row["household_id"], "person_id": person,
                "kind": "missing", "status": "proposed" })
    };
    // Without the member, or with someone of another household: refused.
    let res = app.post_as(&district, "/api/v1/sweep/marks", mark(Value::Null)).await;
    assert_eq!((res.status().as_u16(), res.json::<Value>().await.unwrap()["field"].clone()), (400, json!("person_id")));
    let stranger = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["person_id"].is_null() && r["household_id"] != row["household_id"])
        .unwrap()["person_id"]
        .clone();
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", mark(stranger)).await.status(), 404);
    // A street that is not the household's does not find it.
    let street =
        if row["community"].as_str().unwrap().starts_with("430602001") { "430602002000" } else { "430602001000" };
    let other = app.signed_in("street-other", &[Role::Street], street).await;
    assert_eq!(app.post_as(&other, "/api/v1/sweep/marks", mark(row["person_id"].clone())).await.status(), 404);
    // The member's own row: marked, and shown so.
    assert_eq!(app.post_as(&district, "/api/v1/sweep/marks", mark(row["person_id"].clone())).await.status(), 204);
    let body = json!({ "policy_id": row["policy_id"], "kind": "missing", "limit": 200 });
    let after: Value = app.post_as(&district, "/api/v1/sweep/results", body).await.json().await.unwrap();
    let marked = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["household_id"] == row["household_id"] && r["person_id"] == row["person_id"])
        .unwrap();
    assert_eq!(marked["mark"], "proposed", "{marked}");
}
