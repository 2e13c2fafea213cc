//! The registry as typed columns in memory: one array per field, persons
//! grouped by household, values as of one date.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::bits::{Planes, pack_each};
use super::compile::CmpOp;
use super::fields::Col;
use crate::registry::{
    Category, DisabilityKind, Employment, Health, Holding, Household, IncomeItem, Marital, Registration, Relation,
    Schooling, Tag, Tenure, WorkAbility,
};
use crate::{DivisionCode, Fen, Sex};

/// What the engine needs of one person; no names, no ID numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonFacts {
    pub id: i64,
    pub birth: NaiveDate,
    pub sex: Sex,
    pub relation: Relation,
    pub marital: Marital,
    pub health: Health,
    pub disability: Option<(DisabilityKind, u8)>,
    pub work_ability: WorkAbility,
    pub employment: Employment,
    pub schooling: Schooling,
    pub income: Fen,
    pub death: Option<NaiveDate>,
    pub holdings: Vec<Holding>,
    /// The member's facts not recorded (`Unrecorded` bits); the household's
    /// `unrecorded` has them too.
    pub unrecorded: u8,
}

/// What the engine needs of one household, members head first.
#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdFacts {
    pub id: i64,
    pub version: i64,
    pub community: DivisionCode,
    pub registration: Registration,
    pub tenure: Tenure,
    pub dangerous_housing: bool,
    pub assets: Fen,
    /// The household's own income items, summed (members' incomes aside).
    pub items_income: Fen,
    /// Facts not recorded yet (`Unrecorded` bits): rules reading them cannot decide.
    pub unrecorded: u8,
    pub tags: Vec<Tag>,
    pub holdings: Vec<Holding>,
    pub members: Vec<PersonFacts>,
}

impl HouseholdFacts {
    /// The facts of a registry household; persons are numbered from `first_person`.
    pub fn of(id: i64, version: i64, h: &Household, first_person: i64) -> Self {
        let members = h
            .members
            .iter()
            .zip(first_person..)
            .map(|(p, pid)| PersonFacts {
                id: pid,
                birth: p.id_number.birth_date(),
                sex: p.id_number.sex(),
                relation: p.relation,
                marital: p.marital,
                health: p.health,
                disability: p.disability.as_ref().map(|d| (d.kind, d.grade)),
                work_ability: p.work_ability,
                employment: p.employment,
                schooling: p.schooling,
                income: p.monthly_income,
                death: p.death_date,
                holdings: p.categories.clone(),
                unrecorded: p.unrecorded,
            })
            .collect();
        Self {
            id,
            version,
            community: h.community,
            registration: h.registration,
            tenure: h.tenure,
            dangerous_housing: h.dangerous_housing,
            assets: h.assets,
            items_income: IncomeItem::total(&h.income_items),
            unrecorded: Unrecorded::of(h),
            tags: h.tags.clone(),
            holdings: h.categories.clone(),
            members,
        }
    }
}

/// Facts of a household that are not recorded, as bits.
pub struct Unrecorded;

impl Unrecorded {
    pub const INCOME: u8 = 1;
    pub const ASSETS: u8 = 2;
    /// A member's facts (`Person::unrecorded`); the household has the bit when one of its members does.
    pub const MARITAL: u8 = 4;
    pub const HEALTH: u8 = 8;
    pub const WORK_ABILITY: u8 = 16;
    pub const EMPLOYMENT: u8 = 32;
    pub const SCHOOLING: u8 = 64;
    /// Every member fact.
    pub const MEMBER: u8 = Self::MARITAL | Self::HEALTH | Self::WORK_ABILITY | Self::EMPLOYMENT | Self::SCHOOLING;

    pub fn of(h: &Household) -> u8 {
        h.members.iter().fold(Self::bits(h.income_unrecorded, h.assets_unrecorded), |bits, m| bits | m.unrecorded)
    }

    /// The bits of a household's two flags.
    pub fn bits(income: bool, assets: bool) -> u8 {
        (u8::from(income) * Self::INCOME) | (u8::from(assets) * Self::ASSETS)
    }

