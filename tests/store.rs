//! The store suite: the same tests on SQLite and PostgreSQL.

use zhongfu_domain::{DivisionCode, Scope};
use zhongfu_store::{Actor, StoreError};

use crate::helpers::{TestApp, TestDb, backend, demo_households, district, settings};

#[tokio::test]
async fn migrate_is_idempotent_and_loads_divisions_once() {
    let db = TestDb::new().await;
    let (store, first) = zhongfu::open_migrated(&settings(&db)).await.unwrap();
    let every: Vec<i64> = zhongfu_store::MIGRATIONS_SQLITE.iter().map(|m| m.version).collect();
    assert_eq!(first.applied, every);
    assert!(first.divisions_loaded > 40_000, "townships of all China: {}", first.divisions_loaded);
    let second = store.migrate().await.unwrap();
    assert!(second.applied.is_empty());
    assert_eq!(second.divisions_loaded, 0);
    assert_eq!(store.backend(), backend());
}

#[tokio::test]
async fn personal_data_is_encrypted_at_rest() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(20, 3).await;
    let id = households[0].members[0].id_number.as_str().to_owned();
    let db_url = app.db_url();
    let dump = crate::helpers::raw_text(&db_url, "SELECT name, id_masked FROM person").await;
    assert!(dump.contains(&households[0].members[0].id_number.masked()));
    let all = crate::helpers::raw_text(&db_url, "SELECT * FROM person").await;
    assert!(!all.contains(&id), "the plain ID number is not stored");
    assert!(!all.contains(&id[6..14]), "not even the birth date digits in sequence");
}

#[tokio::test]
async fn a_person_is_in_one_household_only() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(5, 11).await;
    let mut again = demo_households(1, 12);
    // Same person (ID number) in a new household: the blind index refuses it.
    again[0].members[0].id_number = households[0].members[0].id_number.clone();
    let err = app.store.insert_households(&Actor::system("test"), &again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    // Nothing of the refused batch was written.
    assert_eq!(app.store.household_count(&Scope::new(district())).await.unwrap(), 5);
}

