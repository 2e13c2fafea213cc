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

/// The variable that holds the living members, for `members.exists(m, …)`.
pub const MEMBERS: &str = "members";
/// The namespace of the district's dated parameters.
pub const PARAMS: &str = "params";