    /// The fact a column reads, if it can be unrecorded.
    pub fn read_by(col: Col) -> Option<u8> {
        match col {
            Col::Income | Col::TotalIncome | Col::PerCapitaIncome => Some(Self::INCOME),
            Col::Assets => Some(Self::ASSETS),
            Col::Marital => Some(Self::MARITAL),
            Col::Illness => Some(Self::HEALTH),
            Col::WorkAbility => Some(Self::WORK_ABILITY),
            Col::Employment => Some(Self::EMPLOYMENT),
            Col::Schooling => Some(Self::SCHOOLING),
            _ => None,
        }
    }

    /// The fact by name, in Chinese and English.
    pub fn name(fact: u8) -> (&'static str, &'static str) {
        match fact {
            Self::ASSETS => ("家庭财产未登记", "assets not recorded"),
            Self::MARITAL => ("成员婚姻状况未登记", "a member's marital status not recorded"),
            Self::HEALTH => ("成员健康状况未登记", "a member's health not recorded"),
            Self::WORK_ABILITY => ("成员劳动能力未登记", "a member's work ability not recorded"),
            Self::EMPLOYMENT => ("成员就业状况未登记", "a member's employment not recorded"),
            Self::SCHOOLING => ("成员在校情况未登记", "a member's schooling not recorded"),
            _ => ("收入未登记", "income not recorded"),
        }
    }
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).unwrap_or(0) as u8
}

/// The categories held on `date`, as bits in `Category::ALL` order.
pub fn category_bits(holdings: &[Holding], date: NaiveDate) -> u64 {
    holdings
        .iter()
        .filter(|h| h.start <= date && h.end.is_none_or(|e| e >= date))
        .fold(0, |bits, h| bits | 1 << index_of(Category::ALL, &h.category))
}

/// A column's element type, read as the engine's integers.
pub(crate) trait Cell: Copy {
    fn wide(self) -> i64;
    /// Where `x op k` holds, for each `x` of `xs`, as bits appended to `out`.
    fn compare(xs: &[Self], op: CmpOp, k: i64, out: &mut Vec<u64>) {
        compare_each(xs, op, k, |x| x.wide(), out);
    }
    /// Where `x` is one of `codes` (repeats allowed), as bits appended to `out`.
    fn any_of(xs: &[Self], codes: [i64; 4], out: &mut Vec<u64>) {
        let [a, b, c, d] = codes;
        pack_each(xs, out, |x| {
            let x = x.wide();
            (x == a) | (x == b) | (x == c) | (x == d)
        });
    }
}

/// Something done with a column's values in their own type.
pub(crate) trait Scan {
    fn scan<T: Cell>(self, xs: &[T]);
}

/// `as_k(x) op k` for each `x`, as bits: one loop per operator, so each is
/// a plain comparison the compiler can vectorise.
pub(crate) fn compare_each<T: Copy, K: Copy + PartialOrd>(
    xs: &[T],
    op: CmpOp,
    k: K,
    as_k: impl Fn(T) -> K,
    out: &mut Vec<u64>,
) {
    match op {
        CmpOp::Eq => pack_each(xs, out, |x| as_k(x) == k),
        CmpOp::Ne => pack_each(xs, out, |x| as_k(x) != k),
        CmpOp::Lt => pack_each(xs, out, |x| as_k(x) < k),
        CmpOp::Le => pack_each(xs, out, |x| as_k(x) <= k),
        CmpOp::Gt => pack_each(xs, out, |x| as_k(x) > k),
        CmpOp::Ge => pack_each(xs, out, |x| as_k(x) >= k),
    }
}

/// Ages are held as i16: whole years, at most this many.
const NARROW: i64 = 30_000;

