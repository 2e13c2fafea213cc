//! The jurisdiction walk: two streets with households, accounts and volunteer
//! sign-ups; users of street A walk every route, and nothing of street B
//! comes back. Out of scope is 404 (or 403 where the role lacks the permission).

use serde_json::{Value, json};
use zhongfu_domain::identity::Role;

use crate::helpers::{Session, TestApp};

const STREET_A: &str = "430602001000";
const STREET_B: &str = "430602002000";
const COMMUNITY_B: &str = "430602002001";

/// Street B's world: a worker, a volunteer sign-up, households. Returns ids and
/// the texts that must never reach street A.
async fn street_b(app: &TestApp) -> (i64, i64, Vec<String>) {
    let worker = app.account("worker-of-b", &[Role::Street], STREET_B).await;
    let captcha = zhongfu_web::auth::put_known_captcha(app.store.as_ref(), "AB12").await.unwrap();
    let form = json!({
        "name": "乙街志愿者", "phone": "13899990000", "id_number": "430602199203150022", "community": COMMUNITY_B,
        "skills": "理发", "availability": "周末", "password": "Help-Others-9", "captcha_id": captcha, "captcha_answer": "AB12",
    });
    let res = app.client.post(format!("{}/api/v1/volunteers/register", app.address)).json(&form).send().await.unwrap();
    let volunteer = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let secrets =
        vec!["worker-of-b".to_owned(), "乙街志愿者".to_owned(), "138****0000".to_owned(), "430602002".to_owned()];
    (worker, volunteer, secrets)
}

/// Street B's ids: a worker account, a volunteer sign-up, a household and its head.
struct Ids {
    worker: i64,
    volunteer: i64,
    household: i64,
    person: i64,
    holding: i64,
}

/// Routes about the district's policy catalogue, which holds no one's data.
const DISTRICT_WIDE: [&str; 3] =
    ["/api/v1/policies/{id}", "/api/v1/policies/{id}/draft", "/api/v1/policy-versions/{id}/publish"];

/// Decisions on a sweep row that name street B's household in the body and
/// whose body is otherwise valid here: not found from street A (or refused to
/// a role without the permission). The walk's body is not a valid mark
/// (`kind` is a unit's), so `/sweep/marks` answers 400 before it looks.
const ROW_DECISIONS: [&str; 1] = ["/api/v1/sweep/tapers"];
/// Routes that read the request as a ledger file and show its header row back:
/// they are sent the body without the other street's codes, so that only what
/// comes from the registry could leak.
const FILE_ROUTES: [&str; 3] = ["/api/v1/import-jobs", "/api/v1/households/import", "/api/v1/households/import/errors"];

/// Requests that only read although they are POSTs (their filter stays out of the URL).
const READING_POSTS: [&str; 10] = [
    "/api/v1/import-jobs",
    "/api/v1/policies/check",
    "/api/v1/sweep/results",
    "/api/v1/sweep/export",
    // Starts a sweep: it recomputes lists, it changes no record.
    "/api/v1/sweep",
    "/api/v1/households/search",
    "/api/v1/households/facets",
    "/api/v1/households/export",
    "/api/v1/households/import",
    "/api/v1/households/import/errors",
];

