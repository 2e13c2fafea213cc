//! `zhongfu sweep`: every active policy over the registry, with counts per
//! policy; and `zhongfu bench sweep` on generated data held in memory.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use zhongfu_domain::demo::{DemoConfig, DemoGenerator};
use zhongfu_domain::policy::sql::{column, count_query};
use zhongfu_domain::policy::{
    Catalogue, Checked, Col, Columns, Ex, FindingKind, HouseholdFacts, Level, PolicyDef, build_engine, check,
};
use zhongfu_web::sweep::{Counts, ListedKind, Snapshot, active_policies};

use crate::demo::communities;
use crate::{Settings, StartError, open_migrated};

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> SweepError {
    SweepError::Failed(e.to_string())
}

/// What a sweep found, per policy.
#[derive(Debug, Serialize)]
pub struct PolicyCount {
    pub code: String,
    pub name: String,
    pub department: String,
    pub missing: usize,
    pub stale: usize,
    pub unknown: usize,
}

#[derive(Debug, Serialize)]
pub struct SweepReport {
    pub ok: bool,
    pub as_of: chrono::NaiveDate,
    pub households: usize,
    pub persons: usize,
    pub policies: usize,
    /// Policies left out because their rule does not check (named in the log).
    pub refused: usize,
    pub interpreted: usize,
    pub missing: usize,
    pub stale: usize,
    pub unknown: usize,
    pub load_ms: u64,
    pub evaluate_ms: u64,
    pub by_policy: Vec<PolicyCount>,
}

/// Sweeps the district's registry in the database as of `date`.
pub async fn run(settings: &Settings, date: chrono::NaiveDate) -> Result<SweepReport, SweepError> {
    let (store, _) = open_migrated(settings).await?;
    zhongfu_web::sweep::seed(store.as_ref()).await.map_err(failed)?;
    let started = Instant::now();
    let params = store.policy_params().await.map_err(failed)?;
    let policies = active_policies(store.as_ref(), date).await.map_err(failed)?;
    let facts = store.registry_facts(settings.district.prefix(), None, None).await.map_err(failed)?;
    let load_ms = started.elapsed().as_millis() as u64;
    let started = Instant::now();
    let (snapshot, left_out) = Snapshot::build(date, facts, policies, &params);
    let refused = left_out.len();
    let evaluate_ms = started.elapsed().as_millis() as u64;
    let Snapshot { columns, engine, policies, .. } = &snapshot;
    let defs: Vec<&PolicyDef> = policies.iter().map(|p| &p.definition).collect();
    let mut by: BTreeMap<usize, Counts> = BTreeMap::new();
    let mut all = Counts::default();
    // The engine's own findings: workers' marks (dismissals, 渐退期) are the server's lists' business.
    for f in snapshot.findings() {
        by.entry(f.policy as usize).or_default().add(ListedKind::of(f.kind));
        all.add(ListedKind::of(f.kind));
    }
    let by_policy = defs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let c = by.remove(&i).unwrap_or_default();
            PolicyCount {
                code: d.code.clone(),
                name: d.name.clone(),
                department: d.department.clone(),
                missing: c.missing,
                stale: c.stale,
                unknown: c.unknown,
            }
        })
        .collect();
    Ok(SweepReport {
        ok: refused == 0,
        as_of: date,
        households: columns.households(),
        persons: columns.person_rows(),
        policies: defs.len(),
        refused,
        interpreted: engine.interpreted(),
        missing: all.missing,
        stale: all.stale,
        unknown: all.unknown,
        load_ms,
        evaluate_ms,
        by_policy,
    })
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The figures of `zhongfu bench sweep`.
#[derive(Debug, Serialize)]
pub struct SweepBench {
    pub ok: bool,
    pub persons: usize,
    pub households: usize,
    pub policies: usize,
    pub threads: usize,
    pub generate_seconds: f64,
    /// The full sweep: every policy over every row, cold (the first, as the server runs it).
    pub sweep_seconds: f64,
    /// With `--warm N`: the median of N more sweeps.
    pub warm_sweep_seconds: Option<f64>,
    pub findings: usize,
    /// One pass summing the columns the rules use.
    pub scan_floor_seconds: f64,
    pub ratio_to_scan_floor: f64,
    /// Column bytes per person (households' columns included).
    pub bytes_per_person: f64,
    /// Re-evaluating one edited household (columns updated, results replaced).
    pub incremental_p50_ms: f64,
    pub incremental_p99_ms: f64,
    pub peak_rss_mb: f64,
    /// The catalogue translated to SQL, one query per policy, on the same data.
    pub sql_baseline: Vec<SqlBaseline>,
}

