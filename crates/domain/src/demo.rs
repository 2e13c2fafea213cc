//! The demo district and benchmark data generator.
//!
//! Households in difficulty of one district, generated deterministically from a
//! seed and streamed one at a time, so ten million persons take no more memory
//! than ten. Proportions follow what districts report (DOMAIN.md): most
//! households hold 低保, far fewer 特困 or orphans, most members have no
//! disability; a few percent are deliberately inconsistent (income above the
//! line while holding 低保, below it without) so eligibility sweeps have
//! something to find, as in real ledgers.

use std::collections::HashMap;
use std::io::{self, Write};

use chrono::{Datelike, Days, NaiveDate};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::policy::{Catalogue, Columns, Engine, FindingKind, HouseholdFacts, Level, PolicyDef, build_engine};
use crate::registry::{
    Category, Disability, DisabilityKind, Employment, Health, Holding, Household, HousingCondition, IncomeItem,
    IncomeKind, Marital, Person, Registration, Relation, Schooling, Tag, Tenure, WorkAbility,
};
use crate::{DivisionCode, Fen, IdNumber};

/// A community or village households are placed in.
#[derive(Clone, Debug)]
pub struct Community {
    pub code: DivisionCode,
    pub name: String,
}

#[derive(Clone, Copy, Debug)]
pub struct DemoConfig {
    pub households: u64,
    pub seed: u64,
    /// Ages, benefit start dates and deaths are relative to this day.
    pub today: NaiveDate,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DemoError {
    #[error("no communities to place households in")]
    NoCommunities,
    #[error("ran out of ID numbers for birth dates around {0}")]
    IdsExhausted(NaiveDate),
}

/// The local 低保 line used for demo incomes: 760 yuan per person per month
/// (DOMAIN.md: ~700–1,200 yuan).
pub const DEMO_DIBAO_LINE: Fen = Fen(76_000);

/// Area codes of 岳阳市 counties, for members born outside the district.
const OTHER_AREAS: [&str; 8] = ["430603", "430611", "430621", "430623", "430624", "430626", "430681", "430682"];

const SURNAMES: [(&str, u32); 40] = [
    ("李", 79),
    ("王", 74),
    ("张", 71),
    ("刘", 54),
    ("陈", 54),
    ("杨", 37),
    ("黄", 27),
    ("赵", 27),
    ("吴", 22),
    ("周", 22),
    ("徐", 16),
    ("孙", 15),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("高", 11),
    ("林", 11),
    ("罗", 11),
    ("郑", 10),
    ("梁", 10),
    ("谢", 8),
    ("宋", 8),
    ("唐", 8),
    ("许", 7),
    ("韩", 7),
    ("冯", 7),
    ("邓", 7),
    ("曹", 6),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 5),
    ("董", 5),
    ("袁", 5),
    ("潘", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("余", 5),
];
const GIVEN_MALE: &str = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘";
const GIVEN_FEMALE: &str = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽";

/// The kind of household, drawn first; members and benefits follow from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Dibao,
    Edge,
    Tekun,
    Orphan,
    Disability,
    Temporary,
    ExpensePoverty,
    Employment,
}

/// Shares of household kinds, per thousand.
const KINDS: [(Kind, u32); 8] = [
    (Kind::Dibao, 540),
    (Kind::Edge, 170),
    (Kind::Tekun, 35),
    (Kind::Orphan, 15),
    (Kind::Disability, 90),
    (Kind::Temporary, 50),
    (Kind::ExpensePoverty, 40),
    (Kind::Employment, 60),
];

/// Household sizes (members) per hundred, mean ≈ 4.
const SIZES: [(usize, u32); 7] = [(1, 6), (2, 10), (3, 20), (4, 26), (5, 20), (6, 12), (7, 6)];

const DISABILITY_KINDS: [(DisabilityKind, u32); 7] = [
    (DisabilityKind::Physical, 45),
    (DisabilityKind::Intellectual, 10),
    (DisabilityKind::Visual, 12),
    (DisabilityKind::Hearing, 12),
    (DisabilityKind::Speech, 2),
    (DisabilityKind::Mental, 12),
    (DisabilityKind::Multiple, 7),
];

const TENURES: [(Tenure, u32); 4] =
    [(Tenure::Own, 50), (Tenure::Rent, 25), (Tenure::Public, 20), (Tenure::Homeless, 5)];

