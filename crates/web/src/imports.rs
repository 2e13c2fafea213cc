//! Importing a worker's own ledger: upload, see the header found and the
//! columns mapped, change the mapping, read a dry run (totals, preview and
//! every rejected cell), then commit. Households with a rejected row are held
//! back whole; re-importing the same file changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use utoipa::{IntoParams, ToSchema};

use zhongfu_domain::ledger::{self, Cell, Context, Field, Issue, LedgerReader, Parsed, Repeats, Said};
use zhongfu_domain::registry::Household;
use zhongfu_domain::{DivisionCode, DivisionLevel, IdNumber, Scope};
use zhongfu_store::registry::{ConflictReason, ImportBatch, ImportPlan};
use zhongfu_store::{Actor, Store};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::households::today;
use crate::sheets::{self, SheetError};

/// Data rows shown in the preview.
const PREVIEW_ROWS: usize = 10;
/// Issues sent in the JSON answer; the .xlsx report has all that are kept.
const ISSUES_SHOWN: usize = 500;
/// Other sheets tried for a header when the first has none.
const SHEETS_TRIED: usize = 8;
/// Issues an import keeps for its error report; the rest are counted.
const ISSUES_KEPT: usize = 100_000;

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `false` writes; anything else (or absent) is a dry run.
    pub dry_run: Option<bool>,
    /// The sheet to read when the workbook has several.
    pub sheet: Option<String>,
    /// The community (12 digits) of rows whose sheet has no community column.
    pub community: Option<String>,
    /// The field code of each column, comma-separated; empty ignores the column.
    pub mapping: Option<String>,
}

/// One column of the sheet and the field it is read as.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Column {
    pub index: usize,
    /// A, B, … as Excel shows it.
    pub letter: String,
    pub header: String,
    pub field: Option<&'static str>,
}

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Totals {
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    pub households_new: usize,
    pub households_changed: usize,
    pub households_unchanged: usize,
    pub households_rejected: usize,
    pub persons_new: usize,
    pub persons_changed: usize,
    pub persons_unchanged: usize,
    pub persons_rejected: usize,
    /// 合计 (小计, 总计) rows: a sum of the rows above, not a person; left out.
    pub total_rows: usize,
}

/// What an import did, or would do.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub committed: bool,
    /// Stopped on request; what was written before stays.
    pub cancelled: bool,
    pub sheets: Vec<String>,
    pub sheet: String,
    /// 1-based, as the sheet shows it.
    pub header_row: usize,
    pub columns: Vec<Column>,
    /// The first data rows as read (ID numbers masked), one value per column.
    pub preview: Vec<Vec<String>>,
    pub totals: Totals,
    pub issues_total: usize,
    #[schema(value_type = Vec<Object>)]
    pub issues: Vec<Issue>,
    /// What the sheet leaves out that the lists rely on: said, not refused.
    pub notices: Vec<Notice>,
    /// Field codes with their Chinese and English names, for the mapping dropdowns.
    pub fields: Vec<(String, String, String)>,
    /// The households written (new and replaced), for the sweep's lists.
    #[serde(skip)]
    pub written: Vec<i64>,
}

/// A word about the sheet as a whole (not a row's fault; nothing is held back for it).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Notice {
    pub code: &'static str,
    pub message_zh: std::borrow::Cow<'static, str>,
    pub message_en: std::borrow::Cow<'static, str>,
}

/// Notices for a sheet mapped as `said`: an income or assets column missing means the
/// households it registers have it not recorded, and the sweep cannot decide on it;
/// a registered-residence or housing column missing means a default is recorded.
/// Formula cells saved without their value (`uncomputed`) are read as blank.
fn notices(said: Said, totals: &Totals, uncomputed: u64) -> Vec<Notice> {
    let mut incomes = std::iter::once(Field::MonthlyIncome).chain(ledger::INCOME_FIELDS.iter().map(|(f, _)| *f));
    let mut out = Vec::new();
    if uncomputed > 0 {
        out.push(Notice {
            code: "formulas_without_values",
            message_zh: format!("工作簿中有 {uncomputed} 个公式单元格没有保存计算结果（由程序生成、未经 Excel 或 WPS 保存的文件常见），此处读作空白，导入时将拒绝此文件：请用 Excel 或 WPS 打开此文件、保存后重新上传").into(),
            message_en: format!("{uncomputed} formula cells in the workbook were saved without their results (common in files a program wrote and Excel or WPS never saved); they read as blank here, and the import will refuse the file: open it in Excel or WPS, save it and upload it again").into(),
        });
    }
    if totals.total_rows > 0 {
        out.push(Notice {
            code: "total_rows",
            message_zh: "表中的合计（小计、总计）行和表尾的说明、签名行不是家庭成员，未导入".into(),
            message_en: "the sheet's total (subtotal) rows and the notes and signatures at its foot are not persons and were left out".into(),
        });
    }
    if !incomes.any(|f| said.has(f)) {
        out.push(Notice {
            code: "no_income",
            message_zh: "表中没有收入列：新登记的家庭收入记为“未登记”，政策找人对看收入的政策判为“无法判定”，不列入应享未享。请加上收入列，或登记后逐户补录".into(),
            message_en: "the sheet has no income column: new households are registered with income not recorded, and the sweep cannot decide policies that look at income for them (they are not listed as missing out); add an income column, or record incomes after registering".into(),
        });
    }
    if !said.has(Field::Assets) {
        out.push(Notice {
            code: "no_assets",
            message_zh: "表中没有家庭财产列：新登记的家庭财产记为“未登记”，政策找人对看财产的政策判为“无法判定”".into(),
            message_en: "the sheet has no assets column: new households are registered with assets not recorded, and the sweep cannot decide policies that look at assets for them".into(),
        });
    }
    // Both decide policies (urban and rural lines, housing aid): a default is said.
    if !said.has(Field::Registration) {
        out.push(Notice {
            code: "no_registration",
            message_zh: "表中没有户籍性质列：新登记的家庭将记为“城镇”户籍，农村家庭请登记后逐户改正，或加上此列".into(),
            message_en: "the sheet has no registered-residence column: new households are registered as urban; correct rural ones after registering, or add the column".into(),
        });
    }
    if !said.has(Field::Tenure) {
        out.push(Notice {
            code: "no_tenure",
            message_zh: "表中没有住房情况列：新登记的家庭将记为“自有住房”，请登记后逐户改正，或加上此列".into(),
            message_en: "the sheet has no housing column: new households are registered as owning their home; correct them after registering, or add the column".into(),
        });
    }
    // Person facts the policies read: recorded as not recorded (the sweep cannot decide
    // on them), with a default in the member's form, each named with that default.
    let defaults = [
        (Field::Marital, "20岁以下未婚、其余已婚", "single under 20, married otherwise"),
        (Field::Health, "健康", "healthy"),
        (Field::WorkAbility, "有劳动能力", "able to work"),
        (Field::Employment, "无业", "not working"),
        (Field::Schooling, "未在校", "not in school"),
    ];
    let missing: Vec<_> = defaults.iter().filter(|(f, ..)| !said.has(*f)).collect();
    if !missing.is_empty() {
        let zh: Vec<String> = missing.iter().map(|(f, zh, _)| format!("{}为“{zh}”", f.label_zh())).collect();
        let en: Vec<String> = missing.iter().map(|(f, _, en)| format!("{} as {en}", f.label_en())).collect();
        out.push(Notice {
            code: "person_defaults",
            message_zh: format!(
                "表中没有以下成员信息列，新登记的成员这些信息记为“未登记”，表单中暂填默认值：{}。政策找人对看这些信息的政策（如特困看劳动能力、就业援助看就业状况）判为“无法判定”，不列入应享未享。请加上这些列，或登记后逐户核对成员信息并保存",
                zh.join("，")
            )
            .into(),
            message_en: format!(
                "the sheet lacks these columns, so new members have them not recorded, with defaults in their forms: {}. The sweep cannot decide policies that look at them (extreme poverty support looks at work ability, employment aid at employment) and does not list those households as missing out: add the columns, or check and save each member after registering",
                en.join(", ")
            )
            .into(),
        });
    }
    out
}

