//! `zhongfu demo`: the demo district, generated into the database or a CSV
//! ledger. It is also the benchmark data generator, so it streams: memory
//! stays flat whatever the number of households.

use std::fmt;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use zhongfu_domain::demo::{Community, DemoConfig, DemoGenerator};
use zhongfu_domain::registry::Household;
use zhongfu_domain::{DivisionCode, DivisionLevel, Scope};
use zhongfu_store::{Actor, StoreError};

use crate::accounts::{DEMO_PASSWORD, DemoLogin, create_demo_accounts, pair_demo_accounts};
use crate::{Settings, StartError, open_migrated};

/// Households written to the database per transaction.
const BATCH: usize = 2000;

pub struct DemoRequest {
    pub households: u64,
    pub seed: u64,
    /// CSV file to write instead of the database.
    pub out: Option<PathBuf>,
    pub district: DivisionCode,
}

#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub ok: bool,
    /// `database` or the CSV path.
    pub target: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub seconds: f64,
    pub persons_per_second: f64,
    /// True when the database already held households and nothing was generated.
    pub skipped: bool,
    /// Demo sign-ins created this time (one per role), all with `password`.
    pub logins: Vec<DemoLogin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<&'static str>,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.skipped {
            write!(
                f,
                "the registry already holds {} households; demo data not generated again",
                self.counts.households
            )?;
            return Ok(());
        }
        write!(
            f,
            "generated {} households, {} persons into {} in {:.1} s ({:.0} persons/s)",
            self.counts.households, self.counts.persons, self.target, self.seconds, self.persons_per_second
        )?;
        if let Some(password) = self.password.filter(|_| !self.logins.is_empty()) {
            writeln!(f, "\n\nDemo sign-ins (password {password}, captcha as shown):")?;
            for l in &self.logins {
                writeln!(f, "  {:<14} {:<10} {}", l.username, l.role_zh, l.jurisdiction)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoRunError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("the district {0} has no communities in the bundled division data")]
    NoCommunities(DivisionCode),
    #[error("{0}")]
    Generator(String),
}

/// The communities and villages of `district`, from the bundled NBS data.
pub fn communities(district: &DivisionCode) -> Result<Vec<Community>, DemoRunError> {
    let list: Vec<Community> = zhongfu_store::divisions::bundled_rows()?
        .into_iter()
        .filter(|r| r.code.level() == DivisionLevel::Village && district.contains(&r.code))
        .map(|r| Community { code: r.code, name: r.name })
        .collect();
    if list.is_empty() {
        return Err(DemoRunError::NoCommunities(*district));
    }
    Ok(list)
}

/// What was generated: persons counts every member record, living those
/// without a date of death (the registry's dashboard counts the living).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Counts {
    pub households: u64,
    pub persons: u64,
    pub living_persons: u64,
}

impl Counts {
    fn add(&mut self, h: &Household) {
        self.households += 1;
        self.persons += h.members.len() as u64;
        self.living_persons += h.members.iter().filter(|m| m.death_date.is_none()).count() as u64;
    }
}

pub async fn run(settings: &Settings, req: DemoRequest) -> Result<DemoReport, DemoRunError> {
    let config = DemoConfig { households: req.households, seed: req.seed, today: chrono::Local::now().date_naive() };
    let communities = communities(&req.district)?;
    let generator =
        DemoGenerator::new(config, communities.clone()).map_err(|e| DemoRunError::Generator(e.to_string()))?;
    let started = Instant::now();
    let mut logins = Vec::new();
    let (target, counts, skipped) = match req.out {
        Some(path) => {
            let shown = path.display().to_string();
            let counts = tokio::task::spawn_blocking(move || write_csv(generator, &path))
                .await
                .map_err(|e| DemoRunError::Generator(e.to_string()))??;
            (shown, counts, false)
        }
        None => {
            let (store, _) = open_migrated(settings).await?;
            logins = create_demo_accounts(store.as_ref(), &req.district, &communities, settings.demo_mode).await?;
            let existing = store.household_count(&Scope::new(req.district)).await?;
            if existing > 0 {
                let counts = Counts { households: existing.unsigned_abs(), ..Counts::default() };
                ("database".to_owned(), counts, true)
            } else {
                let mut counts = Counts::default();
                let actor = Actor::system("zhongfu demo");
                let mut batch = Vec::with_capacity(BATCH);
                let mut generator = generator.peekable();
                while generator.peek().is_some() {
                    batch.clear();
                    batch.extend(generator.by_ref().take(BATCH));
                    store.insert_households(&actor, &batch).await?;
                    batch.iter().for_each(|h| counts.add(h));
                }
                if !logins.is_empty() {
                    pair_demo_accounts(store.as_ref()).await?;
                }
                ("database".to_owned(), counts, false)
            }
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(DemoReport {
        ok: true,
        target,
        counts,
        seconds,
        persons_per_second: if seconds > 0.0 { counts.persons as f64 / seconds } else { 0.0 },
        skipped,
        password: (!logins.is_empty()).then_some(DEMO_PASSWORD),
        logins,
    })
}

fn write_csv(generator: DemoGenerator, path: &std::path::Path) -> Result<Counts, DemoRunError> {
    let write_error = |source| DemoRunError::Write { path: path.display().to_string(), source };
    let file = std::fs::File::create(path).map_err(write_error)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    zhongfu_domain::demo::write_csv_header(&mut out).map_err(write_error)?;
    let mut counts = Counts::default();
    for h in generator {
        zhongfu_domain::demo::write_csv_household(&mut out, &h).map_err(write_error)?;
        counts.add(&h);
    }
    out.flush().map_err(write_error)?;
    Ok(counts)
}