/// Streams households; see the module documentation.
pub struct DemoGenerator {
    config: DemoConfig,
    rng: SmallRng,
    communities: Vec<Community>,
    /// Cumulative community weights, so streets differ in size.
    weights: Vec<u32>,
    produced: u64,
    household_numbers: Vec<u32>,
    /// Next free sequence per (area, birth date, sex): ID numbers never repeat.
    sequences: HashMap<(u8, NaiveDate, bool), u16>,
    /// The shipped catalogue, to hand out the benefits of its policies, with
    /// its own random stream so the households themselves do not depend on it.
    catalogue: CatalogueBenefits,
    benefit_rng: SmallRng,
}

/// The shipped catalogue's policies whose received category the generator
/// does not set itself: most who qualify get it, a few who do not keep it.
struct CatalogueBenefits {
    engine: Engine,
    /// Per policy: its level and received category, if handed out here.
    policies: Vec<Option<(Level, Category)>>,
    /// Per policy: somebody who qualifies was left without it (应享未享) …
    left_out: Vec<bool>,
    /// … and somebody holds it who does not qualify (应退未退).
    outlived: Vec<bool>,
}

/// Categories `benefits` sets from the household's kind.
const OWN_CATEGORIES: [Category; 12] = [
    Category::Dibao,
    Category::DibaoEdge,
    Category::Tekun,
    Category::Orphan,
    Category::UnsupportedChild,
    Category::ChildInDifficulty,
    Category::DisabilityLiving,
    Category::DisabilityCare,
    Category::Temporary,
    Category::ExpensePoverty,
    Category::EmploymentDifficulty,
    Category::LiftedOut,
];

impl CatalogueBenefits {
    fn new(today: NaiveDate) -> Self {
        let catalogue = Catalogue::demo();
        let defs: Vec<&PolicyDef> = catalogue.policies.iter().collect();
        let (engine, _) = build_engine(&defs, &catalogue.vocabulary(today));
        let policies: Vec<Option<(Level, Category)>> = defs
            .iter()
            .map(|p| {
                let category = Category::parse(&p.records).filter(|c| !OWN_CATEGORIES.contains(c))?;
                Some((p.level, category))
            })
            .collect();
        let n = policies.len();
        Self { engine, policies, left_out: vec![false; n], outlived: vec![false; n] }
    }

    /// Gives 85% of those who qualify the benefit (never the first of a
    /// policy), and a few a benefit they no longer qualify for (always one
    /// early on), so that both sweep lists of every policy have rows.
    fn hand_out(&mut self, h: &mut Household, today: NaiveDate, rng: &mut SmallRng) {
        let give = |h: &mut Household, level: Level, category, person: Option<u32>, rng: &mut SmallRng| {
            let holding = Holding { category, start: today - Days::new(rng.random_range(30..1500)), end: None };
            match (level, person) {
                (Level::Person, Some(p)) => h.members[p as usize].categories.push(holding),
                _ => h.categories.push(holding),
            }
        };
        // Twice: some policies build on another's category (金秋助学 on 困难职工).
        let mut qualifying: Vec<(usize, Option<u32>)> = Vec::new();
        for _ in 0..2 {
            let columns = Columns::build(today, [HouseholdFacts::of(0, 1, h, 0)]);
            let missing: Vec<_> = self
                .engine
                .evaluate(&columns, &[0])
                .into_iter()
                .filter(|f| f.kind == FindingKind::Missing)
                .map(|f| (f.policy as usize, f.person()))
                .collect();
            for (policy, person) in missing {
                // Each gets one draw, in the pass where it first qualifies.
                if qualifying.contains(&(policy, person)) {
                    continue;
                }
                qualifying.push((policy, person));
                let Some((level, category)) = self.policies[policy] else { continue };
                // The first who qualifies is always left out, so the list is never empty.
                if std::mem::replace(&mut self.left_out[policy], true) && rng.random_bool(0.85) {
                    give(h, level, category, person, rng);
                }
            }
        }
        // A few benefits outlive the reason for them (应退未退): 0.4% per policy
        // and household, and always one until a policy has one.
        let living: Vec<u32> =
            (0..h.members.len() as u32).filter(|&i| h.members[i as usize].death_date.is_none()).collect();
        for (policy, handed) in self.policies.iter().enumerate() {
            let Some((level, category)) = *handed else { continue };
            if living.is_empty() || (self.outlived[policy] && !rng.random_bool(0.004)) {
                continue;
            }
            let person = (level == Level::Person).then(|| living[rng.random_range(0..living.len())]);
            if !qualifying.contains(&(policy, person)) {
                give(h, level, category, person, rng);
                self.outlived[policy] = true;
            }
        }
    }
}

