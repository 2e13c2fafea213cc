//! Units, accounts and roles (三员分立), and the audit administrator's trail.

use serde_json::{Value, json};
use zhongfu_domain::identity::Role;

use crate::helpers::{DISTRICT, PASSWORD, TestApp, send};
use reqwest::Method;

async fn body(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

const STREET_A: &str = "430602001000";
const STREET_B: &str = "430602002000";

fn account_form(username: &str, jurisdiction: &str, roles: &[&str]) -> Value {
    json!({"username": username, "display_name": "刘洋", "jurisdiction": jurisdiction, "roles": roles, "phone": "13712345678"})
}

#[tokio::test]
async fn the_system_administrator_creates_units_and_accounts() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("sysadmin", &[Role::SystemAdmin], DISTRICT).await;
    // A unit form with several wrong fields names them all.
    let wrong = app.post_as(&admin, "/api/v1/units", json!({"name": " ", "kind": "office", "division": "4306"})).await;
    assert_eq!(wrong.status(), 400);
    let answer = body(wrong).await;
    let named: Vec<&str> = answer["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(named, ["name", "kind", "division"], "{answer}");
    let unit = app
        .post_as(
            &admin,
            "/api/v1/units",
            json!({"name": "岳阳楼街道办事处", "kind": "street_office", "division": STREET_A}),
        )
        .await;
    assert_eq!(unit.status(), 201);
    let unit = body(unit).await;
    let mut form = account_form("liuyang", STREET_A, &["street"]);
    form["unit_id"] = unit["id"].clone();
    let res = app.post_as(&admin, "/api/v1/accounts", form).await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    assert_eq!(created["account"]["phone_masked"], "137****5678");
    assert_eq!(created["account"]["must_change_password"], true);
    // The one-time password works, and must be changed first.
    let session = app.sign_in("liuyang", created["password"].as_str().unwrap()).await;
    let res = app.get_as(&session, "/api/v1/dashboard").await;
    assert_eq!(body(res).await["code"], "password_change_required");
    // The system administrator sees no personal data.
    assert_eq!(app.get_as(&admin, "/api/v1/dashboard").await.status(), 403);
}

#[tokio::test]
async fn bad_account_forms_name_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("sysadmin", &[Role::SystemAdmin], DISTRICT).await;
    let cases = [
        (account_form("two-hats", STREET_A, &["system_admin", "audit_admin"]), 409, "roles"),
        // An administrator holds no business role: it would see personal data.
        (account_form("admin-worker", STREET_A, &["audit_admin", "district"]), 409, "roles"),
        // The system administrator creates the other administrators (a real deployment starts
        // with it alone), each holding that one role.
        (account_form("sec-and-street", STREET_A, &["security_admin", "street"]), 409, "roles"),
        // A username of digits alone would be taken for a phone number at sign-in.
        (account_form("13912345678", STREET_A, &["street"]), 400, "username"),
        (account_form("x", STREET_A, &["street"]), 400, "username"),
        (account_form("nobody", STREET_A, &["root"]), 400, "roles"),
        (account_form("far-away", "110101001000", &["street"]), 400, "jurisdiction"),
        (account_form("bad-code", "4306020010", &["street"]), 400, "jurisdiction"),
        (
            {
                let mut f = account_form("bad-phone", STREET_A, &["street"]);
                f["phone"] = json!("12345");
                f
            },
            400,
            "phone",
        ),
        (
            {
                let mut f = account_form("bad-mail", STREET_A, &["street"]);
                f["email"] = json!("liu@");
                f
            },
            400,
            "email",
        ),
    ];
    for (form, status, field) in cases {
        let res = app.post_as(&admin, "/api/v1/accounts", form.clone()).await;
        assert_eq!(res.status().as_u16(), status, "{form}");
        let answer = body(res).await;
        assert_eq!(answer["field"], field, "{answer}");
        assert!(!answer["message"].as_str().unwrap().is_empty());
    }
    // Several wrong at once: each named in the one answer, the first as `field`.
    let mut several = account_form("两个字", "430602999000", &["street"]);
    several["email"] = json!("liu@");
    let answer = body(app.post_as(&admin, "/api/v1/accounts", several).await).await;
    let named: Vec<&str> = answer["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((answer["field"].as_str(), named), (Some("username"), vec!["username", "email", "jurisdiction"]));
    // A real deployment starts with the system administrator alone: it creates the security administrator.
    let mut security = account_form("first-security", STREET_A, &["security_admin"]);
    security["phone"] = json!("13700000001");
    assert_eq!(app.post_as(&admin, "/api/v1/accounts", security).await.status(), 201);
    let res = app.post_as(&admin, "/api/v1/accounts", account_form("liuyang", STREET_A, &["street"])).await;
    assert_eq!(res.status(), 201);
    let mut again = account_form("liuyang", STREET_A, &["street"]);
    again["phone"] = json!("13700000000");
    let res = app.post_as(&admin, "/api/v1/accounts", again).await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (409, json!("username")));
    let res = app.post_as(&admin, "/api/v1/accounts", account_form("liuyang2", STREET_A, &["street"])).await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (409, json!("phone")));
}