async fn walk(app: &TestApp, who: &Session, ids: &Ids, secrets: &[String]) {
    for (method, path, _) in zhongfu_web::auth::ROUTES {
        if path.contains("{code}") || path.ends_with("/sign-out") || path.contains("/auth/") {
            continue;
        }
        let id = if path.contains("volunteers") {
            ids.volunteer
        } else if path.contains("households") || path.contains("persons") {
            if path.starts_with("/api/v1/persons") { ids.person } else { ids.household }
        } else {
            ids.worker
        };
        let concrete = path
            .replace("{id}", &id.to_string())
            .replace("{person}", &ids.person.to_string())
            .replace("{holding}", &ids.holding.to_string());
        let url = format!("{}{concrete}", app.address);
        let body = json!({"roles": ["street"], "disabled": true, "reason": "测试", "name": "x", "kind": "community",
            "division": COMMUNITY_B, "username": "intruder", "display_name": "x", "jurisdiction": STREET_B,
            "community": COMMUNITY_B, "address": "x", "registration": "urban", "tenure": "own", "dangerous_housing": false,
            "assets_fen": 0, "tags": [], "relation": "spouse", "marital": "married", "health": "healthy",
            "work_ability": "full", "employment": "employed", "schooling": "none", "monthly_income_fen": 0,
            "id_number": "430602199203150022", "number": "W-1", "members": [ids.person], "head": ids.person,
            "other": ids.household, "other_version": 1, "household_id": ids.household, "policy_id": 1,
            "to_household": ids.household, "version": 1, "to_version": 1,
            "status": "proposed", "category": "dibao", "start_date": "2026-01-01"});
        let mut body = body;
        if FILE_ROUTES.contains(path) {
            for key in ["division", "jurisdiction", "community"] {
                body[key] = json!("x");
            }
        }
        // A form refuses a field it does not have, naming it: the probe drops each so named and asks again.
        let (status, text) = loop {
            let req = match *method {
                "GET" => app.client.get(&url),
                "PUT" => app.client.put(&url),
                "DELETE" => app.client.delete(&url),
                _ => app.client.post(&url),
            };
            // Edits carry a version, so that only the scope can refuse them.
            let req = req.header("if-match", "\"1\"").header("cookie", &who.cookie).header("x-csrf-token", &who.csrf);
            let res = req.json(&body).send().await.unwrap();
            let (status, text) = (res.status().as_u16(), res.text().await.unwrap());
            let refused = serde_json::from_str::<Value>(&text).ok().filter(|e| {
                matches!(status, 400 | 422) && e["message"].as_str().is_some_and(|m| m.starts_with("没有字段"))
            });
            match refused.as_ref().and_then(|e| e["field"].as_str()) {
                Some(field) if body.get(field).is_some() => body.as_object_mut().unwrap().remove(field),
                _ => break (status, text),
            };
        };
        for secret in secrets {
            assert!(!text.contains(secret.as_str()), "{method} {path} leaked {secret}: {text}");
        }
        // The catalogue is the district's, not a street's: readable by all who hold the permission.
        let district_wide = DISTRICT_WIDE.contains(path);
        if path.contains("{id}") && !(district_wide && *method == "GET") {
            assert!(matches!(status, 403 | 404 | 409 | 422), "{method} {path} answered {status}: {text}");
            if !district_wide {
                assert!(matches!(status, 403 | 404), "{method} {path} answered {status}: {text}");
            }
        }
        if ROW_DECISIONS.contains(path) {
            assert!(matches!(status, 403 | 404), "{method} {path} answered {status}: {text}");
        }
        let reads = READING_POSTS.contains(path) || *path == "/api/v1/volunteers/register";
        if *method != "GET" && !path.contains("{id}") && status < 300 && !reads {
            panic!("{method} {path} changed street B's world from street A: {text}");
        }
    }
}

#[tokio::test]
async fn nothing_of_another_street_comes_back() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(120, 4).await;
    let (worker, volunteer, mut secrets) = street_b(&app).await;
    let district = app.signed_in("district-officer", &[Role::District], "430602000000").await;
    let b =
        households.iter().find(|h| h.community.as_str().starts_with("430602002") && !h.categories.is_empty()).unwrap();
    let found: Value =
        app.post_as(&district, "/api/v1/households/search", json!({"number": b.number})).await.json().await.unwrap();
    let household = found["items"][0]["id"].as_i64().unwrap();
    let page: Value = app.get_as(&district, &format!("/api/v1/households/{household}")).await.json().await.unwrap();
    let ids = Ids {
        worker,
        volunteer,
        household,
        person: page["members"][0]["id"].as_i64().unwrap(),
        holding: page["holdings"][0]["id"].as_i64().unwrap(),
    };
    // A sweep over both streets, so that result lists have street B's rows to keep back.
    app.sweep(&district).await;
    // Household numbers of street B (the dashboard is the only registry view yet).
    secrets
        .extend(households.iter().filter(|h| h.community.as_str().starts_with("430602002")).map(|h| h.number.clone()));
    let walkers = [
        ("business", vec![Role::District, Role::Street, Role::Community, Role::Leader, Role::Auditor]),
        ("sysadmin", vec![Role::SystemAdmin]),
        ("secadmin", vec![Role::SecurityAdmin]),
    ];
    for (name, roles) in walkers {
        let session = app.signed_in(name, &roles, STREET_A).await;
        walk(&app, &session, &ids, &secrets).await;
    }
}