impl DemoGenerator {
    pub fn new(config: DemoConfig, communities: Vec<Community>) -> Result<Self, DemoError> {
        if communities.is_empty() {
            return Err(DemoError::NoCommunities);
        }
        let mut rng = SmallRng::seed_from_u64(config.seed);
        let mut total = 0;
        let weights = communities
            .iter()
            .map(|_| {
                total += rng.random_range(50..150);
                total
            })
            .collect();
        let household_numbers = vec![0; communities.len()];
        let catalogue = CatalogueBenefits::new(config.today);
        let benefit_rng = SmallRng::seed_from_u64(config.seed ^ 0x5eed_be9e_f175);
        Ok(Self {
            config,
            rng,
            communities,
            weights,
            produced: 0,
            household_numbers,
            sequences: HashMap::new(),
            catalogue,
            benefit_rng,
        })
    }

    fn household(&mut self) -> Result<Household, DemoError> {
        let total = *self.weights.last().unwrap_or(&1);
        let point = self.rng.random_range(0..total);
        let index = self.weights.partition_point(|&w| w <= point);
        self.household_numbers[index] += 1;
        let community = self.communities[index].clone();
        let kind = pick(&mut self.rng, &KINDS);
        let mut members = self.members(kind)?;
        let rural = community.name.contains('村');
        let mut h = Household {
            number: format!("{}{:05}", community.code, self.household_numbers[index]),
            address: self.address(&community.name, rural),
            community: community.code,
            phone: Some(self.phone()),
            registration: if rural || self.rng.random_bool(0.1) { Registration::Rural } else { Registration::Urban },
            tenure: pick(&mut self.rng, &TENURES),
            housing_condition: None,
            dangerous_housing: rural && self.rng.random_bool(0.05),
            assets: Fen(self.rng.random_range(0..3_000_000)),
            income_items: Vec::new(),
            income_unrecorded: false,
            assets_unrecorded: false,
            tags: Vec::new(),
            categories: Vec::new(),
            members: Vec::new(),
        };
        // A 危房 is in poor condition; other homes mostly good or fair, some
        // unrecorded (read off the assets drawn, so the random stream is as before).
        h.housing_condition = match h.assets.0 % 10 {
            _ if h.dangerous_housing => Some(HousingCondition::Poor),
            0 => None,
            1..=5 => Some(HousingCondition::Good),
            6..=8 => Some(HousingCondition::Fair),
            _ => Some(HousingCondition::Poor),
        };
        h.income_items = self.incomes(kind, &h, &mut members);
        h.members = members;
        self.benefits(kind, &mut h);
        h.tags = tags(&h, self.config.today, &mut self.rng);
        self.catalogue.hand_out(&mut h, self.config.today, &mut self.benefit_rng);
        Ok(h)
    }

    fn members(&mut self, kind: Kind) -> Result<Vec<Person>, DemoError> {
        let today = self.config.today;
        let size = match kind {
            Kind::Tekun => 1,
            Kind::Orphan => self.rng.random_range(2..=4),
            _ => pick(&mut self.rng, &SIZES),
        };
        let mut out = Vec::with_capacity(size);
        if kind == Kind::Orphan {
            // A grandparent heads the household and raises the orphaned grandchildren.
            let head_age = self.rng.random_range(55..80);
            let male = self.rng.random_bool(0.4);
            let surname = self.surname();
            out.push(self.person(&surname, male, head_age, Relation::Head)?);
            let mut left = size - 1;
            if left > 1 && self.rng.random_bool(0.5) {
                let spouse = self.surname();
                let age = head_age + self.rng.random_range(0..5) - 2;
                out.push(self.person(&spouse, !male, age, Relation::Spouse)?);
                // A head living with a spouse is married, whatever was drawn.
                out[0].marital = Marital::Married;
                left -= 1;
            }
            for _ in 0..left {
                let (m, age) = (self.rng.random_bool(0.5), self.rng.random_range(1..18));
                out.push(self.person(&surname, m, age, Relation::Grandchild)?);
            }
            return Ok(out);
        }
        let head_age = match (kind, size) {
            (Kind::Tekun, _) if self.rng.random_bool(0.2) => self.rng.random_range(18..60),
            (Kind::Tekun, _) => self.rng.random_range(60..96),
            (_, 1) => self.rng.random_range(35..90),
            _ => self.rng.random_range(28..80),
        };
        let male = self.rng.random_bool(0.65);
        let surname = self.surname();
        out.push(self.person(&surname, male, head_age, Relation::Head)?);
        let mut left = size - 1;
        if left > 0 && self.rng.random_bool(0.8) {
            let spouse = self.surname();
            let age = (head_age as i32 + self.rng.random_range(-6..=4)).max(20) as u32;
            out.push(self.person(&spouse, !male, age, Relation::Spouse)?);
            out[0].marital = Marital::Married;
            left -= 1;
        }
        if left > 0 && head_age < 55 && self.rng.random_bool(0.3) {
            let age = (head_age + self.rng.random_range(22..34)).min(98);
            let surname = if male { surname.clone() } else { self.surname() };
            let m = self.rng.random_bool(0.4);
            out.push(self.person(&surname, m, age, Relation::Parent)?);
            left -= 1;
        }
        let mut child_ages = Vec::new();
        for _ in 0..left {
            let age = head_age.saturating_sub(self.rng.random_range(22..38));
            let m = self.rng.random_bool(0.5);
            if age >= 22 && child_ages.iter().any(|&a: &u32| a >= 22) && self.rng.random_bool(0.6) {
                let parent = child_ages.iter().copied().max().unwrap_or(age);
                let g = parent.saturating_sub(self.rng.random_range(22..30));
                out.push(self.person(&surname, m, g, Relation::Grandchild)?);
            } else {
                child_ages.push(age);
                out.push(self.person(&surname, m, age, Relation::Child)?);
            }
        }
        // A few recently deceased members still on the books, as in real ledgers.
        for p in out.iter_mut().skip(1) {
            if self.rng.random_bool(0.003) {
                let days = self.rng.random_range(1..365);
                let death = today.checked_sub_days(Days::new(days)).unwrap_or(today);
                p.death_date = Some(death.max(p.id_number.birth_date()));
            }
        }
        Ok(out)
    }

