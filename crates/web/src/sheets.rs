//! Reading an uploaded ledger into cells: .xlsx and .xls through calamine,
//! .csv in UTF-8 (with or without BOM) or GBK. Hidden sheets are skipped,
//! merged cells carry their value into every cell they cover, and row and
//! column positions stay those of the sheet, so errors point where the
//! worker looks.

use std::io::Cursor;
use std::sync::Arc;

use calamine::{Data, Reader, SheetVisible};
use zhongfu_domain::ledger::Cell;

/// Decompressed size an .xlsx may reach, against zip bombs. A sheet of Excel's
/// 1,048,576 rows and some thirty columns of text unpacks to about 1.3 GB;
/// the worksheet is streamed, so this bounds the reading time, not memory.
pub const MAX_UNZIPPED: u64 = 2048 * 1024 * 1024;
/// Decompressed size of any other part (shared strings, styles, the
/// workbook): the reader holds these whole in memory.
pub const MAX_UNZIPPED_PART: u64 = 384 * 1024 * 1024;
/// Rows and columns read from one sheet.
const MAX_ROWS: usize = 1_048_576;
const MAX_COLUMNS: usize = 200;
/// Cells an .xls may span, all its sheets together. The reader holds each
/// sheet as a full rectangle from its first used cell to its last, so a
/// few-kilobyte file with one cell far out would take gigabytes (65,536
/// rows × 64 columns is about 250 MB here).
const MAX_XLS_CELLS: u64 = 65_536 * 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SheetError {
    #[error("the file is not an .xlsx, .xls or .csv file, or it is damaged: {0}")]
    Unreadable(String),
    #[error("the workbook unpacks to more than {} MB", MAX_UNZIPPED / 1024 / 1024)]
    TooLarge,
    #[error("the workbook has no visible sheet")]
    NoSheet,
    #[error("there is no sheet named {0}")]
    UnknownSheet(String),
    #[error("cell {0} holds more than the 32,767 characters Excel allows in a cell: shorten it and upload again")]
    CellTooLong(String),
    #[error("the sheet holds more than {} MB of text", .0 / 1024 / 1024)]
    TooMuchText(u64),
    #[error(
        "the cell in row {0} opens with a quotation mark that is never closed, so the rows below run into it: delete the mark, or close it, and upload again"
    )]
    UnclosedQuote(usize),
    #[error(
        "the .xls file's cells spread too far (as far as {0}) to be read: delete what lies outside the table, or save it as .xlsx and upload that"
    )]
    TooSpread(String),
}

impl zhongfu_domain::UserError for SheetError {
    fn code(&self) -> &'static str {
        match self {
            Self::Unreadable(_) => "unreadable_file",
            Self::TooLarge => "file_too_large",
            Self::NoSheet => "no_sheet",
            Self::UnknownSheet(_) => "unknown_sheet",
            Self::TooSpread(_) => "cells_too_spread",
            Self::UnclosedQuote(_) => "unclosed_quote",
            Self::CellTooLong(_) => "cell_too_long",
            Self::TooMuchText(_) => "file_too_large",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Unreadable(_) => "无法读取该文件：请上传 .xlsx、.xls 或 .csv 文件，并确认文件未损坏".into(),
            Self::TooLarge => format!("该工作簿解压后超过 {} MB", MAX_UNZIPPED / 1024 / 1024),
            Self::NoSheet => "该工作簿没有可见的工作表".into(),
            Self::UnknownSheet(name) => format!("没有名为“{name}”的工作表"),
            Self::CellTooLong(cell) => format!("单元格 {cell} 超过 Excel 单元格 32767 个字符的上限：请缩短后重新上传"),
            Self::TooMuchText(cap) => format!("该工作表的文字超过 {} MB", cap / 1024 / 1024),
            Self::UnclosedQuote(row) => {
                format!(
                    "第 {row} 行有单元格以引号开头却没有闭合的引号，下面的行都并入了这个单元格：请删去这个引号或补上闭合的引号后重新上传"
                )
            }
            Self::TooSpread(cell) => {
                format!(
                    "该 .xls 文件的单元格分布过广（远至 {cell}），无法读取：请删除表格以外的内容，或另存为 .xlsx 后再上传"
                )
            }
        }
    }
}

/// A workbook's visible sheets and the one being read.
#[derive(Clone, Debug)]
pub struct Opened {
    pub sheets: Vec<String>,
    pub sheet: String,
    /// Rows the sheet spans (an estimate for progress; 0 if unknown).
    pub rows: usize,
    /// Formula cells of the workbook saved without their value (by a program, not
    /// by Excel or WPS): read as blank.
    pub uncomputed: u64,
}

/// A workbook's visible sheets, and the cells of the chosen one.
#[derive(Debug)]
pub struct Workbook {
    pub sheets: Vec<String>,
    pub sheet: String,
    pub rows: Vec<Vec<Cell>>,
}

/// Reads `bytes` whole; `sheet` chooses among several (the first visible by default).
pub fn read(bytes: &[u8], sheet: Option<&str>) -> Result<Workbook, SheetError> {
    let mut rows = Vec::new();
    let opened = each_row(
        bytes,
        sheet,
        |_| {},
        |number, cells| {
            // Row n at index n - 1, even where the reader skipped blank lines.
            if rows.len() < number - 1 {
                rows.resize(number - 1, Vec::new());
            }
            rows.push(cells);
            true
        },
    )?;
    Ok(Workbook { sheets: opened.sheets, sheet: opened.sheet, rows })
}

/// Only the rows `keep` wants, with their 1-based numbers (an error report
/// of a long sheet needs a few of its rows, not all).
pub fn read_rows(bytes: &[u8], sheet: Option<&str>, keep: impl Fn(usize) -> bool) -> Result<Rows, SheetError> {
    let mut rows = Vec::new();
    each_row(
        bytes,
        sheet,
        |_| {},
        |number, cells| {
            if keep(number) {
                rows.push((number, cells));
            }
            true
        },
    )?;
    Ok(rows)
}

/// A batch of rows, each with its 1-based sheet row number.
pub type Rows = Vec<(usize, Vec<Cell>)>;

/// Text a batch of rows may hold before it is handed over, however few its rows.
pub const MAX_BATCH_TEXT: usize = 32 * 1024 * 1024;

/// Reads the sheet on a blocking thread and hands over rows in batches of
/// `batch` (or [`MAX_BATCH_TEXT`]), at most two batches ahead of the reader: memory stays bounded
/// whatever the file's length. Dropping the receiver stops the reading.
pub async fn stream(
    bytes: Arc<Vec<u8>>,
    sheet: Option<String>,
    batch: usize,
) -> Result<(Opened, tokio::sync::mpsc::Receiver<Result<Rows, SheetError>>), SheetError> {
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Rows, SheetError>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut pending = Vec::with_capacity(batch);
        let mut held = 0usize;
        let mut opened_tx = Some(opened_tx);
        let result = each_row(
            &bytes,
            sheet.as_deref(),
            |opened| {
                if let Some(o) = opened_tx.take() {
                    let _ = o.send(Ok(opened.clone()));
                }
            },
            |number, cells| {
                held += text_bytes(&cells);
                pending.push((number, cells));
                if pending.len() < batch && held < MAX_BATCH_TEXT {
                    return true;
                }
                held = 0;
                tx.blocking_send(Ok(std::mem::replace(&mut pending, Vec::with_capacity(batch)))).is_ok()
            },
        );
        match result {
            // An error once the rows flow (a damaged part further down, a cell too
            // long) ends them with the error, not quietly, as if the sheet ended.
            Err(e) => match opened_tx.take() {
                Some(o) => {
                    let _ = o.send(Err(e));
                }
                None => {
                    let _ = tx.blocking_send(Err(e));
                }
            },
            Ok(_) if !pending.is_empty() => {
                let _ = tx.blocking_send(Ok(pending));
            }
            Ok(_) => {}
        }
    });
    match opened_rx.await {
        Ok(result) => result.map(|opened| (opened, rx)),
        Err(_) => Err(SheetError::Unreadable(reader.await.err().map(|e| e.to_string()).unwrap_or_default())),
    }
}

