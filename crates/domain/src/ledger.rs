//! Reading a worker's own ledger: which row is the header, which column is
//! which field, what each cell means, and which households can go in.
//!
//! Works on cells already read from a sheet (xlsx, xls or CSV); reading
//! files is the caller's job. Values are normalised only where the meaning
//! is certain (full-width digits, `1,200元`, `2026年1月5日`…) and rejected
//! otherwise, each rejection naming the row, the column and the reason in
//! zh-CN and English. A household with any rejected row is held back whole.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::policy::Unrecorded;
use crate::registry::{
    Category, Disability, DisabilityKind, Employment, Health, Holding, Household, HousingCondition, IncomeItem,
    IncomeKind, Marital, Person, Registration, Relation, Schooling, Tag, Tenure, WorkAbility,
};
use crate::{DivisionCode, Fen, IdNumber, Sex};

/// One cell as read from a sheet.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

impl Cell {
    /// The cell [`clean`]ed: its text is not copied first.
    pub fn cleaned(&self) -> String {
        match self {
            Self::Text(s) => clean(s),
            other => clean(&other.display()),
        }
    }

    /// The cell as text, as a worker would read it in the sheet.
    pub fn display(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(s) => s.clone(),
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Self::Number(n) => n.to_string(),
            Self::Date(d) => d.to_string(),
            Self::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            Self::Empty => true,
            // char::is_whitespace covers the ideographic space too.
            Self::Text(s) => s.chars().all(char::is_whitespace),
            _ => false,
        }
    }
}

/// Declares the ledger fields with their code, zh-CN label and header synonyms.
macro_rules! fields {
    ($($variant:ident = $code:literal, $zh:literal, [$($syn:literal),*];)+) => {
        /// A column of a ledger, as Zhongfu understands it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        pub enum Field {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl Field {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$variant => $zh,)+ }
            }

            /// The English name: the code in words (`household number`).
            pub fn label_en(self) -> String {
                self.code().replace('_', " ")
            }

            fn synonyms(self) -> &'static [&'static str] {
                match self { $(Self::$variant => &[$zh, $($syn),*],)+ }
            }

            pub fn parse(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|f| f.code() == code)
            }
        }
    };
}

fields! {
    HouseholdNumber = "household_number", "户编号", ["户号", "家庭编号", "户编码", "家庭户号"];
    Community = "community", "社区代码", ["社区编码", "社区", "所属社区", "社区(村)", "村(社区)", "村社区", "所在社区", "区划代码", "社区村", "社区名称", "所属村(社区)", "所属村社区"];
    Address = "address", "家庭住址", ["住址", "地址", "现住址", "居住地址", "家庭地址"];
    HouseholdPhone = "household_phone", "家庭电话", ["家庭联系电话", "户主电话"];
    Registration = "registration", "户籍性质", ["户口性质", "户籍类型", "城乡类别", "户籍类别", "户口类型"];
    Tenure = "tenure", "住房情况", ["住房性质", "住房类型", "住房"];
    DangerousHousing = "dangerous_housing", "是否危房", ["危房"];
    HousingCondition = "housing_condition", "住房条件", ["住房状况", "房屋状况", "房屋条件", "房屋质量"];
    Assets = "assets", "家庭财产", ["家庭资产", "财产", "资产"];
    BusinessIncome = "business_income", "经营净收入", ["经营收入", "经营性收入", "家庭经营收入", "生产经营收入"];
    PropertyIncome = "property_income", "财产净收入", ["财产收入", "财产性收入", "租金收入"];
    TransferIncome = "transfer_income", "转移净收入", ["转移收入", "转移性收入", "赡养费", "赡养抚养费"];
    OtherIncome = "other_income", "其他收入", ["其它收入"];
    HouseholdTags = "household_tags", "家庭标签", ["标签"];
    HouseholdCategories = "household_categories", "家庭救助类别", ["救助类别", "保障类别", "救助类型", "对象类别"];
    Name = "name", "姓名", ["成员姓名", "名字", "家庭成员姓名", "人员姓名"];
    IdNumber = "id_number", "身份证号", ["身份证号码", "公民身份号码", "身份证", "证件号码", "身份证件号码", "公民身份证号码", "居民身份证号", "居民身份证号码", "居民身份证"];
    Relation = "relation", "与户主关系", ["关系", "家庭关系", "与户主的关系", "称谓"];
    Phone = "phone", "联系电话", ["手机号", "手机号码", "电话", "联系方式", "手机"];
    Marital = "marital", "婚姻状况", ["婚姻", "婚姻状态", "婚姻情况"];
    Health = "health", "健康状况", ["健康", "健康情况", "身体状况", "身体健康状况"];
    DisabilityKind = "disability_kind", "残疾类别", ["残疾类型"];
    DisabilityGrade = "disability_grade", "残疾等级", ["残疾级别"];
    DisabilityCert = "disability_cert", "残疾证号", ["残疾证号码", "残疾证"];
    WorkAbility = "work_ability", "劳动能力", ["劳动能力状况", "劳动力状况"];
    Employment = "employment", "就业状况", ["就业情况", "就业状态"];
    Schooling = "schooling", "在校情况", ["就学情况", "在学情况", "在校状况", "就学状况"];
    MonthlyIncome = "monthly_income", "月收入", ["个人月收入", "收入", "月收入元"];
    PersonCategories = "person_categories", "个人救助类别", ["个人类别"];
    CategoryStart = "category_start", "享受起始日期", ["救助起始日期", "纳入时间", "纳入日期", "享受时间", "享受起始时间", "保障起始日期", "保障起始时间", "起始时间", "起始日期"];
    DeathDate = "death_date", "死亡日期", ["死亡时间"];
    Sex = "sex", "性别", [];
    BirthDate = "birth_date", "出生日期", ["出生年月日", "出生年月"];
    Note = "note", "备注", ["说明"];
}

/// The fields a sheet has a column for. An update of a registered household
/// writes only these: what the sheet does not say is kept as it stands (a
/// phone typed in the console, a recorded death, a category's history).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Said(u64);

impl Said {
    pub fn of(mapping: &[Option<Field>]) -> Self {
        Self(mapping.iter().flatten().fold(0, |bits, &f| bits | Self::bit(f)))
    }

    /// Every field: a household written whole (the demo generator's, a test's).
    pub fn all() -> Self {
        Self::of(&Field::ALL.iter().copied().map(Some).collect::<Vec<_>>())
    }

    pub fn has(self, field: Field) -> bool {
        self.0 & Self::bit(field) != 0
    }

    fn bit(field: Field) -> u64 {
        1 << (field as u32)
    }
}