    fn person(&mut self, surname: &str, male: bool, age: u32, relation: Relation) -> Result<Person, DemoError> {
        let today = self.config.today;
        let birth = self.birth_date(age);
        let id_number = self.id_number(birth, male)?;
        let age = id_number.age_on(today);
        let rng = &mut self.rng;
        let disability = rng.random_bool(if age >= 60 { 0.12 } else { 0.06 }).then(|| {
            let kind = pick(rng, &DISABILITY_KINDS);
            let grade = pick(rng, &[(1u8, 15), (2, 25), (3, 30), (4, 30)]);
            let digit = DisabilityKind::ALL.iter().position(|&k| k == kind).unwrap_or(0) + 1;
            Disability { kind, grade, certificate: format!("{}{digit}{grade}", id_number.as_str()) }
        });
        let health = match rng.random_range(0..100) {
            0..5 => Health::Major,
            n if n < if age >= 60 { 45 } else { 15 } => Health::Chronic,
            _ => Health::Healthy,
        };
        let severe = disability.as_ref().is_some_and(|d| d.grade <= 2);
        let work_ability = match age {
            _ if severe || health == Health::Major && rng.random_bool(0.5) => WorkAbility::None,
            0..16 | 70.. => WorkAbility::None,
            _ if disability.is_some() || health == Health::Major || age >= 60 => WorkAbility::Partial,
            _ => WorkAbility::Full,
        };
        let schooling = match age {
            3..6 => Schooling::Preschool,
            6..12 => Schooling::Primary,
            12..15 => Schooling::Junior,
            15..18 if rng.random_bool(0.3) => Schooling::Vocational,
            15..18 => Schooling::Senior,
            18..22 if rng.random_bool(0.35) => Schooling::Higher,
            _ => Schooling::NotInSchool,
        };
        let employment = match (age, work_ability) {
            _ if schooling != Schooling::NotInSchool => Employment::Student,
            (0..16, _) => Employment::NotWorking,
            (60.., _) if rng.random_bool(0.35) => Employment::Retired,
            (_, WorkAbility::None) => Employment::NotWorking,
            (_, WorkAbility::Full) if rng.random_bool(0.5) => Employment::Employed,
            (_, WorkAbility::Partial) if rng.random_bool(0.25) => Employment::Employed,
            (16..60, _) if rng.random_bool(0.4) => Employment::Unemployed,
            _ => Employment::NotWorking,
        };
        let marital = match (relation, age) {
            (Relation::Spouse, _) => Marital::Married,
            (_, 0..22) => Marital::Single,
            (_, 22..30) if rng.random_bool(0.6) => Marital::Single,
            (_, 60..) if rng.random_bool(0.4) => Marital::Widowed,
            _ => pick(
                rng,
                &[(Marital::Married, 60), (Marital::Divorced, 20), (Marital::Single, 10), (Marital::Widowed, 10)],
            ),
        };
        let phone = (age >= 16 && rng.random_bool(0.7)).then(|| self.phone());
        Ok(Person {
            name: self.given_name(surname, male),
            id_number,
            relation,
            phone,
            marital,
            health,
            disability,
            work_ability,
            employment,
            schooling,
            monthly_income: Fen::ZERO,
            categories: Vec::new(),
            death_date: None,
            unrecorded: 0,
        })
    }

