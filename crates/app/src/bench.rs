//! `zhongfu bench import`: the ledger import end to end on generated data,
//! against the bare load of the same CSV (`sqlite3 .import` or `COPY`) into
//! a table of the same columns and indexes, and against the bare load of the
//! rows it wrote into the same tables, in the same run.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::Connection;
use zhongfu_domain::demo::{DemoConfig, DemoGenerator, write_csv_header, write_csv_household};
use zhongfu_domain::{DivisionCode, Scope};
use zhongfu_store::Actor;
use zhongfu_web::imports::{self, ImportJob};

use crate::demo::communities;
use crate::{Settings, open_migrated};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Start(#[from] crate::StartError),
    #[error(transparent)]
    Import(#[from] imports::ImportError),
    #[error("the import rejected {0} rows of generated data; see the import report")]
    Rejected(usize),
}

fn setup(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// The ledger file a benchmark imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LedgerFormat {
    Csv,
    Xlsx,
}

/// The figures of one run.
#[derive(Debug, Serialize)]
pub struct ImportBench {
    pub ok: bool,
    pub format: LedgerFormat,
    pub backend: &'static str,
    pub persons: u64,
    pub households: u64,
    pub file_mb: f64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// Peak resident memory of this process, MB.
    pub peak_rss_mb: f64,
    /// Peak private memory during the import, MB (without mapped file pages).
    pub peak_private_mb: f64,
    pub baseline: &'static str,
    pub baseline_seconds: Option<f64>,
    pub baseline_rows_per_second: Option<f64>,
    /// Our rate over the bare load's rate.
    pub ratio_to_baseline: Option<f64>,
    /// The second baseline's tool: the rows the import wrote, loaded bare into
    /// the same tables of a second fresh database (see `sqlite_tables`).
    pub tables_baseline: &'static str,
    /// Households, members and categories held that the import wrote (and the
    /// second baseline loads).
    pub written_rows: i64,
    /// None where there is no `sqlite3` shell or it failed.
    pub tables_baseline_seconds: Option<f64>,
    /// The second baseline's time over ours.
    pub ratio_to_tables_baseline: Option<f64>,
}

/// Writes at least `persons` persons of the demo district as a CSV ledger.
fn write_ledger(path: &Path, district: &DivisionCode, persons: u64) -> Result<(u64, u64), BenchError> {
    let today = chrono::Local::now().date_naive();
    let config = DemoConfig { households: persons, seed: 2026, today };
    let generator = DemoGenerator::new(config, communities(district).map_err(setup)?).map_err(setup)?;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(setup)?);
    write_csv_header(&mut out).map_err(setup)?;
    let (mut written, mut households) = (0, 0);
    for h in generator {
        write_csv_household(&mut out, &h).map_err(setup)?;
        written += h.members.len() as u64;
        households += 1;
        if written >= persons {
            break;
        }
    }
    out.flush().map_err(setup)?;
    Ok((written, households))
}

/// The parts of a one-sheet workbook besides the sheet.
const XLSX_PARTS: [(&str, &str); 4] = [
    (
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    ),
    (
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    ),
    (
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    ),
    (
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
    ),
];

/// The CSV ledger again as an .xlsx workbook, every cell text (ID numbers stay
/// text, as a worker's sheet should have them), written row by row as it is
/// read so the rows never all sit in memory (rust_xlsxwriter would hold them).
/// Deflated, as Excel saves a workbook, at the fastest level.
fn write_xlsx_ledger(csv: &Path, xlsx: &Path) -> Result<(), BenchError> {
    use zip::write::SimpleFileOptions;
    let lines = BufReader::new(std::fs::File::open(csv).map_err(setup)?).lines();
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, std::fs::File::create(xlsx).map_err(setup)?));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    for (name, body) in XLSX_PARTS {
        zip.start_file(name, options).map_err(setup)?;
        zip.write_all(body.as_bytes()).map_err(setup)?;
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).map_err(setup)?;
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#)
        .map_err(setup)?;
    let letters: Vec<String> = (0..64).map(zhongfu_domain::ledger::column_letter).collect();
    for (index, line) in lines.enumerate() {
        let (line, row) = (line.map_err(setup)?, index + 1);
        write!(zip, "<row r=\"{row}\">").map_err(setup)?;
        // Generated values hold no commas or quotes; XML's own characters are escaped.
        for (column, value) in line.trim_start_matches('\u{feff}').split(',').enumerate().filter(|(_, v)| !v.is_empty())
        {
            let value = value.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let letter = letters.get(column).map_or("A", String::as_str);
            write!(zip, "<c r=\"{letter}{row}\" t=\"inlineStr\"><is><t>{value}</t></is></c>").map_err(setup)?;
        }
        zip.write_all(b"</row>").map_err(setup)?;
    }
    zip.write_all(b"</sheetData></worksheet>").map_err(setup)?;
    zip.finish().map_err(setup)?.flush().map_err(setup)?;
    Ok(())
}