/// An import as the command line and the API ask for it.
pub struct ImportJob {
    pub bytes: Vec<u8>,
    pub sheet: Option<String>,
    pub community: Option<DivisionCode>,
    pub mapping: Option<Vec<Option<Field>>>,
    pub dry_run: bool,
}

/// Why an import could not even be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error("no header row found: the sheet needs columns such as 姓名 and 身份证号")]
    NoHeader,
    #[error("the mapping lists {0} columns but the sheet has {1}")]
    Mapping(usize, usize),
    #[error("the community {0} is not within your jurisdiction")]
    Community(zhongfu_domain::DivisionCode),
    #[error(transparent)]
    Store(#[from] zhongfu_store::StoreError),
    #[error("the import stopped unexpectedly: {0}")]
    Interrupted(String),
    #[error(
        "{0} formula cells of the workbook were saved without their results: open the file in Excel or WPS, save it and import it again"
    )]
    Uncomputed(u64),
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Sheet(e) => ApiError::invalid("file", &e),
            ImportError::NoHeader => ApiError::new(
                StatusCode::BAD_REQUEST,
                "no_header",
                "找不到表头：表中应有“姓名”“身份证号”“与户主关系”等列",
                "no header row found: the sheet needs columns such as 姓名 (name), 身份证号 (ID number) and 与户主关系 (relation)",
            )
            .with_field("file"),
            ImportError::Mapping(..) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_mapping",
                "列对应关系与表中的列数不一致",
                "the column mapping does not match the sheet's columns",
            )
            .with_field("mapping"),
            // A street's or the district's code is no community, whoever's it is.
            ImportError::Community(code) if code.level() != DivisionLevel::Village => {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_community",
                    "须选择一个社区（村），不能是街道或区",
                    "choose a community (village), not a street or district",
                )
                .with_field("community")
            }
            ImportError::Community(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_community",
                "该社区不在您的管辖范围内",
                "this community is outside your jurisdiction",
            )
            .with_field("community"),
            ImportError::Uncomputed(n) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "formulas_without_values",
                format!("工作簿中有 {n} 个公式单元格没有保存计算结果，读作空白会覆盖已登记的信息，因此未导入：请用 Excel 或 WPS 打开此文件、保存后重新导入"),
                format!("{n} formula cells of the workbook were saved without their results; read as blank they would overwrite what is registered, so nothing was imported: open the file in Excel or WPS, save it and import it again"),
            )
            .with_field("file"),
            ImportError::Store(e) => e.into(),
            ImportError::Interrupted(e) => ApiError::internal(&std::io::Error::other(e)),
        }
    }
}

/// Communities (villages) within the scope, by code and by name (with and
/// without 居委会/村委会).
pub async fn communities_within(
    store: &dyn Store,
    scope: &Scope,
) -> Result<HashMap<String, DivisionCode>, ImportError> {
    let root = *scope.jurisdiction();
    let mut villages = Vec::new();
    match root.level() {
        DivisionLevel::Village => villages.extend(store.division(&root).await?),
        DivisionLevel::Township => villages.extend(store.division_children(Some(&root)).await?),
        _ => {
            for street in store.division_children(Some(&root)).await? {
                villages.extend(store.division_children(Some(&street.code)).await?);
            }
        }
    }
    Ok(community_names(villages.into_iter().filter(|v| v.level == DivisionLevel::Village).map(|v| (v.name, v.code))))
}

/// Communities by code, by name and by name without 居委会/村委会; a name two
/// communities share names neither (the sheet must give the code).
fn community_names(communities: impl Iterator<Item = (String, DivisionCode)>) -> HashMap<String, DivisionCode> {
    let mut map = HashMap::new();
    let mut shared = std::collections::HashSet::new();
    let mut by_name = |name: String, code: DivisionCode| {
        if map.insert(name.clone(), code).is_some_and(|other| other != code) {
            shared.insert(name);
        }
    };
    let mut codes = Vec::new();
    for (name, code) in communities {
        codes.push(code);
        for suffix in ["居委会", "村委会", "居民委员会", "村民委员会"] {
            if let Some(short) = name.strip_suffix(suffix) {
                by_name(short.to_owned(), code);
            }
        }
        by_name(name, code);
    }
    for name in shared {
        map.remove(&name);
    }
    map.extend(codes.into_iter().map(|code| (code.to_string(), code)));
    map
}

/// How far an import has got, shared with whoever watches it; setting
/// `cancelled` stops it after the batch in hand.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicUsize,
    /// Rows the sheet spans, as far as can be told before reading it.
    pub total: AtomicUsize,
    pub cancelled: AtomicBool,
}

/// Rows handed over by the sheet reader at a time.
const READ_BATCH: usize = 2_000;
/// Rows checked and written together (cut between households), in one transaction.
const WRITE_BATCH: usize = 20_000;
/// The first batch's rows: the database waits for it, so it is small, and each
/// batch after it twice the one before, up to [`WRITE_BATCH`].
const FIRST_BATCH: usize = 2_500;
/// Rows looked at to find the header.
const HEADER_ROWS: usize = 30;