    /// Sets members' incomes so the household's per-capita income fits its kind,
    /// with a few households on the wrong side of the line.
    /// Part of it is the household's own (a village farm's 经营净收入, support
    /// paid by children living elsewhere), read off the facts already drawn so the
    /// random stream is as before.
    fn incomes(&mut self, kind: Kind, h: &Household, members: &mut [Person]) -> Vec<IncomeItem> {
        let line = DEMO_DIBAO_LINE.0;
        let stray = self.rng.random_bool(0.03);
        let per_capita = match (kind, stray) {
            (Kind::Tekun | Kind::Orphan, _) => 0,
            (Kind::Dibao, false) => self.rng.random_range(0..line * 9 / 10),
            (Kind::Dibao, true) | (Kind::Edge, false) => self.rng.random_range(line..line * 3 / 2),
            (_, true) => self.rng.random_range(line / 4..line * 9 / 10),
            (_, false) => self.rng.random_range(line * 3 / 2..line * 4),
        };
        let living = members.iter().filter(|m| m.death_date.is_none()).count() as i64;
        let mut total = per_capita * living;
        let mut items = Vec::new();
        let own = match h.registration {
            Registration::Rural => Some((IncomeKind::Business, total / 3)),
            Registration::Urban if h.assets.0 % 7 == 3 => Some((IncomeKind::Transfer, total / 4)),
            Registration::Urban => None,
        };
        if let Some((kind, amount)) = own.filter(|&(_, amount)| amount >= 100) {
            let amount = amount / 100 * 100;
            items.push(IncomeItem { kind, monthly: Fen(amount) });
            total -= amount;
        }
        let earners: Vec<usize> = (0..members.len())
            .filter(|&i| {
                members[i].death_date.is_none()
                    && matches!(members[i].employment, Employment::Employed | Employment::Retired)
            })
            .collect();
        let earners = if earners.is_empty() && total > 0 {
            // Somebody earns it: odd jobs of the head.
            members[0].employment = if members[0].work_ability == WorkAbility::None {
                Employment::NotWorking
            } else {
                Employment::Employed
            };
            vec![0]
        } else {
            earners
        };
        for (n, &i) in earners.iter().enumerate() {
            let share = if n + 1 == earners.len() { total } else { total / 2 };
            // Rounded to the yuan, as ledgers record it.
            let share = share / 100 * 100;
            members[i].monthly_income = Fen(share);
            total -= share;
        }
        items
    }

    fn benefits(&mut self, kind: Kind, h: &mut Household) {
        let today = self.config.today;
        let start = |rng: &mut SmallRng, birth: NaiveDate| {
            let days = rng.random_range(30..3000);
            today.checked_sub_days(Days::new(days)).unwrap_or(today).max(birth)
        };
        let head_birth = h.members[0].id_number.birth_date();
        let household_category = match kind {
            Kind::Dibao => Some(Category::Dibao),
            Kind::Edge => Some(Category::DibaoEdge),
            Kind::Temporary => Some(Category::Temporary),
            Kind::ExpensePoverty => Some(Category::ExpensePoverty),
            Kind::Orphan if self.rng.random_bool(0.5) => Some(Category::Dibao),
            _ => None,
        };
        if let Some(category) = household_category {
            h.categories.push(Holding { category, start: start(&mut self.rng, head_birth), end: None });
        }
        let poor = matches!(kind, Kind::Dibao | Kind::Edge | Kind::Tekun | Kind::Orphan);
        for (i, p) in h.members.iter_mut().enumerate() {
            let birth = p.id_number.birth_date();
            let age = p.id_number.age_on(today);
            let mut add = |c: Category, rng: &mut SmallRng| {
                p.categories.push(Holding { category: c, start: start(rng, birth), end: None });
            };
            if kind == Kind::Tekun && i == 0 {
                add(Category::Tekun, &mut self.rng);
            }
            if kind == Kind::Orphan && p.relation == Relation::Grandchild {
                let c = if self.rng.random_bool(0.6) { Category::Orphan } else { Category::UnsupportedChild };
                add(c, &mut self.rng);
            }
            if kind == Kind::Dibao && age < 18 && self.rng.random_bool(0.05) {
                add(Category::ChildInDifficulty, &mut self.rng);
            }
            if let Some(d) = &p.disability {
                let grade = d.grade;
                if poor && self.rng.random_bool(0.9) {
                    add(Category::DisabilityLiving, &mut self.rng);
                }
                if grade <= 2 && self.rng.random_bool(0.9) {
                    add(Category::DisabilityCare, &mut self.rng);
                }
            }
            if kind == Kind::Employment && (16..60).contains(&age) && p.work_ability != WorkAbility::None {
                let c = if self.rng.random_bool(0.5) { Category::EmploymentDifficulty } else { Category::LiftedOut };
                add(c, &mut self.rng);
            }
        }
        if kind == Kind::Disability && h.members.iter().all(|m| m.disability.is_none()) {
            let id = h.members[0].id_number.clone();
            let grade = self.rng.random_range(1..=4);
            h.members[0].disability = Some(Disability {
                kind: DisabilityKind::Physical,
                grade,
                certificate: format!("{}1{grade}", id.as_str()),
            });
            let birth = id.birth_date();
            h.members[0].categories.push(Holding {
                category: Category::DisabilityCare,
                start: start(&mut self.rng, birth),
                end: None,
            });
        }
    }

