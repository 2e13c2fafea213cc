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

            /// Finds a value by its code or its Chinese label, full-width
            /// and half-width forms alike (a ledger's `（` is our `（`).
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                // Exactly as written first: most cells are, and comparing
                // widths character by character is what a sheet's reading spent most on.
                Self::ALL.iter().copied().find(|v| v.code() == s || v.label_zh() == s)
                    .or_else(|| Self::ALL.iter().copied().find(|v| $crate::registry::same_text(v.label_zh(), s)))
            }
        }
    };
}

/// The half-width form of a full-width character (`１`, `（`, the
/// ideographic space); any other character as it is.
pub fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Whether a person's name is a number: seven digits or more, full-width or not, as an ID
/// number or a phone typed into the name (a list would then show it whole).
pub fn number_as_name(name: &str) -> bool {
    name.chars().map(half_width).filter(char::is_ascii_digit).count() >= 7
}

/// Whether two texts are the same but for full-width and half-width forms.
pub fn same_text(a: &str, b: &str) -> bool {
    // Only U+3000 and U+FF01–U+FF5E change width; their UTF-8 starts 0xE3 or 0xEF.
    // Texts without either lead byte (most labels, most cells) compare as they are.
    let may_change = |s: &str| s.bytes().any(|b| b == 0xE3 || b == 0xEF);
    if a == b || !(may_change(a) || may_change(b)) {
        return a == b;
    }
    a.chars().map(half_width).eq(b.chars().map(half_width))
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
        // Recorded by the district catalogue's policies (catalogue/*.toml), one each.
        TekunCare = "tekun_care", "特困人员照料护理补贴", "care subsidy for extreme-poverty persons";
        LeftBehindCare = "left_behind_care", "农村留守儿童关爱服务", "care for left-behind children";
        ElderlyAllowance = "elderly_allowance", "高龄津贴", "old-age allowance";
        ElderlyHomeCare = "elderly_home_care", "经济困难老年人居家养老服务补贴", "home-care subsidy for elderly in need";
        ElderlyVisiting = "elderly_visiting", "特殊困难老年人探访关爱", "visits to elderly in special difficulty";
        ElderlyHomeAdaptation = "elderly_home_adaptation", "居家适老化改造", "home adaptation for the elderly";
        FestivalVisit = "festival_visit", "节日慰问", "festival visit";
        WinterRelief = "winter_relief", "寒冬送温暖", "winter relief";
        DisabilityRehab = "disability_rehab", "残疾人基本康复服务", "rehabilitation for persons with disability";
        ChildRehab = "child_rehab", "残疾儿童康复救助", "rehabilitation aid for children with disability";
        HomeAccessibility = "home_accessibility", "家庭无障碍改造", "home accessibility works";
        AssistiveDevices = "assistive_devices", "辅助器具适配", "assistive devices";
        DisabilityEmployment = "disability_employment", "残疾人就业帮扶", "employment help for persons with disability";
        PreschoolAid = "preschool_aid", "学前教育资助", "preschool aid";
        CompulsorySubsidy = "compulsory_subsidy", "义务教育家庭经济困难学生生活补助", "compulsory-education living subsidy";
        SeniorGrant = "senior_grant", "普通高中国家助学金", "senior high school national grant";
        SeniorFeeWaiver = "senior_fee_waiver", "普通高中免学杂费", "senior high school fee waiver";
        VocationalFeeWaiver = "vocational_fee_waiver", "中职免学费", "vocational school tuition waiver";
        VocationalGrant = "vocational_grant", "中职国家助学金", "vocational school national grant";
        FreshmanAid = "freshman_aid", "高校新生入学资助", "university freshman aid";
        StudentLoan = "student_loan", "生源地信用助学贷款", "student loan";
        PremiumTekun = "premium_tekun", "特困人员资助参保", "medical insurance premium paid for extreme-poverty persons";
        PremiumDibao = "premium_dibao", "低保对象资助参保", "medical insurance premium aid for minimum-allowance recipients";
        PremiumEdge = "premium_edge", "低边对象资助参保", "medical insurance premium aid for near-poverty persons";
        PremiumResident = "premium_resident", "城乡居民医保资助参保", "resident medical insurance premium aid";
        OutpatientAid = "outpatient_aid", "门诊医疗救助", "outpatient medical assistance";
        InpatientAid = "inpatient_aid", "住院医疗救助", "inpatient medical assistance";
        PublicWelfarePost = "public_welfare_post", "公益性岗位", "public-welfare post";
        EmploymentAssistance = "employment_assistance", "就业援助", "employment assistance";
        TrainingSubsidy = "training_subsidy", "职业培训补贴", "vocational training subsidy";
        PensionPremium = "pension_premium", "城乡居民养老保险代缴", "resident pension premium paid";
        HousingRepair = "housing_repair", "农村危房改造", "rural dangerous-housing repair";
        PublicRental = "public_rental", "公租房实物配租", "public rental housing";
        RentSubsidy = "rent_subsidy", "公租房租赁补贴", "rent subsidy";
        FamilyDoctor = "family_doctor", "家庭医生签约服务", "contracted family doctor";
        MentalCareReward = "mental_care_reward", "严重精神障碍患者监护补助", "guardian reward for severe mental disorder";
        LegalAid = "legal_aid", "法律援助", "legal aid";
        JudicialAid = "judicial_aid", "国家司法救助", "state judicial assistance";
        WorkerHardship = "worker_hardship", "困难职工帮扶", "help for workers in hardship";
        GoldenAutumn = "golden_autumn", "金秋助学", "golden-autumn school aid";
        Chunlei = "chunlei", "春蕾计划", "Spring Bud aid for girls";
        WomenIllnessAid = "women_illness_aid", "困难患病妇女救助", "aid for women in hardship with major illness";
        HopeProject = "hope_project", "希望工程助学", "Project Hope school aid";
        RedCrossAid = "red_cross_aid", "红十字人道救助", "Red Cross humanitarian aid";
        CharityAid = "charity_aid", "慈善救助", "charity aid";
        SmallLoan = "small_loan", "脱贫人口小额信贷", "micro-loan for people lifted out of poverty";
        YuluPlan = "yulu_plan", "雨露计划", "Rain and Dew vocational-education aid";
        OrphanAllowance = "orphan_allowance", "孤儿基本生活费", "orphan living allowance";
        UnsupportedChildAllowance = "unsupported_child_allowance", "事实无人抚养儿童基本生活费", "living allowance of a de-facto unsupported child";
    }
);

