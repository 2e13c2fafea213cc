//! The household registry (一户一表): households in difficulty and their members.
//!
//! Coded values are enums with a stable ASCII code (stored and sent over the
//! API) and Chinese and English labels (shown and read from sheets).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{DivisionCode, Fen, IdNumber};

/// Declares a coded enum with its stable code and its zh-CN and English labels.
macro_rules! coded {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$variant => $zh,)+ }
            }

            pub fn label_en(self) -> &'static str {
                match self { $(Self::$variant => $en,)+ }
            }

            /// Finds a value by its code or its Chinese label.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.code() == s || v.label_zh() == s)
            }
        }
    };
}

coded!(
    /// Registered residence type (户籍性质).
    Registration {
        Urban = "urban", "城镇", "urban";
        Rural = "rural", "农村", "rural";
    }
);

coded!(
    /// Housing tenure.
    Tenure {
        Own = "own", "自有", "owned";
        Rent = "rent", "租赁", "rented";
        Public = "public", "公租房", "public rental";
        Homeless = "none", "无房", "no housing";
    }
);

coded!(
    /// Relation to the head of the household.
    Relation {
        Head = "head", "户主", "head";
        Spouse = "spouse", "配偶", "spouse";
        Child = "child", "子女", "child";
        Parent = "parent", "父母", "parent";
        Grandchild = "grandchild", "孙子女", "grandchild";
        Sibling = "sibling", "兄弟姐妹", "sibling";
        Other = "other", "其他", "other";
    }
);

coded!(
    /// Assistance categories (救助对象类别) a household or person holds.
    Category {
        Dibao = "dibao", "低保", "minimum living allowance";
        DibaoEdge = "dibao_edge", "低边", "near-poverty";
        Tekun = "tekun", "特困", "extreme poverty support";
        Orphan = "orphan", "孤儿", "orphan";
        UnsupportedChild = "unsupported_child", "事实无人抚养儿童", "de-facto unsupported child";
        ChildInDifficulty = "child_in_difficulty", "困境儿童", "child in hardship";
        DisabilityLiving = "disability_living", "困难残疾人生活补贴", "living subsidy for persons with disability";
        DisabilityCare = "disability_care", "重度残疾人护理补贴", "care subsidy for severe disability";
        Temporary = "temporary", "临时救助", "temporary assistance";
        ExpensePoverty = "expense_poverty", "支出型贫困", "expense-driven poverty";
        EmploymentDifficulty = "employment_difficulty", "就业困难人员", "employment difficulty";
        LiftedOut = "lifted_out", "脱贫劳动力", "worker lifted out of poverty";
    }
);

coded!(
    /// Household tags used for targeting and follow-up.
    Tag {
        LivingAlone = "living_alone", "独居", "living alone";
        EmptyNest = "empty_nest", "空巢", "empty nest";
        LeftBehind = "left_behind", "留守", "left behind";
        MultiDisabled = "multi_disabled", "一户多残", "several members with disability";
        KeyFocus = "key_focus", "重点关注", "key focus";
    }
);

coded!(
    /// Disability type on the disability certificate.
    DisabilityKind {
        Physical = "physical", "肢体", "physical";
        Intellectual = "intellectual", "智力", "intellectual";
        Visual = "visual", "视力", "visual";
        Hearing = "hearing", "听力", "hearing";
        Speech = "speech", "言语", "speech";
        Mental = "mental", "精神", "mental";
        Multiple = "multiple", "多重", "multiple";
    }
);

coded!(
    WorkAbility {
        Full = "full", "有", "able to work";
        Partial = "partial", "部分", "partly able";
        None = "none", "无", "unable to work";
    }
);

coded!(
    Marital {
        Single = "single", "未婚", "single";
        Married = "married", "已婚", "married";
        Divorced = "divorced", "离婚", "divorced";
        Widowed = "widowed", "丧偶", "widowed";
    }
);

coded!(
    Health {
        Healthy = "healthy", "健康", "healthy";
        Chronic = "chronic", "慢性病", "chronic illness";
        Major = "major", "大病", "major illness";
    }
);

coded!(
    Employment {
        Employed = "employed", "在业", "employed";
        Unemployed = "unemployed", "失业", "unemployed";
        Retired = "retired", "退休", "retired";
        Student = "student", "在校", "student";
        NotWorking = "not_working", "无业", "not working";
    }
);

coded!(
    Schooling {
        NotInSchool = "none", "未上学", "not in school";
        Preschool = "preschool", "学前", "preschool";
        Primary = "primary", "小学", "primary";
        Junior = "junior", "初中", "junior secondary";
        Senior = "senior", "高中", "senior secondary";
        Vocational = "vocational", "中职", "vocational";
        Higher = "higher", "大学", "higher education";
    }
);

/// A disability as on the certificate: type and grade 1 (most severe) to 4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disability {
    pub kind: DisabilityKind,
    pub grade: u8,
    pub certificate: String,
}

/// An assistance category held from `start`, until `end` if it has ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    pub category: Category,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// One member of a household. Sex, birth date and age derive from the ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub id_number: IdNumber,
    pub relation: Relation,
    pub phone: Option<String>,
    pub marital: Marital,
    pub health: Health,
    pub disability: Option<Disability>,
    pub work_ability: WorkAbility,
    pub employment: Employment,
    pub schooling: Schooling,
    pub monthly_income: Fen,
    pub categories: Vec<Holding>,
    pub death_date: Option<NaiveDate>,
}

/// A household in difficulty (一户一表) with its members, head first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Household {
    /// 户编号, unique in the district.
    pub number: String,
    /// The community or village (12-digit code) the household belongs to.
    pub community: DivisionCode,
    pub address: String,
    pub phone: Option<String>,
    pub registration: Registration,
    pub tenure: Tenure,
    /// Rated C or D: 危房.
    pub dangerous_housing: bool,
    /// Household assets (savings, vehicles, …) in fen.
    pub assets: Fen,
    pub tags: Vec<Tag>,
    pub categories: Vec<Holding>,
    pub members: Vec<Person>,
}

impl Household {
    /// Sum of the members' monthly incomes.
    pub fn monthly_income(&self) -> Fen {
        self.members.iter().map(|m| m.monthly_income).sum()
    }

    /// Monthly income per living member, in fen (rounded down).
    pub fn per_capita_income(&self) -> Fen {
        let living = self.members.iter().filter(|m| m.death_date.is_none()).count().max(1);
        Fen(self.monthly_income().0 / living as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_values_parse_from_code_or_chinese_label() {
        assert_eq!(Category::parse("低保"), Some(Category::Dibao));
        assert_eq!(Category::parse(" dibao_edge "), Some(Category::DibaoEdge));
        assert_eq!(Relation::parse("户主"), Some(Relation::Head));
        assert_eq!(DisabilityKind::parse("视力"), Some(DisabilityKind::Visual));
        assert_eq!(Tenure::parse("别墅"), None);
    }

    #[test]
    fn codes_are_unique_per_enum() {
        let mut codes: Vec<_> = Category::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Category::ALL.len());
    }
}