/// Calls `on_open` once the sheet is chosen, then `on_row` for every row
/// from the first (blank rows included, so numbers stay the sheet's) until
/// it returns false.
fn each_row(
    bytes: &[u8],
    sheet: Option<&str>,
    mut on_open: impl FnMut(&Opened),
    on_row: impl FnMut(usize, Vec<Cell>) -> bool,
) -> Result<Opened, SheetError> {
    let uncomputed =
        if bytes.starts_with(b"PK\x03\x04") { check_unzipped_size(bytes, MAX_UNZIPPED, MAX_UNZIPPED_PART)? } else { 0 };
    let on_open = |opened: &Opened| on_open(&Opened { uncomputed, ..opened.clone() });
    let opened = each_row_unchecked(bytes, sheet, None, on_open, on_row)?;
    Ok(Opened { uncomputed, ..opened })
}

/// Reads the rows again, for a pass over some `columns` of a sheet `stream` has
/// opened (its unpacked size already checked), off the async threads. Other
/// cells of a workbook or CSV are left empty (not copied).
pub async fn fold_rows<T: Send + 'static>(
    bytes: Arc<Vec<u8>>,
    sheet: Option<String>,
    columns: Vec<usize>,
    mut state: T,
    on_row: impl Fn(&mut T, usize, &[Cell]) + Send + 'static,
) -> Result<T, SheetError> {
    tokio::task::spawn_blocking(move || {
        each_row_unchecked(
            &bytes,
            sheet.as_deref(),
            Some(&columns),
            |_| {},
            |number, cells| {
                on_row(&mut state, number, &cells);
                true
            },
        )
        .map(|_| state)
    })
    .await
    .map_err(|e| SheetError::Unreadable(e.to_string()))?
}

fn each_row_unchecked(
    bytes: &[u8],
    sheet: Option<&str>,
    only: Option<&[usize]>,
    mut on_open: impl FnMut(&Opened),
    mut on_row: impl FnMut(usize, Vec<Cell>) -> bool,
) -> Result<Opened, SheetError> {
    // Text is counted as the cells come out, merged cells filled in: one shared
    // string or merged value can be repeated into far more text than the file holds.
    let (mut used, mut refused) = (0u64, None);
    let mut on_row = |number: usize, cells: Vec<Cell>| {
        for (c, cell) in cells.iter().enumerate() {
            if let Cell::Text(t) = cell
                && t.len() > MAX_CELL_CHARS
                && t.chars().count() > MAX_CELL_CHARS
            {
                refused =
                    Some(SheetError::CellTooLong(format!("{}{number}", zhongfu_domain::ledger::column_letter(c))));
                return false;
            }
        }
        used += text_bytes(&cells) as u64;
        if used > MAX_SHEET_TEXT {
            refused = Some(SheetError::TooMuchText(MAX_SHEET_TEXT));
            return false;
        }
        on_row(number, cells)
    };
    let opened = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes, sheet, only, &mut on_open, &mut on_row)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        read_xls(bytes, sheet, &mut on_open, &mut on_row)
    } else {
        read_csv(bytes, only, &mut on_open, &mut on_row)
    }?;
    refused.map_or(Ok(opened), Err)
}

/// Characters a cell may hold, as in Excel.
const MAX_CELL_CHARS: usize = 32_767;
/// Text one reading of a sheet may give, counted by [`text_bytes`].
const MAX_SHEET_TEXT: u64 = MAX_UNZIPPED;

/// What a row's cells take in memory, near enough: their text and a word or
/// four for each cell.
pub fn text_bytes(cells: &[Cell]) -> usize {
    cells.iter().map(|c| 32 + if let Cell::Text(t) = c { t.len() } else { 0 }).sum()
}

/// Unpacks every entry of a workbook, counting what comes out, and stops past
/// `cap` in all or past `part_cap` in an entry that is not a worksheet. The
/// sizes an archive declares can lie, so they are not trusted. Counts the
/// worksheets' formula cells without a value on the way.
fn check_unzipped_size(bytes: &[u8], cap: u64, part_cap: u64) -> Result<u64, SheetError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let (mut total, mut uncomputed) = (0u64, 0u64);
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| unreadable(&e))?;
        let name = entry.name().map_err(|e| unreadable(&e))?.to_ascii_lowercase();
        let allowed = if name.starts_with("xl/worksheets/") { cap - total } else { part_cap.min(cap - total) };
        let mut limited = std::io::Read::take(entry, allowed + 1);
        let mut xml = XmlPart::new(&name);
        let copied = std::io::copy(&mut limited, &mut xml);
        if xml.broken() {
            return Err(SheetError::Unreadable(NOT_EXCEL_XML.into()));
        }
        let size = copied.map_err(|e| unreadable(&e))?;
        if size > allowed {
            return Err(SheetError::TooLarge);
        }
        xml.check(size)?;
        total += size;
        uncomputed += xml.uncomputed();
    }
    Ok(uncomputed)
}

/// The longest piece of text or markup an XML reader may have to hold at once
/// (calamine's reader buffers each whole). A cell holds at most 32,767
/// characters, a few hundred kilobytes even escaped; a few-kilobyte upload
/// could otherwise unpack to one cell of gigabytes.
const MAX_XML_TOKEN: usize = 1024 * 1024;

/// An unpacked part of a workbook, scanned as it streams by: where its text and
/// markup break (no piece longer than [`MAX_XML_TOKEN`], no DTD), and its first
/// bytes, which state how many shared strings follow.
struct XmlPart {
    xml: bool,
    /// The shared strings, whose head is kept (`uniqueCount`).
    shared_strings: bool,
    state: Token,
    run: usize,
    longest: usize,
    /// The bytes just after a `<`, until they tell what kind of markup it opens.
    opened: Vec<u8>,
    refused: bool,
    head: Vec<u8>,
    /// The markup counted, each of which the reader holds in memory: merged
    /// regions (`<mergeCell`), or in the styles the cell formats (`<xf`) …
    counted: Tally,
    /// … and how many a part may have.
    most: u64,
    /// In a worksheet, the ends of formula cells without a value.
    uncomputed: Vec<Tally>,
}

/// How often a piece of markup occurs in a part, counted as the part streams
/// by (across the joins of its pieces).
struct Tally {
    tag: &'static [u8],
    tail: Vec<u8>,
    count: u64,
}

impl Tally {
    fn new(tag: &'static [u8]) -> Self {
        Self { tag, tail: Vec::new(), count: 0 }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let (tag, keep) = (self.tag, self.tag.len() - 1);
        // Too short to hold the tag alone: any the join holds crosses it.
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(&bytes[..bytes.len().min(keep)]);
        self.count += memchr::memmem::find_iter(&joined, tag).count() as u64;
        self.count += memchr::memmem::find_iter(bytes, tag).count() as u64;
        // The last bytes seen, the next join's start.
        if bytes.len() >= keep {
            joined.clear();
            joined.extend_from_slice(&bytes[bytes.len() - keep..]);
        } else {
            joined.drain(..joined.len().saturating_sub(keep));
        }
        self.tail = joined;
    }
}