/// Opens `sheet` (the first visible one if none) and reads its first rows, where
/// the header is; the rest follows on the receiver.
async fn open_top(
    bytes: &Arc<Vec<u8>>,
    sheet: Option<String>,
) -> Result<(sheets::Opened, RowsReceiver, sheets::Rows), ImportError> {
    let (opened, mut rx) = sheets::stream(Arc::clone(bytes), sheet, READ_BATCH).await?;
    let mut pending: sheets::Rows = Vec::new();
    while pending.len() < HEADER_ROWS {
        match rx.recv().await {
            Some(batch) => pending.extend(batch?),
            None => break,
        }
    }
    Ok((opened, rx, pending))
}

/// Rows as the sheet's reader hands them over; an error ends them.
type RowsReceiver = tokio::sync::mpsc::Receiver<Result<sheets::Rows, sheets::SheetError>>;

/// The rows among which the header is looked for.
fn top_rows(pending: &sheets::Rows) -> Vec<Vec<Cell>> {
    pending.iter().take(HEADER_ROWS).map(|(_, cells)| cells.clone()).collect()
}

/// Reads, checks and (unless a dry run) writes an import, batch by batch,
/// so memory stays bounded; each batch of whole households is its own transaction.
pub async fn run(
    store: &Arc<dyn Store>,
    actor: &Actor,
    scope: &Scope,
    job: ImportJob,
) -> Result<ImportReport, ImportError> {
    run_watched(store, actor, scope, job, &Progress::default()).await
}

pub async fn run_watched(
    store: &Arc<dyn Store>,
    actor: &Actor,
    scope: &Scope,
    job: ImportJob,
    progress: &Progress,
) -> Result<ImportReport, ImportError> {
    let communities = communities_within(store.as_ref(), scope).await?;
    if let Some(c) = job.community.filter(|c| !communities.contains_key(c.as_str())) {
        return Err(ImportError::Community(c));
    }
    // A community's own worker imports into that community unless the sheet says otherwise.
    let own = *scope.jurisdiction();
    let default_community = job.community.or((own.level() == DivisionLevel::Village).then_some(own));
    let started = std::time::Instant::now();
    let bytes = Arc::new(job.bytes);
    let (mut opened, mut rx, mut pending) = open_top(&bytes, job.sheet.clone()).await?;
    let mut top = top_rows(&pending);
    let mut header = ledger::find_header(&top);
    // No sheet chosen and the first one's header not recognised (a sheet of notes before
    // the ledger): the first other sheet whose header is recognised is read instead.
    if job.sheet.is_none() && header.is_none() {
        // A few sheets at most: each is opened anew, and a workbook may list thousands.
        for name in opened.sheets.clone().into_iter().filter(|n| *n != opened.sheet).take(SHEETS_TRIED) {
            let other = open_top(&bytes, Some(name)).await?;
            let other_top = top_rows(&other.2);
            if let Some(found) = ledger::find_header(&other_top) {
                (opened, rx, pending, top, header) = (other.0, other.1, other.2, other_top, Some(found));
                break;
            }
        }
    }
    progress.total.store(opened.rows, Ordering::Relaxed);
    // A formula saved without its value reads as blank, which would write over what is
    // stored: a dry run says so, an import refuses the file until it is saved by Excel.
    if !job.dry_run && opened.uncomputed > 0 {
        return Err(ImportError::Uncomputed(opened.uncomputed));
    }
    // Headers not recognised: the fullest top row is shown for the worker to map
    // by hand (a dry run), and read with the mapping they chose.
    let (header_index, found, recognised) = match header {
        Some((index, found)) => (index, found, true),
        None if job.dry_run || job.mapping.is_some() => match ledger::guess_header(&top) {
            // What it does name is proposed still: only the rest is left to map.
            Some(index) => (index, ledger::propose_mapping(&top[index]), false),
            // Nothing on this sheet: a dry run says so with the book's sheets, so another can be chosen.
            None if job.dry_run => {
                return Ok(ImportReport {
                    dry_run: true,
                    sheets: opened.sheets,
                    sheet: opened.sheet,
                    issues_total: 1,
                    issues: vec![Issue {
                        row: 0,
                        column: None,
                        field: None,
                        value: String::new(),
                        code: "empty_sheet",
                        message_zh: "这个工作表没有内容：请选择另一个工作表".into(),
                        message_en: "this sheet is empty: choose another sheet".into(),
                    }],
                    ..Default::default()
                });
            }
            None => return Err(ImportError::NoHeader),
        },
        None => return Err(ImportError::NoHeader),
    };
    let map_first = !recognised && job.mapping.is_none();
    let (header_row, header_cells) = pending[header_index].clone();
    pending.drain(..=header_index);
    let width = header_cells.len();
    let mapping = match job.mapping {
        Some(m) if m.iter().skip(width).any(Option::is_some) => return Err(ImportError::Mapping(m.len(), width)),
        Some(mut m) => {
            m.resize(width, None);
            m
        }
        None => found,
    };
    let columns = header_cells
        .iter()
        .enumerate()
        .map(|(index, cell)| Column {
            index,
            letter: ledger::column_letter(index),
            header: cell.display(),
            field: mapping.get(index).copied().flatten().map(Field::code),
        })
        .collect();
    let preview = pending
        .iter()
        .filter(|(_, r)| r.iter().any(|c| !c.display().trim().is_empty()))
        .take(PREVIEW_ROWS)
        .map(|(_, r)| (0..width).map(|c| preview_cell(r.get(c), mapping.get(c).copied().flatten())).collect())
        .collect();
    let number_for = |id: &IdNumber| store.household_number_for(id);
    let day = today();
    let ctx = Context { today: day, communities: &communities, default_community, number_for: &number_for };
    let said = Said::of(&mapping);
    let mut reader = LedgerReader::new(header_row, mapping.clone(), ctx);
    // An ID number twice in the sheet holds back both households, however far apart,
    // and so do the parts of a household whose rows a batch's cut falls between (a
    // batch sees only its own rows): one pass over the ID and number columns finds them.
    let read = (reader.id_column(), reader.number_column());
    if !map_first && read != (None, None) {
        let (header, pass) = (header_row, std::time::Instant::now());
        let sheet = Some(opened.sheet.clone());
        let wanted = [read.0, read.1].into_iter().flatten().collect();
        let repeats = sheets::fold_rows(bytes, sheet, wanted, Repeats::default(), move |r, row, cells| {
            let cell = |column: Option<usize>| column.and_then(|c| cells.get(c));
            if row > header {
                if let Some(id) = cell(read.0) {
                    r.see(row, id, day);
                }
                if let Some(number) = cell(read.1) {
                    r.see_number(row, number);
                }
            }
        })
        .await?;
        tracing::info!(repeated = repeats.len(), elapsed = ?pass.elapsed(), "ledger ID pass");
        reader.expect_repeats(repeats);
    }
    let mut outcome = Outcome::default();
    let mut batches = Batches { pending, rx, finished: false, size: FIRST_BATCH };
    // The next batch is read, checked and sealed while the one before is
    // written: the database works on its own thread meanwhile.
    let check = |reader: &mut LedgerReader<'_>, (rows, last): (sheets::Rows, usize)| {
        (Checked::new(store.as_ref(), reader.parse(&rows), said), last)
    };
    if map_first {
        outcome.note(vec![Issue {
            row: header_row,
            column: None,
            field: None,
            value: String::new(),
            code: "no_header",
            message_zh: "未能识别表头：请在“列对应”中为各列选择字段（至少姓名、身份证号、与户主关系）后重新检查".into(),
            message_en: "the headers were not recognised: choose a field for each column under the mapping (at least name, ID number and relation) and check again".into(),
        }]);
    }
    // A ledger that makes most of the registry has an index built once, after it.
    let aside = !job.dry_run && !map_first && store.set_aside_bulk_indexes(opened.rows).await?;
    let aside = SetAside(aside.then(|| store.clone()));
    let written = async {
        let mut current = if map_first { None } else { batches.next(&reader).await?.map(|b| check(&mut reader, b)) };
        while let Some((checked, last_row)) = current.take() {
            if progress.cancelled.load(Ordering::Relaxed) {
                outcome.cancelled = true;
                break;
            }
            let next = async {
                let rows = batches.next(&reader).await?;
                Ok::<_, ImportError>(rows.map(|b| check(&mut reader, b)))
            };
            current = outcome.add(store, actor, scope, checked, &mapping, job.dry_run, next).await??;
            progress.done.store(last_row, Ordering::Relaxed);
        }
        Ok::<_, ImportError>(())
    }
    .await;
    // The rows in hand and the IDs seen (and with the reader the file) are let go
    // before the index is built again, however the batches ended.
    let Batches { rx, .. } = batches;
    drop((rx, reader));
    aside.restore().await;
    written?;
    tracing::info!(rows = outcome.totals.rows, elapsed = ?started.elapsed(), "ledger import");
    outcome.issues.sort_by_key(|i| (i.row, i.column));
    let notices = if map_first { Vec::new() } else { notices(said, &outcome.totals, opened.uncomputed) };
    Ok(ImportReport {
        dry_run: job.dry_run,
        committed: outcome.committed,
        cancelled: outcome.cancelled,
        sheets: opened.sheets,
        sheet: opened.sheet,
        header_row,
        columns,
        preview,
        totals: outcome.totals,
        issues_total: outcome.issues_total,
        issues: outcome.issues,
        notices,
        fields: Field::ALL.iter().map(|f| (f.code().to_owned(), f.label_zh().to_owned(), f.label_en())).collect(),
        written: outcome.written,
    })
}

