//! Reading an uploaded ledger into cells: .xlsx and .xls through calamine,
//! .csv in UTF-8 (with or without BOM) or GBK. Hidden sheets are skipped,
//! merged cells carry their value into every cell they cover, and row and
//! column positions stay those of the sheet, so errors point where the
//! worker looks.

use std::io::Cursor;

use calamine::{Data, Reader, SheetVisible, Sheets, open_workbook_auto_from_rs};
use zhongfu_domain::ledger::Cell;

/// Decompressed size an .xlsx may reach, against zip bombs.
pub const MAX_UNZIPPED: u64 = 512 * 1024 * 1024;
/// Rows and columns read from one sheet.
const MAX_ROWS: usize = 1_048_576;
const MAX_COLUMNS: usize = 200;

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
}

impl zhongfu_domain::UserError for SheetError {
    fn code(&self) -> &'static str {
        match self {
            Self::Unreadable(_) => "unreadable_file",
            Self::TooLarge => "file_too_large",
            Self::NoSheet => "no_sheet",
            Self::UnknownSheet(_) => "unknown_sheet",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Unreadable(_) => "无法读取该文件：请上传 .xlsx、.xls 或 .csv 文件，并确认文件未损坏".into(),
            Self::TooLarge => format!("该工作簿解压后超过 {} MB", MAX_UNZIPPED / 1024 / 1024),
            Self::NoSheet => "该工作簿没有可见的工作表".into(),
            Self::UnknownSheet(name) => format!("没有名为“{name}”的工作表"),
        }
    }
}

/// A workbook's visible sheets, and the cells of the chosen one.
#[derive(Debug)]
pub struct Workbook {
    pub sheets: Vec<String>,
    pub sheet: String,
    pub rows: Vec<Vec<Cell>>,
}

/// Reads `bytes`; `sheet` chooses among several (the first visible by default).
pub fn read(bytes: &[u8], sheet: Option<&str>) -> Result<Workbook, SheetError> {
    if bytes.starts_with(b"PK\x03\x04") {
        check_unzipped_size(bytes)?;
        read_workbook(bytes, sheet)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        read_workbook(bytes, sheet)
    } else {
        let rows = read_csv(bytes)?;
        Ok(Workbook { sheets: vec!["CSV".to_owned()], sheet: "CSV".to_owned(), rows })
    }
}

fn check_unzipped_size(bytes: &[u8]) -> Result<(), SheetError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| SheetError::Unreadable(e.to_string()))?;
        total = total.saturating_add(entry.size());
        if total > MAX_UNZIPPED {
            return Err(SheetError::TooLarge);
        }
    }
    Ok(())
}

fn read_workbook(bytes: &[u8], sheet: Option<&str>) -> Result<Workbook, SheetError> {
    let unreadable = |e: &dyn std::fmt::Display| SheetError::Unreadable(e.to_string());
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let sheets: Vec<String> = book
        .sheets_metadata()
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible && s.typ == calamine::SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    let name = match sheet {
        Some(s) if sheets.iter().any(|n| n == s) => s.to_owned(),
        Some(s) => return Err(SheetError::UnknownSheet(s.to_owned())),
        None => sheets.first().cloned().ok_or(SheetError::NoSheet)?,
    };
    let range = book.worksheet_range(&name).map_err(|e| unreadable(&e))?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); top as usize];
    for r in range.rows().take(MAX_ROWS) {
        let mut row: Vec<Cell> = vec![Cell::Empty; left as usize];
        row.extend(r.iter().take(MAX_COLUMNS).map(cell));
        rows.push(row);
    }
    let merged = match &mut book {
        Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        Sheets::Xls(x) => x.merge_cells_by_sheet_name(&name).unwrap_or_default(),
        _ => Vec::new(),
    };
    for region in merged {
        fill_merged(&mut rows, region.start, region.end);
    }
    Ok(Workbook { sheets, sheet: name, rows })
}

/// Copies a merged region's top-left value into the cells it covers.
fn fill_merged(rows: &mut [Vec<Cell>], start: (u32, u32), end: (u32, u32)) {
    let (r0, c0) = (start.0 as usize, start.1 as usize);
    let Some(value) = rows.get(r0).and_then(|r| r.get(c0)).cloned() else {
        return;
    };
    for r in r0..=(end.0 as usize).min(rows.len().saturating_sub(1)) {
        for c in c0..=(end.1 as usize).min(MAX_COLUMNS) {
            let row = &mut rows[r];
            if row.len() <= c {
                row.resize(c + 1, Cell::Empty);
            }
            if (r, c) != (r0, c0) {
                row[c] = value.clone();
            }
        }
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
            let serial = dt.as_f64();
            if dt.is_datetime() {
                zhongfu_domain::ledger::parse_date(&Cell::Number(serial.floor()))
                    .map(Cell::Date)
                    .unwrap_or(Cell::Number(serial))
            } else {
                Cell::Number(serial)
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
    }
}

/// CSV text: a UTF-8 BOM is dropped; text that is not UTF-8 is read as GBK.
fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, SheetError> {
    let text = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => String::from_utf8_lossy(rest).into_owned(),
        None => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                let (decoded, _, had_errors) = encoding_rs::GB18030.decode(bytes);
                if had_errors {
                    return Err(SheetError::Unreadable("neither UTF-8 nor GBK text".into()));
                }
                decoded.into_owned()
            }
        },
    };
    if text.contains('\0') {
        return Err(SheetError::Unreadable("binary data".into()));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records().take(MAX_ROWS) {
        let record = record.map_err(|e| SheetError::Unreadable(e.to_string()))?;
        rows.push(
            record
                .iter()
                .take(MAX_COLUMNS)
                .map(|s| if s.trim().is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) })
                .collect(),
        );
    }
    Ok(rows)
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

    #[test]
    fn reads_gbk_and_utf8_csv_with_crlf() {
        let (gbk, _, _) = encoding_rs::GBK.encode("户编号,姓名\r\nA1,张三\r\n");
        let book = read(&gbk, None).unwrap();
        assert_eq!(book.rows[1], vec![Cell::Text("A1".into()), Cell::Text("张三".into())]);
        let book = read("\u{feff}户编号,姓名\nA1,李四\n".as_bytes(), None).unwrap();
        assert_eq!(book.rows[0][0], Cell::Text("户编号".into()));
        assert_eq!(book.rows[1][1], Cell::Text("李四".into()));
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
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let err = read(b"PK\x03\x04 not really a zip", None).unwrap_err();
        assert!(matches!(err, SheetError::Unreadable(_)), "{err:?}");
        assert!(matches!(read(&[0xD0, 0xCF, 0x11, 0xE0, 1, 2], None), Err(SheetError::Unreadable(_))));
    }
}
