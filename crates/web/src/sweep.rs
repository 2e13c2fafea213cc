//! The 政策找人 sweep: the registry kept in columns in memory, every active
//! policy evaluated over it, and the results kept up to date as households
//! change. A full sweep builds a new snapshot beside the old one and swaps
//! it in, so it never blocks edits.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use zhongfu_domain::policy::{
    Catalogue, Columns, ConditionOutcome, Engine, Finding, FindingKind, Findings, HouseholdFacts, ParamDef, PolicyDef,
    build_engine, swept_on, vocabulary,
};
use zhongfu_store::Store;

/// An active policy version the snapshot was built with.
#[derive(Clone, Debug)]
pub struct ActivePolicy {
    pub policy_id: i64,
    pub version: i64,
    pub definition: PolicyDef,
}

/// The registry and the results as of one date.
pub struct Snapshot {
    pub date: NaiveDate,
    pub columns: Columns,
    pub engine: Engine,
    pub policies: Vec<ActivePolicy>,
    /// Every finding, those of replaced rows included: read them through `findings()`.
    findings: Findings,
    /// Which full sweep made it (each one installed counts up): a reader that lets go of
    /// the lock between steps checks that its rows still mean the same.
    pub generation: u64,
}

impl Snapshot {
    /// The registry's `facts` in columns as of `date`, with every policy of
    /// `policies` evaluated over them on all cores. Also returns the policies
    /// left out (their rules do not check on that date; each is logged), as
    /// "name：why / why in English".
    pub fn build(
        date: NaiveDate,
        facts: Vec<HouseholdFacts>,
        policies: Vec<ActivePolicy>,
        params: &[ParamDef],
    ) -> (Self, Vec<String>) {
        let mut columns = Columns::build(date, facts);
        columns.shrink();
        // A policy that has ended is run with a rule nobody meets, so its holders are 应退未退.
        let rules: Vec<Cow<'_, PolicyDef>> = (policies.iter().map(|p| &p.definition))
            .map(|d| if d.ended(date) { Cow::Owned(d.ended_rule()) } else { Cow::Borrowed(d) })
            .collect();
        let defs: Vec<&PolicyDef> = rules.iter().map(|d| d.as_ref()).collect();
        let (engine, refused) = build_engine(&defs, &vocabulary(params, date));
        for (i, e) in &refused {
            tracing::warn!(policy = %defs[*i].code, error = %e, "policy left out of the sweep");
        }
        let left_out = refused.iter().map(|(i, e)| format!("{}：{} / {e}", defs[*i].name, e.message_zh())).collect();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let findings = engine.sweep(&columns, threads);
        (Self { date, columns, engine, policies, findings, generation: 0 }, left_out)
    }

    /// The findings of households as they are now.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| self.columns.is_live(f.household(&self.columns)))
    }

    /// A finding's conditions with their values, and the benefit it would bring.
    pub fn explain(&self, f: &Finding) -> (Vec<ConditionOutcome>, Option<i64>) {
        let policy = &self.policies[f.policy as usize].definition;
        if let Some(to) = policy.effective_to.filter(|_| policy.ended(self.date)) {
            let detail = format!("政策已于 {to} 停止执行 (the policy ended on {to})");
            return (vec![ConditionOutcome { condition: "effective_to".into(), holds: Some(false), detail }], None);
        }
        self.engine.explain_finding(&self.columns, f)
    }
}

/// Where the sweep stands, for the progress bar.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct SweepStatus {
    pub running: bool,
    /// `idle`, `loading`, `evaluating`, `done` or `failed`.
    pub phase: String,
    /// Per cent done.
    pub percent: u8,
    #[schema(value_type = Option<String>)]
    pub as_of: Option<NaiveDate>,
    pub finished_at: Option<String>,
    /// The district's households, persons and rows found: shown only to an account that
    /// sees the whole district (a street's or a department's lists are narrower).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub households: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persons: Option<usize>,
    pub policies: usize,
    /// Policies run in the interpreter because the engine can't compile them.
    pub interpreted: usize,
    /// Policies in force that found no one, because their rule does not check on
    /// the sweep's date (a parameter without a value then, say): "name：why / why in English".
    pub left_out: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<usize>,
    pub load_ms: u64,
    pub evaluate_ms: u64,
    pub error: Option<String>,
    /// For a department account, its unit: the lists hold only that unit's policies
    /// (empty for an account without a unit, whose lists are empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

#[derive(Default)]
pub struct Sweeper {
    snapshot: RwLock<Option<Snapshot>>,
    status: Mutex<SweepStatus>,
    /// Households changed while a full sweep loads: re-evaluated after the swap.
    dirty: Mutex<Option<Vec<i64>>>,
    /// A sweep asked for while one ran, and the date it asked for.
    again: Mutex<Option<NaiveDate>>,
}

impl std::fmt::Debug for Sweeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweeper").field("status", &self.status()).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SweepStatus {
    /// The status as an account sees it: without the district's figures unless it
    /// sees the whole district.
    pub fn seen_by(self, whole_district: bool) -> Self {
        if whole_district { self } else { Self { households: None, persons: None, findings: None, ..self } }
    }
}