/// The store whose indexes an import set aside, to build them again when it
/// ends: awaited when it ends, on its own task if the import is dropped midway
/// (a request abandoned). A failure is logged; start-up builds them again.
struct SetAside(Option<Arc<dyn Store>>);

impl SetAside {
    async fn restore(mut self) {
        if let Some(store) = self.0.take() {
            restore_logged(store).await;
        }
    }
}

impl Drop for SetAside {
    fn drop(&mut self) {
        if let (Some(store), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(restore_logged(store));
        }
    }
}

async fn restore_logged(store: Arc<dyn Store>) {
    if let Err(e) = store.restore_bulk_indexes().await {
        tracing::error!(error = %e, "the index an import set aside was not built again; start-up will build it");
    }
}

/// Rows waiting to be checked, cut into batches of whole households.
struct Batches {
    pending: sheets::Rows,
    rx: RowsReceiver,
    finished: bool,
    /// Rows wanted in the next batch.
    size: usize,
}

impl Batches {
    /// The next batch of about `size` rows ending where a household
    /// ends, with its last row number; `None` at the end of the sheet.
    async fn next(&mut self, reader: &LedgerReader<'_>) -> Result<Option<(sheets::Rows, usize)>, ImportError> {
        // Rows of long text (a shared string repeated) make a batch by their bytes.
        let mut held: usize = self.pending.iter().map(|(_, cells)| sheets::text_bytes(cells)).sum();
        while !self.finished && self.pending.len() < self.size && held < sheets::MAX_BATCH_TEXT {
            match self.rx.recv().await {
                Some(batch) => {
                    let batch = batch?;
                    held += batch.iter().map(|(_, cells)| sheets::text_bytes(cells)).sum::<usize>();
                    self.pending.extend(batch);
                }
                None => self.finished = true,
            }
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let wanted = self.pending.len().min(self.size);
        self.size = (self.size * 2).min(WRITE_BATCH);
        let cut = if self.finished && wanted == self.pending.len() {
            self.pending.len()
        } else {
            reader.last_start(&self.pending[..wanted])
        };
        // A household longer than a batch: up to the next one's start, or all.
        let cut = if cut == 0 { reader.last_start(&self.pending) } else { cut };
        let cut = if cut == 0 { self.pending.len() } else { cut };
        let batch: sheets::Rows = self.pending.drain(..cut).collect();
        let last = batch.last().map_or(0, |(n, _)| *n);
        Ok(Some((batch, last)))
    }
}

/// What the batches of an import add up to.
#[derive(Default)]
struct Outcome {
    totals: Totals,
    issues: Vec<Issue>,
    /// Issues found, kept or not.
    issues_total: usize,
    written: Vec<i64>,
    committed: bool,
    cancelled: bool,
}

/// One batch of the ledger, checked, its households sealed for the registry.
struct Checked {
    parsed: Parsed,
    /// Each household's rows, in the batch's order.
    rows: Vec<Vec<usize>>,
    batch: ImportBatch,
}

impl Checked {
    fn new(store: &dyn Store, mut parsed: Parsed, said: Said) -> Self {
        let (households, rows) =
            std::mem::take(&mut parsed.households).into_iter().map(|h| (h.household, h.rows)).unzip();
        Self { parsed, rows, batch: store.prepare_import(households, said) }
    }
}

impl Outcome {
    /// Counts `issues` and keeps them while fewer than [`ISSUES_KEPT`] are: a
    /// sheet of a million bad rows would otherwise hold millions in memory.
    fn note(&mut self, issues: Vec<Issue>) {
        self.issues_total += issues.len();
        let room = ISSUES_KEPT.saturating_sub(self.issues.len());
        self.issues.extend(issues.into_iter().take(room));
    }