/// Full-width ASCII and ideographic spaces to ASCII, trimmed, inner runs of
/// white space as one space.
pub fn clean(s: &str) -> String {
    // One pass: each run of white space becomes one space, none at either end.
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().map(crate::registry::half_width) {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// A header as compared with synonyms: cleaned, no spaces, nothing in brackets
/// (a unit, a note such as "18位" or "必填"), no required-field star.
fn header_key(s: &str) -> String {
    let s = clean(s).replace(' ', "");
    let mut out = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            '*' | '＊' | '\n' => {}
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    // A header that is all brackets, e.g. "(村)", is kept as written.
    if out.is_empty() { s } else { out }
}

/// The field a header names, if any.
pub fn field_for_header(header: &str) -> Option<Field> {
    let key = header_key(header);
    if key.is_empty() {
        return None;
    }
    Field::ALL.iter().copied().find(|f| f.synonyms().iter().any(|s| header_key(s) == key))
}

/// Rows looked at for the header: title and note rows come first.
const HEADER_SEARCH_ROWS: usize = 30;

/// The header row (0-based) and the proposed field of each column: the row
/// among the first ones that names the most known fields, at least three
/// and both name and ID number.
pub fn find_header(rows: &[Vec<Cell>]) -> Option<(usize, Vec<Option<Field>>)> {
    let mut best: Option<(usize, Vec<Option<Field>>, usize)> = None;
    for (i, row) in rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        let mapping = propose_mapping(row);
        let known = mapping.iter().flatten().count();
        let has = |f: Field| mapping.contains(&Some(f));
        let has_core = has(Field::Name) && has(Field::IdNumber);
        if known >= 3 && has_core && best.as_ref().is_none_or(|b| known > b.2) {
            best = Some((i, mapping, known));
        }
    }
    best.map(|(i, m, _)| (i, m))
}

/// The field each header cell of `row` names, each field once (its first column).
pub fn propose_mapping(row: &[Cell]) -> Vec<Option<Field>> {
    let mut seen = HashSet::new();
    row.iter()
        .map(|c| match c {
            Cell::Text(t) => field_for_header(t).filter(|f| seen.insert(*f)),
            _ => None,
        })
        .collect()
}

/// The header of a sheet whose headers are not recognised, for the worker to
/// map by hand: the first of the top rows with the most filled cells (a title
/// or a note above it fills fewer). None for a sheet with nothing in it.
pub fn guess_header(rows: &[Vec<Cell>]) -> Option<usize> {
    let filled = |row: &Vec<Cell>| row.iter().filter(|c| !c.display().trim().is_empty()).count();
    let top = rows.iter().take(HEADER_SEARCH_ROWS);
    let most = top.clone().map(filled).max().filter(|&n| n > 0)?;
    top.clone().position(|row| filled(row) == most)
}

/// Why a cell or a row was rejected, in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// 1-based row number as the sheet shows it.
    pub row: usize,
    /// 0-based column, if one cell is at fault.
    pub column: Option<usize>,
    pub field: Option<Field>,
    pub value: String,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

/// Column letters as Excel shows them: 0 → A, 26 → AA.
pub fn column_letter(mut column: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// What reading a ledger needs besides its cells.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub today: NaiveDate,
    /// Communities the importer may write to, by code and by name.
    pub communities: &'a HashMap<String, DivisionCode>,
    /// The community of rows whose sheet has no community column.
    pub default_community: Option<DivisionCode>,
    /// A stable household number for a ledger without one, from the head's ID.
    pub number_for: &'a (dyn Fn(&IdNumber) -> String + Sync),
}

/// A household read from the ledger, with the sheet rows of its members.
#[derive(Clone, Debug)]
pub struct ParsedHousehold {
    pub household: Household,
    pub rows: Vec<usize>,
}

/// The outcome of reading a ledger's rows.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub households: Vec<ParsedHousehold>,
    /// Households held back, by number, with their rows.
    pub held_back: Vec<(String, Vec<usize>)>,
    pub issues: Vec<Issue>,
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    /// 合计 rows left out (see `Reader::is_total`).
    pub totals: usize,
    /// Held-back parts of a household whose rows are apart, beyond its first part:
    /// one household, counted once.
    pub further_parts: usize,
}

impl Parsed {
    /// Households held back, a household whose rows are apart counted once.
    pub fn held_back_households(&self) -> usize {
        self.held_back.len() - self.further_parts
    }

    /// Persons in the held-back households.
    pub fn held_back_persons(&self) -> usize {
        self.held_back.iter().map(|(_, rows)| rows.len()).sum()
    }
}

struct Row<'a> {
    /// 1-based sheet row.
    number: usize,
    /// By field (its place in `Field::ALL`): the column and the cell.
    cells: [Option<(usize, &'a Cell)>; Field::ALL.len()],
}

impl Row<'_> {
    /// The field's column and cell, even if blank.
    fn slot(&self, field: Field) -> Option<(usize, &Cell)> {
        self.cells[field as usize]
    }

    fn get(&self, field: Field) -> Option<(usize, &Cell)> {
        self.slot(field).filter(|(_, c)| !c.is_blank())
    }

    fn text(&self, field: Field) -> Option<String> {
        self.get(field).map(cell_text)
    }
}

/// A cell's text as the reader compares it.
fn cell_text((_, c): (usize, &Cell)) -> String {
    c.cleaned()
}

/// Why one cell is rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

fn reject(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Reject {
    Reject { code, zh: zh.into(), en: en.into() }
}

/// A column mapping as written by hand: field codes in column order, comma
/// separated, an empty one for a column not to import (`name,id_number,,relation`).
/// Each field takes one column.
pub fn parse_mapping(text: &str) -> Result<Vec<Option<Field>>, Reject> {
    let mapping = text
        .split(',')
        .map(|code| match code.trim() {
            "" => Ok(None),
            code => Field::parse(code).map(Some).ok_or_else(|| {
                reject("invalid_mapping", format!("未知字段：{code}"), format!("unknown field: {code}"))
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Two columns for one field would leave the second silently read.
    for (j, f) in mapping.iter().enumerate() {
        if let Some((i, f)) = f.and_then(|f| mapping[..j].iter().position(|g| *g == Some(f)).map(|i| (i, f))) {
            let (a, b) = (column_letter(i), column_letter(j));
            return Err(reject(
                "invalid_mapping",
                format!("{a} 列和 {b} 列都对应了“{}”：每个字段只能对应一列", f.label_zh()),
                format!("columns {a} and {b} are both mapped to {}: a field takes one column", f.label_en()),
            ));
        }
    }
    // Without these no row can be read: said once here, not as a problem of every row.
    let missing: Vec<Field> = REQUIRED_FIELDS.into_iter().filter(|f| !mapping.contains(&Some(*f))).collect();
    if !missing.is_empty() {
        let zh: Vec<&str> = missing.iter().map(|f| f.label_zh()).collect();
        let en: Vec<String> = missing.iter().map(|f| f.label_en()).collect();
        return Err(reject(
            "invalid_mapping",
            format!("列对应缺少：{}（姓名、身份证号和与户主关系必须各对应一列）", zh.join("、")),
            format!("the mapping lacks {} (name, ID number and relation each need a column)", en.join(", ")),
        ));
    }
    Ok(mapping)
}

/// The fields every ledger row needs a column for.
const REQUIRED_FIELDS: [Field; 3] = [Field::Name, Field::IdNumber, Field::Relation];

/// Reads the data rows below `header` (0-based) with the confirmed `mapping`, all at once.
pub fn parse_rows(rows: &[Vec<Cell>], header: usize, mapping: &[Option<Field>], ctx: &Context<'_>) -> Parsed {
    let numbered: Vec<(usize, Vec<Cell>)> =
        rows.iter().enumerate().skip(header + 1).map(|(i, r)| (i + 1, r.clone())).collect();
    LedgerReader::new(header + 1, mapping.to_vec(), *ctx).parse(&numbered)
}

/// A pass over a sheet's ID column ahead of the reading: which ID numbers it holds
/// more than once. Fed each data row's ID cell in order; keeps each ID as a number
/// (its first 17 digits) with its row, sixteen bytes.
#[derive(Debug, Default)]
pub struct Repeats {
    first: HashMap<u64, usize>,
    /// Each ID seen again: the rows of its first two appearances.
    again: HashMap<String, (usize, usize)>,
    /// Household numbers met, and the last one (a blank cell continues it).
    numbers: HashMap<String, Spread>,
    last_number: Option<String>,
}

/// Where a household number's rows are: how many carry it, the first, and the
/// first after another number came between (if any).
#[derive(Clone, Copy, Debug)]
struct Spread {
    rows: usize,
    first: usize,
    again: Option<usize>,
}

impl Repeats {
    pub fn see(&mut self, row: usize, cell: &Cell, today: NaiveDate) {
        let Ok(id) = parse_id(cell, today) else { return };
        // The first 17 digits decide the number (the 18th is their check).
        let key = id.as_str().bytes().take(17).fold(0u64, |k, d| k * 10 + u64::from(d - b'0'));
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(row);
            }
            std::collections::hash_map::Entry::Occupied(first) => {
                self.again.entry(id.as_str().to_owned()).or_insert((*first.get(), row));
            }
        }
    }

    /// Fed each data row's household-number cell in order: finds the households
    /// whose rows are not together, which a batch may cut in two.
    pub fn see_number(&mut self, row: usize, cell: &Cell) {
        if cell.is_blank() {
            return;
        }
        let number = cell_text((0, cell));
        if self.last_number.as_ref() == Some(&number) {
            if let Some(s) = self.numbers.get_mut(&number) {
                s.rows += 1;
            }
            return;
        }
        match self.numbers.entry(number.clone()) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(Spread { rows: 1, first: row, again: None });
            }
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let s = e.get_mut();
                s.rows += 1;
                s.again.get_or_insert(row);
            }
        }
        self.last_number = Some(number);
    }

    /// How many ID numbers appear more than once.
    pub fn len(&self) -> usize {
        self.again.len()
    }

    pub fn is_empty(&self) -> bool {
        self.again.is_empty()
    }
}