#[tokio::test]
async fn the_security_administrator_sets_roles_and_unlocks() {
    let app = TestApp::spawn().await;
    let security = app.signed_in("secadmin", &[Role::SecurityAdmin], DISTRICT).await;
    let worker = app.signed_in("zhou", &[Role::Community], "430602001001").await;
    let path = format!("/api/v1/accounts/{}/roles", worker.account_id);
    let res =
        send(&app, &security, Method::PUT, &path, None, json!({"roles": ["street", "security_admin", "system_admin"]}))
            .await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (409, json!("roles")));
    let res = send(&app, &security, Method::PUT, &path, None, json!({"roles": ["street"]})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_as(&worker, "/api/v1/auth/me").await.status(), 401, "the role change ended the session");
    // Nor may it give itself a business role that reveals ID numbers, or any change at all.
    for roles in [json!(["security_admin", "district"]), json!(["district"]), json!(["security_admin"])] {
        let path = format!("/api/v1/accounts/{}/roles", security.account_id);
        let res = send(&app, &security, Method::PUT, &path, None, json!({ "roles": roles })).await;
        assert_eq!(res.status(), 403, "{roles}");
        assert_eq!(body(res).await["code"], "own_roles");
    }
    for _ in 0..5 {
        app.try_sign_in("zhou", "Wrong-Pass-1").await;
    }
    assert_eq!(app.try_sign_in("zhou", PASSWORD).await.status(), 401);
    let unlock = format!("/api/v1/accounts/{}/unlock", worker.account_id);
    assert_eq!(app.post_as(&security, &unlock, json!({})).await.status(), 204);
    app.sign_in("zhou", PASSWORD).await;
    // The security administrator cannot create accounts.
    let res = app.post_as(&security, "/api/v1/accounts", account_form("sneaky", STREET_A, &["district"])).await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn administrators_of_one_street_see_nothing_of_another() {
    let app = TestApp::spawn().await;
    let admin_a = app.signed_in("admin-a", &[Role::SystemAdmin], STREET_A).await;
    let admin_b = app.signed_in("admin-b", &[Role::SystemAdmin], STREET_B).await;
    let worker_b = app.account("worker-b", &[Role::Street], STREET_B).await;
    let listed = body(app.get_as(&admin_a, "/api/v1/accounts").await).await;
    let names: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin-a"]);
    let path = format!("/api/v1/accounts/{worker_b}/reset-password");
    assert_eq!(app.post_as(&admin_a, &path, json!({})).await.status(), 404);
    let security_a = app.signed_in("sec-a", &[Role::SecurityAdmin], STREET_A).await;
    let path = format!("/api/v1/accounts/{worker_b}/unlock");
    assert_eq!(app.post_as(&security_a, &path, json!({})).await.status(), 404);
    let res = app.post_as(&admin_a, &format!("/api/v1/accounts/{worker_b}/disabled"), json!({"disabled": true})).await;
    assert_eq!(res.status(), 404);
    // Its own street's administrator may.
    let res = app.post_as(&admin_b, &format!("/api/v1/accounts/{worker_b}/reset-password"), json!({})).await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_as(&admin_a, "/api/v1/units", json!({"name": "外街", "kind": "community", "division": "430602002001"}))
        .await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (400, json!("division")));
}