/// Narrow cells (codes, grades, ages, monthly income) are tested in their own
/// type when the constants fit it: widened first, the same loops ran six times
/// slower (the compiler split them over 32-bit lanes). Constants that do not
/// fit are compared widened.
macro_rules! narrow_cell {
    ($($t:ty),+) => {$(
        impl Cell for $t {
            fn wide(self) -> i64 {
                self.into()
            }
            fn compare(xs: &[Self], op: CmpOp, k: i64, out: &mut Vec<u64>) {
                match <$t>::try_from(k) {
                    Ok(k) => compare_each(xs, op, k, |x| x, out),
                    Err(_) => compare_each(xs, op, k, |x| x.wide(), out),
                }
            }
            fn any_of(xs: &[Self], codes: [i64; 4], out: &mut Vec<u64>) {
                match codes.map(<$t>::try_from) {
                    [Ok(a), Ok(b), Ok(c), Ok(d)] => pack_each(xs, out, |x| (x == a) | (x == b) | (x == c) | (x == d)),
                    _ => pack_each(xs, out, |x| codes.contains(&x.wide())),
                }
            }
        }
    )+};
}
narrow_cell!(u8, i16, i32);

impl Cell for i64 {
    fn wide(self) -> i64 {
        self
    }
}

/// Bit sets: read as the same 64 bits.
impl Cell for u64 {
    fn wide(self) -> i64 {
        self as i64
    }
}

/// Calls macro `$m` with the name of every column vector of `Columns`.
macro_rules! columns {
    ($m:ident) => {
        $m!(
            hh_id,
            hh_version,
            hh_live,
            hh_community,
            hh_start,
            size,
            total_income,
            per_capita,
            assets,
            housing,
            dangerous,
            registration,
            tags,
            p_id,
            p_household,
            age,
            sex,
            relation,
            marital,
            illness,
            disability_type,
            disability_grade,
            work,
            employment,
            schooling,
            income,
            p_alive
        )
    };
}

/// The registry in columns. Households replaced since loading stay in place,
/// marked dead; the replacement is appended.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    date: Option<NaiveDate>,
    // Households.
    pub(crate) hh_id: Vec<i64>,
    pub(crate) hh_version: Vec<i64>,
    pub(crate) hh_live: Vec<bool>,
    pub(crate) hh_community: Vec<u32>,
    /// Persons of household `h` are `hh_start[h]..hh_start[h + 1]`.
    pub(crate) hh_start: Vec<u32>,
    pub(crate) size: Vec<u8>,
    total_income: Vec<i64>,
    per_capita: Vec<i64>,
    assets: Vec<i64>,
    housing: Vec<u8>,
    dangerous: Vec<u8>,
    registration: Vec<u8>,
    tags: Vec<u8>,
    pub(crate) hh_categories: Planes,
    // Persons.
    pub(crate) p_id: Vec<i64>,
    pub(crate) p_household: Vec<u32>,
    /// Whole years on the columns' date.
    age: Vec<i16>,
    sex: Vec<u8>,
    relation: Vec<u8>,
    marital: Vec<u8>,
    illness: Vec<u8>,
    disability_type: Vec<u8>,
    disability_grade: Vec<u8>,
    work: Vec<u8>,
    employment: Vec<u8>,
    schooling: Vec<u8>,
    income: Vec<i32>,
    pub(crate) p_categories: Planes,
    pub(crate) p_alive: Vec<bool>,
    communities: Vec<DivisionCode>,
    community_index: HashMap<DivisionCode, u32>,
    by_id: HashMap<i64, u32>,
    /// Households removed since loading, with their version then: a late
    /// re-evaluation of one of them must not bring it back.
    removed: HashMap<i64, i64>,
    /// Household rows (ascending) with facts not recorded, and which (`Unrecorded` bits).
    unrecorded: Vec<(u32, u8)>,
}

impl Columns {
    pub fn new(date: NaiveDate) -> Self {
        Self { date: Some(date), hh_start: vec![0], ..Default::default() }
    }

    pub fn build(date: NaiveDate, households: impl IntoIterator<Item = HouseholdFacts>) -> Self {
        let mut c = Self::new(date);
        for h in households {
            c.push(&h);
        }
        c
    }

    pub fn date(&self) -> NaiveDate {
        self.date.unwrap_or_default()
    }