#[tokio::test]
async fn counts_respect_the_scope() {
    let app = TestApp::spawn().await;
    let households = app.seed_demo(200, 5).await;
    let first_street = &households[0].community.as_str()[..9];
    let street = DivisionCode::from_prefix(first_street).unwrap();
    let in_street = households.iter().filter(|h| street.contains(&h.community)).count() as i64;
    assert!(in_street > 0 && in_street < 200);

    let scope = Scope::new(street);
    assert_eq!(app.store.household_count(&scope).await.unwrap(), in_street);
    let rows = app.store.area_counts(&scope, &district()).await.unwrap();
    assert!(rows.iter().all(|r| street.contains(&r.code) && r.code != street), "only the street's own communities");
    assert_eq!(rows.iter().map(|r| r.households).sum::<i64>(), in_street);

    let everything = app.store.area_counts(&Scope::new(district()), &district()).await.unwrap();
    assert_eq!(everything.iter().map(|r| r.households).sum::<i64>(), 200);
    assert!(everything.iter().all(|r| r.code.as_str().ends_with("000")), "the district's streets");
    let elsewhere = Scope::new(DivisionCode::parse("430603000000").unwrap());
    assert_eq!(app.store.household_count(&elsewhere).await.unwrap(), 0);
    assert!(app.store.area_counts(&elsewhere, &district()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_household_merged_away_does_not_lend_its_id_to_the_next() {
    let app = TestApp::spawn().await;
    let actor = Actor::system("test");
    let scope = Scope::new(district());
    let today = chrono::Local::now().date_naive();
    let mut households = demo_households(3, 4);
    let later = households.pop().unwrap();
    app.store.insert_households(&actor, &households).await.unwrap();
    let filter =
        zhongfu_store::registry::HouseholdFilter { limit: 10, ..zhongfu_store::registry::HouseholdFilter::new(today) };
    let mut ids: Vec<i64> = app.store.households(&scope, &filter).await.unwrap().items.iter().map(|h| h.id).collect();
    ids.sort_unstable();
    // The household with the largest id is merged into the other.
    let (keep, gone) = (ids[0], ids[1]);
    let version = |id| {
        let (store, scope) = (&app.store, &scope);
        async move { store.household(scope, id, today).await.unwrap().unwrap().version }
    };
    let (kv, gv) = (version(keep).await, version(gone).await);
    let merged = app.store.merge_households(&actor, &scope, keep, kv, gone, gv, today).await.unwrap();
    assert!(matches!(merged, zhongfu_store::registry::EditOutcome::Saved(_)), "{merged:?}");
    // The next household registered gets an id of its own.
    app.store.insert_households(&actor, std::slice::from_ref(&later)).await.unwrap();
    let now: Vec<i64> = app.store.households(&scope, &filter).await.unwrap().items.iter().map(|h| h.id).collect();
    let newcomer = now.iter().copied().find(|id| *id != keep).unwrap();
    assert!(newcomer > gone, "the newcomer has id {newcomer}, the merged-away household had {gone}");
}

/// A person registered elsewhere after a batch was read (a worker at the
/// console while the import runs) is seen by the import's plan, which is made
/// in the transaction that writes: that household is a conflict, the rest is
/// written, and nothing fails. Before, a batch planned first and written later
/// stopped the import on the person's unique index.
#[tokio::test]
async fn an_import_plans_in_the_transaction_that_writes_it() {
    use zhongfu_domain::ledger::Said;
    use zhongfu_store::registry::ConflictReason;
    let app = TestApp::spawn().await;
    let sheet = demo_households(3, 31);
    let batch = app.store.prepare_import(sheet.clone(), Said::all());
    // Meanwhile the first household's head is registered in another household.
    let mut elsewhere = demo_households(1, 32);
    elsewhere[0].members.push(sheet[0].members[0].clone());
    elsewhere[0].members.last_mut().unwrap().relation = zhongfu_domain::registry::Relation::Other;
    app.store.insert_households(&Actor::system("console"), &elsewhere).await.unwrap();
    let imported = app.store.import_households(&Actor::system("import"), &Scope::new(district()), batch).await.unwrap();
    assert_eq!(imported.plan.new, [1, 2], "the other two are written");
    assert_eq!(imported.plan.conflicts.len(), 1);
    assert_eq!(
        (imported.plan.conflicts[0].household, imported.plan.conflicts[0].reason),
        (0, ConflictReason::PersonElsewhere)
    );
    assert_eq!(imported.written.len(), 2);
    assert_eq!(imported.households.len(), 3, "the batch's households come back for the report");
    assert_eq!(app.store.household_count(&Scope::new(district())).await.unwrap(), 3);
}

/// Whether `holding_area` is in the test database's schema.
async fn area_index(db: &TestDb) -> bool {
    let sql = if backend() == "postgres" {
        "SELECT indexname FROM pg_indexes WHERE indexname = 'holding_area' AND schemaname = current_schema()"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'holding_area'"
    };
    crate::helpers::raw_text(&db.url, sql).await.contains("holding_area")
}

/// On SQLite an import of many rows into a registry holding fewer has
/// `holding_area` set aside and built again after it; a small one keeps it; and
/// start-up builds it again when an import died before it could.
#[tokio::test]
async fn a_large_import_sets_the_area_index_aside_until_it_ends() {
    let db = TestDb::new().await;
    let (store, _) = zhongfu::open_migrated(&settings(&db)).await.unwrap();
    store.insert_households(&Actor::system("console"), &demo_households(5, 41)).await.unwrap();
    assert!(area_index(&db).await);
    assert!(!store.set_aside_bulk_indexes(500).await.unwrap(), "a small import keeps it");
    assert!(area_index(&db).await);
    if backend() == "postgres" {
        assert!(!store.set_aside_bulk_indexes(50_000).await.unwrap(), "PostgreSQL keeps it");
        assert!(area_index(&db).await);
        return;
    }
    assert!(store.set_aside_bulk_indexes(50_000).await.unwrap());
    assert!(!area_index(&db).await);
    store.restore_bulk_indexes().await.unwrap();
    assert!(area_index(&db).await);
    assert!(store.set_aside_bulk_indexes(50_000).await.unwrap());
    store.migrate().await.unwrap();
    assert!(area_index(&db).await, "start-up builds it again");
}