/// Merged regions a workbook may declare: a ledger of a million rows whose
/// household cells are merged down has a few hundred thousand.
const MAX_MERGES: u64 = 4 * 1024 * 1024;

const NOT_EXCEL_XML: &str = "a part of the workbook is not the XML Excel writes";

/// Cell formats a workbook's styles may declare: Excel makes at most 64,000
/// (and as many cell styles); each costs the reader some hundred bytes, so a
/// few kilobytes of repeated `<xf/>` could otherwise take gigabytes.
const MAX_STYLES: u64 = 256 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    Text,
    Opened,
    Tag(Option<u8>),
    Comment,
    Cdata,
    Instruction,
}

impl XmlPart {
    /// A part by its name, lowercased.
    fn new(name: &str) -> Self {
        let (xml, shared_strings) = (name.ends_with(".xml"), name.ends_with("sharedstrings.xml"));
        let (tag, most): (&[u8], u64) =
            if name.ends_with("styles.xml") { (b"<xf", MAX_STYLES) } else { (b"<mergeCell", MAX_MERGES) };
        let counted = Tally::new(tag);
        // `<f>…</f></c>` or a shared formula's `<f …/></c>`: no value after the formula. An
        // empty value (`<v/>`, `<v></v>`) is a formula's empty text, as Excel saves it.
        let uncomputed = if name.starts_with("xl/worksheets/") {
            vec![Tally::new(b"</f></c>"), Tally::new(b"/></c>"), Tally::new(b"<v/></c>")]
        } else {
            Vec::new()
        };
        let (run, longest) = (0, 0);
        let (opened, head) = (Vec::new(), Vec::new());
        let state = Token::Text;
        Self { xml, shared_strings, state, run, longest, opened, refused: false, head, counted, most, uncomputed }
    }

    fn scan(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (taken, ended) = match self.state {
                Token::Text => match memchr::memchr(b'<', bytes) {
                    Some(i) => (i + 1, true),
                    None => (bytes.len(), false),
                },
                Token::Tag(None) => match memchr::memchr3(b'>', b'"', b'\'', bytes) {
                    Some(i) => {
                        if bytes[i] != b'>' {
                            self.state = Token::Tag(Some(bytes[i]));
                        }
                        (i + 1, bytes[i] == b'>')
                    }
                    None => (bytes.len(), false),
                },
                Token::Tag(Some(quote)) => match memchr::memchr(quote, bytes) {
                    Some(i) => {
                        self.state = Token::Tag(None);
                        (i + 1, false)
                    }
                    None => (bytes.len(), false),
                },
                Token::Opened => {
                    self.opened.push(bytes[0]);
                    self.state = self.opened_kind();
                    (1, false)
                }
                Token::Comment | Token::Cdata | Token::Instruction => {
                    let end: &[u8] = match self.state {
                        Token::Comment => b"-->",
                        Token::Cdata => b"]]>",
                        _ => b"?>",
                    };
                    self.opened.push(bytes[0]);
                    let len = self.opened.len();
                    if len > 3 {
                        self.opened.drain(..len - 3);
                    }
                    (1, self.opened.ends_with(end))
                }
            };
            self.run += taken;
            self.longest = self.longest.max(self.run);
            if ended {
                self.run = 0;
                self.state = if self.state == Token::Text { Token::Opened } else { Token::Text };
                self.opened.clear();
            }
            bytes = &bytes[taken..];
        }
    }

    /// What the bytes after a `<` open, once they tell (a DTD is refused:
    /// workbooks never carry one, and it could declare what it likes).
    fn opened_kind(&mut self) -> Token {
        let o = self.opened.as_slice();
        let kind = match o {
            [b'?', ..] => Token::Instruction,
            _ if o.starts_with(b"!--") => Token::Comment,
            _ if o.starts_with(b"![CDATA[") => Token::Cdata,
            [b'!', ..] if b"!--".starts_with(o) || b"![CDATA[".starts_with(o) => return Token::Opened,
            [b'!', ..] => {
                self.refused = true;
                Token::Tag(None)
            }
            _ => {
                // An ordinary tag: its first byte may already close or quote.
                let first = o[0];
                self.opened.clear();
                return match first {
                    b'"' | b'\'' => Token::Tag(Some(first)),
                    b'>' => {
                        self.run = 0;
                        Token::Text
                    }
                    _ => Token::Tag(None),
                };
            }
        };
        self.opened.clear();
        kind
    }

    /// Formula cells without a value: all `/></c>` but those of an empty value, `<v/></c>`.
    fn uncomputed(&self) -> u64 {
        match self.uncomputed.as_slice() {
            [closed, empty, empty_value] => closed.count + empty.count.saturating_sub(empty_value.count),
            _ => 0,
        }
    }

    /// A piece too long, a DTD, or too many of the counted tag, seen so far.
    fn broken(&self) -> bool {
        self.refused || self.longest > MAX_XML_TOKEN || self.counted.count > self.most
    }

    /// Refuses the part if a piece of it is too long, it carries a DTD, or (for
    /// the shared strings) it states more strings than it could hold: the
    /// reader reserves room for as many as it states.
    fn check(&self, size: u64) -> Result<(), SheetError> {
        if self.broken() {
            return Err(SheetError::Unreadable(NOT_EXCEL_XML.into()));
        }
        if self.shared_strings {
            let head = String::from_utf8_lossy(&self.head);
            let stated = head
                .split_once("uniqueCount=\"")
                .and_then(|(_, rest)| rest.split('"').next())
                .map(|n| n.trim().parse::<u64>().unwrap_or(u64::MAX));
            // Each string takes at least `<si/>`, five bytes.
            if stated.is_some_and(|n| n > size / 5) {
                return Err(SheetError::Unreadable("the shared strings state more strings than they hold".into()));
            }
        }
        Ok(())
    }
}

