//! `zhongfu import households FILE`: the console's import, from the command
//! line, as the server itself (the whole district in scope).

use std::path::PathBuf;

use zhongfu_domain::{DivisionCode, Scope};
use zhongfu_store::Actor;
use zhongfu_web::imports::{self, ImportJob, ImportReport};

use crate::{Settings, StartError, open_migrated};

pub struct ImportRequest {
    pub file: PathBuf,
    pub community: Option<String>,
    pub sheet: Option<String>,
    /// Field codes in column order (`name,id_number,,relation`), for headers not recognised.
    pub mapping: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is {size} MB; the limit is {limit} MB (import_max_mb)")]
    TooLarge { path: String, size: usize, limit: usize },
    #[error("--community: {0}")]
    Community(String),
    #[error("--mapping: {0}")]
    Mapping(String),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Import(#[from] imports::ImportError),
}

pub async fn households(settings: &Settings, request: ImportRequest) -> Result<ImportReport, ImportFailure> {
    let path = request.file.display().to_string();
    let bytes =
        tokio::fs::read(&request.file).await.map_err(|source| ImportFailure::Read { path: path.clone(), source })?;
    if bytes.len() > settings.import_limit {
        let mb = |b: usize| b.div_ceil(1024 * 1024);
        return Err(ImportFailure::TooLarge { path, size: mb(bytes.len()), limit: mb(settings.import_limit) });
    }
    let community = match request.community.as_deref() {
        Some(c) => Some(DivisionCode::parse(c.trim()).map_err(|e| ImportFailure::Community(e.to_string()))?),
        None => None,
    };
    let mapping = request
        .mapping
        .as_deref()
        .map(zhongfu_domain::ledger::parse_mapping)
        .transpose()
        .map_err(|r| ImportFailure::Mapping(format!("{} ({})", r.en, r.zh)))?;
    let (store, _) = open_migrated(settings).await?;
    let job = ImportJob { bytes, sheet: request.sheet, community, mapping, dry_run: request.dry_run };
    let scope = Scope::new(settings.district);
    Ok(imports::run(&store, &Actor::system("zhongfu import"), &scope, job).await?)
}

/// The report as people read it: totals, then each rejected cell.
pub fn describe(report: &ImportReport) -> String {
    let t = &report.totals;
    let mut out = format!(
        "{} sheet \"{}\", header on row {}, {} data rows\n\
         households: {} new, {} changed, {} unchanged, {} rejected\n\
         persons:    {} new, {} changed, {} unchanged, {} rejected\n",
        if report.committed {
            "imported"
        } else if report.dry_run {
            "dry run of"
        } else {
            "nothing to write from"
        },
        report.sheet,
        report.header_row,
        t.rows,
        t.households_new,
        t.households_changed,
        t.households_unchanged,
        t.households_rejected,
        t.persons_new,
        t.persons_changed,
        t.persons_unchanged,
        t.persons_rejected,
    );
    for i in &report.issues {
        // A row held back whole, or without a column at fault, names the row alone.
        let column =
            i.column.map(|c| format!(" column {}", zhongfu_domain::ledger::column_letter(c))).unwrap_or_default();
        out.push_str(&format!("row {}{column}: {} / {}\n", i.row, i.message_zh, i.message_en));
    }
    if report.committed {
        out.push_str(
            "政策找人：运行中的服务在下一次找人时纳入这些家庭（每晚自动进行，或在控制台点击“开始找人”）\n\
             the sweep: a running server takes these households in at its next sweep (each night, or the console's button)\n",
        );
    }
    out
}