/// Reads a ledger batch by batch, remembering across batches the ID numbers
/// and household numbers already met. A batch should end where a household
/// ends: cut it at [`LedgerReader::last_start`].
pub struct LedgerReader<'a> {
    /// 1-based row of the header.
    header_row: usize,
    mapping: Vec<Option<Field>>,
    ctx: Context<'a>,
    /// ID number → the row it first appeared on.
    seen_ids: HashMap<String, usize>,
    /// ID numbers the sheet holds more than once (found by a pass ahead of the
    /// reading), with the rows of their first two appearances.
    again: HashMap<String, (usize, usize)>,
    /// Household numbers whose rows are not together in the sheet (from the same pass).
    apart: HashMap<String, Spread>,
    numbers: HashSet<String>,
    started: bool,
}

impl<'a> LedgerReader<'a> {
    pub fn new(header_row: usize, mapping: Vec<Option<Field>>, ctx: Context<'a>) -> Self {
        let (seen_ids, again, numbers) = (HashMap::new(), HashMap::new(), HashSet::new());
        Self { header_row, mapping, ctx, seen_ids, again, apart: HashMap::new(), numbers, started: false }
    }

    /// The ID numbers the whole sheet holds twice (`Repeats`): their first rows are
    /// held back too, however far apart the two are (a batch only sees its own rows).
    /// So are the parts of a household whose rows a batch's cut falls between.
    pub fn expect_repeats(&mut self, repeats: Repeats) {
        self.again = repeats.again;
        self.apart = repeats.numbers.into_iter().filter(|(_, s)| s.again.is_some()).collect();
    }

    /// The sheet's column of household numbers, if mapped.
    pub fn number_column(&self) -> Option<usize> {
        self.mapping.iter().position(|m| *m == Some(Field::HouseholdNumber))
    }

    /// The sheet's column of ID numbers, if mapped.
    pub fn id_column(&self) -> Option<usize> {
        self.mapping.iter().position(|m| *m == Some(Field::IdNumber))
    }

    fn rows<'r>(&self, rows: &'r [(usize, Vec<Cell>)]) -> Vec<Row<'r>> {
        rows.iter()
            .filter(|(_, cells)| !cells.iter().all(Cell::is_blank) && !self.is_total(cells))
            .map(|(number, cells)| {
                let mut slots = [None; Field::ALL.len()];
                for (col, field) in self.mapping.iter().enumerate() {
                    if let Some(f) = field {
                        slots[*f as usize] = Some((col, cells.get(col).unwrap_or(&Cell::Empty)));
                    }
                }
                Row { number: *number, cells: slots }
            })
            .collect()
    }

    /// A ledger's 合计 (小计, 总计, 共计) row, or a line of its foot (注：…, 填表人, 审核人,
    /// 填报日期…): no ID number and no relation, and a cell that begins with one of
    /// those words. It sums the rows above or signs the sheet; it is no person.
    fn is_total(&self, cells: &[Cell]) -> bool {
        let blank = |field: Field| {
            let col = self.mapping.iter().position(|m| *m == Some(field));
            col.and_then(|c| cells.get(c)).is_none_or(Cell::is_blank)
        };
        let says_total = |cell: &Cell| match cell {
            Cell::Text(t) => {
                let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                TOTAL_AND_FOOT.iter().any(|w| t.starts_with(w))
            }
            _ => false,
        };
        blank(Field::IdNumber) && blank(Field::Relation) && cells.iter().any(says_total)
    }

    fn has_number(&self) -> bool {
        self.mapping.contains(&Some(Field::HouseholdNumber))
    }

    /// Whether `row` begins a new household after a row numbered `previous`.
    fn starts(&self, row: &Row<'_>, previous: Option<&Option<String>>) -> bool {
        let number = if self.has_number() { row.text(Field::HouseholdNumber) } else { None };
        let is_head = row.text(Field::Relation).and_then(|r| parse_relation(&r)) == Some(Relation::Head);
        match (&number, previous) {
            (Some(n), Some(Some(last))) => n != last,
            (None, Some(_)) => is_head && !self.has_number(),
            _ => true,
        }
    }

    fn number_of(&self, row: &Row<'_>) -> Option<String> {
        if self.has_number() { row.text(Field::HouseholdNumber) } else { None }
    }

    /// The index in `rows` of the last row that starts a household (0 if none
    /// after the first): everything before it holds whole households.
    pub fn last_start(&self, rows: &[(usize, Vec<Cell>)]) -> usize {
        let mut current: Option<Option<String>> = None;
        let mut last = 0;
        for (i, entry) in rows.iter().enumerate() {
            let Some(row) = self.rows(std::slice::from_ref(entry)).pop() else {
                continue;
            };
            if current.is_none() || self.starts(&row, current.as_ref()) {
                if current.is_some() {
                    last = i;
                }
                current = Some(self.number_of(&row));
            }
        }
        last
    }

    /// Reads one batch of rows (each with its 1-based sheet row number).
    pub fn parse(&mut self, rows: &[(usize, Vec<Cell>)]) -> Parsed {
        let mut parsed = Parsed::default();
        let data = self.rows(rows);
        parsed.rows = data.len();
        parsed.totals = rows.iter().filter(|(_, cells)| self.is_total(cells)).count();
        if !self.started && !self.mapping.contains(&Some(Field::Community)) && self.ctx.default_community.is_none() {
            parsed.issues.push(Issue {
                row: self.header_row,
                column: None,
                field: Some(Field::Community),
                value: String::new(),
                code: "community_missing",
                message_zh: "表中没有社区列：请在导入时选择社区".into(),
                message_en: "the sheet has no community column: choose the community when importing".into(),
            });
        }
        self.started = true;
        // Group rows into households: by number where there is one (a blank number
        // continues the household above, as merged cells do), else a head starts one.
        let mut groups: Vec<(Option<String>, Vec<&Row<'_>>)> = Vec::new();
        let mut by_number: HashMap<String, usize> = HashMap::new();
        for row in &data {
            let number = self.number_of(row);
            let previous = groups.last().map(|g| &g.0);
            if previous.is_some() && !self.starts(row, previous) {
                if let Some(g) = groups.last_mut() {
                    g.1.push(row);
                }
            } else if let Some(&at) = number.as_ref().and_then(|n| by_number.get(n)) {
                // The same number further down: the ledger is not sorted by household.
                groups[at].1.push(row);
            } else {
                if let Some(n) = &number {
                    by_number.insert(n.clone(), groups.len());
                }
                groups.push((number, vec![row]));
            }
        }
        let mut households: Vec<(ParsedHousehold, bool)> = Vec::new();
        // ID number → the household of this batch it first appeared in.
        let mut first_in_batch: HashMap<String, usize> = HashMap::new();
        let mut bad: HashSet<usize> = HashSet::new();
        for (number, rows) in groups {
            // A household whose rows are apart and which this batch holds only part of: each
            // part is held back (an import never writes a household without some members).
            let with_number = rows.iter().filter(|r| self.number_of(r).is_some()).count();
            let split = number.as_ref().and_then(|n| Some((n.clone(), *self.apart.get(n)?)));
            let split = split.filter(|(_, s)| with_number < s.rows);
            let issues_before = parsed.issues.len();
            let household = read_household(number, &rows, &self.ctx, &mut parsed.issues);
            let rows_of: Vec<usize> = rows.iter().map(|r| r.number).collect();
            let mut ok = parsed.issues.len() == issues_before;
            // Each row's ID, read on its own: a row rejected for another cell still claims its ID.
            for row in &rows {
                let Some(id_number) = row.get(Field::IdNumber).and_then(|(_, c)| parse_id(c, self.ctx.today).ok())
                else {
                    continue;
                };
                let id = id_number.as_str().to_owned();
                let repeated = |message_zh, message_en| Issue {
                    row: row.number,
                    column: row.get(Field::IdNumber).map(|(c, _)| c),
                    field: Some(Field::IdNumber),
                    value: id_number.masked(),
                    code: "id_repeated",
                    message_zh,
                    message_en,
                };
                if let Some(&first_row) = self.seen_ids.get(&id) {
                    parsed.issues.push(repeated(
                        format!("该身份证号在表中第{first_row}行已出现"),
                        format!("this ID number already appears in row {first_row}"),
                    ));
                    if let Some(&first) = first_in_batch.get(&id) {
                        bad.insert(first);
                    }
                    ok = false;
                } else {
                    // The reader may meet an ID first on a row further down (a household's
                    // rows need not be together): name the other appearance, not this one.
                    if let Some(&(a, b)) = self.again.get(&id) {
                        let other = if row.number == b { a } else { b };
                        parsed.issues.push(repeated(
                            format!("该身份证号在表中第{other}行也出现"),
                            format!("this ID number also appears in row {other}"),
                        ));
                        ok = false;
                    }
                    self.seen_ids.insert(id.clone(), row.number);
                    if household.is_some() {
                        first_in_batch.insert(id, households.len());
                    }
                }
            }
            if let Some((n, s)) = split {
                let (first, again) = (s.first, s.again.unwrap_or(s.first));
                if !rows_of.contains(&first) {
                    parsed.further_parts += 1;
                }
                parsed.issues.push(Issue {
                    row: rows_of[0],
                    column: self.number_column(),
                    field: Some(Field::HouseholdNumber),
                    value: crate::pii::mask_if_personal(&n),
                    code: "number_apart",
                    message_zh: format!(
                        "该户的成员在表中相隔太远（第{first}行与第{again}行），未能读成一户：请把同一户的成员排在一起"
                    ),
                    message_en: format!(
                        "this household's members are too far apart in the sheet (rows {first} and {again}) to be read as one: keep a household's members together"
                    ),
                });
                ok = false;
            } else if let Some(h) = &household
                && self.numbers.contains(&h.number)
            {
                parsed.issues.push(Issue {
                    row: rows_of[0],
                    column: self.mapping.iter().position(|m| *m == Some(Field::HouseholdNumber)),
                    field: Some(Field::HouseholdNumber),
                    value: h.number.clone(),
                    code: "number_repeated",
                    message_zh: "该户编号在表中前面已出现：请把同一户的成员排在一起".into(),
                    message_en: "this household number appears earlier in the sheet: keep a household's members together"
                        .into(),
                });
                ok = false;
            }
            match household {
                Some(h) => {
                    self.numbers.insert(h.number.clone());
                    households.push((ParsedHousehold { household: h, rows: rows_of }, ok));
                }
                None => parsed.held_back.push((
                    rows.first()
                        .and_then(|r| r.text(Field::HouseholdNumber))
                        .map_or_else(String::new, |n| crate::pii::mask_if_personal(&n)),
                    rows_of,
                )),
            }
        }
        for (i, (h, ok)) in households.into_iter().enumerate() {
            if ok && !bad.contains(&i) {
                parsed.households.push(h);
            } else {
                parsed.held_back.push((h.household.number.clone(), h.rows));
            }
        }
        let faulty: std::collections::HashSet<usize> = parsed.issues.iter().map(|i| i.row).collect();
        let held: Vec<Issue> = parsed.held_back.iter().flat_map(|(_, rows)| held_back_issues(rows, &faulty)).collect();
        parsed.issues.extend(held);
        parsed
    }
}

