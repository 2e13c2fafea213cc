//! The HTTP API as a client sees it.

use serde_json::Value;

use zhongfu_domain::identity::Role;

use crate::helpers::{DISTRICT, TestApp};

async fn json(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

#[tokio::test]
async fn probes_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.text().await.unwrap(), "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let _ = app.get("/api/v1/divisions").await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"zhongfu_http_requests_total{method="GET",route="/api/v1/divisions",status="200"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn divisions_browse_from_provinces_to_communities() {
    let app = TestApp::spawn().await;
    let provinces = json(app.get("/api/v1/divisions").await).await;
    let hunan = provinces["items"].as_array().unwrap().iter().find(|d| d["code"] == "430000000000").unwrap();
    assert_eq!(hunan["name"], "湖南省");
    assert_eq!(hunan["level"], "province");
    assert_eq!(hunan["has_children"], true);

    let streets = json(app.get("/api/v1/divisions?parent=430602000000").await).await;
    let streets = streets["items"].as_array().unwrap();
    assert!(!streets.is_empty());
    assert!(streets.iter().all(|s| s["level"] == "township" && s["code"].as_str().unwrap().starts_with("430602")));

    let first = streets[0]["code"].as_str().unwrap();
    let detail = json(app.get(&format!("/api/v1/divisions/{first}")).await).await;
    let path: Vec<&str> = detail["path"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(&path[..3], ["湖南省", "岳阳市", "岳阳楼区"]);
    assert_eq!(path.len(), 4);

    let found = json(app.get("/api/v1/divisions?q=%E5%B2%B3%E9%98%B3%E6%A5%BC").await).await; // 岳阳楼
    assert!(found["items"].as_array().unwrap().iter().any(|d| d["code"] == "430602000000"));
    let nothing = json(app.get("/api/v1/divisions?q=%25").await).await; // a literal %
    assert_eq!(nothing["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bad_division_codes_name_the_field_in_both_languages() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/divisions/4306").await;
    assert_eq!(res.status(), 400);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = json(res).await;
    assert_eq!(body["code"], "invalid_division_code");
    assert_eq!(body["field"], "code");
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["message"].as_str().unwrap().contains("12位"), "{body}");

    let body = json(app.get_en("/api/v1/divisions?parent=43060200100x").await).await;
    assert_eq!(body["field"], "parent");
    assert!(body["message"].as_str().unwrap().contains("digits"), "{body}");

    let res = app.get("/api/v1/divisions/999999000000").await;
    assert_eq!(res.status(), 404);
    assert_eq!(json(res).await["code"], "not_found");

    let res = app.get(&format!("/api/v1/divisions?q={}", "岳".repeat(51))).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["field"], "q");
}

#[tokio::test]
async fn unknown_api_paths_get_the_json_error_shape() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/no-such-thing").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = json(res).await;
    assert_eq!(body["code"], "not_found");
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn a_known_path_asked_with_another_method_is_405() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/sweep/results", "/api/v1/households/search"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 405, "{path}");
        assert_eq!(json(res).await["code"], "method_not_allowed", "{path}");
    }
}

#[tokio::test]
async fn dashboard_counts_households_and_persons_per_street() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(300, 7).await;
    let district = app.signed_in("district", &[Role::District], DISTRICT).await;
    let body = json(app.get_as(&district, "/api/v1/dashboard").await).await;
    assert_eq!(body["district"]["name"], "岳阳楼区");
    assert_eq!(body["level"], "street");
    let streets = body["areas"].as_array().unwrap();
    for street in streets {
        let prefix = &street["code"].as_str().unwrap()[..9];
        let expected: Vec<_> = households.iter().filter(|h| h.community.as_str().starts_with(prefix)).collect();
        let persons: usize = expected.iter().map(|h| h.members.iter().filter(|m| m.death_date.is_none()).count()).sum();
        assert_eq!(street["households"], expected.len(), "{street}");
        assert_eq!(street["persons"], persons, "{street}");
    }
    assert_eq!(body["totals"]["households"], households.len());
}