#[tokio::test]
async fn the_audit_administrator_reads_and_exports_the_trail() {
    let app = TestApp::spawn().await;
    let auditor = app.signed_in("auditadmin", &[Role::AuditAdmin], DISTRICT).await;
    app.try_sign_in("ghost", "Wrong-Pass-1").await;
    let page = body(app.get_as(&auditor, "/api/v1/audit?action=session&per_page=10").await).await;
    let actions: Vec<&str> =
        page["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"session.sign_in") && actions.contains(&"session.sign_in_failed"), "{actions:?}");
    assert!(actions.iter().all(|a| a.starts_with("session.")));
    let ghost = body(app.get_as(&auditor, "/api/v1/audit?actor=gho").await).await;
    assert_eq!(ghost["total"], 1);
    // By unit: the system administrator's unit made the unit and its accounts.
    let admin = app.signed_in("sysadmin", &[Role::SystemAdmin], DISTRICT).await;
    let unit = body(
        app.post_as(&admin, "/api/v1/units", json!({"name": "民政局", "kind": "civil_affairs", "division": DISTRICT}))
            .await,
    )
    .await;
    let unit_id = unit["id"].as_i64().unwrap();
    let mut form = account_form("member", DISTRICT, &["leader"]);
    form["unit_id"] = json!(unit_id);
    app.post_as(&admin, "/api/v1/accounts", form).await;
    app.sign_in(
        "member",
        body(app.post_as(&admin, "/api/v1/accounts/3/reset-password", json!({})).await).await["password"]
            .as_str()
            .unwrap(),
    )
    .await;
    let by_unit = body(app.get_as(&auditor, &format!("/api/v1/audit?unit={unit_id}")).await).await;
    let actors: Vec<&str> =
        by_unit["records"].as_array().unwrap().iter().map(|r| r["actor_name"].as_str().unwrap()).collect();
    assert_eq!(actors, ["member"], "only the unit member's own sign-in");
    // Pages continue one another, newest first; a page far past the end is empty.
    let seqs = |page: &Value| -> Vec<i64> {
        page["records"].as_array().unwrap().iter().map(|r| r["seq"].as_i64().unwrap()).collect()
    };
    let whole = seqs(&body(app.get_as(&auditor, "/api/v1/audit?per_page=6").await).await);
    let first = seqs(&body(app.get_as(&auditor, "/api/v1/audit?per_page=3").await).await);
    let second = seqs(&body(app.get_as(&auditor, "/api/v1/audit?per_page=3&page=2").await).await);
    assert_eq!([first, second].concat(), whole);
    assert!(whole.windows(2).all(|w| w[0] > w[1]), "{whole:?}");
    let far = app.get_as(&auditor, "/api/v1/audit?per_page=3&page=999999999999999").await;
    assert_eq!(far.status(), 200);
    assert_eq!(body(far).await["records"], json!([]));
    let res = app.get_as(&auditor, "/api/v1/audit?unit=abc").await;
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (400, json!("unit")));
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("from=2026-12-01&to=2026-01-01", "to"),
        ("page=0", "page"),
        ("page=-1", "page"),
        // A misspelt filter is refused by its name: ignored, it would list every actor's records.
        ("acter=王", "acter"),
        ("from=2026-02-30", "from"),
    ] {
        let res = app.get_as(&auditor, &format!("/api/v1/audit?{query}")).await;
        assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (400, json!(field)), "{query}");
    }
    // The last day chrono can hold: the day after it (the end is inclusive) does not exist.
    let last = chrono::NaiveDate::MAX.format("%Y-%m-%d").to_string();
    for path in ["/api/v1/audit", "/api/v1/audit/export"] {
        let res = app.get_as(&auditor, &format!("{path}?to={}", last.replace('+', "%2B"))).await;
        assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (400, json!("to")), "{path}");
    }
    let export = app.get_as(&auditor, "/api/v1/audit/export?action=account").await;
    assert_eq!(export.status(), 200);
    assert!(export.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let bytes = export.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx file is a zip");
    let exports = body(app.get_as(&auditor, "/api/v1/audit?action=audit.export").await).await;
    assert_eq!(exports["total"], 1, "the export itself is recorded");
    // Nobody else reads the trail.
    let district = app.signed_in("district", &[Role::District], DISTRICT).await;
    assert_eq!(app.get_as(&district, "/api/v1/audit").await.status(), 403);
}