/// An issue for each of a held-back household's `rows` that has none of its own
/// (`faulty` are the rows that have), so that every row not imported is listed.
pub fn held_back_issues(rows: &[usize], faulty: &std::collections::HashSet<usize>) -> Vec<Issue> {
    let first = rows.iter().find(|r| faulty.contains(r));
    let (zh, en) = match first {
        Some(r) => (
            format!("同户第{r}行有问题，本户整户暂不导入（本行无误）"),
            format!("held back with its household: row {r} has a problem (this row has none)"),
        ),
        None => (
            "同户其他行有问题，本户整户暂不导入（本行无误）".to_owned(),
            "held back with its household: another of its rows has a problem (this row has none)".to_owned(),
        ),
    };
    let issue = |&row: &usize| Issue {
        row,
        column: None,
        field: None,
        value: String::new(),
        code: "held_back",
        message_zh: zh.clone(),
        message_en: en.clone(),
    };
    rows.iter().filter(|r| !faulty.contains(r)).map(issue).collect()
}

/// Reads one household's rows; issues are pushed, `None` when it cannot be built at all.
fn read_household(
    number: Option<String>,
    rows: &[&Row<'_>],
    ctx: &Context<'_>,
    issues: &mut Vec<Issue>,
) -> Option<Household> {
    let mut members = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(p) = read_person(row, ctx, issues) {
            members.push(p);
        }
    }
    let first = rows.first()?;
    let heads = members.iter().filter(|m| m.relation == Relation::Head).count();
    if members.len() == rows.len() && heads != 1 {
        for row in rows {
            issues.push(Issue {
                row: row.number,
                column: row.get(Field::Relation).map(|(c, _)| c),
                field: Some(Field::Relation),
                value: row.text(Field::Relation).unwrap_or_default(),
                code: if heads == 0 { "no_head" } else { "two_heads" },
                message_zh: if heads == 0 { "该户没有户主" } else { "该户有不止一位户主" }.into(),
                message_en: if heads == 0 {
                    "this household has no head"
                } else {
                    "this household has more than one head"
                }
                .into(),
            });
        }
    }
    // Household columns: the first row that fills them. Another row of the
    // household that says otherwise is a contradiction the worker must settle.
    for field in [
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
    ] {
        let mut filled = rows.iter().filter_map(|r| r.get(field).map(|(c, cell)| (r.number, c, cell)));
        let Some((first_row, _, first_cell)) = filled.next() else { continue };
        let said = first_cell.cleaned();
        // A phone quoted back is masked, as everywhere.
        let shown = crate::pii::mask_if_personal(&said);
        for (row, column, cell) in filled.filter(|(_, _, cell)| cell.cleaned() != said) {
            let label = field.label_zh();
            issues.push(issue(
                row,
                column,
                field,
                cell,
                reject(
                    "household_value_differs",
                    format!("与本户第{first_row}行的“{label}”（{shown}）不一致：同一户的家庭信息应相同"),
                    format!(
                        "differs from this household's {} in row {first_row} ({shown}): one household, one value",
                        field.label_en()
                    ),
                ),
            ));
        }
    }
    let cell = |field: Field| rows.iter().find_map(|r| r.get(field).map(|(c, cell)| (r.number, c, cell)));
    let community = match cell(Field::Community) {
        None if ctx.default_community.is_none() => {
            // The sheet has the column (else one issue says so for the whole sheet), left blank here.
            if let Some((column, _)) = first.slot(Field::Community) {
                issues.push(Issue {
                    row: first.number,
                    column: Some(column),
                    field: Some(Field::Community),
                    value: String::new(),
                    code: "community_blank",
                    message_zh: "该户的社区为空：请填写社区代码或名称，或在导入时选择社区".into(),
                    message_en: "this household's community is blank: give its code or name, or choose the community when importing".into(),
                });
            }
            None
        }
        None => ctx.default_community,
        Some(found) => household_value(Some(found), Field::Community, issues, |s| {
            ctx.communities.get(s).copied().ok_or_else(|| {
                reject(
                    "community_unknown",
                    "社区不在您的管辖范围内，或不是本区的社区（填12位区划代码或社区名称）",
                    "the community is not within your jurisdiction or not of this district (give its 12-digit code or name)",
                )
            })
        }),
    };
    let registration = household_value(
        cell(Field::Registration),
        Field::Registration,
        issues,
        known(parse_registration, Field::Registration),
    );
    let tenure = household_value(cell(Field::Tenure), Field::Tenure, issues, known(parse_tenure, Field::Tenure));
    let condition = household_value(
        cell(Field::HousingCondition),
        Field::HousingCondition,
        issues,
        known(HousingCondition::parse, Field::HousingCondition),
    );
    let dangerous = household_value(
        cell(Field::DangerousHousing),
        Field::DangerousHousing,
        issues,
        known(parse_yes_no, Field::DangerousHousing),
    );
    let money = |field: Field, issues: &mut Vec<Issue>| {
        cell(field).and_then(|(row, col, c)| parse_money(c).map_err(|r| issues.push(issue(row, col, field, c, r))).ok())
    };
    let assets = money(Field::Assets, issues);
    let income_items = INCOME_FIELDS
        .iter()
        .filter_map(|&(field, kind)| Some(IncomeItem { kind, monthly: money(field, issues)? }))
        .filter(|i| i.monthly != Fen::ZERO)
        .collect();
    let phone = cell(Field::HouseholdPhone).and_then(|(row, col, c)| {
        parse_phone(c).map_err(|r| issues.push(issue(row, col, Field::HouseholdPhone, c, r))).ok()
    });
    let tags = list_cell(cell(Field::HouseholdTags), Field::HouseholdTags, issues, Tag::parse);
    let categories = list_cell(cell(Field::HouseholdCategories), Field::HouseholdCategories, issues, Category::parse);
    let address = cell(Field::Address).map(|(_, _, c)| c.cleaned()).unwrap_or_default();
    if address.chars().count() > 100
        && let Some((row, column, c)) = cell(Field::Address)
    {
        let why = reject("too_long", "家庭住址不能超过100个字符", "an address has at most 100 characters");
        issues.push(issue(row, column, Field::Address, c, why));
    }
    let community = community?;
    let head = members.iter().find(|m| m.relation == Relation::Head).map(|m| &m.id_number);
    // A 户编号 that is someone's ID number (some ledgers use the head's) is not kept as
    // it stands: the household is numbered from it as a ledger without numbers is.
    let number = match number {
        Some(n) => match IdNumber::parse(&n) {
            Ok(id) => (ctx.number_for)(&id),
            Err(_) => n,
        },
        None => head.map(|id| (ctx.number_for)(id))?,
    };
    if number.chars().count() > 40 {
        issues.push(Issue {
            row: first.number,
            column: first.get(Field::HouseholdNumber).map(|(c, _)| c),
            field: Some(Field::HouseholdNumber),
            value: number.clone(),
            code: "too_long",
            message_zh: "户编号不能超过40个字符".into(),
            message_en: "a household number has at most 40 characters".into(),
        });
    }
    // The household's categories began on the start date of the row that lists them, if
    // the ledger has one (a bad date is reported once, by that row's member).
    let since = rows
        .iter()
        .find(|r| r.get(Field::HouseholdCategories).is_some())
        .and_then(|r| r.get(Field::CategoryStart))
        .and_then(|(_, c)| parse_date(c).ok());
    let start = since.unwrap_or_else(|| ctx.today.with_day(1).unwrap_or(ctx.today));
    Some(Household {
        number,
        community,
        address,
        phone,
        registration: registration.unwrap_or(Registration::Urban),
        tenure: tenure.unwrap_or(Tenure::Own),
        housing_condition: condition,
        dangerous_housing: dangerous.unwrap_or(false),
        assets: assets.unwrap_or(Fen::ZERO),
        income_items,
        // A sheet without the columns says nothing of them (one that has them
        // and leaves a cell blank says none).
        income_unrecorded: std::iter::once(Field::MonthlyIncome)
            .chain(INCOME_FIELDS.iter().map(|(f, _)| *f))
            .all(|f| first.slot(f).is_none()),
        assets_unrecorded: first.slot(Field::Assets).is_none(),
        tags,
        categories: categories.into_iter().map(|category| Holding { category, start, end: None }).collect(),
        members,
    })
}