coded!(
    /// The state of the home the household lives in (住房条件), beside the 危房 flag.
    HousingCondition {
        Good = "good", "良好", "good";
        Fair = "fair", "一般", "fair";
        Poor = "poor", "较差", "poor";
    }
);

coded!(
    /// A household's monthly income that no one member earns (家庭收入项目),
    /// as the income check of 低保 counts it beside the members' own wages and
    /// pensions: the family's farm or shop, rents and interest, and what it
    /// receives (赡养费、抚养费, compensation).
    IncomeKind {
        Business = "business", "经营净收入", "net business income";
        Property = "property", "财产净收入", "net property income";
        Transfer = "transfer", "转移净收入", "net transfer income";
        Other = "other", "其他收入", "other income";
    }
);

/// One item of a household's monthly income.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeItem {
    pub kind: IncomeKind,
    #[serde(rename = "monthly_fen")]
    pub monthly: Fen,
}

impl IncomeItem {
    /// Items as stored: `business:120000,transfer:50000`, in `IncomeKind` order.
    pub fn encode(items: &[IncomeItem]) -> String {
        let mut items = items.to_vec();
        items.sort_by_key(|i| i.kind);
        items.iter().map(|i| format!("{}:{}", i.kind.code(), i.monthly.0)).collect::<Vec<_>>().join(",")
    }

    /// Reads what [`IncomeItem::encode`] wrote; `None` when it is damaged.
    pub fn decode(s: &str) -> Option<Vec<IncomeItem>> {
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (kind, fen) = p.split_once(':')?;
                Some(IncomeItem { kind: IncomeKind::parse(kind)?, monthly: Fen(fen.parse().ok()?) })
            })
            .collect()
    }

    /// Two households' items as one household's (merged households): amounts of a kind added.
    pub fn combined(a: &[IncomeItem], b: &[IncomeItem]) -> Vec<IncomeItem> {
        let mut items: Vec<IncomeItem> = a.to_vec();
        for item in b {
            match items.iter_mut().find(|i| i.kind == item.kind) {
                Some(same) => same.monthly = same.monthly + item.monthly,
                None => items.push(*item),
            }
        }
        items.sort_by_key(|i| i.kind);
        items
    }

    /// The sum of the items.
    pub fn total(items: &[IncomeItem]) -> Fen {
        items.iter().map(|i| i.monthly).sum()
    }
}