#[tokio::test]
async fn moving_an_account_to_another_street_ends_its_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("sysadmin", &[Role::SystemAdmin], DISTRICT).await;
    let worker = app.signed_in("wu", &[Role::Street], STREET_A).await;
    let path = format!("/api/v1/accounts/{}", worker.account_id);
    let put = |form: Value| {
        app.client
            .put(format!("{}{path}", app.address))
            .header("cookie", &admin.cookie)
            .header("x-csrf-token", &admin.csrf)
            .json(&form)
            .send()
    };
    let res = put(json!({"display_name": "吴芳", "jurisdiction": STREET_A, "phone": "139"})).await.unwrap();
    assert_eq!((res.status().as_u16(), body(res).await["field"].clone()), (400, json!("phone")));
    // Several wrong at once: each named in the one answer, the first as `field`.
    let res = put(json!({"display_name": "", "email": "wu@", "jurisdiction": "430602999000", "phone": "139"}));
    let answer = body(res.await.unwrap()).await;
    let named: Vec<&str> = answer["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        (answer["field"].as_str(), named),
        (Some("display_name"), vec!["display_name", "email", "phone", "jurisdiction"])
    );
    let res = put(json!({"display_name": "吴芳", "jurisdiction": STREET_A})).await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_as(&worker, "/api/v1/auth/me").await.status(), 200, "a new name keeps the session");
    let res = put(json!({"display_name": "吴芳", "jurisdiction": STREET_B})).await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_as(&worker, "/api/v1/auth/me").await.status(), 401, "a new jurisdiction ends it");
    let moved = app.sign_in("wu", PASSWORD).await;
    let me = body(app.get_as(&moved, "/api/v1/auth/me").await).await;
    assert_eq!(
        (me["account"]["jurisdiction"].clone(), me["account"]["display_name"].clone()),
        (json!(STREET_B), json!("吴芳"))
    );
    let log =
        crate::helpers::raw_text(&app.db_url(), "SELECT diff FROM audit_log WHERE action = 'account.update'").await;
    assert!(log.contains(STREET_B) && log.contains("吴芳"), "{log}");
}

#[tokio::test]
async fn an_audit_administrator_of_a_street_reads_only_that_streets_accounts() {
    let app = TestApp::spawn().await;
    app.signed_in("worker-a", &[Role::Street], STREET_A).await;
    app.signed_in("worker-b", &[Role::Street], STREET_B).await;
    let auditor = app.signed_in("auditor-a", &[Role::AuditAdmin], STREET_A).await;
    let page = body(app.get_as(&auditor, "/api/v1/audit?per_page=200").await).await;
    let actors: Vec<&str> =
        page["records"].as_array().unwrap().iter().map(|r| r["actor_name"].as_str().unwrap()).collect();
    assert!(actors.contains(&"worker-a"), "{actors:?}");
    assert!(!actors.contains(&"worker-b") && !actors.contains(&"test"), "{actors:?}");
    let district = app.signed_in("auditor-district", &[Role::AuditAdmin], DISTRICT).await;
    let page = body(app.get_as(&district, "/api/v1/audit?per_page=200").await).await;
    let actors: Vec<&str> =
        page["records"].as_array().unwrap().iter().map(|r| r["actor_name"].as_str().unwrap()).collect();
    assert!(actors.contains(&"worker-b") && actors.contains(&"test"), "the district sees the whole trail");
}

#[tokio::test]
async fn the_security_administrator_reads_the_roles_and_their_permissions() {
    let app = TestApp::spawn().await;
    let security = app.signed_in("secadmin", &[Role::SecurityAdmin], DISTRICT).await;
    let roles = body(app.get_as(&security, "/api/v1/roles").await).await;
    let items = roles["items"].as_array().unwrap();
    assert_eq!(items.len(), Role::ALL.len());
    let leader = items.iter().find(|r| r["code"] == "leader").unwrap();
    assert_eq!(leader["permissions"], json!(["stats_read"]), "a leader sees aggregates only");
    assert_eq!(items.iter().filter(|r| r["administrator"] == true).count(), 3);
    let street = app.signed_in("street", &[Role::Street], STREET_A).await;
    assert_eq!(app.get_as(&street, "/api/v1/roles").await.status(), 403);
}