    /// Plans one batch against the registry, writes it unless a dry run, and
    /// counts it; `meanwhile` (the next batch read and checked) runs while the
    /// database writes.
    #[allow(clippy::too_many_arguments)]
    async fn add<T>(
        &mut self,
        store: &Arc<dyn Store>,
        actor: &Actor,
        scope: &Scope,
        checked: Checked,
        mapping: &[Option<Field>],
        dry_run: bool,
        meanwhile: impl std::future::Future<Output = T>,
    ) -> Result<T, ImportError> {
        let Checked { parsed, rows, batch } = checked;
        // A dry run plans; an import plans in the transaction that writes, while
        // the next batch is read.
        let (plan, written, households, next) = if dry_run {
            let plan = store.plan_import(scope, &batch).await?;
            (plan, Vec::new(), batch.into_households(), meanwhile.await)
        } else {
            let (store, actor, scope) = (store.clone(), actor.clone(), scope.clone());
            let write = tokio::spawn(async move { store.import_households(&actor, &scope, batch).await });
            let next = meanwhile.await;
            let imported = write.await.map_err(|e| ImportError::Interrupted(e.to_string()))??;
            (imported.plan, imported.written, imported.households, next)
        };
        let conflicts = conflict_issues(&households, &rows, &plan, mapping);
        let count = |idx: &mut dyn Iterator<Item = usize>| idx.map(|i| households[i].members.len()).sum::<usize>();
        let mut conflicted: Vec<usize> = plan.conflicts.iter().map(|c| c.household).collect();
        conflicted.sort_unstable();
        conflicted.dedup();
        let t = &mut self.totals;
        t.rows += parsed.rows;
        t.total_rows += parsed.totals;
        t.households_new += plan.new.len();
        t.households_changed += plan.changed.len();
        t.households_unchanged += plan.unchanged.len();
        t.households_rejected += parsed.held_back_households() + conflicted.len();
        // A member new to a changed household is a new person.
        t.persons_new += count(&mut plan.new.iter().copied()) + plan.joining;
        // Members of a changed household the sheet says nothing new of are unchanged.
        t.persons_changed += count(&mut plan.changed.iter().map(|c| c.0)) - plan.joining - plan.members_unchanged;
        t.persons_unchanged += count(&mut plan.unchanged.iter().copied()) + plan.members_unchanged;
        t.persons_rejected += parsed.held_back_persons() + count(&mut conflicted.iter().copied());
        self.note(parsed.issues);
        self.note(conflicts);
        self.committed |= !written.is_empty();
        self.written.extend(written);
        Ok(next)
    }
}

/// Households an import re-evaluates itself, before it answers, as an edit does;
/// a bigger import has the whole district swept again in the background.
const REFRESHED_IN_PLACE: usize = 500;

/// After an import that wrote, the sweep's lists take in the households it wrote.
async fn resweep(state: &AppState, report: &ImportReport) {
    if !report.committed {
        return;
    }
    if report.written.len() <= REFRESHED_IN_PLACE {
        for &id in &report.written {
            state.sweeper.refresh(state.store.as_ref(), id).await;
        }
    } else {
        state.sweeper.start(state.store.clone(), state.district.prefix().to_owned(), state.sweeper.lists_date());
    }
}

/// A cell of the preview: as the import will store it where the column is mapped,
/// as typed where it is not (ID numbers masked either way).
fn preview_cell(cell: Option<&Cell>, field: Option<Field>) -> String {
    match (cell, field) {
        (Some(c), Some(f)) => zhongfu_domain::pii::mask_if_personal(&ledger::as_mapped(f, c, today())),
        _ => shown(cell, field),
    }
}

/// A cell as the error report and the preview show it: as typed, ID numbers and
/// phones masked, and anything shaped like one in a column not known to hold it.
fn shown(cell: Option<&Cell>, field: Option<Field>) -> String {
    masked(&cell.map(Cell::display).unwrap_or_default(), field)
}

/// A value of `field`'s column as the reports show it (see `shown`).
fn masked(text: &str, field: Option<Field>) -> String {
    match field {
        Some(Field::IdNumber) => ledger::mask_id_text(text),
        Some(Field::Phone | Field::HouseholdPhone) if !text.trim().is_empty() => {
            zhongfu_domain::pii::mask_phone(text.trim())
        }
        _ => zhongfu_domain::pii::mask_if_personal(text),
    }
}

/// Issues for households the registry cannot take as they are.
fn conflict_issues(
    households: &[Household],
    rows: &[Vec<usize>],
    plan: &ImportPlan,
    mapping: &[Option<Field>],
) -> Vec<Issue> {
    let column_of = |f: Field| mapping.iter().position(|m| *m == Some(f));
    let mut held = Vec::new();
    // Without a 户编号 column a household is numbered from its head's ID, which a
    // household registered in the console (or whose head has changed) does not match.
    let numbered = column_of(Field::HouseholdNumber).is_some();
    let mut issues = plan
        .conflicts
        .iter()
        .map(|c| {
            let (h, rows) = (&households[c.household], &rows[c.household]);
            let (row, field, zh, en) = match c.reason {
                ConflictReason::PersonElsewhere => {
                    let (zh, en) = if numbered {
                        (
                            "此人已登记在另一户；如需迁户，请在系统中办理",
                            "this person is registered in another household; move them in the registry instead",
                        )
                    } else {
                        (
                            "此人已登记在另一户：表中没有户编号列，本户按户主身份证号编号，与系统中的户编号不同；请在表中加上户编号列，或在系统中办理迁户",
                            "this person is registered in another household: the sheet has no household number column, so this household is numbered from its head's ID, which differs from the registry's number; add the household numbers to the sheet, or move the person in the registry",
                        )
                    };
                    (rows[c.member.unwrap_or(0)], Field::IdNumber, zh, en)
                }
                ConflictReason::NumberOfAnother => (
                    rows[0],
                    Field::HouseholdNumber,
                    "该户编号已是系统中另一户的编号（该户成员无一在表中本户）：请核对户编号；本户如是新户，请另编一个户编号",
                    "this household number is another registered household's (none of its members is in this household of the sheet): check the number, and give a new household a number of its own",
                ),
                ConflictReason::NumberOutOfScope => (
                    rows[0],
                    Field::HouseholdNumber,
                    "该户编号已被您管辖范围外的家庭使用",
                    "this household number is used by a household outside your jurisdiction",
                ),
            };
            let value = match (field, c.member) {
                (Field::IdNumber, Some(m)) => h.members[m].id_number.masked(),
                _ => h.number.clone(),
            };
            held.push((c.household, row));
            Issue {
                row,
                column: column_of(field),
                field: Some(field),
                value,
                code: "registry_conflict",
                message_zh: zh.into(),
                message_en: en.into(),
            }
        })
        .collect::<Vec<_>>();
    issues.extend(held_back(rows, &held));
    issues
}

/// The other rows of households a conflict holds back, each said to be held back.
fn held_back(rows: &[Vec<usize>], conflicts: &[(usize, usize)]) -> Vec<Issue> {
    let mut households: Vec<usize> = conflicts.iter().map(|c| c.0).collect();
    households.sort_unstable();
    households.dedup();
    let faulty: std::collections::HashSet<usize> = conflicts.iter().map(|c| c.1).collect();
    households.iter().flat_map(|&h| ledger::held_back_issues(&rows[h], &faulty)).collect()
}

impl ImportQuery {
    fn job(&self, bytes: Bytes) -> Result<ImportJob, ApiError> {
        let community = match crate::accounts::optional(self.community.as_deref()) {
            Some(c) => Some(crate::divisions::parse_code("community", c)?),
            None => None,
        };
        let mapping = self
            .mapping
            .as_deref()
            .map(ledger::parse_mapping)
            .transpose()
            .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, r.code, r.zh, r.en).with_field("mapping"))?;
        if bytes.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "empty_file",
                "文件是空的（0 字节）：请选择要导入的台账文件",
                "the file is empty (0 bytes): choose the ledger to import",
            )
            .with_field("file"));
        }
        Ok(ImportJob {
            bytes: bytes.to_vec(),
            sheet: crate::accounts::optional(self.sheet.as_deref()).map(str::to_owned),
            community,
            mapping,
            dry_run: self.dry_run != Some(false),
        })
    }
}