impl Sweeper {
    pub fn status(&self) -> SweepStatus {
        lock(&self.status).clone()
    }

    /// The day the lists are judged on: the last sweep's, today before the first.
    pub fn lists_date(&self) -> NaiveDate {
        lock(&self.status).as_of.unwrap_or_else(crate::households::today)
    }

    /// Runs `f` on the current snapshot, if there is one.
    pub fn read<R>(&self, f: impl FnOnce(&Snapshot) -> R) -> Option<R> {
        let guard = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(f)
    }

    /// Starts a full sweep. If one is running (it may have loaded the
    /// registry before the change that asks for this one), another follows
    /// it; returns false then.
    pub fn start(self: &Arc<Self>, store: Arc<dyn Store>, district: String, date: NaiveDate) -> bool {
        // The lists as they stand, which a failed run leaves in place.
        let previous = {
            let mut s = lock(&self.status);
            if s.running {
                *lock(&self.again) = Some(date);
                return false;
            }
            let previous = s.clone();
            *s = SweepStatus {
                running: true,
                phase: "loading".into(),
                percent: 5,
                as_of: Some(date),
                ..Default::default()
            };
            previous
        };
        *lock(&self.dirty) = Some(Vec::new());
        let me = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = me.run(store.as_ref(), &district, date).await {
                tracing::error!(error = %e, "sweep failed");
                // The lists are still the last run's: its figures stay, with the failure beside them.
                *lock(&me.status) = SweepStatus { running: false, phase: "failed".into(), error: Some(e), ..previous };
                *lock(&me.dirty) = None;
            }
            let next = lock(&me.again).take();
            if let Some(date) = next {
                me.start(store, district, date);
            }
        });
        true
    }

    async fn run(&self, store: &dyn Store, district: &str, date: NaiveDate) -> Result<(), String> {
        let started = Instant::now();
        let params = store.policy_params().await.map_err(|e| e.to_string())?;
        let policies = active_policies(store, date).await?;
        // Reading the registry is most of the time: 5% to 55% of the bar.
        let tell = |done: usize, total: usize| {
            lock(&self.status).percent = (5 + 50 * done / total.max(1)).min(55) as u8;
        };
        let facts = store.registry_facts(district, None, Some(&tell)).await.map_err(|e| e.to_string())?;
        let load_ms = started.elapsed().as_millis() as u64;
        {
            let mut s = lock(&self.status);
            s.phase = "evaluating".into();
            s.percent = 60;
            s.load_ms = load_ms;
        }
        let built = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let (snapshot, left_out) = Snapshot::build(date, facts, policies, &params);
            (snapshot, left_out, started.elapsed().as_millis() as u64)
        })
        .await
        .map_err(|e| e.to_string())?;
        let (snapshot, left_out, evaluate_ms) = built;
        let summary = (
            snapshot.columns.households(),
            snapshot.columns.living_persons(),
            snapshot.policies.len(),
            snapshot.engine.interpreted(),
        );
        {
            let mut guard = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
            let mut snapshot = snapshot;
            snapshot.generation = guard.as_ref().map_or(1, |s| s.generation + 1);
            *guard = Some(snapshot);
        }
        let dirty = lock(&self.dirty).take().unwrap_or_default();
        for id in dirty {
            self.refresh(store, id).await;
        }
        let findings = self.read(|s| s.findings().count()).unwrap_or(0);
        let mut s = lock(&self.status);
        *s = SweepStatus {
            running: false,
            phase: "done".into(),
            percent: 100,
            as_of: Some(date),
            finished_at: Some(chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()),
            households: Some(summary.0),
            persons: Some(summary.1),
            policies: summary.2,
            interpreted: summary.3,
            left_out,
            findings: Some(findings),
            load_ms,
            evaluate_ms,
            error: None,
            department: None,
        };
        Ok(())
    }

    /// Re-evaluates one household after it changed (an edit, an import, a
    /// death recorded), so the lists stay right without a full sweep.
    pub async fn refresh(&self, store: &dyn Store, household: i64) {
        if let Some(dirty) = lock(&self.dirty).as_mut() {
            dirty.push(household);
        }
        if self.read(|_| ()).is_none() {
            return;
        }
        let facts = match store.registry_facts("", Some(household), None).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(household, error = %e, "could not re-evaluate a household");
                return;
            }
        };
        let mut guard = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        let Some(s) = guard.as_mut() else { return };
        s.engine.update(&mut s.columns, &mut s.findings, household, facts.first());
    }
}

/// The active version of each policy a sweep on `date` runs: those in force,
/// and one that ended for a category no policy in force records (`swept_on`).
pub async fn active_policies(store: &dyn Store, date: NaiveDate) -> Result<Vec<ActivePolicy>, String> {
    let versions = store.policy_versions().await.map_err(|e| e.to_string())?;
    let active: Vec<_> = versions.into_iter().filter(|v| v.status == "active").collect();
    let chosen = swept_on(&active.iter().map(|v| &v.definition).collect::<Vec<_>>(), date);
    let mut active: Vec<_> = active.into_iter().map(Some).collect();
    Ok(chosen
        .into_iter()
        .filter_map(|i| active[i].take())
        .map(|v| ActivePolicy { policy_id: v.policy_id, version: v.version, definition: v.definition })
        .collect())
}