    fn birth_date(&mut self, age: u32) -> NaiveDate {
        let today = self.config.today;
        let year = today.year() - age as i32;
        let last = NaiveDate::from_ymd_opt(year, today.month(), today.day().min(28)).unwrap_or(today);
        let back = self.rng.random_range(0..365);
        last.checked_sub_days(Days::new(back)).unwrap_or(last).min(today)
    }

    /// A fresh ID number: 85% born in the district, the rest elsewhere in 岳阳市.
    fn id_number(&mut self, birth: NaiveDate, male: bool) -> Result<IdNumber, DemoError> {
        let first = if self.rng.random_bool(0.85) { 0 } else { self.rng.random_range(1..=OTHER_AREAS.len() as u8) };
        // Try the chosen area, then the others, then neighbouring days.
        for day in 0..30u64 {
            let date = birth.checked_sub_days(Days::new(day)).unwrap_or(birth);
            for offset in 0..=OTHER_AREAS.len() as u8 {
                let area = (first + offset) % (OTHER_AREAS.len() as u8 + 1);
                let next = self.sequences.entry((area, date, male)).or_insert(0);
                if *next < 500 {
                    let sequence = *next * 2 + u16::from(male);
                    *next += 1;
                    let code = if area == 0 { "430602" } else { OTHER_AREAS[usize::from(area) - 1] };
                    return IdNumber::from_parts(code, date, sequence).map_err(|_| DemoError::IdsExhausted(birth));
                }
            }
        }
        Err(DemoError::IdsExhausted(birth))
    }

    fn surname(&mut self) -> String {
        pick(&mut self.rng, &SURNAMES).to_owned()
    }

    fn given_name(&mut self, surname: &str, male: bool) -> String {
        let pool: Vec<char> = if male { GIVEN_MALE.chars().collect() } else { GIVEN_FEMALE.chars().collect() };
        let mut name = String::with_capacity(9);
        name.push_str(surname);
        let len = if self.rng.random_bool(0.7) { 2 } else { 1 };
        for _ in 0..len {
            name.push(pool[self.rng.random_range(0..pool.len())]);
        }
        name
    }

    fn phone(&mut self) -> String {
        const PREFIXES: [&str; 8] = ["133", "135", "138", "139", "150", "158", "177", "186"];
        let prefix = PREFIXES[self.rng.random_range(0..PREFIXES.len())];
        format!("{prefix}{:08}", self.rng.random_range(0..100_000_000u32))
    }

    fn address(&mut self, community: &str, rural: bool) -> String {
        let place = community.trim_end_matches("居民委员会").trim_end_matches("居委会").trim_end_matches("村民委员会");
        let place = place.trim_end_matches("委会");
        if rural {
            format!("{place}{}组{}号", self.rng.random_range(1..15), self.rng.random_range(1..80))
        } else {
            format!(
                "{place}{}栋{}单元{}{:02}室",
                self.rng.random_range(1..40),
                self.rng.random_range(1..5),
                self.rng.random_range(1..19),
                self.rng.random_range(1..5)
            )
        }
    }
}

impl Iterator for DemoGenerator {
    type Item = Household;

    fn next(&mut self) -> Option<Household> {
        if self.produced >= self.config.households {
            return None;
        }
        self.produced += 1;
        // Exhaustion needs more than 36 million persons per birth year; stop there.
        self.household().ok()
    }
}