/// The same catalogue as SQL in a database, and how it compares.
#[derive(Debug, Serialize)]
pub struct SqlBaseline {
    pub backend: &'static str,
    pub load_seconds: f64,
    /// All policies' queries, one after another.
    pub query_seconds: f64,
    /// Query time over our sweep time.
    pub ratio_to_sweep: f64,
    /// Policies whose rule has no SQL form here (left out of both sides of the comparison).
    pub untranslated: usize,
    /// Whether every policy's two counts equal the engine's.
    pub counts_match: bool,
}

/// Generates the demo district in memory and sweeps it with the shipped catalogue.
/// With `sql`, also the SQL baseline: in-memory SQLite, and PostgreSQL when
/// `DATABASE_URL` names one.
pub async fn bench(settings: &Settings, persons: u64, sql: bool, warm: u32) -> Result<SweepBench, SweepError> {
    let (mut figures, columns, plans, counts) = tokio::task::block_in_place(|| engine_bench(settings, persons, warm))?;
    if !sql {
        return Ok(figures);
    }
    let mut baselines = Vec::new();
    let sqlite =
        sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.map_err(failed)?;
    baselines.push(sql_baseline::<sqlx::Sqlite>(&sqlite, "sqlite", &columns, &plans, &counts).await?);
    if settings.database_url.starts_with("postgres") {
        let pg = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&settings.database_url)
            .await
            .map_err(failed)?;
        sqlx::query("DROP SCHEMA IF EXISTS bench_sweep CASCADE").execute(&pg).await.map_err(failed)?;
        sqlx::query("CREATE SCHEMA bench_sweep").execute(&pg).await.map_err(failed)?;
        // Every connection of this pool (one) works in the bench schema.
        sqlx::query("SET search_path TO bench_sweep").execute(&pg).await.map_err(failed)?;
        let result = sql_baseline::<sqlx::Postgres>(&pg, "postgres", &columns, &plans, &counts).await;
        sqlx::query("DROP SCHEMA bench_sweep CASCADE").execute(&pg).await.map_err(failed)?;
        baselines.push(result?);
    }
    for b in &mut baselines {
        b.ratio_to_sweep = b.query_seconds / figures.sweep_seconds.max(1e-9);
        figures.ok &= b.counts_match;
    }
    figures.sql_baseline = baselines;
    Ok(figures)
}

/// Per policy: (level, condition, records bit), for the SQL baseline.
type Plans = Vec<Option<(Level, Ex, u8)>>;

/// The engine's part of the bench: its figures, the columns, the compiled
/// plans, and the engine's (应享未享, 应退未退) counts per policy.
type EngineRun = (SweepBench, Columns, Plans, Vec<(i64, i64)>);