/// Seeds the shipped catalogue into an empty store.
pub async fn seed(store: &dyn Store) -> Result<usize, zhongfu_store::StoreError> {
    store.seed_catalogue(&zhongfu_store::Actor::system("catalogue"), &Catalogue::demo()).await
}

/// How a finding is listed: as the engine found it, except that an 应退未退
/// whose gradual-exit period (渐退期) runs on the sweep's date is listed as
/// `Taper` instead of `Stale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListedKind {
    Missing,
    Stale,
    Taper,
    Unknown,
}

impl ListedKind {
    pub fn of(kind: FindingKind) -> Self {
        match kind {
            FindingKind::Missing => Self::Missing,
            FindingKind::Stale => Self::Stale,
            FindingKind::Unknown => Self::Unknown,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Stale => "stale",
            Self::Taper => "taper",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Missing, Self::Stale, Self::Taper, Self::Unknown].into_iter().find(|k| k.code() == s)
    }
}

/// Counts by kind. A row in 渐退期 counts under `taper`, not `stale`: it is
/// not 应退未退 while the period runs.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Counts {
    pub missing: usize,
    pub stale: usize,
    pub taper: usize,
    pub unknown: usize,
}

impl Counts {
    pub fn is_empty(&self) -> bool {
        self.missing + self.stale + self.taper + self.unknown == 0
    }

    pub fn merge(&mut self, other: &Counts) {
        self.missing += other.missing;
        self.stale += other.stale;
        self.taper += other.taper;
        self.unknown += other.unknown;
    }

    pub fn add(&mut self, kind: ListedKind) {
        match kind {
            ListedKind::Missing => self.missing += 1,
            ListedKind::Stale => self.stale += 1,
            ListedKind::Taper => self.taper += 1,
            ListedKind::Unknown => self.unknown += 1,
        }
    }
}

/// The date the lists move to when the day turns to `today`: they follow the
/// calendar, so lists the district made as of a past day return to the present
/// overnight (every street works from them); a day ahead stays until it comes.
pub fn next_day(as_of: Option<NaiveDate>, today: NaiveDate) -> Option<NaiveDate> {
    match as_of {
        Some(d) if d >= today => None,
        _ => Some(today),
    }
}

/// Five minutes after each midnight, moves the lists to the new day (ages, dated
/// parameters, categories that ended) when they follow the calendar. The full
/// sweep also takes in what `zhongfu import` wrote beside the running server.
pub async fn nightly(sweeper: Arc<Sweeper>, store: Arc<dyn Store>, district: String) {
    loop {
        let now = chrono::Local::now();
        let wake = (now.date_naive() + chrono::Days::new(1))
            .and_hms_opt(0, 5, 0)
            .and_then(|t| t.and_local_timezone(chrono::Local).earliest());
        let wait = wake.and_then(|w| (w - now).to_std().ok()).unwrap_or(std::time::Duration::from_secs(3600));
        tokio::time::sleep(wait).await;
        if let Some(date) = next_day(sweeper.status().as_of, chrono::Local::now().date_naive()) {
            sweeper.start(store.clone(), district.clone(), date);
        }
    }
}

/// Listed findings counted per policy (by index) and per community (by its slot in the
/// columns): plain arrays, as a district's listing counts millions of rows.
pub struct Tally {
    pub by_policy: Vec<Counts>,
    pub by_community: Vec<Counts>,
}

impl Tally {
    pub fn new(snapshot: &Snapshot) -> Self {
        Self {
            by_policy: vec![Counts::default(); snapshot.policies.len()],
            by_community: vec![Counts::default(); snapshot.columns.communities().len()],
        }
    }

    /// Counts per street (a community's parent) and per community, by code, leaving out
    /// those with nothing listed.
    pub fn areas(&self, snapshot: &Snapshot) -> (BTreeMap<String, Counts>, BTreeMap<String, Counts>) {
        let (mut streets, mut communities) = (BTreeMap::new(), BTreeMap::new());
        for (code, counts) in snapshot.columns.communities().iter().zip(&self.by_community) {
            if counts.is_empty() {
                continue;
            }
            let street = code.parent().unwrap_or(*code);
            streets.entry(street.as_str().to_owned()).or_insert_with(Counts::default).merge(counts);
            communities.insert(code.as_str().to_owned(), counts.clone());
        }
        (streets, communities)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_follow_the_calendar_unless_a_day_ahead_was_chosen() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert_eq!(next_day(Some(day(25)), day(26)), Some(day(26)), "on yesterday: moved on");
        assert_eq!(next_day(None, day(26)), Some(day(26)), "never made");
        assert_eq!(next_day(Some(day(1)), day(26)), Some(day(26)), "a past day chosen returns to the present");
        assert_eq!(next_day(Some(day(26)), day(26)), None, "already today");
        assert_eq!(next_day(Some(day(27)), day(26)), None, "a chosen date ahead stays");
    }
}
