//! `zhongfu bench import` at a small size: the figures scripts read, and
//! nothing left behind.

use zhongfu::bench::{self, LedgerFormat};

use crate::helpers::{TestDb, backend, postgres_admin_url, settings};

/// Whether PostgreSQL has a schema called `name`.
async fn schema_exists(name: String) -> bool {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url()).await.unwrap();
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_import_benchmark_times_both_bare_loads_and_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let mut settings = settings(&db);
    if backend() == "postgres" {
        // The benchmark makes (and drops) schemas of its own beside the configured one.
        settings.database_url = postgres_admin_url();
    }
    // Over 1,000 households: a batch large enough for PostgreSQL to take statistics after it.
    let figures = bench::import(&settings, 4_500, LedgerFormat::Csv).await.unwrap();
    assert!(figures.persons >= 4_500 && figures.households > 1_000, "{figures:?}");
    // Every member and household written, and the categories some of them hold.
    assert!(figures.written_rows > (figures.persons + figures.households) as i64, "{figures:?}");
    // The bare load wrote as many rows (the benchmark fails otherwise), where it ran.
    let shell = std::process::Command::new("sqlite3").arg("-version").output().is_ok();
    if backend() == "postgres" || shell {
        let (ours, bare) = (figures.seconds, figures.tables_baseline_seconds.unwrap());
        assert!(figures.baseline_seconds.is_some(), "{figures:?}");
        assert_eq!(figures.ratio_to_tables_baseline, Some(bare / ours));
    }
    if backend() == "postgres" {
        let pid = std::process::id();
        assert!(!schema_exists(format!("bench_{pid}")).await);
        assert!(!schema_exists(format!("bare_{pid}")).await);
    }
    let dir = std::env::temp_dir().join(format!("zhongfu-bench-{}", std::process::id()));
    assert!(!dir.exists(), "{}", dir.display());
}