impl std::io::Write for XmlPart {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.shared_strings && self.head.len() < 4096 {
            self.head.extend_from_slice(&bytes[..bytes.len().min(4096 - self.head.len())]);
        }
        if self.xml {
            self.scan(bytes);
            self.counted.feed(bytes);
            for tally in &mut self.uncomputed {
                tally.feed(bytes);
            }
            // Refused as soon as it is known: the rest need not be unpacked.
            if self.broken() {
                return Err(std::io::Error::other(NOT_EXCEL_XML));
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn unreadable(e: &dyn std::fmt::Display) -> SheetError {
    SheetError::Unreadable(e.to_string())
}

/// The visible worksheets and the one to read.
fn choose(metadata: &[calamine::Sheet], sheet: Option<&str>) -> Result<(Vec<String>, String), SheetError> {
    let sheets: Vec<String> = metadata
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible && s.typ == calamine::SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    let name = match sheet {
        Some(s) if sheets.iter().any(|n| n == s) => s.to_owned(),
        Some(s) => return Err(SheetError::UnknownSheet(s.to_owned())),
        None => sheets.first().cloned().ok_or(SheetError::NoSheet)?,
    };
    Ok((sheets, name))
}

/// .xlsx, streamed cell by cell; merged regions carry their top-left value down and across.
fn read_xlsx(
    bytes: &[u8],
    sheet: Option<&str>,
    only: Option<&[usize]>,
    on_open: &mut impl FnMut(&Opened),
    on_row: &mut impl FnMut(usize, Vec<Cell>) -> bool,
) -> Result<Opened, SheetError> {
    let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let (sheets, name) = choose(book.sheets_metadata(), sheet)?;
    let mut merged = book.merge_cells_by_sheet_name(&name).unwrap_or_default();
    merged.retain(Merges::read);
    // The columns read; a merged region's value comes from its top-left cell, so
    // that cell is read for a wanted column the region covers.
    let mut wanted = [only.is_none(); MAX_COLUMNS];
    for &c in only.unwrap_or_default().iter().filter(|&&c| c < MAX_COLUMNS) {
        wanted[c] = true;
    }
    let asked = wanted;
    for d in &merged {
        if (d.start.1 as usize..=(d.end.1 as usize).min(MAX_COLUMNS - 1)).any(|c| asked[c]) {
            wanted[d.start.1 as usize] = true;
        }
    }
    let mut cells = book.worksheet_cells_reader(&name).map_err(|e| unreadable(&e))?;
    let opened = Opened { sheets, sheet: name, rows: cells.dimensions().end.0 as usize + 1, uncomputed: 0 };
    on_open(&opened);
    let mut merges = Merges::new(merged, asked);
    let (mut row, mut current): (usize, Vec<Cell>) = (0, Vec::new());
    while let Some(c) = cells.next_cell().map_err(|e| unreadable(&e))? {
        let (r, col) = c.get_position();
        let (r, col) = (r as usize, col as usize);
        if r >= MAX_ROWS {
            break;
        }
        while row < r {
            if !on_row(row + 1, merges.fill(row, std::mem::take(&mut current))) {
                return Ok(opened);
            }
            row += 1;
        }
        if col < MAX_COLUMNS && wanted[col] {
            if current.len() <= col {
                current.resize(col + 1, Cell::Empty);
            }
            current[col] = cell_ref(c.get_value());
        }
    }
    if !current.is_empty() {
        on_row(row + 1, merges.fill(row, current));
    }
    Ok(opened)
}

/// Merged regions met so far, by the row they start on.
struct Merges {
    pending: std::collections::VecDeque<calamine::Dimensions>,
    active: Vec<(calamine::Dimensions, Cell)>,
    /// The columns filled (a pass over a few columns fills only those).
    filled: [bool; MAX_COLUMNS],
}

impl Merges {
    /// Whether a region starts where cells are read (the others are never filled).
    fn read(d: &calamine::Dimensions) -> bool {
        (d.start.1 as usize) < MAX_COLUMNS && (d.start.0 as usize) < MAX_ROWS
    }

    fn new(mut regions: Vec<calamine::Dimensions>, filled: [bool; MAX_COLUMNS]) -> Self {
        regions.retain(Self::read);
        regions.sort_by_key(|d| d.start);
        Self { pending: regions.into(), active: Vec::new(), filled }
    }

    /// Row `r` (0-based) with the merged cells filled in.
    fn fill(&mut self, r: usize, mut row: Vec<Cell>) -> Vec<Cell> {
        self.active.retain(|(d, _)| d.end.0 as usize >= r);
        while self.pending.front().is_some_and(|d| d.start.0 as usize <= r) {
            let Some(d) = self.pending.pop_front() else { break };
            // Merged regions cannot overlap in Excel; a file that says they do
            // (thousands over the same cells) is not given the time it asks for,
            // so at most one region per column read is active.
            let overlaps = |a: &calamine::Dimensions| {
                a.start.1 <= d.end.1 && d.start.1 <= a.end.1 && a.start.0 <= d.end.0 && d.start.0 <= a.end.0
            };
            if d.end.0 as usize >= r && !self.active.iter().any(|(a, _)| overlaps(a)) {
                let value = row.get(d.start.1 as usize).cloned().unwrap_or(Cell::Empty);
                self.active.push((d, value));
            }
        }
        for (d, value) in &self.active {
            let (c0, c1) = (d.start.1 as usize, (d.end.1 as usize).min(MAX_COLUMNS - 1));
            if row.len() <= c1 {
                row.resize(c1 + 1, Cell::Empty);
            }
            for (c, slot) in row.iter_mut().enumerate().take(c1 + 1).skip(c0) {
                if self.filled[c] && (r, c) != (d.start.0 as usize, d.start.1 as usize) {
                    *slot = value.clone();
                }
            }
        }
        row
    }
}

/// .xls (at most 65,536 rows): read whole, then handed over row by row.
fn read_xls(
    bytes: &[u8],
    sheet: Option<&str>,
    on_open: &mut impl FnMut(&Opened),
    on_row: &mut impl FnMut(usize, Vec<Cell>) -> bool,
) -> Result<Opened, SheetError> {
    let checked = check_xls_extent(bytes, MAX_XLS_CELLS)?;
    let mut book = calamine::Xls::new(Cursor::new(checked)).map_err(|e| unreadable(&e))?;
    let (sheets, name) = choose(book.sheets_metadata(), sheet)?;
    let range = book.worksheet_range(&name).map_err(|e| unreadable(&e))?;
    let merged = book.merge_cells_by_sheet_name(&name).unwrap_or_default();
    let (top, left) = range.start().unwrap_or((0, 0));
    let opened = Opened { sheets, sheet: name, rows: top as usize + range.height(), uncomputed: 0 };
    on_open(&opened);
    let mut merges = Merges::new(merged, [true; MAX_COLUMNS]);
    for r in 0..top as usize {
        if !on_row(r + 1, merges.fill(r, Vec::new())) {
            return Ok(opened);
        }
    }
    for (i, cells) in range.rows().enumerate().take(MAX_ROWS) {
        let mut row: Vec<Cell> = vec![Cell::Empty; left as usize];
        row.extend(cells.iter().take(MAX_COLUMNS).map(cell));
        let r = top as usize + i;
        if !on_row(r + 1, merges.fill(r, row)) {
            break;
        }
    }
    Ok(opened)
}

/// Refuses an .xls whose sheets, each read as the rectangle its cells span
/// (as calamine reads every sheet when it opens the file), would come to more
/// than `cap` cells, or whose stated dimensions are past any sheet's limits
/// (calamine reserves room for them). Walks the records as calamine does:
/// from each sheet's stated position to its end, skipping embedded charts.
///
/// Returns the stream checked, rewrapped as the only stream of a new compound
/// file: calamine finds its stream by its own reading of the directory, which
/// another entry of the same name could steer to a stream never checked.
fn check_xls_extent(bytes: &[u8], cap: u64) -> Result<Vec<u8>, SheetError> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let name = if file.is_stream("/Workbook") { "/Workbook" } else { "/Book" };
    let mut stream = Vec::new();
    std::io::Read::read_to_end(&mut file.open_stream(name).map_err(|e| unreadable(&e))?, &mut stream)
        .map_err(|e| unreadable(&e))?;
    check_biff_extent(&stream, cap, MAX_XLS_TEXT)?;
    let mut only = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
        .map_err(|e| unreadable(&e))?;
    let mut out = only.create_stream("/Workbook").map_err(|e| unreadable(&e))?;
    std::io::Write::write_all(&mut out, &stream).map_err(|e| unreadable(&e))?;
    drop(out);
    only.flush().map_err(|e| unreadable(&e))?;
    Ok(only.into_inner().into_inner())
}

/// [`check_xls_extent`] over the workbook stream itself.
fn check_biff_extent(stream: &[u8], cap: u64, text_cap: u64) -> Result<(), SheetError> {
    let u16_at = |d: &[u8], i: usize| d.get(i..i + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |d: &[u8], i: usize| d.get(i..i + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    // The records from `at`, until an end-of-file record or the stream's end.
    let records = |at: usize| {
        let mut rest = stream.get(at..).unwrap_or_default();
        std::iter::from_fn(move || {
            let (kind, len) = (u16_at(rest, 0), usize::from(u16_at(rest, 2)));
            let data = rest.get(4..4 + len)?;
            rest = &rest[4 + len..];
            Some((kind, data))
        })
    };
    let (mut sheets, mut sst, mut in_sst) = (Vec::new(), Vec::<&[u8]>::new(), false);
    for (kind, d) in records(0).take_while(|&(k, _)| k != 0x000A) {
        match kind {
            0x0085 => sheets.push(u32_at(d, 0) as usize),
            0x00FC => sst = vec![d.get(8..).unwrap_or_default()],
            0x003C if in_sst => sst.push(d),
            _ => {}
        }
        in_sst = kind == 0x00FC || (in_sst && kind == 0x003C);
    }
    // Each cell that names a shared string is given its own copy of the text.
    let shared = shared_string_lengths(&sst);
    let mut text = 0u64;
    let mut total = 0u64;
    for at in sheets {
        if at > stream.len() {
            return Err(SheetError::Unreadable("a sheet past the end of the workbook".into()));
        }
        // The sheet's cells and, apart, its formulas: (first row, last row, first column, last column).
        let mut spans = [None::<(u32, u32, u32, u32)>; 2];
        let mut grow = |which: usize, row: u32, col: u32| {
            let s = spans[which].get_or_insert((row, row, col, col));
            *s = (s.0.min(row), s.1.max(row), s.2.min(col), s.3.max(col));
        };
        let (mut bofs, mut depth) = (0, 0usize);
        for (kind, d) in records(at) {
            if depth > 0 {
                match kind {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let (row, col) = (u32::from(u16_at(d, 0)), u32::from(u16_at(d, 2)));
            match kind {
                0x0809 if bofs > 0 => depth += 1,
                0x0809 => bofs += 1,
                0x000A => break,
                0x0200 => {
                    // First row, one past the last, first column, one past the last.
                    let (first, end, columns_end) = match d.len() {
                        10 => (u32::from(u16_at(d, 0)), u32::from(u16_at(d, 2)), u16_at(d, 6)),
                        _ => (u32_at(d, 0), u32_at(d, 4), u16_at(d, 10)),
                    };
                    if end > 65_536 || columns_end > 256 || (end >= 1 && columns_end >= 1 && first >= end) {
                        return Err(SheetError::Unreadable("sheet dimensions past the format's limits".into()));
                    }
                }
                0x00FD if d.len() >= 10 => {
                    grow(0, row, col);
                    // UTF-8 takes up to three bytes for a character of the sheet's UTF-16.
                    text += 3 * u64::from(shared.get(u32_at(d, 6) as usize).copied().unwrap_or(0));
                    if text > text_cap {
                        return Err(SheetError::TooMuchText(text_cap));
                    }
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E if d.len() >= 4 => grow(0, row, col),
                0x0006 if d.len() >= 4 => {
                    grow(0, row, col);
                    grow(1, row, col);
                }
                0x00BD if d.len() >= 6 => {
                    grow(0, row, col);
                    grow(0, row, u32::from(u16_at(d, d.len() - 2)));
                }
                _ => {}
            }
        }
        for &(r0, r1, c0, c1) in spans.iter().flatten() {
            total += u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
        }
        if total > cap {
            let (_, row, _, col) = spans[0].unwrap_or_default();
            let cell = format!("{}{}", zhongfu_domain::ledger::column_letter(col as usize), row + 1);
            return Err(SheetError::TooSpread(cell));
        }
    }
    Ok(())
}

/// Text the shared strings of an .xls may come to in its cells, all sheets together.
const MAX_XLS_TEXT: u64 = 512 * 1024 * 1024;

/// The length in characters of each shared string of an .xls, read as calamine
/// reads them: the SST record's strings after its eight-byte header, running on
/// into CONTINUE records (where a string's characters go on, a byte first says
/// their width). Stops at the first string it cannot read.
fn shared_string_lengths(parts: &[&[u8]]) -> Vec<u32> {
    fn next<'a>(parts: &[&'a [u8]], k: &mut usize, data: &mut &'a [u8]) -> bool {
        *k += 1;
        parts.get(*k).map(|p| *data = p).is_some()
    }
    let mut lengths = Vec::new();
    let (mut k, mut data) = (0, parts.first().copied().unwrap_or_default());
    loop {
        if data.is_empty() && !next(parts, &mut k, &mut data) {
            return lengths;
        }
        if data.len() < 3 {
            return lengths;
        }
        let (cch, flags) = (u16::from_le_bytes([data[0], data[1]]), data[2]);
        data = &data[3..];
        let mut skip = 0usize;
        if flags & 0x8 != 0 {
            let Some(runs) = data.get(..2) else { return lengths };
            skip += 4 * usize::from(u16::from_le_bytes([runs[0], runs[1]]));
            data = &data[2..];
        }
        if flags & 0x4 != 0 {
            let Some(ext) = data.get(..4) else { return lengths };
            skip += i32::from_le_bytes([ext[0], ext[1], ext[2], ext[3]]).max(0) as usize;
            data = &data[4..];
        }
        let (mut left, mut wide) = (usize::from(cch), flags & 0x1 != 0);
        while left > 0 {
            let width = if wide { 2 } else { 1 };
            let here = left.min(data.len() / width);
            data = &data[here * width..];
            left -= here;
            if left > 0 {
                if !next(parts, &mut k, &mut data) || data.is_empty() {
                    return lengths;
                }
                wide = data[0] & 0x1 != 0;
                data = &data[1..];
            }
        }
        while skip > 0 {
            if data.is_empty() && !next(parts, &mut k, &mut data) {
                return lengths;
            }
            let here = skip.min(data.len());
            data = &data[here..];
            skip -= here;
        }
        lengths.push(u32::from(cch));
    }
}

/// A streamed cell, its text copied once (through [`Data`] it was copied twice).
fn cell_ref(d: &calamine::DataRef<'_>) -> Cell {
    use calamine::DataRef;
    match d {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Int(i) => cell(&Data::Int(*i)),
        DataRef::Float(f) => cell(&Data::Float(*f)),
        DataRef::Bool(b) => cell(&Data::Bool(*b)),
        DataRef::DateTime(dt) => cell(&Data::DateTime(*dt)),
        DataRef::Error(_) | DataRef::Empty => Cell::Empty,
    }
}

fn cell(d: &Data) -> Cell {
    match d {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => {
            // The components, not the serial: a book saved with the 1904 date
            // system (old Mac Excel) counts its days from 1904.
            let (year, month, day, ..) = dt.to_ymd_hms_milli();
            match chrono::NaiveDate::from_ymd_opt(year.into(), month.into(), day.into()) {
                Some(date) if dt.is_datetime() => Cell::Date(date),
                _ => Cell::Number(dt.as_f64()),
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
    }
}

/// CSV text: a UTF-8 BOM is dropped; text that is not UTF-8 is read as GBK, BOM or
/// not (a sheet saved as GBK by one program and given a BOM by another).
fn read_csv(
    bytes: &[u8],
    only: Option<&[usize]>,
    on_open: &mut impl FnMut(&Opened),
    on_row: &mut impl FnMut(usize, Vec<Cell>) -> bool,
) -> Result<Opened, SheetError> {
    // Excel's "Unicode text" is UTF-16 with its byte-order mark (and tabs between cells).
    let utf16 = match bytes {
        [0xFF, 0xFE, rest @ ..] => Some((encoding_rs::UTF_16LE, rest)),
        [0xFE, 0xFF, rest @ ..] => Some((encoding_rs::UTF_16BE, rest)),
        _ => None,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // encoding_rs checks UTF-8 with SIMD: several times the standard library's
    // speed on Chinese text, and a whole file is checked once a pass.
    let text = match utf16.map(|(encoding, rest)| encoding.decode_without_bom_handling_and_without_replacement(rest)) {
        Some(Some(text)) => text,
        Some(None) => return Err(SheetError::Unreadable("damaged UTF-16 text".into())),
        None => match encoding_rs::UTF_8.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(text) => text,
            None => {
                let (decoded, _, had_errors) = encoding_rs::GB18030.decode(bytes);
                if had_errors {
                    return Err(SheetError::Unreadable("neither UTF-8 nor GBK text".into()));
                }
                decoded
            }
        },
    };
    // NULs at the end are a system's padding (a file written to a fixed length), and a
    // few amid the text a slip no spreadsheet shows: both are dropped. Many are another
    // kind of file, or UTF-16 without its mark.
    let padded = text.trim_end_matches('\0');
    let nuls = memchr::memchr_iter(0, padded.as_bytes()).count();
    if nuls > padded.len() / 100 {
        return Err(SheetError::Unreadable("binary data".into()));
    }
    let text = match (nuls, padded.len() == text.len()) {
        (0, true) => text,
        (0, false) => std::borrow::Cow::Owned(padded.to_owned()),
        _ => std::borrow::Cow::Owned(padded.replace('\0', "")),
    };
    let lines = text.bytes().filter(|&b| b == b'\n').count();
    let opened = Opened { sheets: vec!["CSV".to_owned()], sheet: "CSV".to_owned(), rows: lines, uncomputed: 0 };
    on_open(&opened);
    let separator = delimiter(&text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(separator).from_reader(text.as_bytes());
    // Bytes: the text is UTF-8 already, so only the cells kept are checked again.
    let mut record = csv::ByteRecord::new();
    let (mut count, mut inside, mut widest) = (0, 0, 0);
    // Only some columns wanted: none after the last of them.
    let width = only.map_or(MAX_COLUMNS, |o| o.iter().max().map_or(0, |&c| c + 1).min(MAX_COLUMNS));
    while reader.read_byte_record(&mut record).map_err(|e| unreadable(&e))? {
        count += 1;
        if count > MAX_ROWS {
            break;
        }
        // The reader places a record where the previous one ended; the blank
        // lines it skipped before the record still count as rows. Line breaks
        // inside quoted cells (Alt+Enter in Excel) do not: Excel shows one row.
        let number = record.position().map_or(count, |p| {
            let rest = text.as_bytes().get(p.byte() as usize..).unwrap_or_default();
            let blank = rest.iter().take_while(|b| matches!(b, b'\r' | b'\n')).filter(|&&b| b == b'\n').count();
            (p.line() as usize + blank).saturating_sub(inside)
        });
        let breaks = memchr::memchr_iter(b'\n', record.as_slice()).count();
        if breaks > 0 && folds_rows(&record, separator, widest) {
            return Err(SheetError::UnclosedQuote(number));
        }
        widest = widest.max(record.len());
        inside += breaks;
        let cells = record
            .iter()
            .take(width)
            .enumerate()
            .map(|(c, field)| {
                if only.is_some_and(|o| !o.contains(&c)) {
                    return Ok(Cell::Empty);
                }
                let s = std::str::from_utf8(field).map_err(|e| SheetError::Unreadable(e.to_string()))?;
                Ok(if s.trim().is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) })
            })
            .collect::<Result<_, SheetError>>()?;
        if !on_row(number, cells) {
            break;
        }
    }
    Ok(opened)
}

/// Whether a record holds rows folded into one cell: a cell whose opening quote is
/// never closed runs on over the rows below, so a line of it holds as many
/// separators as a row of the sheet (`widest`, the widest record so far). A cell's
/// own line breaks (Alt+Enter) hold text, a comma or two at most.
fn folds_rows(record: &csv::ByteRecord, separator: u8, widest: usize) -> bool {
    let row = widest.saturating_sub(1).max(2);
    record
        .iter()
        .any(|cell| cell.split(|&b| b == b'\n').skip(1).any(|line| memchr::memchr_iter(separator, line).count() >= row))
}

/// What separates a text file's cells: a comma, or the tab of a sheet saved as
/// text (or the semicolon of some locales' CSV), whichever the first lines have most of.
fn delimiter(text: &str) -> u8 {
    let start = text.char_indices().nth(HEADER_CHARS).map_or(text, |(end, _)| &text[..end]);
    let head: String = start.lines().take(HEADER_LINES).collect();
    let count = |d: char| head.matches(d).count();
    let (tabs, semicolons, commas) = (count('\t'), count(';'), count(','));
    if tabs > commas.max(semicolons) {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// Lines a text file's separator is told from (the title rows and the header among
/// them), within its first characters.
const HEADER_LINES: usize = 30;
const HEADER_CHARS: usize = 64 * 1024;

/// Text cut to what one Excel cell holds (32,767 characters): an export or a
/// report with a longer value (a worker's cell, a long rule's reason or audit
/// record) still opens, the cell cut.
pub fn fits(text: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 32_767;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => std::borrow::Cow::Owned(text[..end].to_owned()),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// An .xlsx download: an ASCII file name for old clients and the Chinese one (RFC 5987).
pub fn attachment(bytes: Vec<u8>, ascii_name: &str, name: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let encoded: String = name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}");
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A longer text (a long rule's reason, its audit record) is cut to what a cell holds, in
    /// characters, so an export still opens; rust_xlsxwriter refuses a longer one.
    #[test]
    fn a_cell_holds_at_most_what_excel_takes() {
        let long = "低".repeat(40_000);
        assert_eq!(fits(&long).chars().count(), 32_767);
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        assert!(sheet.write_string(0, 0, &long).is_err());
        assert!(sheet.write_string(0, 0, fits(&long)).is_ok());
        assert_eq!(fits("短"), "短");
    }

    #[test]
    fn a_date_cell_reads_the_same_day_in_either_date_system() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        // 2026-01-05 is day 46027 counted from 1900 and day 44565 counted from 1904.
        for (serial, is_1904) in [(46027.0, false), (44565.0, true), (46027.75, false)] {
            let dt = ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, is_1904);
            assert_eq!(cell(&Data::DateTime(dt)), Cell::Date(day), "{serial} {is_1904}");
        }
        // A duration is no date.
        let time = ExcelDateTime::new(0.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(cell(&Data::DateTime(time)), Cell::Number(0.5));
    }

    #[test]
    fn csv_rows_keep_their_line_numbers_across_blank_lines() {
        let book = read("户编号,姓名\n\nA1,张三\n".as_bytes(), None).unwrap();
        assert_eq!(book.rows.len(), 3);
        assert_eq!(book.rows[2][0], Cell::Text("A1".into()));
        // A line break inside a quoted cell is one row, as Excel shows it.
        let book = read("户编号,住址\nA1,\"洞庭路\n1号\"\n\nA2,岳阳\n".as_bytes(), None).unwrap();
        assert_eq!(book.rows.len(), 4);
        assert_eq!(book.rows[1][1], Cell::Text("洞庭路\n1号".into()));
        assert_eq!(book.rows[3][0], Cell::Text("A2".into()), "row 4, after a blank row 3");
    }

    #[test]
    fn a_text_file_padded_with_nuls_is_read_and_another_kind_of_file_is_not() {
        let padded =
            [b"\xE6\x88\xB7\xE7\xBC\x96\xE5\x8F\xB7,name\nA1,\xE5\xBC\xA0\xE4\xB8\x89\n".as_slice(), &[0; 3]].concat();
        let book = read(&padded, None).unwrap();
        assert_eq!(book.rows[1], vec![Cell::Text("A1".into()), Cell::Text("张三".into())]);
        assert_eq!(book.rows.len(), 2, "the padding is no row");
        let binary = [b"a,b\n".as_slice(), &[0; 64], b"c,d\n"].concat();
        assert!(matches!(read(&binary, None), Err(SheetError::Unreadable(_))));
    }

    #[test]
    fn a_quote_never_closed_is_refused_naming_its_row_and_a_cell_on_two_lines_is_not() {
        let folded = "户编号,姓名,住址\nA1,张三,\"洞庭路1号\nA2,李四,岳阳\nA3,王五,南湖\n";
        assert_eq!(read(folded.as_bytes(), None).unwrap_err(), SheetError::UnclosedQuote(2));
        let two_lines = "户编号,姓名,住址\nA1,张三,\"洞庭路\n1号\"\nA2,李四,岳阳\n";
        assert_eq!(read(two_lines.as_bytes(), None).unwrap().rows.len(), 3);
        // A note typed over two lines, a comma on the second.
        let note = "户编号,姓名,住址,备注\nA1,张三,岳阳,\"患慢性病\n需长期服药, 每月复查\"\nA2,李四,岳阳,\n";
        let book = read(note.as_bytes(), None).unwrap();
        assert_eq!(book.rows[1][3], Cell::Text("患慢性病\n需长期服药, 每月复查".into()));
    }

    #[test]
    fn reads_a_sheet_saved_as_unicode_text_or_with_semicolons() {
        // Excel's "Unicode text": UTF-16 with its mark, cells apart by tabs; amounts keep their commas.
        let text = "户编号\t姓名\t月收入\r\nA1\t张三\t1,200\r\n";
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let book = read(&utf16, None).unwrap();
        assert_eq!(book.rows[1], vec![Cell::Text("A1".into()), Cell::Text("张三".into()), Cell::Text("1,200".into())]);
        let book = read("户编号;姓名\nA1;李四\n".as_bytes(), None).unwrap();
        assert_eq!(book.rows[1][1], Cell::Text("李四".into()));
        // A comma-separated file with a semicolon in a cell stays comma-separated.
        let book = read("户编号,备注\nA1,低保;残疾\n".as_bytes(), None).unwrap();
        assert_eq!(book.rows[1][1], Cell::Text("低保;残疾".into()));
    }

    #[test]
    fn reads_gbk_and_utf8_csv_with_crlf() {
        let (gbk, _, _) = encoding_rs::GBK.encode("户编号,姓名\r\nA1,张三\r\n");
        let book = read(&gbk, None).unwrap();
        assert_eq!(book.rows[1], vec![Cell::Text("A1".into()), Cell::Text("张三".into())]);
        let book = read("\u{feff}户编号,姓名\nA1,李四\n".as_bytes(), None).unwrap();
        assert_eq!(book.rows[0][0], Cell::Text("户编号".into()));
        assert_eq!(book.rows[1][1], Cell::Text("李四".into()));
        // GBK behind a UTF-8 BOM is still GBK.
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), &gbk].concat();
        assert_eq!(read(&with_bom, None).unwrap().rows[1][1], Cell::Text("张三".into()));
    }

    #[test]
    fn reads_an_xlsx_with_merged_cells_and_skips_hidden_sheets() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let hidden = wb.add_worksheet();
        hidden.set_name("旧表").unwrap();
        hidden.write_string(0, 0, "不要读我").unwrap();
        hidden.set_hidden(true);
        let ws = wb.add_worksheet();
        ws.set_name("花名册").unwrap();
        ws.set_active(true);
        ws.write_string(0, 0, "标题").unwrap();
        ws.write_string(1, 0, "户编号").unwrap();
        ws.merge_range(2, 0, 3, 0, "A1", &rust_xlsxwriter::Format::new()).unwrap();
        ws.write_string(2, 1, "张三").unwrap();
        ws.write_number(3, 1, 430602199101010000.0).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let book = read(&bytes, None).unwrap();
        assert_eq!(book.sheets, vec!["花名册".to_owned()]);
        assert_eq!(book.rows[3][0], Cell::Text("A1".into()), "the merged value fills the cells below");
        assert_eq!(book.rows[3][1], Cell::Number(430602199101010000.0));
        assert_eq!(read(&bytes, Some("旧表")).unwrap_err(), SheetError::UnknownSheet("旧表".into()));
        // A pass over some columns reads those alone, merged values included, with the rows
        // numbered as the sheet numbers them.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "户编号").unwrap();
        ws.write_string(0, 2, "姓名").unwrap();
        ws.merge_range(1, 0, 2, 1, "H1", &rust_xlsxwriter::Format::new()).unwrap();
        ws.write_string(1, 2, "张三").unwrap();
        ws.write_string(4, 2, "李四").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let mut seen = Vec::new();
        each_row_unchecked(
            &bytes,
            None,
            Some(&[1]),
            |_| {},
            |n, cells| {
                seen.push((n, cells.get(1).cloned(), cells.get(2).cloned()));
                true
            },
        )
        .unwrap();
        let h1 = Some(Cell::Text("H1".into()));
        assert_eq!(
            seen,
            [(1, None, None), (2, h1.clone(), None), (3, h1, None), (4, None, None)],
            "column 1 takes the merge's value from column 0; column 2 is not read (a last row of it alone is not either)"
        );
    }

    #[test]
    fn styles_of_more_cell_formats_than_excel_makes_are_refused_before_they_are_read() {
        use std::io::Write;
        let styles = |formats: usize| {
            let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let deflated =
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            zip.start_file("xl/styles.xml", deflated).unwrap();
            zip.write_all(b"<styleSheet><cellXfs>").unwrap();
            zip.write_all(&b"<xf numFmtId=\"0\"/>".repeat(formats)).unwrap();
            zip.write_all(b"</cellXfs></styleSheet>").unwrap();
            zip.finish().unwrap().into_inner()
        };
        // Excel's most, 64,000, passes; a hundred kilobytes of a million do not.
        assert_eq!(check_unzipped_size(&styles(64_000), 1 << 30, 1 << 30), Ok(0));
        let bomb = styles(1_000_000);
        assert!(bomb.len() < 128 << 10, "{}", bomb.len());
        assert_eq!(check_unzipped_size(&bomb, 1 << 30, 1 << 30), Err(SheetError::Unreadable(NOT_EXCEL_XML.into())));
    }

    #[test]
    fn formula_cells_saved_without_their_values_are_counted() {
        use std::io::Write;
        // E1 and F1: a formula's empty text, as Excel saves it.
        let sheet = br#"<sheetData><row r="1"><c r="A1"><f>1+1</f></c><c r="B1"><f t="shared" si="0"/></c><c r="C1"><f>2</f><v>2</v></c><c r="D1" t="s"><v>0</v></c><c r="E1" t="str"><f>""</f><v></v></c><c r="F1" t="str"><f>""</f><v/></c></row></sheetData>"#;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("xl/worksheets/sheet1.xml", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(sheet).unwrap();
        let book = zip.finish().unwrap().into_inner();
        assert_eq!(check_unzipped_size(&book, 1 << 20, 1 << 20), Ok(2), "A1 and B1; C1 has its value");
        // However the part is cut as it streams by.
        let mut part = XmlPart::new("xl/worksheets/sheet1.xml");
        sheet.chunks(3).for_each(|b| drop(part.write(b)));
        let mut bytewise = XmlPart::new("xl/worksheets/sheet1.xml");
        sheet.chunks(1).for_each(|b| drop(bytewise.write(b)));
        assert_eq!(bytewise.uncomputed(), 2);
        assert_eq!(part.uncomputed(), 2);
    }

    #[test]
    fn a_zip_bomb_is_refused_whatever_sizes_it_declares() {
        use std::io::Write;
        let bomb_named = |name: &str, declared: Option<u32>| {
            let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let deflated =
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            zip.start_file(name, deflated).unwrap();
            zip.write_all(&b"<v>0</v>".repeat((3 << 20) / 8)).unwrap();
            let mut bytes = zip.finish().unwrap().into_inner();
            // The lie: the local header and the central directory say 100 bytes.
            if let Some(size) = declared {
                for (signature, at) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
                    let start = bytes.windows(4).position(|w| w == signature).unwrap();
                    bytes[start + at..start + at + 4].copy_from_slice(&size.to_le_bytes());
                }
            }
            bytes
        };
        let bomb = |declared| bomb_named("xl/sharedStrings.xml", declared);
        assert!(bomb(None).len() < 64 << 10, "3 MB of one cell over and over deflates to a few kB");
        assert_eq!(check_unzipped_size(&bomb(None), 1 << 20, 8 << 20), Err(SheetError::TooLarge));
        assert!(check_unzipped_size(&bomb(Some(100)), 1 << 20, 8 << 20).is_err(), "a lying size is not believed");
        assert_eq!(check_unzipped_size(&bomb(None), 4 << 20, 8 << 20), Ok(0));
        assert_eq!(
            check_unzipped_size(&bomb(None), 8 << 20, 1 << 20),
            Err(SheetError::TooLarge),
            "shared strings are held whole, so they have a cap of their own"
        );
        let sheet = bomb_named("xl/worksheets/sheet1.xml", None);
        assert_eq!(
            check_unzipped_size(&sheet, 8 << 20, 1 << 20),
            Ok(0),
            "a worksheet is streamed: only the total counts"
        );
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let err = read(b"PK\x03\x04 not really a zip", None).unwrap_err();
        assert!(matches!(err, SheetError::Unreadable(_)), "{err:?}");
        assert!(matches!(read(&[0xD0, 0xCF, 0x11, 0xE0, 1, 2], None), Err(SheetError::Unreadable(_))));
    }

    /// The longest piece `scan` finds in `xml`, fed whole and byte by byte, and whether it refused.
    fn longest(xml: &[u8]) -> (usize, bool) {
        let mut whole = XmlPart::new("xl/worksheets/sheet1.xml");
        whole.scan(xml);
        let mut bytes = XmlPart::new("xl/worksheets/sheet1.xml");
        xml.chunks(1).for_each(|b| bytes.scan(b));
        assert_eq!((whole.longest, whole.refused), (bytes.longest, bytes.refused), "chunks do not matter");
        (whole.longest, whole.refused)
    }

    #[test]
    fn an_xml_part_is_measured_by_its_longest_piece_of_text_or_markup() {
        let sheet = br#"<?xml version="1.0"?><sheetData><row r="1"><c r="A1" t="s"><v>12</v></c></row></sheetData>"#;
        assert!(longest(sheet).0 < 30);
        let long = "x".repeat(5000);
        // Text, an attribute that quotes `>` and `<`, a comment and CDATA full of markup: each one piece.
        for xml in [
            format!("<v>{long}</v>"),
            format!(r#"<c a="{}">"#, "<>".repeat(2500)),
            format!("<!--{}-->", "<a>".repeat(1700)),
            format!("<![CDATA[{}]]>", "<a>".repeat(1700)),
        ] {
            let (n, refused) = longest(xml.as_bytes());
            assert!((5000..5200).contains(&n) && !refused, "{xml:.20}: {n}");
        }
        assert!(longest(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>").1, "a DTD is refused");
    }

    #[test]
    fn shared_strings_may_not_state_more_strings_than_they_hold() {
        let part = |count: &str| {
            let xml = format!(r#"<sst count="2" uniqueCount="{count}"><si><t>a</t></si><si><t>b</t></si></sst>"#);
            let mut p = XmlPart::new("xl/sharedstrings.xml");
            std::io::Write::write_all(&mut p, xml.as_bytes()).unwrap();
            p.check(xml.len() as u64)
        };
        assert!(part("2").is_ok());
        assert!(part("1000000000000000").is_err());
        assert!(part("99999999999999999999999").is_err(), "past u64 too");
    }

    #[test]
    fn overlapping_merged_regions_are_taken_once() {
        let region = |c0, c1| calamine::Dimensions { start: (0, c0), end: (1_048_575, c1) };
        // A thousand times the same column, and regions past the columns read.
        let mut all = vec![region(1, 1); 1000];
        all.extend((0..1000).map(|i| region(MAX_COLUMNS as u32 + i, MAX_COLUMNS as u32 + i)));
        all.push(region(0, 2));
        all.sort_by_key(|d| d.start);
        let mut merges = Merges::new(all, [true; MAX_COLUMNS]);
        let row = merges.fill(0, vec![Cell::Text("a".into()), Cell::Text("b".into())]);
        assert_eq!(merges.active.len(), 1, "one region per cell at most, none past the columns read");
        let a = Cell::Text("a".into());
        assert_eq!(row, vec![a.clone(), a.clone(), a.clone()], "A1:C… comes first and is the one kept");
        assert_eq!(merges.fill(1, Vec::new()), vec![a.clone(), a.clone(), a]);
    }

    /// A BIFF record: its kind, length and data.
    fn record(kind: u16, data: &[u8]) -> Vec<u8> {
        [&kind.to_le_bytes()[..], &(data.len() as u16).to_le_bytes(), data].concat()
    }

    #[test]
    fn shared_string_lengths_are_read_across_continue_records() {
        // "abc" one byte a character; four UTF-16 characters cut after two, the rest
        // one byte each in a CONTINUE record; "x" with one formatting run.
        let sst = [&[0u8; 8][..], &[3, 0, 0], b"abc", &[4, 0, 1], &[0x61, 0, 0x62, 0]].concat();
        let cont = [&[0u8][..], b"cd", &[1, 0, 8, 1, 0], b"x", &[0, 0, 0, 0]].concat();
        assert_eq!(shared_string_lengths(&[&sst[8..], &cont]), [3, 4, 1]);
        assert_eq!(shared_string_lengths(&[&sst[8..sst.len() - 2]]), [3], "a string cut short is not counted");
    }

    #[test]
    fn an_xls_whose_cells_repeat_a_long_shared_string_is_refused() {
        let long = [&[0xE8u8, 0x03, 0][..], &[b'x'; 1000]].concat();
        let sheet_at = |globals: usize| (globals as u32).to_le_bytes();
        let cells = |n: u16| -> Vec<u8> {
            let mut out = record(0x0809, &[0; 16]);
            for r in 0..n {
                out.extend(record(0x00FD, &[&r.to_le_bytes()[..], &[0, 0, 0, 0], &0u32.to_le_bytes()].concat()));
            }
            out.extend(record(0x000A, &[]));
            out
        };
        let book = |n: u16| {
            let sst = record(0x00FC, &[&[0u8; 8][..], &long].concat());
            let head = [record(0x0809, &[0; 16]), sst].concat();
            let globals = head.len() + 4 + 8 + 4;
            let sheet = record(0x0085, &[&sheet_at(globals)[..], &[0, 0, 1, 0]].concat());
            [head, sheet, record(0x000A, &[]), cells(n)].concat()
        };
        // 100 cells of a 1,000-character string: 300 kB as UTF-8 at most.
        assert_eq!(check_biff_extent(&book(100), 1 << 20, 300_000), Ok(()));
        assert_eq!(check_biff_extent(&book(101), 1 << 20, 300_000), Err(SheetError::TooMuchText(300_000)));
    }
}