coded!(
    /// Household tags used for targeting and follow-up.
    Tag {
        LivingAlone = "living_alone", "独居", "living alone";
        EmptyNest = "empty_nest", "空巢", "empty nest";
        LeftBehind = "left_behind", "留守", "left behind";
        MultiDisabled = "multi_disabled", "一户多残", "several members with disability";
        KeyFocus = "key_focus", "重点关注", "key focus";
        CrimeVictim = "crime_victim", "刑事被害人（未获赔偿）", "victim of crime, not compensated";
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
    /// Facts a ledger without their column left at a default, not recorded yet
    /// (`policy::Unrecorded` bits: marital status, health, work ability,
    /// employment, schooling). Saving the member's form records them.
    pub unrecorded: u8,
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
    /// The home's state, if recorded.
    pub housing_condition: Option<HousingCondition>,
    /// Rated C or D: 危房.
    pub dangerous_housing: bool,
    /// Household assets (savings, vehicles, …) in fen.
    pub assets: Fen,
    /// Monthly income of the household as a whole, one item per kind.
    pub income_items: Vec<IncomeItem>,
    /// Its income is not recorded yet (a sheet without income columns registered
    /// it): a rule that reads an income cannot decide for it.
    pub income_unrecorded: bool,
    /// Its assets are not recorded yet, likewise.
    pub assets_unrecorded: bool,
    pub tags: Vec<Tag>,
    pub categories: Vec<Holding>,
    pub members: Vec<Person>,
}

impl Household {
    /// The living members' monthly incomes and the household's income items.
    pub fn monthly_income(&self) -> Fen {
        let members: Fen = self.members.iter().filter(|m| m.death_date.is_none()).map(|m| m.monthly_income).sum();
        members + IncomeItem::total(&self.income_items)
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
    fn texts_are_the_same_whatever_the_width_of_their_characters() {
        assert!(same_text("刑事被害人(未获赔偿)", "刑事被害人（未获赔偿）"));
        assert!(same_text("ＡＢ　1", "AB 1"));
        assert!(same_text("低保", "低保"));
        assert!(!same_text("低保", "低边"));
        assert!(!same_text("（低保）", "(低边)"));
    }

    #[test]
    fn coded_values_parse_from_code_or_chinese_label() {
        assert_eq!(Category::parse("低保"), Some(Category::Dibao));
        assert_eq!(Category::parse(" dibao_edge "), Some(Category::DibaoEdge));
        assert_eq!(Relation::parse("户主"), Some(Relation::Head));
        assert_eq!(DisabilityKind::parse("视力"), Some(DisabilityKind::Visual));
        assert_eq!(Tenure::parse("别墅"), None);
    }

    #[test]
    fn income_items_round_trip_in_kind_order() {
        let items = [
            IncomeItem { kind: IncomeKind::Transfer, monthly: Fen(50_000) },
            IncomeItem { kind: IncomeKind::Business, monthly: Fen(120_000) },
        ];
        let stored = IncomeItem::encode(&items);
        assert_eq!(stored, "business:120000,transfer:50000");
        assert_eq!(IncomeItem::decode(&stored), Some(vec![items[1], items[0]]));
        assert_eq!(IncomeItem::decode(""), Some(Vec::new()));
        assert_eq!(IncomeItem::decode("wages:1"), None);
        assert_eq!(IncomeItem::total(&items), Fen(170_000));
        let other = [
            IncomeItem { kind: IncomeKind::Business, monthly: Fen(1) },
            IncomeItem { kind: IncomeKind::Other, monthly: Fen(2) },
        ];
        assert_eq!(IncomeItem::encode(&IncomeItem::combined(&items, &other)), "business:120001,transfer:50000,other:2");
    }

    #[test]
    fn codes_are_unique_per_enum() {
        let mut codes: Vec<_> = Category::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Category::ALL.len());
    }
}
