//! `zhongfu sweep`: every active policy over the registry, with counts per
//! policy; and `zhongfu bench sweep` on generated data held in memory.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use zhongfu_domain::demo::{DemoConfig, DemoGenerator};
use zhongfu_domain::policy::{Catalogue, Columns, FindingKind, HouseholdFacts, PolicyDef, build_engine, vocabulary};
use zhongfu_web::sweep::{Counts, active_policies};

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
    let facts = store.registry_facts(settings.district.prefix(), None).await.map_err(failed)?;
    let load_ms = started.elapsed().as_millis() as u64;
    let started = Instant::now();
    let columns = Columns::build(date, facts);
    let defs: Vec<&PolicyDef> = policies.iter().map(|p| &p.definition).collect();
    let (engine, refused) = build_engine(&defs, &vocabulary(&params, date));
    for (i, e) in &refused {
        tracing::warn!(policy = %defs[*i].code, error = %e, "policy left out");
    }
    let findings = engine.sweep(&columns, threads());
    let evaluate_ms = started.elapsed().as_millis() as u64;
    let mut by: BTreeMap<usize, Counts> = BTreeMap::new();
    let mut all = Counts::default();
    for f in &findings {
        by.entry(f.policy as usize).or_default().add(f.kind);
        all.add(f.kind);
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
        ok: refused.is_empty(),
        as_of: date,
        households: columns.households(),
        persons: columns.person_rows(),
        policies: defs.len(),
        refused: refused.len(),
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
    /// The full sweep: every policy over every row.
    pub sweep_seconds: f64,
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
    /// Not measured yet: the catalogue translated to SQL.
    pub sql_baseline: Option<f64>,
}

/// Generates the demo district in memory and sweeps it with the shipped catalogue.
pub fn bench(settings: &Settings, persons: u64) -> Result<SweepBench, SweepError> {
    let today = chrono::Local::now().date_naive();
    let started = Instant::now();
    let config = DemoConfig { households: persons.div_ceil(4).max(1), seed: 2026, today };
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
    let (engine, refused) = build_engine(&defs, &catalogue.vocabulary(today));
    let threads = threads();
    let started = Instant::now();
    let findings = engine.sweep(&columns, threads);
    let sweep_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let floor = columns.scan_floor(threads);
    let scan_floor_seconds = started.elapsed().as_secs_f64().max(1e-9);
    let bytes_per_person = columns.heap_bytes() as f64 / columns.person_rows().max(1) as f64;
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
    Ok(SweepBench {
        ok: refused.is_empty() && findings.iter().all(|f| f.kind != FindingKind::Unknown),
        persons: columns.person_rows(),
        households: columns.households(),
        policies: defs.len(),
        threads,
        generate_seconds,
        sweep_seconds,
        findings: findings.len(),
        scan_floor_seconds,
        ratio_to_scan_floor: sweep_seconds / scan_floor_seconds,
        bytes_per_person,
        incremental_p50_ms: pct(0.5),
        incremental_p99_ms: pct(0.99),
        peak_rss_mb: crate::bench::peak_rss_mb(),
        sql_baseline: None,
    })
}
