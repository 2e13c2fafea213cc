//! The fields rules may name: what each means, its type, and whether it
//! belongs to a person or to the household.

use serde::{Deserialize, Serialize};

use crate::registry::{
    Category, DisabilityKind, Employment, Health, Marital, Registration, Relation, Schooling, Tag, Tenure, WorkAbility,
};

/// Whether a value belongs to one person or to the whole household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Person,
    Household,
}

/// A field's type as rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Bool,
    Int,
    /// An integer amount of fen.
    Money,
    /// One code out of the field's values.
    Code,
    /// A set of codes (`'dibao' in categories`).
    Set,
}

/// The columns the engine keeps, one per field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Col {
    Age,
    Sex,
    Relation,
    Marital,
    Illness,
    DisabilityType,
    DisabilityGrade,
    WorkAbility,
    Employment,
    Schooling,
    Income,
    Categories,
    Size,
    TotalIncome,
    PerCapitaIncome,
    Assets,
    Housing,
    DangerousHousing,
    Registration,
    Tags,
    HouseholdCategories,
}

/// A field as rules name it.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    /// The name in rules, e.g. `disability.grade`.
    pub name: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub level: Level,
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// The codes a `Code` or `Set` field takes.
    pub values: Vec<&'static str>,
    #[serde(skip)]
    pub col: Col,
}

fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| code(*v)).collect()
}

fn field(name: &'static str, zh: &'static str, en: &'static str, col: Col, ty: FieldType) -> Field {
    let level = if col < Col::Size { Level::Person } else { Level::Household };
    Field { name, label_zh: zh, label_en: en, level, ty, values: Vec::new(), col }
}

fn coded(name: &'static str, zh: &'static str, en: &'static str, col: Col, values: Vec<&'static str>) -> Field {
    Field { values, ..field(name, zh, en, col, FieldType::Code) }
}

/// The code a coded field's value is written as in rules, given its Chinese name
/// (`特困` → `tekun`), for an error that tells the officer what to write.
pub fn code_for_label(col: Col, label: &str) -> Option<&'static str> {
    match col {
        Col::Sex => match label {
            "男" => Some("male"),
            "女" => Some("female"),
            _ => None,
        },
        Col::Relation => Relation::parse(label).map(Relation::code),
        Col::Marital => Marital::parse(label).map(Marital::code),
        Col::Illness => Health::parse(label).map(Health::code),
        Col::DisabilityType => DisabilityKind::parse(label).map(DisabilityKind::code),
        Col::WorkAbility => WorkAbility::parse(label).map(WorkAbility::code),
        Col::Employment => Employment::parse(label).map(Employment::code),
        Col::Schooling => Schooling::parse(label).map(Schooling::code),
        Col::Categories | Col::HouseholdCategories => Category::parse(label).map(Category::code),
        Col::Housing => Tenure::parse(label).map(Tenure::code),
        Col::Registration => Registration::parse(label).map(Registration::code),
        Col::Tags => Tag::parse(label).map(Tag::code),
        _ => None,
    }
}

/// Every field, persons' first.
pub fn fields() -> Vec<Field> {
    use FieldType::*;
    let mut disability = vec![""];
    disability.extend(codes(DisabilityKind::ALL, DisabilityKind::code));
    vec![
        field("age", "年龄（周岁）", "age in full years", Col::Age, Int),
        coded("sex", "性别", "sex", Col::Sex, vec!["male", "female"]),
        coded("relation", "与户主关系", "relation to the head", Col::Relation, codes(Relation::ALL, Relation::code)),
        coded("marital", "婚姻状况", "marital status", Col::Marital, codes(Marital::ALL, Marital::code)),
        coded("illness", "健康状况", "health", Col::Illness, codes(Health::ALL, Health::code)),
        coded("disability.type", "残疾类别（空为无）", "disability type ('' if none)", Col::DisabilityType, disability),
        field("disability.grade", "残疾等级（0 为无）", "disability grade (0 if none)", Col::DisabilityGrade, Int),
        coded("work_ability", "劳动能力", "work ability", Col::WorkAbility, codes(WorkAbility::ALL, WorkAbility::code)),
        coded("employment", "就业状况", "employment", Col::Employment, codes(Employment::ALL, Employment::code)),
        coded("schooling", "在学阶段", "schooling", Col::Schooling, codes(Schooling::ALL, Schooling::code)),
        field("income", "本人月收入（分）", "own monthly income (fen)", Col::Income, Money),
        Field {
            values: codes(Category::ALL, Category::code),
            ..field(
                "categories",
                "享受的救助类别（含本户）",
                "categories held (own and household's)",
                Col::Categories,
                Set,
            )
        },
        field("size", "家庭人口（在世）", "household size (living)", Col::Size, Int),
        field("total_income", "家庭月收入（分）", "household monthly income (fen)", Col::TotalIncome, Money),
        field(
            "per_capita_income",
            "家庭月人均收入（分）",
            "monthly income per member (fen)",
            Col::PerCapitaIncome,
            Money,
        ),
        field("assets", "家庭财产（分）", "household assets (fen)", Col::Assets, Money),
        coded("housing", "住房情况", "housing", Col::Housing, codes(Tenure::ALL, Tenure::code)),
        field("dangerous_housing", "危房（C/D 级）", "dangerous housing (C/D)", Col::DangerousHousing, Bool),
        coded(
            "registration",
            "户籍性质",
            "registered residence",
            Col::Registration,
            codes(Registration::ALL, Registration::code),
        ),
        Field { values: codes(Tag::ALL, Tag::code), ..field("tags", "家庭标签", "household tags", Col::Tags, Set) },
        Field {
            values: codes(Category::ALL, Category::code),
            ..field(
                "household_categories",
                "本户享受的救助类别",
                "categories the household holds",
                Col::HouseholdCategories,
                Set,
            )
        },
    ]
}