fn engine_bench(settings: &Settings, persons: u64, warm: u32) -> Result<EngineRun, SweepError> {
    let today = chrono::Local::now().date_naive();
    let started = Instant::now();
    // Households until the persons are made (the generator stops at its count).
    let config = DemoConfig { households: persons.max(1), seed: 2026, today };
    let generator = DemoGenerator::new(config, communities(&settings.district).map_err(failed)?).map_err(failed)?;
    let mut columns = Columns::new(today);
    let mut next_person = 1;
    let mut sample: Vec<HouseholdFacts> = Vec::new();
    let mut made = 0u64;
    for (i, h) in generator.enumerate() {
        let facts = HouseholdFacts::of(i as i64 + 1, 1, &h, next_person);
        next_person += h.members.len() as i64;
        made += h.members.len() as u64;
        if i % 997 == 0 && sample.len() < 1000 {
            sample.push(facts.clone());
        }
        columns.push(&facts);
        if made >= persons {
            break;
        }
    }
    columns.shrink();
    let generate_seconds = started.elapsed().as_secs_f64();
    let catalogue = Catalogue::demo();
    let defs: Vec<&PolicyDef> = catalogue.policies.iter().filter(|p| p.in_force(today)).collect();
    let vocab = catalogue.vocabulary(today);
    let (engine, refused) = build_engine(&defs, &vocab);
    let plans: Plans = defs
        .iter()
        .map(|d| match check(d, &vocab) {
            Ok(Checked::Compiled(p)) => Some((p.level, p.condition, p.records)),
            _ => None,
        })
        .collect();
    let threads = threads();
    let started = Instant::now();
    let findings = engine.sweep(&columns, threads);
    let sweep_seconds = started.elapsed().as_secs_f64();
    let mut warm_times: Vec<f64> = (0..warm)
        .map(|_| {
            let started = Instant::now();
            let again = engine.sweep(&columns, threads);
            let seconds = started.elapsed().as_secs_f64();
            drop(again);
            seconds
        })
        .collect();
    warm_times.sort_by(f64::total_cmp);
    let warm_sweep_seconds = warm_times.get(warm_times.len() / 2).copied();
    // The floor is a lower bound: the fastest of five passes (one pass alone
    // varied two-fold between runs on a shared machine).
    let used = engine.columns();
    let (floor, scan_floor_seconds) = (0..5)
        .map(|_| {
            let started = Instant::now();
            let floor = columns.scan_floor(&used, threads);
            (floor, started.elapsed().as_secs_f64().max(1e-9))
        })
        .fold((0, f64::MAX), |(_, best), (floor, t)| (floor, best.min(t)));
    let bytes_per_person = columns.heap_bytes() as f64 / columns.person_rows().max(1) as f64;
    let mut counts = vec![(0i64, 0i64); defs.len()];
    for f in &findings {
        match f.kind {
            FindingKind::Missing => counts[f.policy as usize].0 += 1,
            FindingKind::Stale => counts[f.policy as usize].1 += 1,
            FindingKind::Unknown => {}
        }
    }
    // Incremental: replace a household and re-evaluate it, as an edit does.
    let mut results = findings.clone();
    let mut latencies = Vec::with_capacity(sample.len());
    for facts in &sample {
        let t = Instant::now();
        engine.update(&mut columns, &mut results, facts.id, Some(facts));
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    tracing::debug!(floor, "scan floor checksum");
    let figures = SweepBench {
        ok: refused.is_empty() && findings.iter().all(|f| f.kind != FindingKind::Unknown),
        persons: columns.person_rows(),
        households: columns.households(),
        policies: defs.len(),
        threads,
        generate_seconds,
        sweep_seconds,
        warm_sweep_seconds,
        findings: findings.len(),
        scan_floor_seconds,
        ratio_to_scan_floor: sweep_seconds / scan_floor_seconds,
        bytes_per_person,
        incremental_p50_ms: pct(0.5),
        incremental_p99_ms: pct(0.99),
        peak_rss_mb: crate::bench::peak_rss_mb(),
        sql_baseline: Vec::new(),
    };
    Ok((figures, columns, plans, counts))
}

const HH: [Col; 9] = [
    Col::Size,
    Col::TotalIncome,
    Col::PerCapitaIncome,
    Col::Assets,
    Col::Housing,
    Col::DangerousHousing,
    Col::Registration,
    Col::Tags,
    Col::HouseholdCategories,
];
const P: [Col; 12] = [
    Col::Age,
    Col::Sex,
    Col::Relation,
    Col::Marital,
    Col::Illness,
    Col::DisabilityType,
    Col::DisabilityGrade,
    Col::WorkAbility,
    Col::Employment,
    Col::Schooling,
    Col::Income,
    Col::Categories,
];

/// Loads the columns into `hh` and `p` (indexed as a peer would), runs one
/// query per policy, and compares the counts with the engine's.
async fn sql_baseline<DB>(
    pool: &sqlx::Pool<DB>,
    backend: &'static str,
    columns: &Columns,
    plans: &Plans,
    counts: &[(i64, i64)],
) -> Result<SqlBaseline, SweepError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    (i64, i64): for<'r> sqlx::FromRow<'r, DB::Row>,
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    let started = Instant::now();
    let names = |cols: &[Col]| cols.iter().map(|c| column(*c)).collect::<Vec<_>>();
    let create_hh = format!("CREATE TABLE hh (id BIGINT PRIMARY KEY, {} BIGINT)", names(&HH).join(" BIGINT, "));
    let create_p = format!(
        "CREATE TABLE p (id BIGINT PRIMARY KEY, hh BIGINT NOT NULL, alive BIGINT NOT NULL, {} BIGINT)",
        names(&P).join(" BIGINT, ")
    );
    for ddl in [create_hh, create_p] {
        sqlx::query(sqlx::AssertSqlSafe(ddl)).execute(pool).await.map_err(failed)?;
    }
    let mut tx = pool.begin().await.map_err(failed)?;
    const CHUNK: usize = 1000;
    let households = columns.household_rows();
    for start in (0..households).step_by(CHUNK) {
        let range = start..(start + CHUNK).min(households);
        let values: Vec<Vec<i64>> = HH.iter().map(|c| columns.values(*c, range.clone())).collect();
        let mut q = sqlx::QueryBuilder::<DB>::new(format!("INSERT INTO hh (id, {}) ", names(&HH).join(", ")));
        // Households replaced by the re-evaluation runs stay behind as dead rows: leave them out.
        let live = range.clone().enumerate().filter(|(_, row)| columns.is_live(*row as u32));
        q.push_values(live, |mut b, (i, row)| {
            b.push_bind(row as i64);
            for v in &values {
                b.push_bind(v[i]);
            }
        });
        q.build().execute(&mut *tx).await.map_err(failed)?;
    }
    let persons = columns.person_rows();
    for start in (0..persons).step_by(CHUNK) {
        let range = start..(start + CHUNK).min(persons);
        let values: Vec<Vec<i64>> = P.iter().map(|c| columns.values(*c, range.clone())).collect();
        let mut q = sqlx::QueryBuilder::<DB>::new(format!("INSERT INTO p (id, hh, alive, {}) ", names(&P).join(", ")));
        let live = range.clone().enumerate().filter(|(_, row)| columns.is_live(columns.person(*row).0));
        q.push_values(live, |mut b, (i, row)| {
            let (household, alive) = columns.person(row);
            b.push_bind(row as i64).push_bind(i64::from(household)).push_bind(i64::from(alive));
            for v in &values {
                b.push_bind(v[i]);
            }
        });
        q.build().execute(&mut *tx).await.map_err(failed)?;
    }
    tx.commit().await.map_err(failed)?;
    for ddl in ["CREATE INDEX p_hh ON p (hh)", "ANALYZE"] {
        sqlx::query(ddl).execute(pool).await.map_err(failed)?;
    }
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut counts_match = true;
    let mut untranslated = 0;
    for (plan, expected) in plans.iter().zip(counts) {
        let Some(sql) = plan.as_ref().and_then(|(level, cond, bit)| count_query(*level, cond, *bit)) else {
            untranslated += 1;
            continue;
        };
        let got: (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.map_err(failed)?;
        counts_match &= got == *expected;
    }
    Ok(SqlBaseline {
        backend,
        load_seconds,
        query_seconds: started.elapsed().as_secs_f64(),
        ratio_to_sweep: 0.0,
        untranslated,
        counts_match,
    })
}