    /// Rows, the replaced ones included.
    pub fn household_rows(&self) -> usize {
        self.hh_id.len()
    }

    pub fn person_rows(&self) -> usize {
        self.p_id.len()
    }

    /// Living persons of the households still in the registry (as the dashboard counts them).
    pub fn living_persons(&self) -> usize {
        self.p_alive.iter().zip(&self.p_household).filter(|&(&alive, &h)| alive && self.hh_live[h as usize]).count()
    }

    /// Households in the registry now.
    pub fn households(&self) -> usize {
        self.by_id.len()
    }

    pub fn row_of(&self, household: i64) -> Option<u32> {
        self.by_id.get(&household).copied()
    }

    /// A column's values for rows `range` (persons or households, as the
    /// column's level), as integers: codes, bit sets, 0/1, fen, years.
    pub fn values(&self, col: Col, range: std::ops::Range<usize>) -> Vec<i64> {
        let mut out = Vec::with_capacity(range.len());
        self.load(col, range, &mut out);
        out
    }

    /// The household row of a person row, and whether the person is alive.
    pub fn person(&self, row: usize) -> (u32, bool) {
        (self.p_household[row], self.p_alive[row])
    }

    /// Whether a row is the household as it is now (not replaced or removed).
    pub fn is_live(&self, row: u32) -> bool {
        self.hh_live[row as usize]
    }

    pub fn household_id(&self, row: u32) -> i64 {
        self.hh_id[row as usize]
    }

    pub fn household_version(&self, row: u32) -> i64 {
        self.hh_version[row as usize]
    }

    pub fn person_id(&self, row: u32) -> i64 {
        self.p_id[row as usize]
    }

    pub fn community(&self, row: u32) -> &DivisionCode {
        &self.communities[self.hh_community[row as usize] as usize]
    }

    /// Where a household row's community is in `communities()`: a reader that
    /// tallies or filters millions of rows by community works on these.
    pub fn community_slot(&self, row: u32) -> usize {
        self.hh_community[row as usize] as usize
    }

    /// Every community the columns have met, by slot.
    pub fn communities(&self) -> &[DivisionCode] {
        &self.communities
    }

    /// Persons of a household row.
    pub fn persons(&self, row: u32) -> std::ops::Range<u32> {
        self.hh_start[row as usize]..self.hh_start[row as usize + 1]
    }