/// A code of a coded field (or set) in Chinese: `none` of `work_ability` is 无.
pub fn code_label_zh(col: Col, code: &str) -> Option<&'static str> {
    match col {
        Col::Sex => match code {
            "male" => Some("男"),
            "female" => Some("女"),
            _ => None,
        },
        Col::Relation => Relation::parse(code).map(Relation::label_zh),
        Col::Marital => Marital::parse(code).map(Marital::label_zh),
        Col::Illness => Health::parse(code).map(Health::label_zh),
        Col::DisabilityType => DisabilityKind::parse(code).map(DisabilityKind::label_zh),
        Col::WorkAbility => WorkAbility::parse(code).map(WorkAbility::label_zh),
        Col::Employment => Employment::parse(code).map(Employment::label_zh),
        Col::Schooling => Schooling::parse(code).map(Schooling::label_zh),
        Col::Categories | Col::HouseholdCategories => Category::parse(code).map(Category::label_zh),
        Col::Housing => Tenure::parse(code).map(Tenure::label_zh),
        Col::Registration => Registration::parse(code).map(Registration::label_zh),
        Col::Tags => Tag::parse(code).map(Tag::label_zh),
        _ => None,
    }
}

/// A reason or a condition as a person reads it, in Chinese: fields and parameters
/// by their names (money ones without "(分)": reasons show yuan), a code by its
/// label in the field it is compared with or tested against (`'none'` after
/// `work_ability` is “无”). What it does not know is left as written.
pub fn readable_zh(text: &str, params: &[(String, String)]) -> String {
    let folded: Vec<String> =
        chinese_only(text).split('；').map(|c| outcome_zh(c).unwrap_or_else(|| c.to_owned())).collect();
    let words = member_calls_zh(&folded.join("；")).replace("= true", "= 是").replace("= false", "= 否");
    let text = words.as_str();
    static FIELDS: std::sync::LazyLock<Vec<Field>> = std::sync::LazyLock::new(fields);
    let field = |word: &str| FIELDS.iter().find(|f| f.name == member_field(word));
    let plain = |label: &'static str| label.strip_suffix("（分）").unwrap_or(label);
    let is_word = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.';
    // Where one condition or argument ends and another begins.
    let is_break = |ch: char| matches!(ch, '；' | '，' | ',' | '&' | '|' | '(' | ')' | '（' | '）');
    let mut out = String::with_capacity(text.len() * 2);
    // The field named last in this condition: a code that follows is one of its values.
    let mut last: Option<Col> = None;
    let mut before = ' ';
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\''
            && let Some(end) = rest[1..].find('\'')
        {
            let code = &rest[1..1 + end];
            // `'none' == work_ability`, `'dibao' in categories`: the field may come after.
            let ahead = rest[end + 2..].split(is_break).next().unwrap_or("");
            let next = ahead.split(|ch: char| !is_word(ch)).filter(|w| !w.is_empty() && *w != "in").find_map(field);
            match last.or(next.map(|f| f.col)).and_then(|col| code_label_zh(col, code)) {
                Some(label) => out.push_str(&format!("“{label}”")),
                None => out.push_str(&rest[..end + 2]),
            }
            rest = &rest[end + 2..];
            before = '\'';
            continue;
        }
        if c.is_ascii_lowercase() || c == '_' {
            let len = rest.find(|ch: char| !is_word(ch)).unwrap_or(rest.len());
            let word = rest[..len].trim_end_matches('.');
            let len = word.len();
            // A function or method (`size(`, `.size()`) is not a field of that name.
            let call = before == '.' || rest[len..].starts_with('(');
            if let Some(param) = word.strip_prefix("params.")
                && let Some((_, label)) = params.iter().find(|(n, _)| n == param)
            {
                out.push_str(label);
            } else if let Some(f) = field(word).filter(|_| !call) {
                out.push_str(plain(f.label_zh));
                last = Some(f.col);
            } else {
                out.push_str(word);
            }
            rest = &rest[len..];
            before = 'a';
            continue;
        }
        if is_break(c) {
            last = None;
        }
        out.push(c);
        before = c;
        rest = &rest[c.len_utf8()..];
    }
    operators_zh(&out)
}