impl Field {
    /// Whether a household's digest covers the field (what a re-import compares). A sheet
    /// without some of these leaves them as stored, so its digest says which it had. Sex and
    /// birth date come from the ID, a category's start is left out on purpose, a note is not kept.
    pub fn in_digest(self) -> bool {
        !matches!(self, Field::Sex | Field::BirthDate | Field::CategoryStart | Field::Note)
    }
}

/// The columns of a household's own income, by kind.
pub const INCOME_FIELDS: [(Field, IncomeKind); 4] = [
    (Field::BusinessIncome, IncomeKind::Business),
    (Field::PropertyIncome, IncomeKind::Property),
    (Field::TransferIncome, IncomeKind::Transfer),
    (Field::OtherIncome, IncomeKind::Other),
];

/// A parser that rejects what it does not know with the column's allowed values.
fn known<T>(parse: fn(&str) -> Option<T>, field: Field) -> impl Fn(&str) -> Result<T, Reject> {
    move |s| parse(s).ok_or_else(|| unknown_value(field))
}

/// A household column's value, read from its first filled cell; a rejection becomes an issue.
fn household_value<T>(
    cell: Option<(usize, usize, &Cell)>,
    field: Field,
    issues: &mut Vec<Issue>,
    parse: impl Fn(&str) -> Result<T, Reject>,
) -> Option<T> {
    let (row, col, cell) = cell?;
    parse(&cell.cleaned()).map_err(|r| issues.push(issue(row, col, field, cell, r))).ok()
}

fn issue(row: usize, column: usize, field: Field, cell: &Cell, r: Reject) -> Issue {
    // The report is a file that travels: an ID or a phone stays masked there too.
    let value = cell.cleaned();
    let value = if field == Field::IdNumber { mask_id_text(&value) } else { crate::pii::mask_if_personal(&value) };
    Issue { row, column: Some(column), field: Some(field), value, code: r.code, message_zh: r.zh, message_en: r.en }
}

/// A disability certificate number (残疾证号: the holder's ID number and two
/// digits for type and grade), as typed: full-width characters and spaces
/// dropped, letters upper case; letters and digits only, at most 30.
pub fn parse_certificate(text: &str) -> Result<String, Reject> {
    let number: String = clean(text).chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    if number.is_empty() || number.len() > 30 || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(reject(
            "bad_certificate",
            "残疾证号应为不超过30位的数字和字母",
            "a disability certificate number has at most 30 letters and digits",
        ));
    }
    Ok(number)
}

pub use crate::pii::mask_id_text;

fn unknown_value(field: Field) -> Reject {
    let allowed = allowed_values(field).join("、");
    reject(
        "unknown_value",
        format!("{}的取值应为：{allowed}", field.label_zh()),
        format!("{} must be written as one of: {}", field.label_en(), allowed_values(field).join(", ")),
    )
}

/// The values a coded column accepts (Chinese labels), for messages and dropdowns.
pub fn allowed_values(field: Field) -> Vec<&'static str> {
    fn labels<T: Copy + PartialEq>(all: &[T], zh: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| zh(*v)).collect()
    }
    match field {
        Field::Registration => labels(Registration::ALL, Registration::label_zh),
        Field::Tenure => labels(Tenure::ALL, Tenure::label_zh),
        Field::HousingCondition => labels(HousingCondition::ALL, HousingCondition::label_zh),
        Field::DangerousHousing => vec!["是", "否"],
        Field::HouseholdTags => labels(Tag::ALL, Tag::label_zh),
        Field::HouseholdCategories | Field::PersonCategories => labels(Category::ALL, Category::label_zh),
        Field::Relation => labels(Relation::ALL, Relation::label_zh),
        Field::Marital => labels(Marital::ALL, Marital::label_zh),
        Field::Health => labels(Health::ALL, Health::label_zh),
        Field::DisabilityKind => labels(DisabilityKind::ALL, DisabilityKind::label_zh),
        Field::DisabilityGrade => vec!["一级", "二级", "三级", "四级"],
        Field::WorkAbility => labels(WorkAbility::ALL, WorkAbility::label_zh),
        Field::Employment => labels(Employment::ALL, Employment::label_zh),
        Field::Schooling => labels(Schooling::ALL, Schooling::label_zh),
        Field::Sex => vec!["男", "女"],
        _ => Vec::new(),
    }
}

/// A coded person column: `None` when blank; an unknown value is rejected.
fn coded<T>(
    row: &Row<'_>,
    field: Field,
    parse: impl Fn(&str) -> Option<T>,
    rejects: &mut Vec<(Field, Reject)>,
) -> Option<T> {
    let text = row.text(field)?;
    let value = parse(&text);
    if value.is_none() {
        rejects.push((field, unknown_value(field)));
    }
    value
}

