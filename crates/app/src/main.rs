//! `zhongfu`: thin entry point. Parses arguments and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zhongfu::{Application, Config, StartError, accounts, bench, demo, imports, open_migrated};
use zhongfu_domain::audit::ChainError;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "zhongfu", version, about = "众扶 Zhongfu: social assistance for local government")]
struct Cli {
    /// Configuration file (default: ./zhongfu.toml if present).
    #[arg(long, global = true, env = "ZHONGFU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the console and API.
    Serve {
        /// Address to listen on [env: ZHONGFU_LISTEN, default 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations and load the bundled division data.
    Migrate {
        /// Print one JSON object with what was done.
        #[arg(long)]
        json: bool,
    },
    /// Generate the demo district (岳阳楼区) into the database or a CSV file.
    Demo {
        /// Number of households to generate.
        #[arg(long, default_value_t = 2000)]
        households: u64,
        /// Seed: the same seed gives the same households.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write a CSV ledger to this file instead of the database.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print one JSON object with the counts and the rate.
        #[arg(long)]
        json: bool,
    },
    /// Import a ledger (.xlsx, .xls or .csv) into the registry.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Evaluate every active policy over the registry: who qualifies but gets nothing, who gets but no longer qualifies.
    Sweep {
        /// The date to sweep as of (YYYY-MM-DD); today if absent.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks on generated data; each prints its figures (one JSON object with --json).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Households and members, one row per person; exit code 1 if any row is rejected.
    Households {
        file: PathBuf,
        /// The community (12 digits) of rows whose sheet has no community column.
        #[arg(long)]
        community: Option<String>,
        /// The sheet to read when the workbook has several.
        #[arg(long)]
        sheet: Option<String>,
        /// Field codes in column order, comma separated, empty for a column to skip
        /// (e.g. `name,id_number,,relation`): for headers the import does not recognise.
        #[arg(long)]
        mapping: Option<String>,
        /// Check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print one JSON object with the totals and every rejected cell.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The policy sweep over generated data in memory: sweep time, scan floor, bytes per person, re-evaluation
    /// latency, and the catalogue as SQL in SQLite (and PostgreSQL if DATABASE_URL names one) on the same data.
    Sweep {
        #[arg(long, default_value_t = 1_000_000)]
        persons: u64,
        /// Leave out the SQL baseline (slow to load at millions of persons).
        #[arg(long)]
        no_sql: bool,
        /// Sweep this many more times, warm, and report the median of those too (and profile them).
        #[arg(long, default_value_t = 0)]
        warm: u32,
        #[arg(long)]
        json: bool,
    },
    /// The ledger import end to end (a fresh database of DATABASE_URL's kind), against the bare load
    /// of the ledger and the bare load of the rows it wrote into the same tables.
    Import {
        #[arg(long, default_value_t = 100_000)]
        persons: u64,
        /// The ledger's file: CSV, or the same rows as an .xlsx workbook (the bare load reads the CSV).
        #[arg(long, value_enum, default_value = "csv")]
        format: zhongfu::bench::LedgerFormat,
        #[arg(long)]
        json: bool,
    },
    /// Finding a household by ID number and a filtered list page, over HTTP, on a freshly loaded registry.
    Lookup {
        #[arg(long, default_value_t = 100_000)]
        households: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Serve DATABASE_URL as it is, filled by `zhongfu demo --households N --seed 7` today.
        #[arg(long)]
        existing: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create the first system administrator; prints a one-time password to change at first sign-in.
    Create {
        #[arg(long, default_value = "admin")]
        username: String,
    },
    /// Re-encrypt every stored ID number, phone, certificate and TOTP secret with the
    /// current key (`pii_key_id`), decrypting old values with the keys configured beside
    /// it (`pii_encryption_keys`). Safe to stop and run again; exit code 1 while any
    /// value is left under another key.
    RotatePiiKey {
        /// The key to rotate to: must be the configured `pii_key_id` (a check against
        /// rotating to the wrong key by a missing setting).
        #[arg(long)]
        to: u8,
        /// Print one JSON object with the counts per column.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and name the first broken record (exit code 1 if any).
    Verify {
        /// Print one JSON object with the counts and the first broken record.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::load(cli.config.as_deref(), |name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => return fail(&e, 2),
    };
    if let Command::Serve { listen: Some(listen) } = &cli.command {
        config.listen = listen.clone();
    }
    init_logging(config.log_format == "json");
    let settings = match config.validate() {
        Ok(s) => s,
        Err(e) => return fail(&e, 2),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(&e, 1),
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { .. } => {
                let app = match Application::build(&settings).await {
                    Ok(app) => app,
                    Err(e) => return fail(&e, start_exit_code(&e)),
                };
                match app.local_addr() {
                    Ok(addr) => tracing::info!("Zhongfu is serving on http://{addr}"),
                    Err(e) => return fail(&e, 1),
                }
                match app.run_until_stopped().await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(&e, 1),
                }
            }
            Command::Migrate { json } => match open_migrated(&settings).await {
                Ok((_, report)) => {
                    if json {
                        println!("{}", serde_json::json!({"ok": true, "applied": report.applied, "divisions_loaded": report.divisions_loaded}));
                    } else {
                        println!("migrations applied: {:?}; divisions loaded: {}", report.applied, report.divisions_loaded);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, start_exit_code(&e)),
            },
            Command::Demo { households, seed, out, json } => {
                let request = demo::DemoRequest { households, seed, out, district: settings.district };
                match demo::run(&settings, request).await {
                    Ok(report) => {
                        if json {
                            println!("{}", serde_json::json!(report));
                        } else {
                            println!("{report}");
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e, 1),
                }
            }
            Command::Import { command: ImportCommand::Households { file, community, sheet, mapping, dry_run, json } } => {
                let request = imports::ImportRequest { file, community, sheet, mapping, dry_run };
                match imports::households(&settings, request).await {
                    Ok(report) => {
                        if json {
                            println!("{}", serde_json::json!(report));
                        } else {
                            print!("{}", imports::describe(&report));
                        }
                        if report.issues_total == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
                    }
                    Err(e) => fail(&e, 1),
                }
            }
            Command::Sweep { date, json } => {
                let date = date.unwrap_or_else(|| chrono::Local::now().date_naive());
                match zhongfu::sweep::run(&settings, date).await {
                    Ok(report) => {
                        if json {
                            println!("{}", serde_json::json!(report));
                        } else {
                            println!("{:<28} {:>8} {:>8} {:>8}", "政策 policy", "应享未享", "应退未退", "unknown");
                            for p in &report.by_policy {
                                println!("{:<28} {:>8} {:>8} {:>8}", p.name, p.missing, p.stale, p.unknown);
                            }
                            println!(
                                "{} households, {} persons, {} policies: {} missing, {} stale, {} unknown ({} ms load, {} ms sweep)",
                                report.households, report.persons, report.policies, report.missing, report.stale,
                                report.unknown, report.load_ms, report.evaluate_ms
                            );
                        }
                        if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
                    }
                    Err(e) => fail(&e, 1),
                }
            }
            Command::Bench { command: BenchCommand::Sweep { persons, no_sql, warm, json } } => figures(
                zhongfu::sweep::bench(&settings, persons, !no_sql, warm).await,
                json,
                |f| f.ok,
            ),
            Command::Bench { command: BenchCommand::Import { persons, format, json } } => {
                figures(bench::import(&settings, persons, format).await, json, |f| f.ok)
            }
            Command::Bench { command: BenchCommand::Lookup { households, concurrency, requests, existing, json } } => figures(
                bench::lookup(&settings, households, concurrency.max(1), requests.max(1), existing).await,
                json,
                |f| f.ok,
            ),
            Command::Admin { command: AdminCommand::Create { username } } => {
                let store = match open_migrated(&settings).await {
                    Ok((store, _)) => store,
                    Err(e) => return fail(&e, start_exit_code(&e)),
                };
                match accounts::create_first_admin(store.as_ref(), &username, &settings.district).await {
                    Ok(password) => {
                        println!("system administrator {} created; one-time password: {password}", username.trim().to_lowercase());
                        println!("sign in at the console and choose a new password.");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e, 1),
                }
            }
            Command::Admin { command: AdminCommand::RotatePiiKey { to, json } } => {
                if to != settings.pii_key_id {
                    eprintln!(
                        "zhongfu: error: the current key is {} (pii_key_id, ZHONGFU_PII_KEY_ID), not {to}: set it and run again",
                        settings.pii_key_id
                    );
                    return ExitCode::from(2);
                }
                let store = match open_migrated(&settings).await {
                    Ok((store, _)) => store,
                    Err(e) => return fail(&e, start_exit_code(&e)),
                };
                let rotated = store.rotate_pii_key(&zhongfu_store::Actor::system("zhongfu admin rotate-pii-key")).await;
                figures(rotated, json, |r| r.remaining() == 0)
            }
            Command::Audit { command: AuditCommand::Verify { json } } => {
                let store = match open_migrated(&settings).await {
                    Ok((store, _)) => store,
                    Err(e) => return fail(&e, start_exit_code(&e)),
                };
                match store.verify_audit().await {
                    Ok(report) => audit_verified(&report, json),
                    Err(e) => fail(&e, 1),
                }
            }
        }
    })
}

fn audit_verified(report: &zhongfu_store::AuditVerifyReport, json: bool) -> ExitCode {
    let broken = report.broken.as_ref();
    if json {
        let seq = broken.map(|e| match e {
            ChainError::Altered { seq } | ChainError::Broken { seq } => *seq,
        });
        let reason = broken.map(ToString::to_string);
        let out = serde_json::json!({
            "ok": broken.is_none(), "records": report.records, "last_seq": report.last_seq,
            "broken_seq": seq, "reason": reason,
        });
        println!("{out}");
    } else if let Some(e) = broken {
        eprintln!("zhongfu: audit trail broken: {e}");
    } else {
        println!("audit trail intact: {} records, last {}", report.records, report.last_seq);
    }
    if broken.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn start_exit_code(e: &StartError) -> u8 {
    match e {
        StartError::Config(_) | StartError::Open(_) | StartError::Bind(_) => 2,
        StartError::Migrate(_) => 1,
    }
}

/// Prints a benchmark's figures (one JSON object with `--json`); exit 1 unless `ok`.
fn figures<T, E>(result: Result<T, E>, json: bool, ok: impl Fn(&T) -> bool) -> ExitCode
where
    T: serde::Serialize + std::fmt::Debug,
    E: std::error::Error,
{
    match result {
        Ok(figures) => {
            if json {
                println!("{}", serde_json::json!(figures));
            } else {
                println!("{figures:#?}");
            }
            if ok(&figures) { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => fail(&e, 1),
    }
}

/// One line on stderr, no backtrace.
fn fail(e: &dyn std::error::Error, code: u8) -> ExitCode {
    eprintln!("zhongfu: error: {e}");
    ExitCode::from(code)
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ZHONGFU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