/// Middleware of the upload routes: a file over the limit is told so, with the limit.
pub async fn over_limit(
    State(limit): State<usize>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return res;
    }
    let mb = limit / 1024 / 1024;
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        format!("文件超过上传大小上限（{mb} MB）：请分成几个文件导入，或请管理员调高上限"),
        format!("the file is over the upload size limit ({mb} MB): import it in parts, or ask an administrator to raise the limit"),
    )
    .with_field("file")
    .into_response()
}

/// Upload the ledger as the request body (any of .xlsx, .xls, .csv).
#[utoipa::path(post, path = "/api/v1/households/import", tag = "households", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let job = query.job(body)?;
    let mut report = run(&state.store, &p.actor(), &p.scope(), job).await?;
    resweep(&state, &report).await;
    report.issues.truncate(ISSUES_SHOWN);
    Ok(Json(report))
}

/// The dry run's error report as .xlsx: one line per rejected cell, and a
/// copy of the sheet with the rejected cells highlighted.
#[utoipa::path(post, path = "/api/v1/households/import/errors", tag = "households", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody)))]
pub async fn error_report(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut job = query.job(body.clone())?;
    job.dry_run = true;
    let report = run(&state.store, &p.actor(), &p.scope(), job).await?;
    // The sheet the check read, which may not be the first (see `run_watched`).
    let sheet = Some(report.sheet.clone());
    // The header and the rows with an error, for the marked copy.
    let wanted: std::collections::HashSet<usize> =
        report.issues.iter().map(|i| i.row).chain([report.header_row]).collect();
    let rows = tokio::task::spawn_blocking(move || sheets::read_rows(&body, sheet.as_deref(), |n| wanted.contains(&n)))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::invalid("file", &e))?;
    let bytes = tokio::task::spawn_blocking(move || error_workbook(&report, &rows))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    Ok(sheets::attachment(bytes, "import-errors.xlsx", "导入错误报告.xlsx"))
}

/// Two sheets: every issue, and the header with each rejected row (its sheet
/// row number after its last column, so that the columns keep the letters the
/// list names), the rejected cells highlighted with the reason as a note.
fn error_workbook(report: &ImportReport, rows: &sheets::Rows) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Note, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_background_color("#EEF2F7");
    let bad = Format::new().set_background_color("#FFC7CE").set_font_color("#9C0006").set_num_format("@");
    let text = Format::new().set_num_format("@");
    let list = book.add_worksheet();
    list.set_name("错误清单")?;
    for (col, h) in (0u16..).zip(["行号", "列", "字段", "值", "原因", "Reason"]) {
        list.write_string_with_format(0, col, h, &bold)?;
    }
    for (row, i) in (1u32..).zip(&report.issues) {
        list.write_number(row, 0, i.row as f64)?;
        list.write_string(row, 1, i.column.map(ledger::column_letter).unwrap_or_default())?;
        list.write_string(row, 2, i.field.map(Field::label_zh).unwrap_or_default())?;
        list.write_string_with_format(row, 3, sheets::fits(&masked(&i.value, i.field)), &text)?;
        list.write_string(row, 4, &i.message_zh)?;
        list.write_string(row, 5, &i.message_en)?;
    }
    if report.issues_total > report.issues.len() {
        let row = report.issues.len() as u32 + 2;
        let (kept, total) = (report.issues.len(), report.issues_total);
        list.write_string(row, 4, format!("仅列出前 {kept} 条，共 {total} 条：请先改正这些再检查"))?;
        list.write_string(
            row,
            5,
            format!("only the first {kept} of {total} issues are listed: correct these and check again"),
        )?;
    }
    // Values are masked here as in every export: the report marks, the worker's own ledger is corrected.
    let row = report.issues.len() as u32 + 3;
    list.write_string(row, 4, "本报告中的身份证号、电话已脱敏：请在原台账中改正后上传原台账")?;
    list.write_string(
        row,
        5,
        "ID numbers and phones are masked in this report: correct your own ledger and upload that",
    )?;
    for (col, width) in (0u16..).zip([8.0, 6.0, 14.0, 24.0, 60.0, 60.0]) {
        list.set_column_width(col, width)?;
    }
    let marked = book.add_worksheet();
    marked.set_name("原表标注")?;
    let fields: Vec<Option<Field>> = report.columns.iter().map(|c| c.field.and_then(Field::parse)).collect();
    let mut by_cell: HashMap<(usize, usize), &Issue> = HashMap::new();
    for i in &report.issues {
        if let Some(c) = i.column {
            by_cell.entry((i.row, c)).or_insert(i);
        }
    }
    // Excel's last column is XFD (16,384).
    let width = rows.iter().map(|(_, row)| row.len()).max().unwrap_or(0).min(16_383);
    for (r, (number, row)) in (0u32..).zip(rows) {
        let shown_number = if r == 0 { "原行号".to_owned() } else { number.to_string() };
        marked.write_string_with_format(r, width as u16, shown_number, &bold)?;
        for (c, cell) in row.iter().enumerate().take(width) {
            // The header as it is; a value masked as its column's.
            let value = if r == 0 { cell.display() } else { shown(Some(cell), fields.get(c).copied().flatten()) };
            let value = sheets::fits(&value);
            let c16 = c as u16;
            match by_cell.get(&(*number, c)) {
                Some(issue) => {
                    marked.write_string_with_format(r, c16, value.as_ref(), &bad)?;
                    marked.insert_note(r, c16, &Note::new(&issue.message_zh).add_author_prefix(false))?;
                }
                None => {
                    marked.write_string_with_format(r, c16, value.as_ref(), &text)?;
                }
            }
        }
    }
    marked.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The import template: the columns, dropdowns for coded columns, the ID column as text.