fn tags(h: &Household, today: NaiveDate, rng: &mut SmallRng) -> Vec<Tag> {
    let living: Vec<&Person> = h.members.iter().filter(|m| m.death_date.is_none()).collect();
    let ages: Vec<u32> = living.iter().map(|m| m.id_number.age_on(today)).collect();
    let mut tags = Vec::new();
    if living.len() == 1 && ages[0] >= 60 {
        tags.push(Tag::LivingAlone);
    }
    if living.len() == 2 && ages.iter().all(|&a| a >= 60) {
        tags.push(Tag::EmptyNest);
    }
    if ages.iter().any(|&a| a < 16) && !ages.iter().any(|&a| (20..50).contains(&a)) {
        tags.push(Tag::LeftBehind);
    }
    if living.iter().filter(|m| m.disability.is_some()).count() >= 2 {
        tags.push(Tag::MultiDisabled);
    }
    if rng.random_bool(0.02) {
        tags.push(Tag::KeyFocus);
    }
    if rng.random_bool(0.004) {
        tags.push(Tag::CrimeVictim);
    }
    tags
}

fn pick<T: Copy>(rng: &mut SmallRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut point = rng.random_range(0..total);
    for &(value, weight) in weighted {
        if point < weight {
            return value;
        }
        point -= weight;
    }
    weighted[weighted.len() - 1].0
}

/// The ledger columns, one row per person (household columns repeat), as
/// district Excel ledgers lay them out. `zhongfu import` reads the same.
pub const CSV_COLUMNS: [&str; 31] = [
    "户编号",
    "社区代码",
    "家庭住址",
    "家庭电话",
    "户籍性质",
    "住房情况",
    "住房条件",
    "是否危房",
    "家庭财产(元)",
    "经营净收入(元)",
    "财产净收入(元)",
    "转移净收入(元)",
    "其他收入(元)",
    "家庭标签",
    "家庭救助类别",
    "姓名",
    "身份证号",
    "与户主关系",
    "联系电话",
    "婚姻状况",
    "健康状况",
    "残疾类别",
    "残疾等级",
    "残疾证号",
    "劳动能力",
    "就业状况",
    "在校情况",
    "月收入(元)",
    "个人救助类别",
    "死亡日期",
    "备注",
];

/// Writes the header row, with a UTF-8 byte order mark so Excel reads Chinese.
pub fn write_csv_header<W: Write>(out: &mut W) -> io::Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    writeln!(out, "{}", CSV_COLUMNS.join(","))
}