    /// Adds a household, replacing the one with its id.
    pub fn push(&mut self, h: &HouseholdFacts) {
        let date = self.date();
        let row = self.hh_id.len() as u32;
        if let Some(old) = self.by_id.insert(h.id, row) {
            self.hh_live[old as usize] = false;
        }
        let next = self.communities.len() as u32;
        let community = *self.community_index.entry(h.community).or_insert(next);
        if community == next {
            self.communities.push(h.community);
        }
        let hh_bits = category_bits(&h.holdings, date);
        let living: Vec<&PersonFacts> = h.members.iter().filter(|p| p.death.is_none_or(|d| d > date)).collect();
        let total: i64 = living.iter().map(|p| p.income.0).sum::<i64>() + h.items_income.0;
        let size = living.len() as i64;
        self.hh_id.push(h.id);
        self.hh_version.push(h.version);
        self.hh_live.push(true);
        self.hh_community.push(community);
        self.size.push(size.min(255) as u8);
        self.total_income.push(total);
        // As the registry's lists count it: a household with no living member is over one.
        self.per_capita.push(total / size.max(1));
        self.assets.push(h.assets.0);
        self.housing.push(index_of(Tenure::ALL, &h.tenure));
        self.dangerous.push(u8::from(h.dangerous_housing));
        self.registration.push(index_of(Registration::ALL, &h.registration));
        self.tags.push(h.tags.iter().fold(0, |b, t| b | 1 << index_of(Tag::ALL, t)));
        self.hh_categories.push(hh_bits);
        if h.unrecorded != 0 {
            self.unrecorded.push((row, h.unrecorded));
        }
        for p in &h.members {
            self.p_id.push(p.id);
            self.p_household.push(row);
            self.age.push(i64::from(crate::id_number::age_on(p.birth, date)).min(NARROW) as i16);
            self.sex.push(u8::from(p.sex == Sex::Female));
            self.relation.push(index_of(Relation::ALL, &p.relation));
            self.marital.push(index_of(Marital::ALL, &p.marital));
            self.illness.push(index_of(Health::ALL, &p.health));
            self.disability_type.push(p.disability.map_or(0, |(k, _)| index_of(DisabilityKind::ALL, &k) + 1));
            self.disability_grade.push(p.disability.map_or(0, |(_, g)| g));
            self.work.push(index_of(WorkAbility::ALL, &p.work_ability));
            self.employment.push(index_of(Employment::ALL, &p.employment));
            self.schooling.push(index_of(Schooling::ALL, &p.schooling));
            self.income.push(p.income.0.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
            self.p_categories.push(category_bits(&p.holdings, date) | hh_bits);
            self.p_alive.push(p.death.is_none_or(|d| d > date));
        }
        self.hh_start.push(self.p_id.len() as u32);
    }

    /// The facts (`Unrecorded` bits) not recorded for a household row.
    pub fn unrecorded(&self, row: u32) -> u8 {
        self.unrecorded.binary_search_by_key(&row, |&(r, _)| r).map_or(0, |i| self.unrecorded[i].1)
    }

    /// Households of rows `range` missing `fact`, by row.
    pub(crate) fn unrecorded_in(&self, range: std::ops::Range<usize>, fact: u8) -> impl Iterator<Item = u32> + '_ {
        let from = self.unrecorded.partition_point(|&(r, _)| (r as usize) < range.start);
        self.unrecorded[from..]
            .iter()
            .take_while(move |&&(r, _)| (r as usize) < range.end)
            .filter(move |&&(_, f)| f & fact != 0)
            .map(|&(r, _)| r)
    }

    /// Drops a household (it left the registry or moved out of reach).
    pub fn remove(&mut self, household: i64) {
        if let Some(row) = self.by_id.remove(&household) {
            self.hh_live[row as usize] = false;
            self.removed.insert(household, self.hh_version[row as usize]);
        }
    }

    /// Whether facts of `household` at `version` are older than what the columns
    /// already know of it (its row now, or its removal).
    pub fn is_stale(&self, household: i64, version: i64) -> bool {
        match self.by_id.get(&household) {
            Some(&row) => self.hh_version[row as usize] > version,
            None => self.removed.get(&household).is_some_and(|&v| v >= version),
        }
    }