/// The engine's notes come in both languages, `已故 (deceased)`: the Chinese alone.
fn chinese_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" (") {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let chinese = head.chars().next_back().is_some_and(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let english = tail[2..].starts_with(|c: char| c.is_ascii_lowercase());
        let end = if chinese && english { tail.find(')').filter(|&end| !tail[2..end].contains('(')) } else { None };
        match end {
            Some(end) => rest = &tail[end + 1..],
            None => {
                out.push_str(" (");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A rule's operators in words and signs a field worker reads: `&&` as 且, `>=` as ≥,
/// `a ? b : c` as `a 则 b，否则 c`, a `!` left after `!=` as 非.
fn operators_zh(text: &str) -> String {
    const SIGNS: [(&str, &str); 6] =
        [("&&", " 且 "), ("||", " 或 "), (">=", " ≥ "), ("<=", " ≤ "), ("!=", " ≠ "), ("==", " = ")];
    const WORDS: [(&str, &str); 4] = [(" ? ", " 则 "), (" : ", "，否则 "), (" in ", " 属于 "), ("!", "非")];
    let signed = SIGNS.iter().fold(text.to_owned(), |t, (op, sign)| t.replace(op, sign));
    // The signs bring their own spaces: one between words.
    let spaced = signed.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    WORDS.iter().fold(spaced, |t, (op, word)| t.replace(op, word))
}

/// A condition that is one `members.exists` or `members.all` and its outcome, said
/// as what holds: `!members.all(m, …) = true` as `有成员不满足(…)`, `members.exists(m, …)
/// = false` as `没有成员满足(…)`. None for any other condition.
fn outcome_zh(condition: &str) -> Option<String> {
    let (not, text) = match condition.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, condition),
    };
    let after = text.strip_prefix("members.")?;
    let (call, after) =
        ["exists", "all"].into_iter().find_map(|c| Some((c, after.strip_prefix(c)?.strip_prefix('(')?)))?;
    let after = after.trim_start().strip_prefix(|c: char| c.is_ascii_lowercase())?.trim_start().strip_prefix(',')?;
    // The call's own closing bracket (quoted text stepped over).
    let (mut depth, mut quoted, mut close) = (1, false, None);
    for (i, c) in after.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let rest = &after[close + 1..];
    let (value, tail) = match (rest.strip_prefix(" = true"), rest.strip_prefix(" = false")) {
        (Some(tail), _) => (true, tail),
        (_, Some(tail)) => (false, tail),
        _ => return None,
    };
    let words = match (call, value != not) {
        ("exists", true) => "有成员满足",
        ("exists", false) => "没有成员满足",
        (_, true) => "全部成员满足",
        (_, false) => "有成员不满足",
    };
    Some(format!("{words}({}){tail}", after[..close].trim()))
}

/// `!members.all(m, …` as `并非全部成员满足(…`, and the other member functions likewise.
fn member_calls_zh(text: &str) -> String {
    const CALLS: [(&str, &str); 4] = [
        ("exists_one", "恰有一名成员满足"),
        ("exists", "有成员满足"),
        ("all", "全部成员满足"),
        ("count", "满足条件的成员人数"),
    ];
    let mut out = String::with_capacity(text.len() * 2);
    let mut rest = text;
    while let Some(at) = rest.find("members.") {
        let (head, tail) = rest.split_at(at);
        let after = &tail["members.".len()..];
        // `exists(m, `: the function, its variable (one letter) and the comma.
        let call = CALLS.iter().find_map(|&(name, words)| {
            let r = after.strip_prefix(name)?.strip_prefix('(')?.trim_start();
            let r = r.strip_prefix(|c: char| c.is_ascii_lowercase())?.trim_start().strip_prefix(',')?;
            Some((words, r.trim_start()))
        });
        match call {
            Some((words, r)) => {
                match head.trim_end().strip_suffix('!') {
                    Some(before) => {
                        out.push_str(before);
                        out.push_str("并非");
                    }
                    None => out.push_str(head),
                }
                out.push_str(words);
                out.push('(');
                rest = r;
            }
            None => {
                out.push_str(head);
                out.push_str("members.");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A member's field (`m.age`) as the field it names (`age`).
pub(crate) fn member_field(word: &str) -> &str {
    word.split_once('.').filter(|(v, _)| v.len() == 1).map_or(word, |(_, f)| f)
}

/// The variable that holds the living members, for `members.exists(m, …)`.
pub const MEMBERS: &str = "members";
/// The namespace of the district's dated parameters.
pub const PARAMS: &str = "params";