fn read_person(row: &Row<'_>, ctx: &Context<'_>, issues: &mut Vec<Issue>) -> Option<Person> {
    let mut rejects: Vec<(Field, Reject)> = Vec::new();
    let name = row.text(Field::Name).unwrap_or_default().replace(' ', "");
    if name.is_empty() {
        rejects.push((Field::Name, reject("required", "姓名不能为空", "name is required")));
    } else if name.chars().count() > 30 {
        rejects.push((Field::Name, reject("too_long", "姓名不能超过30个字符", "a name has at most 30 characters")));
    } else if crate::registry::number_as_name(&name) {
        rejects.push((Field::Name, number_as_name()));
    }
    let id = match row.get(Field::IdNumber).map(|(_, cell)| parse_id(cell, ctx.today)) {
        None => {
            rejects.push((Field::IdNumber, reject("required", "身份证号不能为空", "ID number is required")));
            None
        }
        Some(Ok(id)) => Some(id),
        Some(Err(r)) => {
            rejects.push((Field::IdNumber, r));
            None
        }
    };
    if let Some(id) = &id {
        let (zh, en) = match id.sex() {
            Sex::Male => ("男", "male"),
            Sex::Female => ("女", "female"),
        };
        match row.text(Field::Sex).as_deref().map(sex_of) {
            Some(None) => rejects.push((
                Field::Sex,
                reject("sex_unknown", "性别应填“男”或“女”", "the sex should be 男 or 女 (male or female)"),
            )),
            Some(Some(said)) if said != id.sex() => {
                let r = reject(
                    "sex_mismatch",
                    format!("性别与身份证号不符（身份证号为{zh}）"),
                    format!("sex does not match the ID number ({en})"),
                );
                rejects.push((Field::Sex, r));
            }
            _ => {}
        }
        if let Some((_, cell)) = row.get(Field::BirthDate) {
            let born = id.birth_date();
            let mismatch =
                || reject("birth_mismatch", "出生日期与身份证号不符", "the birth date does not match the ID number");
            match (parse_date(cell), parse_month(cell)) {
                (Ok(d), _) if d == born => {}
                // A 出生年月 typed as 1962/3 is stored by Excel as the 1st of the month.
                (Ok(d), _) if matches!(cell, Cell::Date(_)) && d.day() == 1 && d.with_day(born.day()) == Some(born) => {
                }
                (Ok(_), _) => rejects.push((Field::BirthDate, mismatch())),
                // A 出生年月 column may hold only the month.
                (Err(_), Some(month)) if month == (born.year(), born.month()) => {}
                // 1962.10 typed into a number cell is stored as 1962.1: October, not only January.
                (Err(_), Some((year, 1)))
                    if matches!(cell, Cell::Number(_)) && (year, 10) == (born.year(), born.month()) => {}
                (Err(_), Some(_)) => rejects.push((Field::BirthDate, mismatch())),
                (Err(r), None) => rejects.push((Field::BirthDate, r)),
            }
        }
    }
    let relation = coded(row, Field::Relation, parse_relation, &mut rejects);
    if row.text(Field::Relation).is_none() {
        rejects.push((Field::Relation, reject("required", "与户主关系不能为空", "relation to the head is required")));
    }
    let marital = coded(row, Field::Marital, parse_marital, &mut rejects);
    let health = coded(row, Field::Health, parse_health, &mut rejects);
    let kind = coded(row, Field::DisabilityKind, |s| DisabilityKind::parse(s.trim_end_matches("残疾")), &mut rejects);
    let grade = coded(row, Field::DisabilityGrade, parse_grade, &mut rejects);
    let work = coded(row, Field::WorkAbility, parse_work, &mut rejects);
    let employment = coded(row, Field::Employment, Employment::parse, &mut rejects);
    let schooling = coded(row, Field::Schooling, Schooling::parse, &mut rejects);
    let certificate = match row.text(Field::DisabilityCert) {
        None => String::new(),
        Some(text) => parse_certificate(&text).unwrap_or_else(|r| {
            rejects.push((Field::DisabilityCert, r));
            String::new()
        }),
    };
    let disability = match (kind, grade) {
        (Some(kind), Some(grade)) => Some(Disability { kind, grade, certificate }),
        (Some(_), None) if row.text(Field::DisabilityGrade).is_none() => {
            rejects.push((
                Field::DisabilityGrade,
                reject("grade_missing", "有残疾类别时须填写残疾等级", "a disability type needs a grade"),
            ));
            None
        }
        (None, Some(_)) if row.text(Field::DisabilityKind).is_none() => {
            rejects.push((
                Field::DisabilityKind,
                reject("kind_missing", "有残疾等级时须填写残疾类别", "a disability grade needs a type"),
            ));
            None
        }
        _ => None,
    };
    let income = row
        .get(Field::MonthlyIncome)
        .and_then(|(_, c)| parse_money(c).map_err(|r| rejects.push((Field::MonthlyIncome, r))).ok());
    let phone =
        row.get(Field::Phone).and_then(|(_, c)| parse_phone(c).map_err(|r| rejects.push((Field::Phone, r))).ok());
    let death_date = row.get(Field::DeathDate).and_then(|(_, c)| match parse_date(c) {
        Ok(d) if d > ctx.today => {
            rejects.push((
                Field::DeathDate,
                reject("future_date", "死亡日期不能晚于今天", "the date of death cannot be in the future"),
            ));
            None
        }
        Ok(d) if id.as_ref().is_some_and(|id| d < id.birth_date()) => {
            let why =
                reject("death_before_birth", "死亡日期早于出生日期", "the date of death is before the birth date");
            rejects.push((Field::DeathDate, why));
            None
        }
        Ok(d) => Some(d),
        Err(r) => {
            rejects.push((Field::DeathDate, r));
            None
        }
    });
    // The day the categories on this row began, when the ledger says (else this month).
    let since = row.get(Field::CategoryStart).and_then(|(_, c)| match parse_date(c) {
        Ok(d) => Some(d),
        Err(r) => {
            rejects.push((Field::CategoryStart, r));
            None
        }
    });
    let categories = row.get(Field::PersonCategories).map(|(_, c)| list(c, Field::PersonCategories, Category::parse));
    let categories = match categories {
        Some(Err(r)) => {
            rejects.push((Field::PersonCategories, r));
            Vec::new()
        }
        Some(Ok(v)) => v,
        None => Vec::new(),
    };
    if !rejects.is_empty() {
        for (field, r) in rejects {
            let (column, cell) = match (row.get(field), row.slot(field)) {
                (Some((col, cell)), _) => (Some(col), cell),
                (None, Some((col, cell))) => (Some(col), cell),
                (None, None) => (None, &Cell::Empty),
            };
            let mut i = issue(row.number, column.unwrap_or(0), field, cell, r);
            i.column = column;
            issues.push(i);
        }
        return None;
    }
    let id_number = id?;
    let age = id_number.age_on(ctx.today);
    // A death ends the person's categories with the month of death, as recording it in the console does.
    let end = death_date.and_then(|d| d.with_day(1)?.checked_add_months(chrono::Months::new(1))?.pred_opt());
    let start = since.unwrap_or_else(|| ctx.today.with_day(1).unwrap_or(ctx.today));
    let start = end.map_or(start, |e| start.min(e.with_day(1).unwrap_or(e)));
    Some(Person {
        name,
        id_number,
        relation: relation?,
        phone,
        marital: marital.unwrap_or(if age < 20 { Marital::Single } else { Marital::Married }),
        health: health.unwrap_or(Health::Healthy),
        disability,
        work_ability: work.unwrap_or(WorkAbility::Full),
        employment: employment.unwrap_or(Employment::NotWorking),
        schooling: schooling.unwrap_or(Schooling::NotInSchool),
        monthly_income: income.unwrap_or(Fen::ZERO),
        categories: categories.into_iter().map(|category| Holding { category, start, end }).collect(),
        death_date,
        // A fact whose column the sheet lacks takes a default above, recorded as not recorded.
        unrecorded: MEMBER_FACTS
            .iter()
            .filter(|(field, _)| row.slot(*field).is_none())
            .fold(0, |bits, (_, fact)| bits | fact),
    })
}