/// A district changes the key its personal data is encrypted with: every value is
/// rewritten under the new key, lookups by blind index still find everyone, and a
/// second run has nothing left to do.
#[tokio::test]
async fn a_new_encryption_key_is_rotated_in_and_lookups_still_find_everyone() {
    use zhongfu_store::registry::HouseholdFilter;
    use zhongfu_store::{Actor, Store};
    let db = crate::helpers::TestDb::new().await;
    let settings = |keys: &str, current: u8| {
        let mut config = crate::helpers::config(&db);
        (config.pii_encryption_keys, config.pii_key_id) = (keys.to_owned(), current);
        config.validate().expect("settings")
    };
    let new_key = format!("2:{}", "3c".repeat(32));
    let scope = zhongfu_domain::Scope::new(crate::helpers::district());
    let today = chrono::Local::now().date_naive();
    let actor = Actor::system("test");
    let (old, _) = zhongfu::open_migrated(&settings("", 1)).await.unwrap();
    let households = crate::helpers::demo_households(12, 4);
    old.insert_households(&actor, &households).await.unwrap();
    let id_number = households[5].members[0].id_number.clone();
    let person_of = |store: std::sync::Arc<dyn Store>| {
        let (scope, id_number) = (scope.clone(), id_number.clone());
        async move {
            let mut filter = HouseholdFilter::new(today);
            filter.id_number = Some(id_number.clone());
            let page = store.households(&scope, &filter).await.unwrap();
            assert_eq!(page.items.len(), 1, "found by the blind index");
            let household = store.household(&scope, page.items[0].id, today).await.unwrap().unwrap();
            household.members.iter().find(|m| m.id_masked == id_number.masked()).unwrap().id
        }
    };
    let person = person_of(old.clone()).await;
    drop(old);

    let (rotated, _) = zhongfu::open_migrated(&settings(&new_key, 2)).await.unwrap();
    let report = rotated.rotate_pii_key(&actor).await.unwrap();
    let persons: u64 = households.iter().map(|h| h.members.len() as u64).sum();
    let ids = report.columns.iter().find(|c| (c.table, c.column) == ("person", "id_cipher")).unwrap();
    assert_eq!((report.key_id, ids.checked, ids.rewritten, report.unreadable()), (2, persons, persons, 0));
    assert_eq!(report.remaining(), 0, "{report:?}");
    let again = rotated.rotate_pii_key(&actor).await.unwrap();
    assert_eq!((again.rewritten(), again.unreadable()), (0, 0), "nothing is left under the old key");
    assert_eq!(person_of(rotated.clone()).await, person);
    let revealed = rotated.reveal_id_number(&actor, &scope, person).await.unwrap();
    assert_eq!(revealed.as_deref(), Some(id_number.as_str()));
    let audit = rotated.verify_audit().await.unwrap();
    assert!(audit.broken.is_none());
    drop(rotated);

    // Without the new key the values can no longer be read: they really moved.
    let (without, _) = zhongfu::open_migrated(&settings("", 1)).await.unwrap();
    assert!(without.reveal_id_number(&actor, &scope, person).await.is_err());
    let stuck = without.rotate_pii_key(&actor).await.unwrap();
    assert_eq!(stuck.unreadable(), report.rewritten(), "each value is reported, none is lost");
    assert_eq!(stuck.remaining(), report.rewritten());
}

/// A server or command started with another key file (its default path is relative to
/// the working directory) is refused before it writes values no lookup could find.
#[tokio::test]
async fn a_database_refuses_a_personal_data_key_it_was_not_written_with() {
    use zhongfu_store::Actor;
    let db = crate::helpers::TestDb::new().await;
    let settings = |key: &str| {
        let mut config = crate::helpers::config(&db);
        config.pii_key = key.to_owned();
        config.validate().expect("settings")
    };
    // An empty registry has nothing to check against.
    let (store, _) = zhongfu::open_migrated(&settings(&"5a".repeat(32))).await.unwrap();
    drop(zhongfu::open_migrated(&settings(&"6b".repeat(32))).await.unwrap());
    store.insert_households(&Actor::system("test"), &crate::helpers::demo_households(3, 4)).await.unwrap();
    drop(store);
    let err = zhongfu::open_migrated(&settings(&"6b".repeat(32))).await.expect_err("another key is refused");
    assert!(err.to_string().contains("pii_key_file"), "{err}");
    zhongfu::open_migrated(&settings(&"5a".repeat(32))).await.expect("its own key opens it");
}