#[utoipa::path(get, path = "/api/v1/households/template", tag = "households",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn template() -> Result<Response, ApiError> {
    let bytes = template_workbook().map_err(|e| ApiError::internal(&e))?;
    Ok(sheets::attachment(bytes, "household-template.xlsx", "困难家庭导入模板.xlsx"))
}

/// The template's columns, in order.
pub const TEMPLATE: [Field; 31] = [
    Field::HouseholdNumber,
    Field::Community,
    Field::Address,
    Field::HouseholdPhone,
    Field::Registration,
    Field::Tenure,
    Field::HousingCondition,
    Field::DangerousHousing,
    Field::Assets,
    Field::BusinessIncome,
    Field::PropertyIncome,
    Field::TransferIncome,
    Field::OtherIncome,
    Field::HouseholdTags,
    Field::HouseholdCategories,
    Field::Name,
    Field::IdNumber,
    Field::Relation,
    Field::Phone,
    Field::Marital,
    Field::Health,
    Field::DisabilityKind,
    Field::DisabilityGrade,
    Field::DisabilityCert,
    Field::WorkAbility,
    Field::Employment,
    Field::Schooling,
    Field::MonthlyIncome,
    Field::PersonCategories,
    Field::CategoryStart,
    Field::DeathDate,
];

fn template_workbook() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DataValidation, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("困难家庭")?;
    let bold = Format::new().set_bold().set_background_color("#EEF2F7");
    let text = Format::new().set_num_format("@");
    for (col, field) in (0u16..).zip(TEMPLATE) {
        let title = match field {
            Field::Assets
            | Field::MonthlyIncome
            | Field::BusinessIncome
            | Field::PropertyIncome
            | Field::TransferIncome
            | Field::OtherIncome => format!("{}(元)", field.label_zh()),
            f => f.label_zh().to_owned(),
        };
        sheet.write_string_with_format(0, col, &title, &bold)?;
        sheet.set_column_width(col, if field == Field::IdNumber { 22.0 } else { 14.0 })?;
        if matches!(
            field,
            Field::IdNumber
                | Field::Community
                | Field::Phone
                | Field::HouseholdPhone
                | Field::HouseholdNumber
                | Field::DisabilityCert
        ) {
            sheet.set_column_format(col, &text)?;
        }
        let allowed = ledger::allowed_values(field);
        let single = !matches!(field, Field::HouseholdTags | Field::HouseholdCategories | Field::PersonCategories);
        if single && !allowed.is_empty() {
            let rule = DataValidation::new()
                .allow_list_strings(&allowed)?
                .set_error_title("取值不正确")?
                .set_error_message("请从下拉列表中选择")?;
            sheet.add_data_validation(1, col, 10_000, col, &rule)?;
        }
    }
    sheet.write_string_with_format(0, TEMPLATE.len() as u16, "备注", &bold)?;
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// A column mapping a worker saved: sheet header → field code.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedMapping {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    pub columns: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, ToSchema)]
pub struct MappingList {
    pub items: Vec<SavedMapping>,
}

/// Your saved column mappings.
#[utoipa::path(get, path = "/api/v1/import-mappings", tag = "households", responses((status = 200, body = MappingList)))]
pub async fn mappings(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Result<Json<MappingList>, ApiError> {
    let items = state
        .store
        .mappings(p.account.id)
        .await?
        .into_iter()
        .map(|(id, name, columns)| SavedMapping {
            id,
            name,
            columns: serde_json::from_str(&columns).unwrap_or_default(),
        })
        .collect();
    Ok(Json(MappingList { items }))
}

/// Saves a column mapping under a name (the same name replaces it).
#[utoipa::path(post, path = "/api/v1/import-mappings", tag = "households", request_body = SavedMapping,
    responses((status = 200, body = SavedMapping), (status = 400, body = ErrorBody)))]
pub async fn save_mapping(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(mut form): Json<SavedMapping>,
) -> Result<Json<SavedMapping>, ApiError> {
    form.name = crate::accounts::text("name", &form.name, 40)?;
    if form.columns.is_empty() || form.columns.len() > 200 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_mapping",
            "请至少对应一列",
            "map at least one column",
        )
        .with_field("columns"));
    }
    let invalid = |zh: String, en: String| {
        Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_mapping", zh, en).with_field("columns"))
    };
    let mut seen: HashMap<Field, &str> = HashMap::new();
    for (header, field) in &form.columns {
        if let Some((f, first)) = Field::parse(field).and_then(|f| seen.insert(f, header).map(|first| (f, first))) {
            // An import with such a mapping would be refused: saved, it could only fail later.
            return invalid(
                format!("表头“{first}”和“{header}”都对应了“{}”：每个字段只能对应一列", f.label_zh()),
                format!(
                    "the headers \"{first}\" and \"{header}\" are both mapped to {}: a field takes one column",
                    f.label_en()
                ),
            );
        }
        if header.trim().is_empty() {
            return invalid("表头不能为空".into(), "a header cannot be empty".into());
        }
        if header.chars().count() > 100 {
            return invalid("表头最多100个字".into(), "a header has at most 100 characters".into());
        }
        if Field::parse(field).is_none() {
            return invalid(format!("未知字段：{field}"), format!("unknown field: {field}"));
        }
    }
    let columns = serde_json::to_string(&form.columns).map_err(|e| ApiError::internal(&e))?;
    form.id = state.store.save_mapping(&p.actor(), p.account.id, &form.name, &columns).await?;
    Ok(Json(form))
}