/// Writes one row per member. Generated values never hold commas or quotes.
pub fn write_csv_household<W: Write>(out: &mut W, h: &Household) -> io::Result<()> {
    let household_tags = join(h.tags.iter().map(|t| t.label_zh()));
    let household_categories = join(h.categories.iter().map(|c| c.category.label_zh()));
    let item = |kind: IncomeKind| {
        h.income_items.iter().find(|i| i.kind == kind).map(|i| i.monthly.to_string()).unwrap_or_default()
    };
    let items = IncomeKind::ALL.iter().map(|&k| item(k)).collect::<Vec<_>>().join(",");
    for p in &h.members {
        let (kind, grade, certificate) = match &p.disability {
            Some(d) => (d.kind.label_zh(), d.grade.to_string(), d.certificate.as_str()),
            None => ("", String::new(), ""),
        };
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},",
            h.number,
            h.community,
            h.address,
            h.phone.as_deref().unwrap_or(""),
            h.registration.label_zh(),
            h.tenure.label_zh(),
            h.housing_condition.map_or("", |c| c.label_zh()),
            if h.dangerous_housing { "是" } else { "否" },
            h.assets,
            items,
            household_tags,
            household_categories,
            p.name,
            p.id_number.as_str(),
            p.relation.label_zh(),
            p.phone.as_deref().unwrap_or(""),
            p.marital.label_zh(),
            p.health.label_zh(),
            kind,
            grade,
            certificate,
            p.work_ability.label_zh(),
            p.employment.label_zh(),
            p.schooling.label_zh(),
            p.monthly_income,
            join(p.categories.iter().map(|c| c.category.label_zh())),
            p.death_date.map(|d| d.to_string()).unwrap_or_default(),
        )?;
    }
    Ok(())
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join("、")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn communities() -> Vec<Community> {
        ["430602001001", "430602001002", "430602002001", "430602100201"]
            .iter()
            .zip(["洞庭社区居委会", "先锋社区居委会", "天岳社区居委会", "西塘村委会"])
            .map(|(code, name)| Community { code: DivisionCode::parse(code).unwrap(), name: name.to_owned() })
            .collect()
    }

    fn generate(households: u64, seed: u64) -> Vec<Household> {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        DemoGenerator::new(DemoConfig { households, seed, today }, communities()).unwrap().collect()
    }

    #[test]
    fn same_seed_same_district_other_seed_other_district() {
        let a = generate(200, 7);
        assert_eq!(a, generate(200, 7));
        assert_ne!(a, generate(200, 8));
        assert_eq!(a.len(), 200);
    }

    #[test]
    fn id_numbers_are_valid_unique_and_match_sex_and_relations() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let households = generate(3000, 1);
        let mut seen = HashSet::new();
        for h in &households {
            let head = &h.members[0];
            assert_eq!(head.relation, Relation::Head);
            assert_eq!(h.members.iter().filter(|m| m.relation == Relation::Head).count(), 1);
            for p in &h.members {
                assert!(seen.insert(p.id_number.as_str().to_owned()), "duplicate {}", p.id_number.as_str());
                // Re-parsing the text gives the same number: check character, area and date hold.
                assert_eq!(IdNumber::parse_on(p.id_number.as_str(), today).unwrap(), p.id_number);
                assert!(p.id_number.area_code().starts_with("4306"));
                let older = p.id_number.birth_date() < head.id_number.birth_date();
                match p.relation {
                    Relation::Child | Relation::Grandchild => {
                        assert!(!older, "{} older than the head", p.name)
                    }
                    Relation::Parent => assert!(older),
                    _ => {}
                }
                if p.relation == Relation::Spouse {
                    assert_ne!(p.id_number.sex(), head.id_number.sex());
                    assert_eq!((p.marital, head.marital), (Marital::Married, Marital::Married), "{}", h.number);
                }
            }
            assert!(h.community.to_string().starts_with("430602"));
        }
    }

    #[test]
    fn proportions_are_realistic() {
        let households = generate(4000, 3);
        let persons: usize = households.iter().map(|h| h.members.len()).sum();
        let mean = persons as f64 / households.len() as f64;
        assert!((3.5..4.5).contains(&mean), "mean household size {mean}");
        let holding = |c: Category| {
            households
                .iter()
                .filter(|h| {
                    h.categories.iter().any(|x| x.category == c)
                        || h.members.iter().any(|m| m.categories.iter().any(|x| x.category == c))
                })
                .count()
        };
        let (dibao, tekun, orphan) = (holding(Category::Dibao), holding(Category::Tekun), holding(Category::Orphan));
        assert!(dibao > 8 * tekun && dibao > 8 * orphan, "低保 {dibao} 特困 {tekun} 孤儿 {orphan}");
        assert!(tekun > 0 && orphan > 0);
        let disabled = households.iter().flat_map(|h| &h.members).filter(|m| m.disability.is_some()).count();
        assert!(disabled * 5 < persons, "{disabled} of {persons} with disability");
        // Most 低保 households are under the line; a few are not (应退未退 to find).
        let over = households
            .iter()
            .filter(|h| h.categories.iter().any(|c| c.category == Category::Dibao))
            .filter(|h| h.per_capita_income() >= DEMO_DIBAO_LINE)
            .count();
        assert!(over > 0 && over * 10 < dibao, "{over} of {dibao} 低保 households over the line");
    }

    #[test]
    fn households_spread_over_all_communities() {
        let households = generate(400, 5);
        let used: HashSet<_> = households.iter().map(|h| h.community).collect();
        assert_eq!(used.len(), communities().len());
        let numbers: HashSet<_> = households.iter().map(|h| h.number.clone()).collect();
        assert_eq!(numbers.len(), households.len());
    }

    #[test]
    fn csv_has_one_row_per_person_and_every_column() {
        let households = generate(50, 9);
        let mut out = Vec::new();
        write_csv_header(&mut out).unwrap();
        for h in &households {
            write_csv_household(&mut out, h).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let persons: usize = households.iter().map(|h| h.members.len()).sum();
        assert_eq!(lines.len(), persons + 1);
        assert!(lines[0].starts_with("\u{feff}户编号,"));
        for line in &lines {
            assert_eq!(line.split(',').count(), CSV_COLUMNS.len(), "{line}");
        }
        let first = &households[0].members[0];
        assert!(lines[1].contains(first.id_number.as_str()) && lines[1].contains(&first.name));
    }

    #[test]
    fn no_communities_is_an_error() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let err = DemoGenerator::new(DemoConfig { households: 1, seed: 1, today }, Vec::new()).err();
        assert_eq!(err, Some(DemoError::NoCommunities));
    }
}