#[tokio::test]
async fn openapi_and_swagger_ui_are_served() {
    let app = TestApp::spawn().await;
    let doc = json(app.get("/api/v1/openapi.json").await).await;
    assert!(doc["paths"]["/api/v1/divisions/{code}"]["get"].is_object(), "{doc}");
    assert!(doc["paths"]["/api/v1/dashboard"]["get"].is_object());
    let moving = &doc["paths"]["/api/v1/households/{id}/members/{person}/move"]["post"];
    assert!(moving["responses"]["412"].is_object(), "{moving}");
    assert!(doc["components"]["schemas"]["MoveForm"]["properties"]["to_version"].is_object());
    assert!(doc["components"]["schemas"]["SearchResult"]["properties"]["facets"].is_object());
    // An edit that can be stale (412) says which header carries its version, for generated clients.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["responses"]["412"].is_object() {
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let header = params.iter().any(|p| p["in"] == "header" && p["name"] == "If-Match");
                assert!(header, "{method} {path} answers 412 but documents no If-Match");
            }
        }
    }
    let ui = app.get("/api/docs/").await;
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn console_is_served_with_spa_fallback() {
    let app = TestApp::spawn().await;
    for path in ["/", "/divisions", "/some/deep/link"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.text().await.unwrap().contains("<div id=\"app\""), "{path}");
    }
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/api/v1/divisions", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn a_bad_body_names_its_field_to_a_client_that_takes_compressed_answers() {
    use std::io::Read;
    let app = TestApp::spawn().await;
    let officer = app.signed_in("officer", &[Role::District], DISTRICT).await;
    // Browsers ask for compressed answers: the error is still rendered, then compressed.
    let res = app
        .client
        .post(format!("{}/api/v1/households/search", app.address))
        .header("cookie", &officer.cookie)
        .header("x-csrf-token", &officer.csrf)
        .header("accept-encoding", "gzip")
        .header("content-type", "application/json")
        .body(r#"{"per_page":"20"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let gzipped = res.headers().get("content-encoding").is_some_and(|v| v == "gzip");
    let bytes = res.bytes().await.unwrap();
    let mut text = String::new();
    if gzipped {
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).unwrap();
    } else {
        text = String::from_utf8(bytes.to_vec()).unwrap();
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&body["code"], &body["field"]),
        (&serde_json::json!("invalid_body"), &serde_json::json!("per_page")),
        "{body}"
    );
}

#[tokio::test]
async fn a_registry_search_refuses_what_it_cannot_mean_naming_the_field() {
    let app = TestApp::spawn().await;
    let officer = app.signed_in("officer", &[Role::District], DISTRICT).await;
    for (body, status, field) in [
        (serde_json::json!({ "page": 0 }), 400, "page"),
        (serde_json::json!({ "per_page": 0 }), 400, "per_page"),
        (serde_json::json!({ "income_min": -5 }), 400, "income_min"),
        (serde_json::json!({ "income_max": -1 }), 400, "income_max"),
        // An age no one reaches: years × 12 months would overflow further on.
        (serde_json::json!({ "age_min": 4_294_967_295u32 }), 400, "age_min"),
        // PostgreSQL cannot hold a NUL; no text a person types has one.
        (serde_json::json!({ "name": "张\u{0}三" }), 400, "name"),
        (serde_json::json!({ "age_min": 151 }), 400, "age_min"),
        (serde_json::json!({ "age_min": 30, "age_max": 20 }), 400, "age_max"),
        // A misspelt filter would otherwise list everyone.
        (serde_json::json!({ "categroy": "dibao" }), 422, "categroy"),
    ] {
        let res = app.post_as(&officer, "/api/v1/households/search", body.clone()).await;
        assert_eq!(res.status(), status, "{body}");
        let answer = json(res).await;
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let res = app.post_as(&officer, "/api/v1/households/search", serde_json::json!({ "per_page": 1000 })).await;
    assert_eq!(res.status(), 200, "more than a page holds is cut, not refused");
}