pub(crate) fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// A figure of `/proc/self/status` in MB (0 where there is none).
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// The highest private memory (`RssAnon`) seen while it runs, sampled every
/// 25 ms: the resident peak also counts the pages of the memory-mapped database
/// file, which are the system's page cache, not this process's own.
struct PrivatePeak {
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<f64>,
}

impl PrivatePeak {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peak = 0f64;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(status_mb("RssAnon:"));
                std::thread::sleep(Duration::from_millis(25));
            }
            peak.max(status_mb("RssAnon:"))
        });
        Self { stop, sampler }
    }

    fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap_or(0.0)
    }
}

/// The ledger's columns as plain text, with the indexes our registry keeps.
const BASELINE_TABLE: &str = "CREATE TABLE ledger (number TEXT, community TEXT, address TEXT, phone TEXT,
    registration TEXT, tenure TEXT, housing_condition TEXT, dangerous TEXT, assets TEXT, business_income TEXT,
    property_income TEXT, transfer_income TEXT, other_income TEXT, tags TEXT, categories TEXT, name TEXT,
    id_number TEXT, relation TEXT, person_phone TEXT, marital TEXT, health TEXT, disability TEXT, grade TEXT,
    certificate TEXT, work TEXT, employment TEXT, schooling TEXT, income TEXT, person_categories TEXT,
    death TEXT, note TEXT);
    CREATE UNIQUE INDEX ledger_id ON ledger (id_number);
    CREATE INDEX ledger_number ON ledger (number);
    CREATE INDEX ledger_community ON ledger (community);
    CREATE INDEX ledger_name ON ledger (name);";

fn sqlite_baseline(dir: &Path, csv: &Path) -> Result<Option<f64>, BenchError> {
    let script = format!("{BASELINE_TABLE}\n.mode csv\n.import --skip 1 \"{}\" ledger\n", csv.display());
    sqlite3(&dir.join("baseline.db"), &script)
}

/// How long the `sqlite3` shell takes to run `script` on `db`, stopping at the
/// first error; none where there is no shell or it failed.
fn sqlite3(db: &Path, script: &str) -> Result<Option<f64>, BenchError> {
    let started = Instant::now();
    let child = std::process::Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return Ok(None);
    };
    child.stdin.take().map(|mut s| s.write_all(script.as_bytes())).transpose().map_err(setup)?;
    let output = child.wait_with_output().map_err(setup)?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        tracing::warn!(error = %String::from_utf8_lossy(&output.stderr).trim(), "the sqlite3 shell's bare load failed");
    }
    Ok(output.status.success().then_some(seconds))
}

async fn postgres_baseline(url: &str, csv: &Path) -> Result<Option<f64>, BenchError> {
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(setup)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(BASELINE_TABLE.to_owned())).execute(&mut conn).await.map_err(setup)?;
    let bytes = tokio::fs::read(csv).await.map_err(setup)?;
    let started = Instant::now();
    let mut copy = conn.copy_in_raw("COPY ledger FROM STDIN WITH (FORMAT csv, HEADER true)").await.map_err(setup)?;
    copy.send(bytes).await.map_err(setup)?;
    copy.finish().await.map_err(setup)?;
    Ok(Some(started.elapsed().as_secs_f64()))
}

/// A fresh database a run made: its URL, and where it lives.
struct Fresh {
    url: String,
    place: Place,
}

enum Place {
    /// SQLite's file, removed with the run's directory.
    File(PathBuf),
    /// PostgreSQL's schema, dropped by `drop_fresh`.
    Schema(String),
}