    /// Writes a column's values for rows `range` (persons or households, as
    /// the column's level) into `out`, widened to i64.
    pub(crate) fn load(&self, col: Col, range: std::ops::Range<usize>, out: &mut Vec<i64>) {
        struct Widen<'a>(&'a mut Vec<i64>);
        impl Scan for Widen<'_> {
            fn scan<T: Cell>(self, xs: &[T]) {
                self.0.clear();
                self.0.extend(xs.iter().map(|&x| x.wide()));
            }
        }
        self.scan(col, range, Widen(out));
    }

    /// Hands a column's rows `range`, in its own type, to `s`.
    pub(crate) fn scan(&self, col: Col, range: std::ops::Range<usize>, s: impl Scan) {
        match col {
            Col::Age => s.scan(&self.age[range]),
            Col::Sex => s.scan(&self.sex[range]),
            Col::Relation => s.scan(&self.relation[range]),
            Col::Marital => s.scan(&self.marital[range]),
            Col::Illness => s.scan(&self.illness[range]),
            Col::DisabilityType => s.scan(&self.disability_type[range]),
            Col::DisabilityGrade => s.scan(&self.disability_grade[range]),
            Col::WorkAbility => s.scan(&self.work[range]),
            Col::Employment => s.scan(&self.employment[range]),
            Col::Schooling => s.scan(&self.schooling[range]),
            Col::Income => s.scan(&self.income[range]),
            // Sets are kept as planes (`Planes`): rebuilt row by row here, where a whole value is asked for.
            Col::Categories => s.scan(&range.map(|r| self.p_categories.get(r)).collect::<Vec<_>>()),
            Col::Size => s.scan(&self.size[range]),
            Col::TotalIncome => s.scan(&self.total_income[range]),
            Col::PerCapitaIncome => s.scan(&self.per_capita[range]),
            Col::Assets => s.scan(&self.assets[range]),
            Col::Housing => s.scan(&self.housing[range]),
            Col::DangerousHousing => s.scan(&self.dangerous[range]),
            Col::Registration => s.scan(&self.registration[range]),
            Col::Tags => s.scan(&self.tags[range]),
            Col::HouseholdCategories => s.scan(&range.map(|r| self.hh_categories.get(r)).collect::<Vec<_>>()),
        }
    }

    /// Bytes held by the columns (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        macro_rules! sum {
            ($($f:ident),+) => { 0 $(+ bytes(&self.$f))+ };
        }
        // The id index: key, value and a control byte per bucket, roughly.
        columns!(sum)
            + self.p_categories.heap_bytes()
            + self.hh_categories.heap_bytes()
            + self.by_id.capacity() * (size_of::<i64>() + size_of::<u32>() + 1)
            + bytes(&self.unrecorded)
    }

    /// Drops spare capacity after a bulk load.
    pub fn shrink(&mut self) {
        macro_rules! shrink {
            ($($f:ident),+) => { $(self.$f.shrink_to_fit();)+ };
        }
        columns!(shrink);
        self.p_categories.shrink_to_fit();
        self.hh_categories.shrink_to_fit();
        self.unrecorded.shrink_to_fit();
    }
}

#[cfg(test)]
impl Columns {
    pub(crate) fn per_capita(&self, row: usize) -> i64 {
        self.per_capita[row]
    }

    pub(crate) fn assets_of(&self, row: usize) -> i64 {
        self.assets[row]
    }
}

impl Columns {
    /// The floor for a sweep: one pass over the columns it reads (`cols`, the
    /// ones its rules use, and those every sweep reads: who lives, who is
    /// alive, which household a person is in), each summed in its own type,
    /// split over `threads` like the sweep. Returns the sum (so it is not optimised away).
    pub fn scan_floor(&self, cols: &[Col], threads: usize) -> i64 {
        struct Sum<'a>(&'a mut i64);
        impl Scan for Sum<'_> {
            fn scan<T: Cell>(self, xs: &[T]) {
                *self.0 = xs.iter().fold(*self.0, |a, &x| a.wrapping_add(x.wide()));
            }
        }
        let rows = self.household_rows();
        let threads = threads.max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let hh = rows * t / threads..rows * (t + 1) / threads;
                    s.spawn(move || {
                        let persons = self.hh_start[hh.start] as usize..self.hh_start[hh.end] as usize;
                        let mut sum = 0i64;
                        let count = |a: i64, &x: &bool| a + i64::from(x);
                        sum = self.hh_live[hh.clone()].iter().fold(sum, count);
                        sum = self.p_alive[persons.clone()].iter().fold(sum, count);
                        sum = self.p_household[persons.clone()].iter().fold(sum, |a, &x| a.wrapping_add(x.into()));
                        sum = self.hh_start[hh.clone()].iter().fold(sum, |a, &x| a.wrapping_add(x.into()));
                        for &col in cols {
                            let range = if col < Col::Size { persons.clone() } else { hh.clone() };
                            // Sets are read as the planes they are kept in.
                            let planes = match col {
                                Col::Categories => Some(&self.p_categories),
                                Col::HouseholdCategories => Some(&self.hh_categories),
                                _ => None,
                            };
                            match planes {
                                Some(p) => {
                                    sum = p.words_of(range.start, range.end).fold(sum, |a, x| a.wrapping_add(x as i64));
                                }
                                None => self.scan(col, range, Sum(&mut sum)),
                            }
                        }
                        sum
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).fold(0i64, i64::wrapping_add)
        })
    }
}
