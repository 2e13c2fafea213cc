//! The audit trail: written with the change, chained, append-only, verifiable.

use zhongfu_domain::audit::ChainError;
use zhongfu_store::{Actor, AuditEvent};

use crate::helpers::{TestApp, demo_households, raw_execute, raw_text};

fn event(action: &str, id: &str) -> AuditEvent {
    AuditEvent { action: action.into(), entity: "account".into(), entity_id: id.into(), diff: "{}".into() }
}

#[tokio::test]
async fn changes_are_recorded_and_the_chain_verifies() {
    let app = TestApp::spawn().await;
    app.seed_demo(30, 1).await;
    let worker = Actor { id: Some(9), name: "wang".into(), ip: "10.1.2.3".into() };
    app.store.record_audit(&worker, &event("session.sign_in", "9")).await.unwrap();
    let report = app.store.verify_audit().await.unwrap();
    // The shipped catalogue's seed, the import, the sign-in.
    assert_eq!((report.records, report.last_seq, report.broken), (3, 3, None));
    let log = raw_text(&app.db_url(), "SELECT actor_name, ip, action, diff FROM audit_log ORDER BY seq").await;
    assert!(log.contains("household.create") && log.contains("households") && log.contains("[null,30]"), "{log}");
    assert!(log.contains("wang") && log.contains("10.1.2.3"), "{log}");
}

#[tokio::test]
async fn a_refused_change_leaves_no_audit_record() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(3, 2).await;
    let mut again = demo_households(1, 3);
    again[0].members[0].id_number = households[0].members[0].id_number.clone();
    assert!(app.store.insert_households(&Actor::system("test"), &again).await.is_err());
    // The catalogue's seed and the first import only.
    assert_eq!(app.store.verify_audit().await.unwrap().records, 2);
}

#[tokio::test]
async fn the_log_refuses_updates_and_deletes() {
    let app = TestApp::spawn().await;
    app.seed_demo(2, 4).await;
    let url = app.db_url();
    assert!(raw_execute(&url, "UPDATE audit_log SET actor_name = 'nobody'".into()).await.is_err());
    assert!(raw_execute(&url, "DELETE FROM audit_log".into()).await.is_err());
    assert!(app.store.verify_audit().await.unwrap().broken.is_none());
}

/// Writes four records (2 to 5, after the catalogue's seed), then changes the log as someone with direct database
/// access could, getting past the append-only triggers first.
async fn tamper(statement: &str) -> Option<ChainError> {
    let app = TestApp::spawn().await;
    let actor = Actor::system("test");
    for n in 1..=4 {
        app.store.record_audit(&actor, &event("account.update", &n.to_string())).await.unwrap();
    }
    let url = app.db_url();
    let bypass = if url.starts_with("postgres") {
        "ALTER TABLE audit_log DISABLE TRIGGER USER;"
    } else {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
    };
    raw_execute(&url, format!("{bypass} {statement}")).await.unwrap();
    app.store.verify_audit().await.unwrap().broken
}

#[tokio::test]
async fn an_edited_record_is_named_by_verify() {
    let broken = tamper("UPDATE audit_log SET entity_id = '99' WHERE seq = 2").await;
    assert_eq!(broken, Some(ChainError::Altered { seq: 2 }));
}

#[tokio::test]
async fn a_removed_record_is_noticed() {
    let broken = tamper("DELETE FROM audit_log WHERE seq = 2").await;
    assert_eq!(broken, Some(ChainError::Broken { seq: 3 }));
}

#[tokio::test]
async fn removing_the_newest_record_is_noticed() {
    let broken = tamper("DELETE FROM audit_log WHERE seq = 5").await;
    assert_eq!(broken, Some(ChainError::Broken { seq: 5 }));
}