/// The member facts a ledger may lack, by the field that records each, and the
/// `Unrecorded` bit a member without that column gets.
pub const MEMBER_FACTS: [(Field, u8); 5] = [
    (Field::Marital, Unrecorded::MARITAL),
    (Field::Health, Unrecorded::HEALTH),
    (Field::WorkAbility, Unrecorded::WORK_ABILITY),
    (Field::Employment, Unrecorded::EMPLOYMENT),
    (Field::Schooling, Unrecorded::SCHOOLING),
];

/// A list of coded values separated by 、 , ; / or spaces, each once (低保、dibao is one).
fn list<T: PartialEq>(cell: &Cell, field: Field, parse: fn(&str) -> Option<T>) -> Result<Vec<T>, Reject> {
    let text = cell.cleaned();
    let mut values = Vec::new();
    for part in text.split(['、', ',', '，', ';', '；', '/', ' ']).filter(|p| !p.is_empty()) {
        let value = parse(part).ok_or_else(|| unknown_value(field))?;
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Ok(values)
}

fn list_cell<T: PartialEq>(
    cell: Option<(usize, usize, &Cell)>,
    field: Field,
    issues: &mut Vec<Issue>,
    parse: fn(&str) -> Option<T>,
) -> Vec<T> {
    let Some((row, col, cell)) = cell else {
        return Vec::new();
    };
    list(cell, field, parse).unwrap_or_else(|r| {
        issues.push(issue(row, col, field, cell, r));
        Vec::new()
    })
}

/// A cell as the import will store it, for the dry run's preview: codes as
/// their Chinese labels, money in yuan, dates as `YYYY-MM-DD`, phones cleaned,
/// ID numbers masked. A value that does not read is shown as typed (the issue
/// list says why).
pub fn as_mapped(field: Field, cell: &Cell, today: NaiveDate) -> String {
    fn label<T>(parsed: Option<T>, zh: fn(T) -> &'static str) -> Option<String> {
        parsed.map(|v| zh(v).to_owned())
    }
    fn labels<T: Copy + PartialEq>(
        cell: &Cell,
        field: Field,
        parse: fn(&str) -> Option<T>,
        zh: fn(T) -> &'static str,
    ) -> Option<String> {
        list(cell, field, parse).ok().map(|vs| vs.into_iter().map(zh).collect::<Vec<_>>().join("、"))
    }
    let text = cell.cleaned();
    if text.is_empty() {
        return text;
    }
    let shown = match field {
        Field::IdNumber => return parse_id(cell, today).map_or_else(|_| mask_id_text(&text), |id| id.masked()),
        Field::Phone | Field::HouseholdPhone => parse_phone(cell).ok().map(|p| crate::pii::mask_phone(&p)),
        Field::MonthlyIncome
        | Field::Assets
        | Field::BusinessIncome
        | Field::PropertyIncome
        | Field::TransferIncome
        | Field::OtherIncome => parse_money(cell).ok().map(Fen::grouped),
        Field::DeathDate | Field::BirthDate => parse_date(cell).ok().map(|d| d.to_string()),
        Field::Relation => label(parse_relation(&text), Relation::label_zh),
        Field::Registration => label(parse_registration(&text), Registration::label_zh),
        Field::Tenure => label(parse_tenure(&text), Tenure::label_zh),
        Field::HousingCondition => label(HousingCondition::parse(&text), HousingCondition::label_zh),
        Field::Marital => label(parse_marital(&text), Marital::label_zh),
        Field::Health => label(parse_health(&text), Health::label_zh),
        Field::WorkAbility => label(parse_work(&text), WorkAbility::label_zh),
        Field::Employment => label(Employment::parse(&text), Employment::label_zh),
        Field::Schooling => label(Schooling::parse(&text), Schooling::label_zh),
        Field::DisabilityKind => label(DisabilityKind::parse(text.trim_end_matches("残疾")), DisabilityKind::label_zh),
        Field::DisabilityGrade => parse_grade(&text).map(|g| format!("{g}级")),
        Field::DangerousHousing => parse_yes_no(&text).map(|b| if b { "是" } else { "否" }.to_owned()),
        Field::HouseholdTags => labels(cell, field, Tag::parse, Tag::label_zh),
        Field::HouseholdCategories | Field::PersonCategories => {
            labels(cell, field, Category::parse, Category::label_zh)
        }
        _ => None,
    };
    shown.unwrap_or(text)
}

/// A name cell holding a number (an ID or a phone typed in the wrong column).
fn number_as_name() -> Reject {
    reject(
        "number_as_name",
        "姓名栏填的是号码（身份证号或电话）：请填姓名，号码填在对应的列",
        "the name holds a number (an ID or a phone): give the name, and the number in its own column",
    )
}

/// A value masked with `*` (copied from an error report or an export) cannot be
/// read back: the worker is told where the full value is.
fn masked_value(text: &str) -> Result<(), Reject> {
    if text.contains(['*', '＊']) {
        return Err(reject(
            "masked_value",
            "这是脱敏后的值（含 *），无法导入：请在原台账中改正后上传原台账，或重新录入完整号码",
            "this value is masked (it has *) and cannot be imported: correct your own ledger and upload it, or type the full number again",
        ));
    }
    Ok(())
}

/// An ID number from a cell. A number cell (or its scientific-notation
/// text) has lost its last digits in Excel and cannot be trusted.
pub fn parse_id(cell: &Cell, today: NaiveDate) -> Result<IdNumber, Reject> {
    let lost = || {
        reject(
            "id_as_number",
            "身份证号被 Excel 存成了数字，后几位已丢失：请把该列设为文本格式后重新录入",
            "Excel stored this ID number as a number and its last digits are lost: format the column as text and type it again",
        )
    };
    let text = match cell {
        Cell::Number(_) => return Err(lost()),
        other => other.cleaned().replace(' ', "").to_uppercase(),
    };
    if text.contains('E') && text.contains('+') {
        return Err(lost());
    }
    let text = text.trim_start_matches('\'').to_owned();
    masked_value(&text)?;
    IdNumber::parse_on(&text, today).map_err(|e| {
        use crate::UserError;
        reject("invalid_id_number", e.message_zh(), e.message_en())
    })
}

/// A phone from a cell: a mobile (11 digits) or a landline with its area code.
pub fn parse_phone(cell: &Cell) -> Result<String, Reject> {
    let text = match cell {
        Cell::Number(n) if n.fract() == 0.0 && *n > 0.0 => format!("{n:.0}"),
        other => other.cleaned(),
    };
    masked_value(&text)?;
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = digits.strip_prefix("+86").unwrap_or(&digits).to_owned();
    let b = digits.as_bytes();
    let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    let landline = (10..=12).contains(&b.len()) && b[0] == b'0';
    if b.iter().all(u8::is_ascii_digit) && (mobile || landline) {
        Ok(digits)
    } else {
        Err(reject(
            "invalid_phone",
            "电话应为11位手机号或带区号的固定电话",
            "a phone is an 11-digit mobile or a landline with its area code",
        ))
    }
}

/// Yuan to fen: `1,200元`, `1200.5`, full-width digits, or a number cell.
pub fn parse_money(cell: &Cell) -> Result<Fen, Reject> {
    let bad = || {
        reject(
            "invalid_amount",
            "金额应为不小于0的数字（元），如 1200 或 1,200.50",
            "an amount is a number of yuan, at least 0, e.g. 1200 or 1,200.50",
        )
    };
    let fen = match cell {
        Cell::Number(n) if *n >= 0.0 && n.is_finite() => (n * 100.0).round() as i64,
        Cell::Number(_) => return Err(bad()),
        other => {
            let spaced = other.cleaned().replace(' ', "");
            let text = spaced.trim_end_matches("元").trim_start_matches(['¥', '￥']);
            let (grouped, frac) = text.split_once('.').unwrap_or((text, ""));
            // Thousands separators only where thousands are: 1,200 but not 1,20,0.
            let mut groups = grouped.split([',', '，']);
            let first = groups.next().unwrap_or_default();
            if !(grouped == first || (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3)) {
                return Err(bad());
            }
            let whole = grouped.replace([',', '，'], "");
            let whole = whole.as_str();
            if whole.is_empty()
                || !whole.bytes().all(|b| b.is_ascii_digit())
                || frac.len() > 2
                || !frac.bytes().all(|b| b.is_ascii_digit())
                || whole.len() > 12
            {
                return Err(bad());
            }
            let whole: i64 = whole.parse().map_err(|_| bad())?;
            let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
            whole * 100 + frac
        }
    };
    let fen = fen as i64;
    if fen > Fen::MAX_AMOUNT.0 {
        return Err(reject(
            "amount_too_large",
            "金额过大：不能超过10亿元（请检查单位是否为元）",
            "the amount is too large: at most 1,000,000,000 yuan (is it in yuan?)",
        ));
    }
    Ok(Fen(fen))
}

/// A date: `2026-01-05`, `2026/1/5`, `2026.1.5`, `2026年1月5日`, `20260105`,
/// a date cell, or an Excel date serial.
pub fn parse_date(cell: &Cell) -> Result<NaiveDate, Reject> {
    let bad = || {
        reject(
            "invalid_date",
            "日期应如 2026-01-05、2026/1/5 或 2026年1月5日",
            "a date looks like 2026-01-05, 2026/1/5 or 2026年1月5日",
        )
    };
    match cell {
        Cell::Date(d) => Ok(*d),
        // A number that reads as a year is a year typed alone, not a day of 1905.
        Cell::Number(n) if (1880.0..=2200.0).contains(n) => Err(reject(
            "year_only_date",
            "只有年份：请填写完整日期，如 2026-01-05",
            "a year alone: give the whole date, e.g. 2026-01-05",
        )),
        // An Excel serial of 1906 to 2100: a smaller number (a 1 meaning "yes") is no date.
        Cell::Number(n) if (2201.0..=73_050.0).contains(n) && n.fract() == 0.0 => {
            // Excel serial: day 1 is 1900-01-01, counted from 1899-12-30 (1900 leap bug).
            NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|base| base.checked_add_days(chrono::Days::new(*n as u64)))
                .ok_or_else(bad)
        }
        other => {
            // A date a system exported with its time, midnight, is the date.
            let cleaned = other.cleaned();
            let trimmed = cleaned.trim();
            let day = [" 00:00:00", " 0:00:00", " 00:00", " 0:00", "T00:00:00"]
                .iter()
                .find_map(|t| trimmed.strip_suffix(t))
                .unwrap_or(trimmed);
            let text = day.replace(' ', "");
            if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
                return NaiveDate::parse_from_str(&text, "%Y%m%d").map_err(|_| bad());
            }
            let parts: Vec<&str> = text.trim_end_matches('日').split(['-', '/', '.', '年', '月']).collect();
            let [y, m, d] = parts.as_slice() else {
                return Err(bad());
            };
            let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
            let year = i32::try_from(num(y)?).map_err(|_| bad())?;
            if !(1880..=2200).contains(&year) {
                return Err(bad());
            }
            NaiveDate::from_ymd_opt(year, num(m)?, num(d)?).ok_or_else(bad)
        }
    }
}