/// A fresh database of the configured kind named `name`: a file in `dir` for
/// SQLite, a new schema for PostgreSQL.
async fn fresh_database(settings: &Settings, dir: &Path, name: &str) -> Result<Fresh, BenchError> {
    if settings.database_url.starts_with("sqlite:") {
        let file = dir.join(format!("{name}.db"));
        return Ok(Fresh { url: format!("sqlite://{}", file.display()), place: Place::File(file) });
    }
    let schema = format!("{name}_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&settings.database_url).await.map_err(setup)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut conn).await.map_err(setup)?;
    let sep = if settings.database_url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-c%20search_path%3D{schema}", settings.database_url);
    Ok(Fresh { url, place: Place::Schema(schema) })
}

/// Removes the PostgreSQL schema a run made (a SQLite file goes with its directory).
async fn drop_fresh(settings: &Settings, fresh: Fresh) {
    if let Place::Schema(schema) = fresh.place
        && let Ok(mut conn) = sqlx::PgConnection::connect(&settings.database_url).await
    {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut conn).await;
    }
}

pub async fn import(settings: &Settings, persons: u64, format: LedgerFormat) -> Result<ImportBench, BenchError> {
    let dir: PathBuf = std::env::temp_dir().join(format!("zhongfu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(setup)?;
    let result = run_import(settings, persons, format, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_import(
    settings: &Settings,
    persons: u64,
    format: LedgerFormat,
    dir: &Path,
) -> Result<ImportBench, BenchError> {
    let csv = dir.join("ledger.csv");
    let district = settings.district;
    let (path, xlsx) = (csv.clone(), dir.join("ledger.xlsx"));
    let file = if format == LedgerFormat::Xlsx { xlsx.clone() } else { csv.clone() };
    let (persons, households) = tokio::task::spawn_blocking(move || {
        let written = write_ledger(&path, &district, persons)?;
        if format == LedgerFormat::Xlsx {
            write_xlsx_ledger(&path, &xlsx)?;
        }
        Ok::<_, BenchError>(written)
    })
    .await
    .map_err(setup)??;
    let file_mb = std::fs::metadata(&file).map_err(setup)?.len() as f64 / 1024.0 / 1024.0;
    let ours = fresh_database(settings, dir, "bench").await?;
    let bare = match fresh_database(settings, dir, "bare").await {
        Ok(bare) => bare,
        Err(e) => {
            drop_fresh(settings, ours).await;
            return Err(e);
        }
    };
    let ledger = Ledger { file: &file, csv: &csv, format, persons, households, file_mb };
    let result = measure(settings, &ours, &bare, &ledger).await;
    drop_fresh(settings, ours).await;
    drop_fresh(settings, bare).await;
    result
}

/// A generated ledger: the file imported, and the CSV of the same rows the bare load reads.
struct Ledger<'a> {
    file: &'a Path,
    csv: &'a Path,
    format: LedgerFormat,
    persons: u64,
    households: u64,
    file_mb: f64,
}

/// Imports the ledger into `ours` (a fresh database made from `settings`) and
/// times it and both bare loads, the second into `bare` (another fresh one).
async fn measure(
    settings: &Settings,
    ours: &Fresh,
    bare: &Fresh,
    ledger: &Ledger<'_>,
) -> Result<ImportBench, BenchError> {
    let Ledger { csv, persons, households, file_mb, .. } = *ledger;
    let dir = csv.parent().unwrap_or(Path::new("."));
    let at = |fresh: &Fresh| Settings { database_url: fresh.url.clone(), ..settings.clone() };
    // Migrated first: nothing of its set-up is still closing when its load starts.
    drop(open_migrated(&at(bare)).await?);
    let (store, _) = open_migrated(&at(ours)).await?;
    let backend = store.backend();
    let private = PrivatePeak::start();
    let started = Instant::now();
    let bytes = tokio::fs::read(ledger.file).await.map_err(setup)?;
    let job = ImportJob { bytes, sheet: None, community: None, mapping: None, dry_run: false };
    let report = imports::run(&store, &Actor::system("zhongfu bench"), &Scope::new(settings.district), job).await;
    let seconds = started.elapsed().as_secs_f64();
    let peak_private_mb = private.finish();
    let report = report?;
    if report.issues_total > 0 {
        return Err(BenchError::Rejected(report.issues_total));
    }
    let peak = peak_rss_mb();
    let (baseline, baseline_seconds) = if backend == "sqlite" {
        ("sqlite3 .import", sqlite_baseline(dir, csv)?)
    } else {
        ("COPY", postgres_baseline(&ours.url, csv).await?)
    };
    let written = written_rows(&ours.url).await?;
    let (tables_baseline, tables_seconds) = match (&ours.place, &bare.place) {
        (Place::Schema(from), Place::Schema(to)) => {
            ("COPY", Some(postgres_tables(&settings.database_url, from, to).await?))
        }
        (Place::File(from), Place::File(to)) => ("sqlite3 INSERT … SELECT", sqlite_tables(from, to)?),
        // Both made by `fresh_database` from the same settings.
        _ => ("none", None),
    };
    if tables_seconds.is_some() {
        let loaded = written_rows(&bare.url).await?;
        if loaded != written {
            return Err(BenchError::Setup(format!("the bare load wrote {loaded} rows, the import {written}")));
        }
    }
    let rate = persons as f64 / seconds;
    let baseline_rate = baseline_seconds.map(|s| persons as f64 / s);
    Ok(ImportBench {
        ok: true,
        format: ledger.format,
        backend,
        persons,
        households,
        file_mb,
        seconds,
        rows_per_second: rate,
        peak_rss_mb: peak,
        peak_private_mb,
        baseline,
        baseline_seconds,
        baseline_rows_per_second: baseline_rate,
        ratio_to_baseline: baseline_rate.map(|b| rate / b),
        tables_baseline,
        written_rows: written,
        tables_baseline_seconds: tables_seconds,
        ratio_to_tables_baseline: tables_seconds.map(|t| t / seconds),
    })
}

/// The tables an import writes, in the order their references need.
const WRITTEN_TABLES: [&str; 3] = ["household", "person", "holding"];

/// The rows in the tables an import writes, in the database at `url`.
async fn written_rows(url: &str) -> Result<i64, BenchError> {
    let count = WRITTEN_TABLES.map(|t| format!("(SELECT COUNT(*) FROM {t})")).join(" + ");
    let sql = sqlx::AssertSqlSafe(format!("SELECT {count}"));
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.map_err(setup)?;
        let rows = sqlx::query_scalar(sql).fetch_one(&mut conn).await.map_err(setup)?;
        conn.close().await.map_err(setup)?;
        Ok(rows)
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.map_err(setup)?;
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.map_err(setup)
    }
}

/// The second baseline: the rows the import wrote (households, members and the
/// categories they hold, encrypted and indexed as the import left them) loaded
/// bare into the same tables of a second fresh database, migrated as ours was:
/// the same columns, indexes and references, no parsing, checking or sealing.
/// One statement a table in one transaction. SQLite: the system's `sqlite3`
/// shell, with our connections' page cache, temporary store and memory map,
/// inserts each table's rows from our database, attached (there is no text
/// form of the encrypted columns for `.import` to read); timed as a whole,
/// the shell's start included.
fn sqlite_tables(ours: &Path, bare: &Path) -> Result<Option<f64>, BenchError> {
    let inserts: String = WRITTEN_TABLES.map(|t| format!("INSERT INTO main.{t} SELECT * FROM ours.{t};\n")).concat();
    let pragmas: String =
        zhongfu_store::SQLITE_CONNECTION_PRAGMAS.map(|(name, value)| format!("PRAGMA {name} = {value};\n")).concat();
    let ours = ours.display().to_string().replace('\'', "''");
    let script = format!("PRAGMA foreign_keys = ON;\n{pragmas}ATTACH '{ours}' AS ours;\nBEGIN;\n{inserts}COMMIT;\n");
    sqlite3(bare, &script)
}

/// PostgreSQL's second baseline (see `sqlite_tables`): `COPY … FROM STDIN` of
/// each table's rows as `COPY … TO STDOUT` gave them, a table at a time, in
/// one transaction; only the loads and the commit are timed.
async fn postgres_tables(url: &str, ours: &str, bare: &str) -> Result<f64, BenchError> {
    use futures::TryStreamExt;
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(setup)?;
    let mut tx = conn.begin().await.map_err(setup)?;
    let mut loading = Duration::ZERO;
    for table in WRITTEN_TABLES {
        let out = tx.copy_out_raw(&format!("COPY {ours}.{table} TO STDOUT")).await.map_err(setup)?;
        let text: Vec<u8> = out
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
            .map_err(setup)?;
        let started = Instant::now();
        let mut copy = tx.copy_in_raw(&format!("COPY {bare}.{table} FROM STDIN")).await.map_err(setup)?;
        copy.send(text).await.map_err(setup)?;
        copy.finish().await.map_err(setup)?;
        loading += started.elapsed();
    }
    let started = Instant::now();
    tx.commit().await.map_err(setup)?;
    Ok((loading + started.elapsed()).as_secs_f64())
}

/// The figures of a lookup run: latencies in milliseconds.
#[derive(Debug, Serialize)]
pub struct LookupBench {
    pub ok: bool,
    pub backend: &'static str,
    pub households: u64,
    pub persons: u64,
    pub load_seconds: f64,
    /// The wait for the server's start-up sweep (reading the registry), before timing.
    pub start_up_seconds: f64,
    pub concurrency: usize,
    pub by_id: Latency,
    /// The list's first page, asked once, as the console first asks for it.
    pub list_first_ms: f64,
    /// The counts per filter option asked for beside that first page (at the same time).
    pub counts_first_ms: f64,
    /// Households the list finds.
    pub list_matches: i64,
    /// Page turns of that list.
    pub list_page: Latency,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub requests: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

fn latency(mut samples: Vec<f64>, seconds: f64) -> Latency {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples.get(((samples.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    Latency {
        requests: samples.len(),
        per_second: samples.len() as f64 / seconds,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: samples.last().copied().unwrap_or(0.0),
    }
}

/// Loads `households` demo households into a fresh database, serves it, and
/// times two requests over HTTP from `concurrency` clients: finding a
/// household by a full ID number, and a filtered list page. With `existing`,
/// it serves `DATABASE_URL` as it is instead, which `zhongfu demo --households N
/// --seed 7` filled today with the same personal-data key (loading millions of
/// households takes longer than the timing).
pub async fn lookup(
    settings: &Settings,
    households: u64,
    concurrency: usize,
    requests: usize,
    existing: bool,
) -> Result<LookupBench, BenchError> {
    let mut ours = settings.clone();
    ours.listen = "127.0.0.1:0".into();
    ours.require_second_factor = false;
    if existing {
        return run_lookup(&ours, households, concurrency, requests, false).await;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("zhongfu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(setup)?;
    let fresh = fresh_database(settings, &dir, "bench").await?;
    ours.database_url = fresh.url.clone();
    let result = run_lookup(&ours, households, concurrency, requests, true).await;
    drop_fresh(settings, fresh).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_lookup(
    settings: &Settings,
    households: u64,
    concurrency: usize,
    requests: usize,
    load: bool,
) -> Result<LookupBench, BenchError> {
    use zhongfu_domain::identity::{Role, Roles};
    let app = crate::Application::build(settings).await?;
    let store = app.store();
    let address = format!("http://{}", app.local_addr().map_err(setup)?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    // Load the registry (or generate it again), keeping a sample of ID numbers to look up.
    let today = chrono::Local::now().date_naive();
    let config = DemoConfig { households, seed: 7, today };
    let generator = DemoGenerator::new(config, communities(&settings.district).map_err(setup)?).map_err(setup)?;
    let started = Instant::now();
    let (mut persons, mut ids, mut batch) = (0u64, Vec::new(), Vec::with_capacity(5000));
    let actor = Actor::system("zhongfu bench");
    let mut generator = generator.peekable();
    while generator.peek().is_some() {
        batch.clear();
        batch.extend(generator.by_ref().take(5000));
        for h in &batch {
            persons += h.members.len() as u64;
            if ids.len() < 10_000 && (persons % 7 == 0 || ids.is_empty()) {
                ids.push(h.members[0].id_number.to_string());
            }
        }
        if load {
            store.insert_households(&actor, &batch).await.map_err(setup)?;
        }
    }
    let load_seconds = started.elapsed().as_secs_f64();
    // A district officer, signed in.
    let password = zhongfu_domain::password::generate();
    let account = zhongfu_store::identity::NewAccount {
        username: format!("bench{}", std::process::id()),
        display_name: "bench".into(),
        email: None,
        phone: None,
        volunteer_number: None,
        unit_id: None,
        jurisdiction: settings.district,
        roles: Roles::parse(vec![Role::District]).map_err(setup)?,
        password_hash: zhongfu_domain::password::hash(&password),
        must_change_password: false,
    };
    store.create_account(&actor, &account).await.map_err(setup)?;
    let captcha = zhongfu_web::auth::put_known_captcha(store.as_ref(), "BENCH").await.map_err(setup)?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().map_err(setup)?;
    let body = serde_json::json!({"login": account.username, "password": password, "captcha_id": captcha, "captcha_answer": "BENCH"});
    let res = client.post(format!("{address}/api/v1/auth/sign-in")).json(&body).send().await.map_err(setup)?;
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| setup("sign-in failed"))?;
    let me: serde_json::Value = res.json().await.map_err(setup)?;
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_owned();
    // Time the steady state: wait for the server's start-up sweep, which reads the whole registry.
    let waited = Instant::now();
    loop {
        let status: serde_json::Value = client
            .get(format!("{address}/api/v1/sweep"))
            .header("cookie", &cookie)
            .send()
            .await
            .map_err(setup)?
            .json()
            .await
            .map_err(setup)?;
        if status["running"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let start_up_seconds = waited.elapsed().as_secs_f64();
    let street = format!("{}001000", &settings.district.as_str()[..6]);
    // The list's first page as the console first asks for it: the page, and beside it
    // the counts per filter option. Each is timed on its own, once, before the page turns.
    let filter = serde_json::json!({"division": street, "category": "dibao", "page": 1, "per_page": 20});
    let timed = |path: &'static str, body: serde_json::Value| {
        let request = client
            .post(format!("{address}/api/v1/households/{path}"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body);
        async move {
            let started = Instant::now();
            let res = request.send().await.map_err(setup)?;
            if !res.status().is_success() {
                return Err(setup(format!("the list's first {path} answered {}", res.status())));
            }
            let body = res.json::<serde_json::Value>().await.map_err(setup)?;
            Ok::<_, BenchError>((body, started.elapsed().as_secs_f64() * 1000.0))
        }
    };
    let mut page = filter.clone();
    page["facets"] = false.into();
    let ((first, list_first_ms), (_, counts_first_ms)) =
        tokio::try_join!(timed("search", page), timed("facets", filter))?;
    let list_matches = first["total"].as_i64().unwrap_or(0);
    let ids = std::sync::Arc::new(ids);
    let mut figures = Vec::new();
    for by_id in [true, false] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for worker in 0..concurrency {
            let (client, cookie, csrf, address, ids, street) =
                (client.clone(), cookie.clone(), csrf.clone(), address.clone(), ids.clone(), street.clone());
            tasks.push(tokio::spawn(async move {
                let mut samples = Vec::with_capacity(requests / concurrency + 1);
                for i in (worker..requests).step_by(concurrency) {
                    let body = if by_id {
                        // As the console looks one up: without counts beside the filter options.
                        serde_json::json!({"id_number": ids[i % ids.len()], "facets": false})
                    } else {
                        // A page turn, as the console sends it: the counts per filter option
                        // came with the first page (timed once, below).
                        serde_json::json!({"division": street, "category": "dibao", "page": 1 + i % 50, "per_page": 20, "facets": false})
                    };
                    let t = Instant::now();
                    let res = client
                        .post(format!("{address}/api/v1/households/search"))
                        .header("cookie", &cookie)
                        .header("x-csrf-token", &csrf)
                        .json(&body)
                        .send()
                        .await;
                    // A lookup by ID counts only when it found the household.
                    let ok = match res {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(body) => {
                                !by_id
                                    || serde_json::from_slice::<serde_json::Value>(&body)
                                        .is_ok_and(|v| v["total"] == 1)
                            }
                            Err(_) => false,
                        },
                        _ => false,
                    };
                    if ok {
                        samples.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                samples
            }));
        }
        let mut samples = Vec::new();
        for t in tasks {
            samples.extend(t.await.map_err(setup)?);
        }
        figures.push(latency(samples, started.elapsed().as_secs_f64()));
    }
    let _ = stop.send(());
    let _ = server.await;
    let list_page = figures.pop().ok_or_else(|| setup("no figures"))?;
    let by_id = figures.pop().ok_or_else(|| setup("no figures"))?;
    Ok(LookupBench {
        ok: by_id.requests == requests && list_page.requests == requests,
        backend: store.backend(),
        households,
        persons,
        load_seconds,
        start_up_seconds,
        concurrency,
        by_id,
        list_first_ms,
        counts_first_ms,
        list_matches,
        list_page,
    })
}

#[cfg(test)]
mod tests {
    /// The bare load's table has a column for each of the ledger's, in order.
    #[test]
    fn the_baseline_table_has_the_ledgers_columns() {
        let table = super::BASELINE_TABLE.split(';').next().unwrap_or_default();
        let columns = table.split_once('(').map_or(0, |(_, list)| list.matches(" TEXT").count());
        assert_eq!(columns, zhongfu_domain::demo::CSV_COLUMNS.len());
    }
}