/// Imports running in the background, watched by the console's progress bar.
#[derive(Debug, Default)]
pub struct ImportJobs {
    jobs: std::sync::Mutex<HashMap<String, Arc<JobEntry>>>,
}

#[derive(Debug)]
struct JobEntry {
    owner: i64,
    progress: Progress,
    outcome: std::sync::Mutex<Option<Result<ImportReport, ApiError>>>,
    finished_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// Finished jobs are forgotten after this long.
const JOB_KEPT: std::time::Duration = std::time::Duration::from_secs(3600);

impl ImportJobs {
    fn get(&self, id: &str, owner: i64) -> Option<Arc<JobEntry>> {
        let jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.get(id).filter(|j| j.owner == owner).cloned()
    }

    fn insert(&self, id: String, entry: Arc<JobEntry>) {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.retain(|_, j| {
            let finished = j.finished_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            finished.is_none_or(|at| at.elapsed() < JOB_KEPT)
        });
        jobs.insert(id, entry);
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobStarted {
    pub id: String,
}

/// Starts an import (dry run by default) in the background; watch it with GET.
#[utoipa::path(post, path = "/api/v1/import-jobs", tag = "households", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 202, body = JobStarted), (status = 400, body = ErrorBody)))]
pub async fn start_job(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<JobStarted>), ApiError> {
    let job = query.job(body)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let entry = Arc::new(JobEntry {
        owner: p.account.id,
        progress: Progress::default(),
        outcome: std::sync::Mutex::new(None),
        finished_at: std::sync::Mutex::new(None),
    });
    state.import_jobs.insert(id.clone(), entry.clone());
    let (store, actor, scope) = (state.store.clone(), p.actor(), p.scope());
    tokio::spawn(async move {
        let result = run_watched(&store, &actor, &scope, job, &entry.progress).await.map_err(ApiError::from);
        if let Ok(report) = &result {
            resweep(&state, report).await;
        }
        *entry.outcome.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result.map(|mut r| {
            r.issues.truncate(ISSUES_SHOWN);
            r
        }));
        *entry.finished_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(std::time::Instant::now());
    });
    Ok((StatusCode::ACCEPTED, Json(JobStarted { id })))
}

/// Why a background import failed, in both languages.
#[derive(Serialize, ToSchema)]
pub struct JobError {
    pub code: &'static str,
    #[schema(value_type = Option<String>)]
    pub field: Option<std::borrow::Cow<'static, str>>,
    pub message_zh: String,
    pub message_en: String,
}

#[derive(Serialize, ToSchema)]
pub struct JobStatus {
    /// running, done or failed.
    pub status: &'static str,
    /// The last sheet row read.
    pub done: usize,
    /// Rows the sheet spans.
    pub total: usize,
    pub report: Option<ImportReport>,
    pub error: Option<JobError>,
}

#[utoipa::path(get, path = "/api/v1/import-jobs/{id}", tag = "households",
    responses((status = 200, body = JobStatus), (status = 404, body = ErrorBody)))]
pub async fn job_status(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<JobStatus>, ApiError> {
    let entry = state.import_jobs.get(&id, p.account.id).ok_or_else(ApiError::not_found)?;
    let done = entry.progress.done.load(Ordering::Relaxed);
    let total = entry.progress.total.load(Ordering::Relaxed).max(done);
    let outcome = entry.outcome.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    Ok(Json(match outcome {
        None => JobStatus { status: "running", done, total, report: None, error: None },
        // A cancelled import stopped where it was: its progress says how far.
        Some(Ok(report)) => {
            let done = if report.cancelled { done } else { total };
            JobStatus { status: "done", done, total, report: Some(report), error: None }
        }
        Some(Err(e)) => JobStatus {
            status: "failed",
            done,
            total,
            report: None,
            error: Some(JobError { code: e.code, field: e.field, message_zh: e.message_zh, message_en: e.message_en }),
        },
    }))
}

/// Stops a running import after the batch in hand; what was written stays.
#[utoipa::path(post, path = "/api/v1/import-jobs/{id}/cancel", tag = "households",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    let entry = state.import_jobs.get(&id, p.account.id).ok_or_else(ApiError::not_found)?;
    entry.progress.cancelled.store(true, Ordering::Relaxed);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_longer_than_excel_takes_is_cut_to_fit() {
        let long = "洞".repeat(40_000);
        assert_eq!(sheets::fits(&long).chars().count(), 32_767);
        assert!(matches!(sheets::fits("洞庭路"), std::borrow::Cow::Borrowed("洞庭路")));
    }

    #[test]
    fn a_community_name_two_streets_share_is_no_ones() {
        let code = |c: &str| DivisionCode::parse(c).unwrap();
        let names = community_names(
            [("洞庭社区居委会", "430602001001"), ("洞庭社区", "430602002003"), ("郭亮社区", "430602001002")]
                .into_iter()
                .map(|(n, c)| (n.to_owned(), code(c))),
        );
        assert_eq!(names.get("郭亮社区"), Some(&code("430602001002")));
        assert_eq!(names.get("洞庭社区居委会"), Some(&code("430602001001")), "the full name is one community's");
        assert_eq!(names.get("洞庭社区"), None, "two communities answer to it");
        assert_eq!(names.get("430602002003"), Some(&code("430602002003")), "a code always answers");
    }

    #[test]
    fn an_import_keeps_so_many_issues_and_counts_the_rest() {
        let issue = |row| Issue {
            row,
            column: None,
            field: None,
            value: String::new(),
            code: "x",
            message_zh: String::new(),
            message_en: String::new(),
        };
        let mut outcome = Outcome::default();
        outcome.note((1..=ISSUES_KEPT - 1).map(issue).collect());
        outcome.note(vec![issue(ISSUES_KEPT), issue(ISSUES_KEPT + 1)]);
        assert_eq!((outcome.issues.len(), outcome.issues_total), (ISSUES_KEPT, ISSUES_KEPT + 1));
        assert_eq!(outcome.issues.last().map(|i| i.row), Some(ISSUES_KEPT), "the first ones are kept");
    }
}