/// A year and month, as a 出生年月 column holds them: `1962-03`, `1962.3`, `1962年3月`.
fn parse_month(cell: &Cell) -> Option<(i32, u32)> {
    let text = cell.cleaned().replace(' ', "");
    let parts: Vec<&str> = text.trim_end_matches('月').split(['-', '/', '.', '年']).collect();
    let [y, m] = parts.as_slice() else {
        return None;
    };
    let (year, month) = (y.parse::<i32>().ok()?, m.parse::<u32>().ok()?);
    ((1880..=2200).contains(&year) && (1..=12).contains(&month)).then_some((year, month))
}

/// A relation as household registers write it: by the classes of GB/T 4761 (a
/// son-in-law is of the children's class, a father-in-law of the parents'), and
/// as "之子" (the head's son) where the register names the head first.
fn parse_relation(s: &str) -> Option<Relation> {
    let s = s.strip_prefix("户主").filter(|r| !r.is_empty()).unwrap_or(s);
    let s = s.strip_prefix('之').unwrap_or(s);
    Relation::parse(s).or(match s {
        "本人" | "户主本人" => Some(Relation::Head),
        "妻" | "夫" | "妻子" | "丈夫" => Some(Relation::Spouse),
        "子" | "女" | "儿子" | "女儿" | "长子" | "长女" | "次子" | "次女" | "三子" | "三女" | "四子" | "四女"
        | "五子" | "五女" | "独子" | "独女" | "独生子" | "独生女" | "养子" | "养女" | "继子" | "继女" | "女婿"
        | "儿媳" => Some(Relation::Child),
        "父亲" | "母亲" | "父" | "母" | "公公" | "婆婆" | "岳父" | "岳母" | "继父" | "继母" | "养父" | "养母" => {
            Some(Relation::Parent)
        }
        "孙子" | "孙女" | "外孙" | "外孙子" | "外孙女" | "孙媳妇" | "孙女婿" | "曾孙子" | "曾孙女" => {
            Some(Relation::Grandchild)
        }
        "兄" | "弟" | "姐" | "妹" | "兄弟" | "姐妹" | "哥哥" | "弟弟" | "姐姐" | "妹妹" => {
            Some(Relation::Sibling)
        }
        _ => None,
    })
}

fn parse_registration(s: &str) -> Option<Registration> {
    Registration::parse(s).or(match s {
        "城市" | "非农业" | "非农" | "居民" => Some(Registration::Urban),
        "农业" | "农村户口" => Some(Registration::Rural),
        _ => None,
    })
}

fn parse_tenure(s: &str) -> Option<Tenure> {
    Tenure::parse(s).or(match s {
        "自有住房" | "自建房" | "自有房" => Some(Tenure::Own),
        "租房" | "租住" => Some(Tenure::Rent),
        "公租" | "廉租房" => Some(Tenure::Public),
        "无" | "无住房" => Some(Tenure::Homeless),
        _ => None,
    })
}

fn parse_marital(s: &str) -> Option<Marital> {
    Marital::parse(s).or(match s {
        "有配偶" | "初婚" | "再婚" => Some(Marital::Married),
        "离异" => Some(Marital::Divorced),
        _ => None,
    })
}

fn parse_health(s: &str) -> Option<Health> {
    Health::parse(s).or(match s {
        "良好" | "一般" => Some(Health::Healthy),
        "慢性病" | "长期慢性病" => Some(Health::Chronic),
        "重病" | "患大病" | "重大疾病" => Some(Health::Major),
        _ => None,
    })
}

fn parse_work(s: &str) -> Option<WorkAbility> {
    WorkAbility::parse(s).or(match s {
        "有劳动能力" | "健全" => Some(WorkAbility::Full),
        "部分丧失" | "部分劳动能力" | "弱劳动力" => Some(WorkAbility::Partial),
        "无劳动能力" | "丧失劳动能力" | "丧失" => Some(WorkAbility::None),
        _ => None,
    })
}

fn parse_grade(s: &str) -> Option<u8> {
    let s = s.trim_end_matches('级');
    match s {
        "1" | "一" => Some(1),
        "2" | "二" => Some(2),
        "3" | "三" => Some(3),
        "4" | "四" => Some(4),
        _ => None,
    }
}

fn parse_yes_no(s: &str) -> Option<bool> {
    match s {
        "是" | "Y" | "y" | "有" | "1" | "危房" => Some(true),
        "否" | "N" | "n" | "无" | "0" | "不是" => Some(false),
        _ => None,
    }
}

/// Words a 合计 row or a line at a ledger's foot begins with.
const TOTAL_AND_FOOT: [&str; 19] = [
    "合计",
    "小计",
    "总计",
    "共计",
    "注：",
    "注:",
    "说明：",
    "说明:",
    "填表人",
    "填报人",
    "制表人",
    "审核人",
    "审批人",
    "负责人",
    "经办人",
    "填表日期",
    "填报日期",
    "制表日期",
    "填报单位",
];

/// The sex a cell says, in the words ledgers use for it; `None` for any other.
fn sex_of(text: &str) -> Option<Sex> {
    match text.trim().to_ascii_lowercase().as_str() {
        "男" | "男性" | "m" | "male" => Some(Sex::Male),
        "女" | "女性" | "f" | "female" => Some(Sex::Female),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
