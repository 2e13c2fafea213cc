//! Registry rows as both backends write them: personal fields sealed
//! (ciphertext, blind index, mask) before they reach SQL.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use zhongfu_domain::ledger::Said;
use zhongfu_domain::pii::{IndexKind, PiiKeys, mask_phone};
use zhongfu_domain::registry::{
    Category, DisabilityKind, Employment, Health, Holding, Household, IncomeItem, Marital, Person, Registration,
    Relation, Schooling, Tag, Tenure, WorkAbility,
};
use zhongfu_domain::{DivisionCode, Fen, IdNumber, Scope};

/// A personal value as stored: never the plain text.
pub(crate) struct Sealed {
    pub cipher: Vec<u8>,
    pub bidx: Vec<u8>,
    pub masked: String,
}

pub(crate) fn seal_phone(keys: &PiiKeys, phone: &str) -> Sealed {
    Sealed { cipher: keys.encrypt(phone), bidx: keys.blind_index(IndexKind::Phone, phone), masked: mask_phone(phone) }
}

pub(crate) fn seal_id(keys: &PiiKeys, person: &Person) -> Sealed {
    let id = person.id_number.as_str();
    Sealed {
        cipher: keys.encrypt(id),
        bidx: keys.blind_index(IndexKind::IdNumber, id),
        masked: person.id_number.masked(),
    }
}

pub(crate) fn tags(h: &Household) -> String {
    h.tags.iter().map(|t| t.code()).collect::<Vec<_>>().join(",")
}

/// A batch of households with every personal value sealed up front.
///
/// Multi-row `RETURNING` order is not guaranteed, so returned ids are tied
/// back by household number and by the member's ID blind index.
pub(crate) struct SealedBatch<'a> {
    pub households: Vec<SealedHousehold<'a>>,
    pub members: Vec<SealedMember<'a>>,
}

pub(crate) struct SealedHousehold<'a> {
    pub household: &'a Household,
    pub phone: Option<Sealed>,
    pub digest: Vec<u8>,
}

pub(crate) struct SealedMember<'a> {
    /// The household's number (户编号).
    pub household: &'a str,
    /// The household's community, which its holdings carry.
    pub community: &'a str,
    pub person: &'a Person,
    pub id: Sealed,
    pub phone: Option<Sealed>,
    pub certificate: Option<Vec<u8>>,
    /// What the sheet says of the member (see [`member_digest`]).
    pub digest: Vec<u8>,
}

fn seal_member<'a>(keys: &PiiKeys, (household, community): (&'a str, &'a str), person: &'a Person) -> SealedMember<'a> {
    let MemberSeals { id, phone, certificate, digest } = MemberSeals::new(keys, person, Said::all());
    SealedMember { household, community, person, id, phone, certificate, digest }
}

/// A member's personal values, sealed.
struct MemberSeals {
    id: Sealed,
    phone: Option<Sealed>,
    certificate: Option<Vec<u8>>,
    digest: Vec<u8>,
}

impl MemberSeals {
    fn new(keys: &PiiKeys, person: &Person, said: Said) -> Self {
        Self {
            id: seal_id(keys, person),
            phone: person.phone.as_deref().map(|p| seal_phone(keys, p)),
            certificate: person.disability.as_ref().map(|d| keys.encrypt(&d.certificate)),
            digest: member_digest(keys, person, said),
        }
    }
}

/// A household's personal values and digest, sealed, with its members'.
pub(crate) struct HouseholdSeals {
    phone: Option<Sealed>,
    digest: Vec<u8>,
    members: Vec<MemberSeals>,
}

impl HouseholdSeals {
    fn new(keys: &PiiKeys, h: &Household, said: Said) -> Self {
        Self {
            phone: h.phone.as_deref().map(|p| seal_phone(keys, p)),
            digest: digest(keys, h, said),
            members: h.members.iter().map(|m| MemberSeals::new(keys, m, said)).collect(),
        }
    }
}

/// One batch of a ledger import, sealed before it is planned and written.
/// Sealing (encryption, blind indexes, digests) is an import's heaviest work
/// outside the database, so a caller seals the next batch while the
/// database writes the one before.
pub struct ImportBatch {
    households: Vec<Household>,
    seals: Vec<HouseholdSeals>,
    /// What the sheet has columns for: all an update of a registered household may change.
    said: Said,
}

impl ImportBatch {
    pub(crate) fn new(keys: &PiiKeys, households: Vec<Household>, said: Said) -> Self {
        let seals = households.iter().map(|h| HouseholdSeals::new(keys, h, said)).collect();
        Self { households, seals, said }
    }

    pub(crate) fn said(&self) -> Said {
        self.said
    }

    pub fn households(&self) -> &[Household] {
        &self.households
    }

    /// Each member's ID blind index with the positions of its household and itself.
    pub(crate) fn id_indexes(&self) -> impl Iterator<Item = (usize, usize, &[u8])> {
        self.member_seals().map(|(i, j, m)| (i, j, &m.id.bidx[..]))
    }

    fn member_seals(&self) -> impl Iterator<Item = (usize, usize, &MemberSeals)> {
        self.seals.iter().enumerate().flat_map(|(i, s)| s.members.iter().enumerate().map(move |(j, m)| (i, j, m)))
    }

    pub(crate) fn digest(&self, household: usize) -> &[u8] {
        &self.seals[household].digest
    }

    /// The households, their seals dropped (after a dry run's plan).
    pub fn into_households(self) -> Vec<Household> {
        self.households
    }

    /// The households and their seals, to be taken apart by [`SealedBatch::take`].
    pub(crate) fn into_parts(self) -> (Vec<Household>, Vec<Option<HouseholdSeals>>) {
        (self.households, self.seals.into_iter().map(Some).collect())
    }
}

/// A holding to insert, its owners resolved to row ids.
#[derive(Debug)]
pub(crate) struct HoldingRow<'a> {
    pub household_id: i64,
    pub community: &'a str,
    pub person_id: Option<i64>,
    pub holding: &'a Holding,
    /// The start to write: the holding's, or later where an earlier one of the
    /// same category ran until after it.
    pub start: NaiveDate,
}

impl<'a> SealedBatch<'a> {
    pub fn new(keys: &PiiKeys, households: &'a [Household]) -> Self {
        let mut seals: Vec<Option<HouseholdSeals>> =
            households.iter().map(|h| Some(HouseholdSeals::new(keys, h, Said::all()))).collect();
        Self::take(households, &mut seals, 0..households.len())
    }

    /// The households at `indexes` with their seals, moved out of `seals`
    /// (each index at most once).
    pub(crate) fn take(
        households: &'a [Household],
        seals: &mut [Option<HouseholdSeals>],
        indexes: impl Iterator<Item = usize>,
    ) -> Self {
        let mut batch = Self { households: Vec::new(), members: Vec::new() };
        for i in indexes {
            let (household, Some(seal)) = (&households[i], seals[i].take()) else {
                continue;
            };
            let owner = (household.number.as_str(), household.community.as_str());
            batch.members.extend(household.members.iter().zip(seal.members).map(|(person, m)| SealedMember {
                household: owner.0,
                community: owner.1,
                person,
                id: m.id,
                phone: m.phone,
                certificate: m.certificate,
                digest: m.digest,
            }));
            batch.households.push(SealedHousehold { household, phone: seal.phone, digest: seal.digest });
        }
        batch
    }

    /// New members of an existing household.
    pub fn members_of(keys: &PiiKeys, household: (&'a str, &'a str), persons: &'a [Person]) -> Self {
        Self { households: Vec::new(), members: persons.iter().map(|p| seal_member(keys, household, p)).collect() }
    }

    /// Every holding of the batch, household-level and each member's.
    /// Ids missing from the maps (which the caller's inserts just filled) are skipped.
    pub fn holdings(&self, households: &HashMap<String, i64>, persons: &HashMap<Vec<u8>, i64>) -> Vec<HoldingRow<'a>> {
        let mut rows = Vec::new();
        for h in &self.households {
            let Some(&household_id) = households.get(&h.household.number) else {
                continue;
            };
            rows.extend(h.household.categories.iter().map(|holding| HoldingRow {
                household_id,
                community: h.household.community.as_str(),
                person_id: None,
                holding,
                start: holding.start,
            }));
        }
        for m in &self.members {
            let (Some(&household_id), Some(&person_id)) = (households.get(m.household), persons.get(&m.id.bidx)) else {
                continue;
            };
            rows.extend(m.person.categories.iter().map(|holding| HoldingRow {
                household_id,
                community: m.community,
                person_id: Some(person_id),
                holding,
                start: holding.start,
            }));
        }
        rows
    }
}

pub(crate) const INSERT_HOUSEHOLD: &str = "INSERT INTO household (number, community, address, \
    phone_cipher, phone_bidx, phone_masked, registration, tenure, housing_condition, dangerous_housing, assets_fen, \
    income_items, items_income_fen, tags, digest, created_audit, income_unrecorded, assets_unrecorded) ";

pub(crate) const INSERT_PERSON: &str = "INSERT INTO person (household_id, name, id_cipher, id_bidx, id_masked, \
    sex, birth_date, relation, phone_cipher, phone_bidx, phone_masked, marital, health, disability_kind, \
    disability_grade, disability_cert, work_ability, employment, schooling, monthly_income_fen, death_date, unrecorded, \
    digest) ";

pub(crate) const INSERT_HOLDING: &str =
    "INSERT INTO holding (household_id, community, person_id, category, start_date, end_date) ";

/// Households or ID numbers an import looks up a statement.
pub(crate) const LOOKUP_CHUNK: usize = 1000;

/// Households: 18 columns × 1,800 rows (SQLite takes at most 32,766 bound values;
/// a test counts the columns).
pub(crate) const HOUSEHOLD_CHUNK: usize = 1800;

pub(crate) fn sex_code(p: &Person) -> &'static str {
    match p.id_number.sex() {
        zhongfu_domain::Sex::Male => "male",
        zhongfu_domain::Sex::Female => "female",
    }
}

pub(crate) fn birth(p: &Person) -> NaiveDate {
    p.id_number.birth_date()
}

/// $1: the district's code; $2: the district's prefix pattern; $3: the
/// scope's prefix pattern. Streets outside the scope are not listed.
/// Households and living persons per area below `$1` (a district's streets, keyed by
/// the first `$4` = 9 digits, or a street's communities, by all 12), within the district
/// (`$2`) and the scope (`$3`).
pub(crate) const AREA_COUNTS: &str = "
    WITH hh AS (
        SELECT substr(h.community, 1, $4) AS area,
               (SELECT COUNT(*) FROM person p
                 WHERE p.household_id = h.id AND p.death_date IS NULL) AS persons
          FROM household h
         WHERE h.community LIKE $2 AND h.community LIKE $3
    )
    SELECT d.code, d.name,
           COUNT(hh.area) AS households,
           CAST(COALESCE(SUM(hh.persons), 0) AS BIGINT) AS persons
      FROM division d
      LEFT JOIN hh ON hh.area = substr(d.code, 1, $4)
     WHERE d.parent = $1 AND d.code LIKE $3
     GROUP BY d.code, d.name
     ORDER BY d.code";

/// The audit record of one batch of new households (personal data stays out).
pub(crate) fn batch_event(batch: &SealedBatch<'_>) -> crate::AuditEvent {
    import_event("household.create", batch)
}

/// The audit record of a batch of households written by `action`: numbers and counts only.
pub(crate) fn import_event(action: &str, batch: &SealedBatch<'_>) -> crate::AuditEvent {
    let households = &batch.households;
    let first = households.first().map(|h| h.household.number.as_str()).unwrap_or_default();
    let last = households.last().map(|h| h.household.number.as_str()).unwrap_or_default();
    let persons = batch.members.len();
    crate::AuditEvent {
        action: action.to_owned(),
        entity: "household".to_owned(),
        entity_id: format!("{first}..{last}"),
        diff: format!(r#"{{"households":[null,{}],"persons":[null,{persons}]}}"#, households.len()),
    }
}

/// A keyed digest of what a household holds itself (each member has their own,
/// [`member_digest`]): equal digests, the members' equal too, mean a re-import
/// would change nothing; a member the sheet leaves out changes nothing. A category's start is
/// left out: a ledger does not say it (an import starts it in the import's
/// month), so the same sheet imported again next month is still unchanged.
///
/// `said`: the fields the sheet has columns for. One that leaves some of them out
/// keeps those as stored, so its digest says which it had (a sheet with a blank
/// income column then differs from one without the column); a sheet with all of
/// them, like a household written whole, adds nothing, as before.
pub(crate) fn digest(keys: &PiiKeys, h: &Household, said: Said) -> Vec<u8> {
    let mut r = Record(Vec::with_capacity(160));
    r.text(&h.number);
    // Without the column, the community is the one chosen for the import, which a
    // registered household does not take.
    if said.has(zhongfu_domain::ledger::Field::Community) {
        r.text(h.community.as_str());
    }
    r.text(&h.address).maybe(h.phone.as_deref(), Record::text);
    r.text(h.registration.code()).text(h.tenure.code()).num(i64::from(h.dangerous_housing)).num(h.assets.0);
    // Only when recorded, so digests stored before the field was added still match.
    if let Some(c) = h.housing_condition {
        r.text(c.code());
    }
    if !h.income_items.is_empty() {
        r.text(&IncomeItem::encode(&h.income_items));
    }
    // Likewise only when so.
    if h.income_unrecorded || h.assets_unrecorded {
        r.num(i64::from(h.income_unrecorded)).num(i64::from(h.assets_unrecorded));
    }
    r.num(h.tags.len() as i64);
    for tag in &h.tags {
        r.text(tag.code());
    }
    r.holdings(&h.categories).said(said);
    keys.blind_index_bytes(IndexKind::Record, &r.0)
}

/// A keyed digest of what a sheet says of one member: equal digests mean the sheet
/// would change nothing of them.
pub(crate) fn member_digest(keys: &PiiKeys, m: &Person, said: Said) -> Vec<u8> {
    let mut r = Record(Vec::with_capacity(160));
    r.text("member").member(m, said).said(said);
    keys.blind_index_bytes(IndexKind::Record, &r.0)
}

/// A household written field by field in a fixed order for its digest: text
/// with its length before it, numbers and dates at a fixed width, an absent
/// value as one byte, so two different households never write the same bytes.
struct Record(Vec<u8>);

impl Record {
    fn text(&mut self, s: &str) -> &mut Self {
        self.num(s.len() as i64);
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    fn num(&mut self, n: i64) -> &mut Self {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }

    fn date(&mut self, d: NaiveDate) -> &mut Self {
        self.num(i64::from(d.num_days_from_ce()))
    }

    fn maybe<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T) -> &mut Self) -> &mut Self {
        match value {
            Some(v) => {
                self.0.push(1);
                write(self, v)
            }
            None => {
                self.0.push(0);
                self
            }
        }
    }

    fn member(&mut self, m: &Person, said: Said) -> &mut Self {
        self.text(&m.name).text(m.id_number.as_str()).text(m.relation.code()).maybe(m.phone.as_deref(), Record::text);
        // A sheet without the column leaves marital status guessed from the age, which
        // changes on a birthday: only a status the sheet gives counts.
        if said.has(zhongfu_domain::ledger::Field::Marital) {
            self.text(m.marital.code());
        }
        self.text(m.health.code());
        self.maybe(m.disability.as_ref(), |r, d| r.text(d.kind.code()).num(i64::from(d.grade)).text(&d.certificate));
        self.text(m.work_ability.code()).text(m.employment.code()).text(m.schooling.code()).num(m.monthly_income.0);
        self.holdings(&m.categories).maybe(m.death_date, Record::date)
    }

    /// Which of the fields a digest covers the sheet has columns for, unless all.
    fn said(&mut self, said: Said) -> &mut Self {
        let covered = || zhongfu_domain::ledger::Field::ALL.iter().filter(|f| f.in_digest());
        let mask = covered().enumerate().filter(|(_, f)| said.has(**f)).fold(0i64, |mask, (i, _)| mask | 1 << i);
        if mask != (1 << covered().count()) - 1 {
            self.num(mask);
        }
        self
    }

    fn holdings(&mut self, holdings: &[Holding]) -> &mut Self {
        self.num(holdings.len() as i64);
        for h in holdings {
            self.text(h.category.code()).maybe(h.end, Record::date);
        }
        self
    }
}

// ---- Reading and editing the registry -------------------------------------

/// How a registry list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HouseholdSort {
    Number,
    /// The ledger's order: community, then 户编号.
    #[default]
    Community,
    Members,
    /// Monthly income per living member.
    Income,
}

/// What a registry list asks for. Person criteria (name, age, disability,
/// work ability) must hold for one and the same member; a full ID number or
/// phone finds its household through the blind index.
#[derive(Clone, Debug)]
pub struct HouseholdFilter {
    /// A street or community to narrow to; it is intersected with the scope.
    pub division: Option<DivisionCode>,
    pub category: Option<Category>,
    pub tag: Option<Tag>,
    /// The start of a household number (the whole number matches too).
    pub number: Option<String>,
    /// Part of a member's name.
    pub name: Option<String>,
    pub id_number: Option<IdNumber>,
    /// A household's or member's phone, exact.
    pub phone: Option<String>,
    pub age_min: Option<u32>,
    pub age_max: Option<u32>,
    pub disability_kind: Option<DisabilityKind>,
    pub disability_grade: Option<u8>,
    pub work_ability: Option<WorkAbility>,
    /// Monthly income per living member, inclusive bounds.
    pub income_min: Option<Fen>,
    pub income_max: Option<Fen>,
    pub sort: HouseholdSort,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
    /// Ages and current categories are as of this day.
    pub today: NaiveDate,
}

impl HouseholdFilter {
    pub fn new(today: NaiveDate) -> Self {
        Self {
            division: None,
            category: None,
            tag: None,
            number: None,
            name: None,
            id_number: None,
            phone: None,
            age_min: None,
            age_max: None,
            disability_kind: None,
            disability_grade: None,
            work_ability: None,
            income_min: None,
            income_max: None,
            sort: HouseholdSort::Community,
            descending: false,
            offset: 0,
            limit: 20,
            today,
        }
    }

    /// Birth dates a member of the age range has: (born on or after, born on or before).
    pub(crate) fn birth_bounds(&self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let years_ago = |years: u32| self.today.checked_sub_months(chrono::Months::new(years * 12));
        let latest = self.age_min.and_then(years_ago);
        let earliest = self.age_max.and_then(|a| years_ago(a + 1)).and_then(|d| d.succ_opt());
        (earliest, latest)
    }

    pub(crate) fn has_person_criteria(&self) -> bool {
        self.name.is_some()
            || self.age_min.is_some()
            || self.age_max.is_some()
            || self.disability_kind.is_some()
            || self.disability_grade.is_some()
            || self.work_ability.is_some()
    }

    /// When the filter is a category within an area and nothing else, that area
    /// (within the scope): its matches are the households of the category's
    /// holdings there, one index range to count.
    pub(crate) fn category_area<'a>(&'a self, scope: &'a Scope) -> Option<&'a str> {
        let only_category = self.category.is_some()
            && self.tag.is_none()
            && self.number.is_none()
            && self.id_number.is_none()
            && self.phone.is_none()
            && !self.has_person_criteria()
            && self.income_min.is_none()
            && self.income_max.is_none();
        if !only_category || scope.paired_only() {
            return None;
        }
        match &self.division {
            None => Some(scope.prefix()),
            Some(d) if d.prefix().starts_with(scope.prefix()) => Some(d.prefix()),
            Some(d) if scope.prefix().starts_with(d.prefix()) => Some(scope.prefix()),
            Some(_) => None,
        }
    }
}

/// One line of the registry list: no full personal value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HouseholdSummary {
    pub id: i64,
    pub number: String,
    pub community: String,
    pub community_name: String,
    pub address: String,
    pub head_name: String,
    pub head_id_masked: String,
    pub phone_masked: Option<String>,
    /// Living members.
    pub members: i64,
    pub monthly_income_fen: i64,
    pub per_capita_income_fen: i64,
    /// Income not recorded yet: the two figures above say nothing.
    pub income_unrecorded: bool,
    pub tags: Vec<String>,
    /// Categories held today by the household or a member.
    pub categories: Vec<String>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HouseholdPage {
    pub total: i64,
    pub items: Vec<HouseholdSummary>,
}

/// How many households of a registry list fall under each filter option, counted
/// in SQL under the same scope and filter. The category and tag counts leave out
/// the filter's own category or tag, so each shows what choosing it would find.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HouseholdFacets {
    /// The area whose parts are counted: the filter's division, else the jurisdiction.
    pub area: String,
    /// Matching households per part of `area` (streets of a district, communities of a
    /// street), by 12-digit code; parts without any are absent.
    pub divisions: BTreeMap<String, i64>,
    /// When the filter chooses a division within the jurisdiction: matching households,
    /// that choice left out, per part of each division above it up to the jurisdiction
    /// (a chosen street's sibling streets; a chosen community's sibling communities and
    /// its street's siblings), by 12-digit code.
    pub around: BTreeMap<String, i64>,
    /// Per category held today by the household or a member.
    pub categories: BTreeMap<String, i64>,
    pub tags: BTreeMap<String, i64>,
    /// Per disability type of a living member (who also meets the filter's other member criteria).
    pub disability_kinds: BTreeMap<String, i64>,
    /// Per disability grade ("1" to "4") of a living member, likewise.
    pub disability_grades: BTreeMap<String, i64>,
    /// Per work ability of a living member, likewise.
    pub work_abilities: BTreeMap<String, i64>,
}

impl HouseholdFacets {
    /// The area a list under `scope` and `filter` covers: the narrower of the two.
    pub(crate) fn area(scope: &zhongfu_domain::Scope, filter: &HouseholdFilter) -> DivisionCode {
        match &filter.division {
            Some(d) if scope.jurisdiction().contains(d) => *d,
            _ => *scope.jurisdiction(),
        }
    }

    /// How many leading digits name a part of `area` (itself when it has no parts).
    pub(crate) fn part_len(area: &DivisionCode) -> usize {
        let level = area.level();
        level.child().unwrap_or(level).prefix_len()
    }
}

/// A division prefix padded to its 12-digit code.
pub(crate) fn full_code(prefix: &str) -> String {
    format!("{prefix:0<12}")
}

/// The current categories of the households a filter finds; the caller appends
/// the day twice and the filter, then `GROUP_CATEGORY`.
pub(crate) const CATEGORY_FACET: &str = "SELECT g.category, COUNT(DISTINCT h.id) FROM household h \
    JOIN holding g ON g.household_id = h.id AND g.start_date <= ";
pub(crate) const GROUP_CATEGORY: &str = " GROUP BY g.category";

/// Households per value of a member's column `{column}` (a fixed name, not input),
/// the value as text: the household filter without member criteria, then `person p` joined.
pub(crate) fn member_facet(column: &str) -> String {
    format!(
        "SELECT CAST(p.{column} AS TEXT), COUNT(DISTINCT h.id) FROM household h JOIN person p ON p.household_id = h.id WHERE "
    )
}

impl HouseholdFilter {
    /// The filter without its member criteria (a member facet applies them to the joined member).
    pub(crate) fn households_only(&self) -> Self {
        Self {
            name: None,
            age_min: None,
            age_max: None,
            disability_kind: None,
            disability_grade: None,
            work_ability: None,
            ..self.clone()
        }
    }
}

/// A member as the household page shows them: ID and phone masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub id_masked: String,
    pub sex: String,
    /// Never sent: beside the masked ID (its first six and last four digits) the
    /// date of birth (digits 7 to 14) would give the whole number away.
    #[serde(skip_serializing)]
    pub birth_date: NaiveDate,
    pub age: u32,
    pub relation: String,
    pub phone_masked: Option<String>,
    pub marital: String,
    pub health: String,
    pub disability_kind: Option<String>,
    pub disability_grade: Option<i64>,
    /// The disability certificate number, masked like an ID number.
    pub disability_cert_masked: Option<String>,
    pub work_ability: String,
    pub employment: String,
    pub schooling: String,
    pub monthly_income_fen: i64,
    pub death_date: Option<NaiveDate>,
    /// The facts (`marital`, `health`, `work_ability`, `employment`, `schooling`)
    /// a sheet without their column left at a default: not recorded yet.
    pub unrecorded: Vec<&'static str>,
}

/// The member facts of `Unrecorded` bits, by their field names.
pub(crate) fn unrecorded_facts(bits: i32) -> Vec<&'static str> {
    zhongfu_domain::ledger::MEMBER_FACTS
        .iter()
        .filter(|(_, fact)| bits & i32::from(*fact) != 0)
        .map(|(field, _)| field.code())
        .collect()
}

/// A category held by the household (`person_id` none) or a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HoldingView {
    pub id: i64,
    pub person_id: Option<i64>,
    pub category: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// The household page (一户一表).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HouseholdDetail {
    pub id: i64,
    pub number: String,
    pub community: String,
    pub community_name: String,
    pub address: String,
    pub phone_masked: Option<String>,
    pub registration: String,
    pub tenure: String,
    /// `good`, `fair` or `poor`; none when not recorded.
    pub housing_condition: Option<String>,
    pub dangerous_housing: bool,
    pub assets_fen: i64,
    /// The household's own monthly income, one item per kind.
    pub income_items: Vec<IncomeItem>,
    /// Income (members' and the household's own) not recorded yet.
    pub income_unrecorded: bool,
    /// Assets not recorded yet.
    pub assets_unrecorded: bool,
    pub tags: Vec<String>,
    pub version: i64,
    /// The audit record that registered the household (an import's batch), if known.
    #[serde(skip)]
    pub created_audit: Option<i64>,
    pub members: Vec<MemberView>,
    pub holdings: Vec<HoldingView>,
}

/// An edit of a household's own facts. `phone`: `None` keeps it, `Some(None)` clears it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdEdit {
    /// 户编号: `None` keeps it (a new one must not be another household's).
    pub number: Option<String>,
    pub community: DivisionCode,
    pub address: String,
    pub phone: Option<Option<String>>,
    pub registration: Registration,
    pub tenure: Tenure,
    /// `None` keeps it, `Some(None)` clears it.
    pub housing_condition: Option<Option<zhongfu_domain::registry::HousingCondition>>,
    pub dangerous_housing: bool,
    pub assets: Fen,
    /// `None` keeps them; `Some` replaces them (empty clears them).
    pub income_items: Option<Vec<IncomeItem>>,
    /// `None` keeps them; `Some(false)`: the income (or assets) is now recorded.
    pub income_unrecorded: Option<bool>,
    pub assets_unrecorded: Option<bool>,
    pub tags: Vec<Tag>,
}

/// An edit of one member. `phone` as in [`HouseholdEdit`]. A death date ends
/// the member's categories at the end of that month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberEdit {
    pub name: String,
    pub relation: Relation,
    pub phone: Option<Option<String>>,
    pub marital: Marital,
    pub health: Health,
    pub disability: Option<(DisabilityKind, u8)>,
    /// The certificate number: None keeps it, Some(None) clears it (as does no disability).
    pub certificate: Option<Option<String>>,
    pub work_ability: WorkAbility,
    pub employment: Employment,
    pub schooling: Schooling,
    pub monthly_income: Fen,
    pub death_date: Option<NaiveDate>,
}

impl MemberEdit {
    /// The certificate number to write, if it changes: none without a disability.
    pub(crate) fn certificate(&self) -> Option<Option<&str>> {
        match (&self.disability, &self.certificate) {
            (None, _) => Some(None),
            (Some(_), c) => c.as_ref().map(Option::as_deref),
        }
    }
}

/// A change to one category held by the household (`person_id` none) or a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldingEdit {
    /// The category starts on `start` (and ends on `end`, if given).
    Add { person_id: Option<i64>, category: Category, start: NaiveDate, end: Option<NaiveDate> },
    /// A holding's dates corrected; an end date ends it.
    Dates { id: i64, start: NaiveDate, end: Option<NaiveDate> },
    /// A holding entered by mistake, removed.
    Remove { id: i64 },
}

/// A record of the household merged into that takes in the other household's
/// records of its category sharing a day with it: one record from the earlier
/// start to the later end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Joined {
    pub kept: i64,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub taken: Vec<i64>,
}

/// The households' own records (not a member's) that a merge joins, so that
/// no category is held twice on one day, as an edit may not make it.
pub(crate) fn join_overlapping(ours: &[HoldingView], theirs: &[HoldingView]) -> Vec<Joined> {
    let far = |end: Option<NaiveDate>| end.unwrap_or(NaiveDate::MAX);
    // Each of our own records with its dates as joining widens them.
    let mut spans: Vec<(&HoldingView, Joined)> = (ours.iter().filter(|h| h.person_id.is_none()))
        .map(|h| (h, Joined { kept: h.id, start: h.start_date, end: h.end_date, taken: Vec::new() }))
        .collect();
    for t in theirs.iter().filter(|h| h.person_id.is_none()) {
        let overlapping = spans
            .iter_mut()
            .find(|(h, j)| h.category == t.category && j.start <= far(t.end_date) && t.start_date <= far(j.end));
        if let Some((_, j)) = overlapping {
            j.start = j.start.min(t.start_date);
            j.end = j.end.zip(t.end_date).map(|(a, b)| a.max(b));
            j.taken.push(t.id);
        }
    }
    spans.into_iter().map(|(_, j)| j).filter(|j| !j.taken.is_empty()).collect()
}

impl HoldingEdit {
    /// Checks the edit against the household as it is: the holding or member it
    /// names must be the household's, and an owner may not hold one category twice
    /// on any day. `Err` carries the conflict's code.
    pub(crate) fn check(&self, before: &HouseholdDetail) -> std::result::Result<(), EditOutcome> {
        let (owner, category, start, end, own_id) = match self {
            HoldingEdit::Add { person_id, category, start, end } => {
                if person_id.is_some_and(|p| !before.members.iter().any(|m| m.id == p)) {
                    return Err(EditOutcome::NotFound);
                }
                (*person_id, category.code(), *start, *end, None)
            }
            HoldingEdit::Dates { id, start, end } => {
                let Some(h) = before.holdings.iter().find(|h| h.id == *id) else {
                    return Err(EditOutcome::NotFound);
                };
                (h.person_id, h.category.as_str(), *start, *end, Some(*id))
            }
            HoldingEdit::Remove { id } => {
                return if before.holdings.iter().any(|h| h.id == *id) { Ok(()) } else { Err(EditOutcome::NotFound) };
            }
        };
        let overlaps = before.holdings.iter().filter(|h| Some(h.id) != own_id).any(|h| {
            h.person_id == owner
                && h.category == category
                && h.start_date <= end.unwrap_or(NaiveDate::MAX)
                && start <= h.end_date.unwrap_or(NaiveDate::MAX)
        });
        if overlaps { Err(EditOutcome::Conflict("holding_overlap")) } else { Ok(()) }
    }

    /// The audit record's diff: the holding, its owner and category, the dates before and after.
    pub(crate) fn diff(&self, before: &HouseholdDetail, id: i64) -> String {
        let held = before.holdings.iter().find(|h| h.id == id);
        let (person, category, was, now) = match (self, held) {
            (HoldingEdit::Add { person_id, category, start, end }, _) => {
                (*person_id, category.code().to_owned(), (None, None), (Some(*start), *end))
            }
            (HoldingEdit::Dates { start, end, .. }, Some(h)) => {
                (h.person_id, h.category.clone(), (Some(h.start_date), h.end_date), (Some(*start), *end))
            }
            (HoldingEdit::Remove { .. }, Some(h)) => {
                (h.person_id, h.category.clone(), (Some(h.start_date), h.end_date), (None, None))
            }
            (_, None) => return serde_json::json!({ "holding": id }).to_string(),
        };
        let mut diff = serde_json::Map::new();
        diff.insert("holding".to_owned(), id.into());
        diff.insert("category".to_owned(), category.into());
        if let Some(p) = person {
            diff.insert("person".to_owned(), p.into());
        }
        let text = |d: Option<NaiveDate>| serde_json::json!(d.map(|d| d.to_string()));
        for (field, a, b) in [("start_date", was.0, now.0), ("end_date", was.1, now.1)] {
            if a != b {
                diff.insert(field.to_owned(), serde_json::json!([text(a), text(b)]));
            }
        }
        serde_json::Value::Object(diff).to_string()
    }
}

/// What became of an edit that carries the version it was made against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditOutcome {
    /// Saved; the household's new version (its version as it was, when the edit changed nothing).
    Saved(i64),
    NotFound,
    /// Someone saved first: the household as it is now.
    Stale(Box<HouseholdDetail>),
    /// The edit would break a rule the database keeps (one head, one household per person).
    Conflict(&'static str),
}

/// A batch written: how it was planned, the households written (new and
/// replaced), and the batch's households, by the plan's positions.
#[derive(Debug)]
pub struct Imported {
    pub plan: ImportPlan,
    pub written: Vec<i64>,
    pub households: Vec<Household>,
}

/// How an import would treat each household of the file (by position).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportPlan {
    pub new: Vec<usize>,
    /// With the id of the registered household it updates.
    pub changed: Vec<(usize, i64)>,
    pub unchanged: Vec<usize>,
    pub conflicts: Vec<ImportConflict>,
    /// Members of changed households not yet registered: they join them.
    pub joining: usize,
    /// Members of changed households the sheet says nothing new of.
    pub members_unchanged: usize,
}

/// A household the registry cannot take as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportConflict {
    pub household: usize,
    /// The member concerned, by position in the household, if one.
    pub member: Option<usize>,
    pub reason: ConflictReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictReason {
    /// The household number belongs to a household outside the importer's jurisdiction.
    NumberOutOfScope,
    /// The person is registered in another household.
    PersonElsewhere,
    /// The household number is a registered household's none of whose members
    /// is in the sheet's household.
    NumberOfAnother,
}

/// Monthly income per living member of `h`, in fen (an SQL expression).
macro_rules! per_capita {
    () => {
        "(SELECT (h.items_income_fen + CAST(COALESCE(SUM(p.monthly_income_fen), 0) AS BIGINT))
                 / CASE WHEN COUNT(*) = 0 THEN 1 ELSE COUNT(*) END
            FROM person p WHERE p.household_id = h.id AND p.death_date IS NULL)"
    };
}
pub(crate) use per_capita;

/// Living members of `h` (an SQL expression).
macro_rules! living_members {
    () => {
        "(SELECT COUNT(*) FROM person p WHERE p.household_id = h.id AND p.death_date IS NULL)"
    };
}

/// Counts over the registry (a list's total, the counts beside each filter
/// option), remembered until the registry changes. Every change moves the audit
/// head in its own transaction, so the head's sequence number says whether a
/// remembered count still holds, whichever process made the change. The day is
/// part of the filter (ages and categories are as of a day).
#[derive(Debug, Default)]
pub(crate) struct Remembered<V> {
    entries: std::sync::Mutex<HashMap<String, (i64, V)>>,
}

impl<V: Clone> Remembered<V> {
    /// Enough for the filters in use; all are forgotten when it fills.
    const CAPACITY: usize = 1024;

    pub(crate) fn get(&self, key: &str, seq: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(key).filter(|(at, _)| *at == seq).map(|(_, v)| v.clone())
    }

    pub(crate) fn put(&self, key: String, seq: i64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(key, (seq, value));
    }
}

/// What a count depends on: the area and pairing of the scope and the filter
/// without its order and page. None for a search by name, number, ID or phone:
/// those find a few households, are cheap to count, and are not kept in memory.
pub(crate) fn count_key(scope: &Scope, filter: &HouseholdFilter) -> Option<String> {
    if filter.name.is_some() || filter.number.is_some() || filter.id_number.is_some() || filter.phone.is_some() {
        return None;
    }
    let paired = if scope.paired_only() { scope.account() } else { None };
    let f =
        HouseholdFilter { sort: HouseholdSort::default(), descending: false, offset: 0, limit: 0, ..filter.clone() };
    Some(format!("{}|{paired:?}|{f:?}", scope.prefix()))
}

/// The audit head's sequence number: it moves with every change.
pub(crate) const AUDIT_SEQ: &str = "SELECT seq FROM audit_head WHERE id = 1";

/// A registry list's `ORDER BY` over `household h`, ties broken by id. By
/// community means the ledger's order, community then 户编号: one walk of the
/// index `household_area_number`, so a page of a long list is read without
/// sorting the list.
pub(crate) fn order_by(sort: HouseholdSort, descending: bool) -> String {
    let columns: &[&str] = match sort {
        HouseholdSort::Number => &["h.number"],
        HouseholdSort::Community => &["h.community", "h.number"],
        HouseholdSort::Members => &[living_members!(), "h.id"],
        HouseholdSort::Income => &[per_capita!(), "h.id"],
    };
    let direction = if descending { " DESC" } else { " ASC" };
    columns.iter().map(|c| format!("{c}{direction}")).collect::<Vec<_>>().join(", ")
}

/// A registry list line's columns; the caller appends the filter.
pub(crate) const SUMMARY_COLUMNS: &str = concat!(
    "SELECT h.id, h.number, h.community, COALESCE(d.name, '') AS community_name, h.address, h.phone_masked,
            h.tags, h.version, h.income_unrecorded,
            COALESCE((SELECT p.name FROM person p WHERE p.household_id = h.id AND p.relation = 'head'), '') AS head_name,
            COALESCE((SELECT p.id_masked FROM person p WHERE p.household_id = h.id AND p.relation = 'head'), '') AS head_id,
            ",
    living_members!(),
    " AS members,
            (SELECT h.items_income_fen + CAST(COALESCE(SUM(p.monthly_income_fen), 0) AS BIGINT)
               FROM person p WHERE p.household_id = h.id AND p.death_date IS NULL) AS income, ",
    per_capita!(),
    " AS per_capita"
);

/// After `SUMMARY_COLUMNS` and `push_held_categories!`: the rows, then the caller's filter.
pub(crate) const SUMMARY_FROM: &str = " FROM household h LEFT JOIN division d ON d.code = h.community WHERE ";

/// Adds to a select list over `household h` the categories it holds on
/// `$today`, sorted and joined by commas, as `categories`.
macro_rules! push_held_categories {
    ($q:expr, $backend:expr, $today:expr) => {{
        let aggregate = if $backend == "postgres" {
            ", (SELECT string_agg(DISTINCT g.category, ',' ORDER BY g.category)"
        } else {
            ", (SELECT group_concat(DISTINCT g.category ORDER BY g.category)"
        };
        $q.push(aggregate)
            .push(" FROM holding g WHERE g.household_id = h.id AND g.start_date <= ")
            .push_bind($today)
            .push(" AND (g.end_date IS NULL OR g.end_date >= ")
            .push_bind($today)
            .push(")) AS categories");
    }};
}
pub(crate) use push_held_categories;

pub(crate) const COUNT_HOUSEHOLDS: &str = "SELECT COUNT(*) FROM household h WHERE ";

/// Households holding a category on a day within an area (see `category_area`);
/// binds the category, the area's range and the day twice.
pub(crate) const COUNT_HOLDERS: &str = "SELECT COUNT(*) FROM (SELECT DISTINCT g.household_id FROM holding g
    WHERE g.category = $1 AND g.community >= $2 AND g.community < $3
      AND g.start_date <= $4 AND (g.end_date IS NULL OR g.end_date >= $5)) AS held";

pub(crate) const SELECT_DETAIL: &str = "
    SELECT h.id, h.number, h.community, COALESCE(d.name, '') AS community_name, h.address, h.phone_masked,
           h.registration, h.tenure, h.housing_condition, h.dangerous_housing, h.assets_fen, h.income_items, h.tags,
           h.version, h.created_audit, h.income_unrecorded, h.assets_unrecorded
      FROM household h LEFT JOIN division d ON d.code = h.community
     WHERE h.id = $1 AND h.community LIKE $2
       AND ($3 = 0 OR EXISTS (SELECT 1 FROM pairing pr
                               WHERE pr.household_id = h.id AND pr.ended IS NULL AND pr.account_id = $3))";

pub(crate) const SELECT_MEMBERS: &str = "
    SELECT id, name, id_masked, sex, birth_date, relation, phone_masked, marital, health, disability_kind,
           CAST(disability_grade AS BIGINT) AS disability_grade, disability_cert, work_ability, employment, schooling,
           monthly_income_fen, death_date, unrecorded
      FROM person WHERE household_id = $1
     ORDER BY CASE WHEN relation = 'head' THEN 0 ELSE 1 END, birth_date, id";

/// The members of some households (their certificates left out); the caller
/// appends the scope's prefix, then ` AND p.household_id IN (ids…)`.
pub(crate) const SELECT_MEMBERS_OF: &str = "
    SELECT p.household_id, p.id, p.name, p.id_masked, p.sex, p.birth_date, p.relation, p.phone_masked, p.marital,
           p.health, p.disability_kind, CAST(p.disability_grade AS BIGINT) AS disability_grade,
           NULL AS disability_cert, p.work_ability, p.employment, p.schooling,
           p.monthly_income_fen, p.death_date, p.unrecorded
      FROM person p JOIN household h ON h.id = p.household_id
     WHERE h.community LIKE ";

pub(crate) const SELECT_HOLDINGS: &str = "
    SELECT id, person_id, category, start_date, end_date FROM holding
     WHERE household_id = $1 ORDER BY start_date, id";

/// A member's sealed ID, if the member's household lies within the prefix `$2`.
pub(crate) const SEALED_ID: &str = "
    SELECT p.id_cipher, p.household_id, h.number, p.name FROM person p JOIN household h ON h.id = p.household_id
     WHERE p.id = $1 AND h.community LIKE $2";

/// A member's sealed phone, if the member's household lies within the prefix `$2`.
pub(crate) const SEALED_PHONE: &str = "
    SELECT p.phone_cipher, p.household_id, h.number, p.name FROM person p JOIN household h ON h.id = p.household_id
     WHERE p.id = $1 AND h.community LIKE $2";
/// A household's sealed phone, if it lies within the prefix `$2`.
pub(crate) const SEALED_HOUSEHOLD_PHONE: &str =
    "SELECT phone_cipher, id, number, CAST(NULL AS TEXT) FROM household WHERE id = $1 AND community LIKE $2";

/// Whose phone to reveal.
#[derive(Clone, Copy, Debug)]
pub enum PhoneOf {
    Person(i64),
    Household(i64),
}

/// Bumps the version of a household within the prefix `$3` if it is still `$2`.
pub(crate) const BUMP_VERSION: &str = "
    UPDATE household SET version = version + 1, updated_at = $4
     WHERE id = $1 AND version = $2 AND community LIKE $3 RETURNING version";

/// `$9`, `$10`: the not-recorded flags, NULL keeping them.
pub(crate) const UPDATE_HOUSEHOLD: &str = "
    UPDATE household SET community = $2, address = $3, registration = $4, tenure = $5, dangerous_housing = $6,
           assets_fen = $7, tags = $8, digest = NULL, income_unrecorded = COALESCE($9, income_unrecorded),
           assets_unrecorded = COALESCE($10, assets_unrecorded) WHERE id = $1";
/// A merge's assets and flags on the household that remains.
pub(crate) const UPDATE_MERGED: &str =
    "UPDATE household SET assets_fen = $2, income_unrecorded = $3, assets_unrecorded = $4 WHERE id = $1";
pub(crate) const UPDATE_NUMBER: &str = "UPDATE household SET number = $2 WHERE id = $1";
pub(crate) const UPDATE_HOUSING_CONDITION: &str = "UPDATE household SET housing_condition = $2 WHERE id = $1";
pub(crate) const UPDATE_INCOME_ITEMS: &str =
    "UPDATE household SET income_items = $2, items_income_fen = $3 WHERE id = $1";
pub(crate) const UPDATE_HOUSEHOLD_PHONE: &str =
    "UPDATE household SET phone_cipher = $2, phone_bidx = $3, phone_masked = $4 WHERE id = $1";

pub(crate) const UPDATE_MEMBER: &str = "
    UPDATE person SET name = $3, relation = $4, marital = $5, health = $6, disability_kind = $7,
           disability_grade = $8, work_ability = $9, employment = $10, schooling = $11, monthly_income_fen = $12,
           death_date = $13, unrecorded = 0
     WHERE id = $1 AND household_id = $2";
/// What visiting one household of an area in order costs, in rows gathered from a
/// category's index range and sorted (a page's walk against gathering its whole list).
pub(crate) const WALK_COST: f64 = 4.0;

/// The head of household `$1` becomes 其他 (another member is made head next).
pub(crate) const DEMOTE_HEAD: &str =
    "UPDATE person SET relation = 'other', digest = NULL WHERE household_id = $1 AND relation = 'head'";
pub(crate) const UPDATE_MEMBER_CERT: &str =
    "UPDATE person SET disability_cert = $3 WHERE id = $1 AND household_id = $2";
pub(crate) const UPDATE_MEMBER_PHONE: &str =
    "UPDATE person SET phone_cipher = $3, phone_bidx = $4, phone_masked = $5 WHERE id = $1 AND household_id = $2";
/// Ends a member's categories that run past `$2` (the end of the month they died
/// in) on it, each keeping the end it had before the first death that ended it.
pub(crate) const END_MEMBER_HOLDINGS: &str = "UPDATE holding
    SET end_before_death = CASE WHEN death_ended = 1 THEN end_before_death ELSE end_date END,
        death_ended = 1, end_date = $2
    WHERE person_id = $1 AND (end_date IS NULL OR end_date > $2)";
/// The member's categories a recorded death ended get back the ends they had,
/// when the death is cleared or corrected (then ended again from the new date).
pub(crate) const RESTORE_MEMBER_HOLDINGS: &str = "UPDATE holding
    SET end_date = end_before_death, end_before_death = NULL, death_ended = 0
    WHERE person_id = $1 AND death_ended = 1";
pub(crate) const ADD_HOLDING: &str =
    "INSERT INTO holding (household_id, community, person_id, category, start_date, end_date)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
/// Dates set by hand are the holding's own: a death corrected later leaves them.
pub(crate) const UPDATE_HOLDING: &str = "UPDATE holding
    SET start_date = $3, end_date = $4, death_ended = 0, end_before_death = NULL
    WHERE id = $1 AND household_id = $2";
pub(crate) const REMOVE_HOLDING: &str = "DELETE FROM holding WHERE id = $1 AND household_id = $2";
pub(crate) const DELETE_MEMBER: &str = "DELETE FROM person WHERE id = $1 AND household_id = $2";
/// A new household with the facts of household `$1` and the number `$2`.
pub(crate) const COPY_HOUSEHOLD: &str = "
    INSERT INTO household (number, community, address, phone_cipher, phone_bidx, phone_masked, registration, tenure,
                           housing_condition, dangerous_housing, assets_fen, tags, income_unrecorded,
                           assets_unrecorded)
    SELECT $2, community, address, phone_cipher, phone_bidx, phone_masked, registration, tenure, housing_condition,
           dangerous_housing, 0, tags, income_unrecorded, assets_unrecorded
      FROM household WHERE id = $1
    RETURNING id";
pub(crate) const CLEAR_DIGEST: &str = "UPDATE household SET digest = NULL WHERE id = $1";
pub(crate) const CLEAR_MEMBER_DIGEST: &str = "UPDATE person SET digest = NULL WHERE id = $1";

pub(crate) const INCOME_RECORDED: &str = "UPDATE household SET income_unrecorded = FALSE WHERE id = $1";

pub(crate) const INSERT_PAIRING: &str =
    "INSERT INTO pairing (household_id, account_id, started) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Registered persons by ID blind index, with their household's number.
pub(crate) const PERSONS_BY_INDEX: &str = "SELECT id_bidx, household_id, digest FROM person WHERE id_bidx IN ";

/// An edit that would change nothing: every field as stored (a cleared phone or
/// certificate among them), and no phone or certificate typed afresh (those are
/// sealed, so a typed one counts as a change).
/// It is not saved: no new version, no audit record.
pub(crate) fn household_unchanged(before: &HouseholdDetail, edit: &HouseholdEdit) -> bool {
    !matches!(edit.phone, Some(Some(_))) && household_changes(before, edit, None).is_empty()
}

pub(crate) fn member_unchanged(before: &MemberView, edit: &MemberEdit) -> bool {
    let typed = matches!(edit.phone, Some(Some(_))) || matches!(edit.certificate, Some(Some(_)));
    !typed && member_changes(before, edit, None).is_empty()
}

/// What a household edit changes, for the audit record (phones masked).
pub(crate) fn household_diff(before: &HouseholdDetail, edit: &HouseholdEdit, phone_after: Option<&str>) -> String {
    serde_json::Value::Object(household_changes(before, edit, phone_after)).to_string()
}

/// What a member edit changes, for the audit record (phones masked), with the member's id.
/// A member's changes, with the household's income no longer unrecorded when
/// `income_recorded`.
pub(crate) fn member_diff(
    before: &MemberView,
    edit: &MemberEdit,
    phone_after: Option<&str>,
    income_recorded: bool,
) -> String {
    let mut diff = member_changes(before, edit, phone_after);
    if income_recorded {
        diff.insert("income_unrecorded".to_owned(), serde_json::json!([true, false]));
    }
    // The form records every fact: those a sheet had left at a default are recorded now.
    if !before.unrecorded.is_empty() {
        diff.insert("unrecorded".to_owned(), serde_json::json!([before.unrecorded, []]));
    }
    diff.insert("person".to_owned(), before.id.into());
    serde_json::Value::Object(diff).to_string()
}

type Changes = serde_json::Map<String, serde_json::Value>;

/// Records `key` in `diff` as `[before, after]` when the two differ.
fn put_change(diff: &mut Changes, key: &str, before: serde_json::Value, after: serde_json::Value) {
    if before != after {
        diff.insert(key.to_owned(), serde_json::json!([before, after]));
    }
}

fn household_changes(before: &HouseholdDetail, edit: &HouseholdEdit, phone_after: Option<&str>) -> Changes {
    let mut diff = serde_json::Map::new();
    let mut put = |key: &str, a, b| put_change(&mut diff, key, a, b);
    if let Some(after) = &edit.number {
        put("number", before.number.clone().into(), after.clone().into());
    }
    put("community", before.community.clone().into(), edit.community.as_str().into());
    put("address", before.address.clone().into(), edit.address.clone().into());
    if edit.phone.is_some() {
        put("phone", before.phone_masked.clone().into(), phone_after.map(str::to_owned).into());
    }
    put("registration", before.registration.clone().into(), edit.registration.code().into());
    put("tenure", before.tenure.clone().into(), edit.tenure.code().into());
    put("dangerous_housing", before.dangerous_housing.into(), edit.dangerous_housing.into());
    if let Some(after) = edit.housing_condition {
        put("housing_condition", before.housing_condition.clone().into(), after.map(|c| c.code()).into());
    }
    put("assets_fen", before.assets_fen.into(), edit.assets.0.into());
    if let Some(after) = &edit.income_items {
        let items = |items: &[IncomeItem]| serde_json::Value::from(IncomeItem::encode(items));
        put("income_items", items(&before.income_items), items(after));
    }
    if let Some(after) = edit.income_unrecorded {
        put("income_unrecorded", before.income_unrecorded.into(), after.into());
    }
    if let Some(after) = edit.assets_unrecorded {
        put("assets_unrecorded", before.assets_unrecorded.into(), after.into());
    }
    let tags_after: Vec<&str> = edit.tags.iter().map(|t| t.code()).collect();
    put("tags", before.tags.clone().into(), tags_after.into());
    diff
}

fn member_changes(before: &MemberView, edit: &MemberEdit, phone_after: Option<&str>) -> Changes {
    let certificate_after = edit.certificate().map(|c| c.map(zhongfu_domain::ledger::mask_id_text));
    let mut diff = serde_json::Map::new();
    let mut put = |key: &str, a, b| put_change(&mut diff, key, a, b);
    put("name", before.name.clone().into(), edit.name.clone().into());
    put("relation", before.relation.clone().into(), edit.relation.code().into());
    if edit.phone.is_some() {
        put("phone", before.phone_masked.clone().into(), phone_after.map(str::to_owned).into());
    }
    put("marital", before.marital.clone().into(), edit.marital.code().into());
    put("health", before.health.clone().into(), edit.health.code().into());
    put("disability_kind", before.disability_kind.clone().into(), edit.disability.map(|d| d.0.code()).into());
    put("disability_grade", before.disability_grade.into(), edit.disability.map(|d| i64::from(d.1)).into());
    if let Some(after) = certificate_after {
        put("disability_cert", before.disability_cert_masked.clone().into(), after.into());
    }
    put("work_ability", before.work_ability.clone().into(), edit.work_ability.code().into());
    put("employment", before.employment.clone().into(), edit.employment.code().into());
    put("schooling", before.schooling.clone().into(), edit.schooling.code().into());
    put("monthly_income_fen", before.monthly_income_fen.into(), edit.monthly_income.0.into());
    put("death_date", before.death_date.map(|d| d.to_string()).into(), edit.death_date.map(|d| d.to_string()).into());
    diff
}

/// The last day of `date`'s month: a death ends categories from the next month.
pub(crate) fn end_of_month(date: NaiveDate) -> NaiveDate {
    let first_next = if date.month() == 12 {
        NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
    };
    first_next.and_then(|d| d.pred_opt()).unwrap_or(date)
}

/// A comma-joined list (tags, categories) as its items.
pub(crate) fn split_list(list: &str) -> Vec<String> {
    list.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

pub(crate) fn household_event(action: &str, id: i64, diff: String) -> crate::AuditEvent {
    crate::AuditEvent { action: action.to_owned(), entity: "household".to_owned(), entity_id: id.to_string(), diff }
}

/// Adds the scope and the filter to a registry query over `household h`.
macro_rules! push_household_filter {
    ($q:expr, $scope:expr, $f:expr, $keys:expr) => {
        $crate::registry::push_household_filter!($q, $scope, $f, $keys, false)
    };
    // `per_row`: the category tested household by household (for a page read in
    // index order, which stops after the page) instead of as one index range
    // (for counts, and for pages of few matches sorted whole).
    ($q:expr, $scope:expr, $f:expr, $keys:expr, $per_row:expr) => {{
        let (q, scope, f) = (&mut $q, $scope, $f);
        // Prefixes as ranges (codes are digits, '~' sorts after them), so the index on community serves.
        q.push("h.community >= ").push_bind(scope.prefix().to_owned());
        q.push(" AND h.community < ").push_bind(format!("{}~", scope.prefix()));
        if scope.paired_only() {
            q.push(" AND EXISTS (SELECT 1 FROM pairing pr WHERE pr.household_id = h.id AND pr.ended IS NULL AND pr.account_id = ")
                .push_bind(scope.account().unwrap_or(0))
                .push(")");
        }
        if let Some(d) = &f.division {
            q.push(" AND h.community >= ").push_bind(d.prefix().to_owned());
            q.push(" AND h.community < ").push_bind(format!("{}~", d.prefix()));
        }
        // The narrower of the scope and the chosen division (a division outside the scope matches nothing anyway).
        let area = match &f.division {
            Some(d) if d.prefix().len() > scope.prefix().len() => d.prefix(),
            _ => scope.prefix(),
        };
        // A full ID number or phone finds its household through the blind index first.
        if let Some(id) = &f.id_number {
            q.push(" AND h.id IN (SELECT household_id FROM person WHERE id_bidx = ")
                .push_bind($keys.blind_index(zhongfu_domain::pii::IndexKind::IdNumber, id.as_str()))
                .push(")");
        }
        // A number's start, as a range of the number index (U+10FFFF sorts after any character).
        if let Some(n) = &f.number {
            q.push(" AND h.number >= ").push_bind(n.clone());
            q.push(" AND h.number < ").push_bind(format!("{n}\u{10FFFF}"));
        }
        // The category's holdings within the area are one range of `holding_area`,
        // whatever the size of the street.
        if let Some(c) = f.category {
            if $per_row {
                q.push(" AND EXISTS (SELECT 1 FROM holding g WHERE g.household_id = h.id AND g.category = ").push_bind(c.code());
            } else {
                q.push(" AND h.id IN (SELECT g.household_id FROM holding g WHERE g.category = ")
                    .push_bind(c.code())
                    .push(" AND g.community >= ")
                    .push_bind(area.to_owned())
                    .push(" AND g.community < ")
                    .push_bind(format!("{area}~"));
            }
            q.push(" AND g.start_date <= ")
                .push_bind(f.today)
                .push(" AND (g.end_date IS NULL OR g.end_date >= ")
                .push_bind(f.today)
                .push("))");
        }
        if let Some(t) = f.tag {
            q.push(" AND (',' || h.tags || ',') LIKE ").push_bind(format!("%,{},%", t.code()));
        }
        if let Some(phone) = &f.phone {
            let bidx = $keys.blind_index(zhongfu_domain::pii::IndexKind::Phone, phone);
            q.push(" AND h.id IN (SELECT id FROM household WHERE phone_bidx = ")
                .push_bind(bidx.clone())
                .push(" UNION SELECT household_id FROM person WHERE phone_bidx = ")
                .push_bind(bidx)
                .push(")");
        }
        if f.has_person_criteria() {
            q.push(" AND EXISTS (SELECT 1 FROM person p WHERE p.household_id = h.id");
            $crate::registry::push_member_criteria!(*q, f);
            q.push(")");
        }
        // An income not recorded is in no income range.
        if f.income_min.is_some() || f.income_max.is_some() {
            q.push(" AND h.income_unrecorded = ").push_bind(false);
        }
        if let Some(min) = f.income_min {
            q.push(concat!(" AND ", $crate::registry::per_capita!(), " >= ")).push_bind(min.0);
        }
        if let Some(max) = f.income_max {
            q.push(concat!(" AND ", $crate::registry::per_capita!(), " <= ")).push_bind(max.0);
        }
    }};
}
pub(crate) use push_household_filter;

/// The filter's member criteria on `person p`, all on the same member: a list
/// filtered by age and disability holds households with one member who is both.
macro_rules! push_member_criteria {
    ($q:expr, $f:expr) => {{
        let (q, f) = (&mut $q, $f);
        if let Some(name) = &f.name {
            q.push(" AND p.name LIKE ").push_bind(format!("%{}%", $crate::like_escape(name))).push(" ESCAPE '\\'");
        }
        let (born_from, born_to) = f.birth_bounds();
        if f.age_min.is_some() || f.age_max.is_some() || f.disability_kind.is_some() || f.work_ability.is_some() {
            q.push(" AND p.death_date IS NULL");
        }
        if let Some(d) = born_from {
            q.push(" AND p.birth_date >= ").push_bind(d);
        }
        if let Some(d) = born_to {
            q.push(" AND p.birth_date <= ").push_bind(d);
        }
        if let Some(k) = f.disability_kind {
            q.push(" AND p.disability_kind = ").push_bind(k.code());
        }
        if let Some(g) = f.disability_grade {
            q.push(" AND p.disability_grade = ").push_bind(i64::from(g));
        }
        // A work ability not recorded is no work ability in particular.
        if let Some(w) = f.work_ability {
            q.push(" AND p.work_ability = ").push_bind(w.code());
            q.push(format_args!(" AND (p.unrecorded & {}) = 0", zhongfu_domain::policy::Unrecorded::WORK_ABILITY));
        }
    }};
}
pub(crate) use push_member_criteria;

/// A holding as stored, for an update to compare with the sheet's.
#[derive(Clone, Debug)]
pub(crate) struct StoredHolding {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub category: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

impl StoredHolding {
    pub fn from_row(
        (id, household_id, person_id, category, start_date, end_date): (
            i64,
            i64,
            Option<i64>,
            String,
            NaiveDate,
            Option<NaiveDate>,
        ),
    ) -> Self {
        Self { id, household_id, person_id, category, start_date, end_date }
    }
}

pub(crate) const STORED_HOLDINGS: &str =
    "SELECT id, household_id, person_id, category, start_date, end_date FROM holding WHERE household_id IN ";
/// A household's own income items as stored: (household id, items).
pub(crate) const STORED_HOUSEHOLDS: &str = "SELECT id, community, address, phone_masked, registration, tenure, \
    housing_condition, dangerous_housing, assets_fen, income_items, tags FROM household WHERE id IN ";

/// A registered household's own facts as an update from a sheet reads them, to say
/// what the sheet changes.
pub(crate) struct StoredHousehold {
    community: String,
    address: String,
    phone_masked: Option<String>,
    registration: String,
    tenure: String,
    housing_condition: Option<String>,
    dangerous_housing: bool,
    assets_fen: i64,
    pub income_items: String,
    tags: String,
}

/// A row of `STORED_HOUSEHOLDS`.
pub(crate) type StoredHouseholdRow =
    (i64, String, String, Option<String>, String, String, Option<String>, bool, i64, String, String);

impl StoredHousehold {
    /// The household's id and its facts.
    pub(crate) fn from_row(row: StoredHouseholdRow) -> (i64, Self) {
        let (
            id,
            community,
            address,
            phone_masked,
            registration,
            tenure,
            housing_condition,
            dangerous_housing,
            assets_fen,
            income_items,
            tags,
        ) = row;
        let facts = Self {
            community,
            address,
            phone_masked,
            registration,
            tenure,
            housing_condition,
            dangerous_housing,
            assets_fen,
            income_items,
            tags,
        };
        (id, facts)
    }
}

/// What a sheet changes of a registered household's own facts, in the keys an edit's
/// record uses (the phone masked): only the fields it has columns for.
pub(crate) fn sheet_changes(
    before: &StoredHousehold,
    h: &Household,
    said: Said,
    phone_after: Option<&str>,
    items_after: Option<&str>,
) -> Changes {
    use zhongfu_domain::ledger::Field;
    let mut diff = serde_json::Map::new();
    let mut put = |field: Field, key: &str, old: serde_json::Value, new: serde_json::Value| {
        if said.has(field) {
            put_change(&mut diff, key, old, new);
        }
    };
    put(Field::Community, "community", before.community.as_str().into(), h.community.as_str().into());
    put(Field::Address, "address", before.address.as_str().into(), h.address.as_str().into());
    put(Field::HouseholdPhone, "phone", before.phone_masked.clone().into(), phone_after.into());
    put(Field::Registration, "registration", before.registration.as_str().into(), h.registration.code().into());
    put(Field::Tenure, "tenure", before.tenure.as_str().into(), h.tenure.code().into());
    let condition = h.housing_condition.map(|c| c.code());
    put(Field::HousingCondition, "housing_condition", before.housing_condition.clone().into(), condition.into());
    put(Field::DangerousHousing, "dangerous_housing", before.dangerous_housing.into(), h.dangerous_housing.into());
    put(Field::Assets, "assets_fen", before.assets_fen.into(), h.assets.0.into());
    put(Field::HouseholdTags, "tags", split_list(&before.tags).into(), split_list(&tags(h)).into());
    // Merged with the kinds the sheet has no column for, when it has any.
    if let Some(after) = items_after {
        put_change(&mut diff, "income_items", before.income_items.as_str().into(), after.into());
    }
    diff
}

/// A household's income items after a sheet: the kinds it has a column for as
/// the sheet says, the others as stored.
pub(crate) fn merged_income_items(stored: &str, sheet: &[IncomeItem], said: Said) -> Vec<IncomeItem> {
    let from_sheet = |kind| zhongfu_domain::ledger::INCOME_FIELDS.iter().any(|&(f, k)| k == kind && said.has(f));
    let mut items: Vec<IncomeItem> = IncomeItem::decode(stored)
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !from_sheet(i.kind))
        .chain(sheet.iter().copied())
        .collect();
    items.sort_by_key(|i| i.kind);
    items
}

/// Members as stored: (person id, household id, ID blind index, relation).
/// A registered member as an update from a sheet reads it: id, relation, digest, date of death.
pub(crate) type StoredMember = (i64, String, Option<Vec<u8>>, Option<NaiveDate>);
pub(crate) const STORED_MEMBERS: &str =
    "SELECT id, household_id, id_bidx, relation, digest, death_date FROM person WHERE household_id IN ";
/// `(ids…)` after a query's `IN`.
pub(crate) fn push_ids<DB: sqlx::Database>(q: &mut sqlx::QueryBuilder<DB>, ids: &[i64])
where
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for &id in ids {
        list.push_bind(id);
    }
    q.push(")");
}

/// `, phone_cipher = …, phone_bidx = …, phone_masked = …` of an `UPDATE … SET`.
pub(crate) fn push_phone<DB: sqlx::Database>(q: &mut sqlx::QueryBuilder<DB>, phone: Option<&Sealed>)
where
    for<'t> Option<Vec<u8>>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<String>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push(", phone_cipher = ").push_bind(phone.map(|p| p.cipher.clone()));
    q.push(", phone_bidx = ").push_bind(phone.map(|p| p.bidx.clone()));
    q.push(", phone_masked = ").push_bind(phone.map(|p| p.masked.clone()));
}

pub(crate) const END_HOLDING: &str = "UPDATE holding SET end_date = $2 WHERE id = $1";
pub(crate) const DELETE_HOLDING: &str = "DELETE FROM holding WHERE id = $1";

/// How a sheet's categories meet the stored ones of the owners it speaks for.
#[derive(Default)]
pub(crate) struct HoldingChanges<'a> {
    pub insert: Vec<HoldingRow<'a>>,
    /// (holding, its new end).
    pub end: Vec<(i64, NaiveDate)>,
    pub delete: Vec<i64>,
}

/// A category the sheet lists that is already held keeps its start (and its
/// history); one newly listed starts as the sheet says; one held but no longer
/// listed ends with the month before `month` (or goes, if it had not begun by then).
/// Holdings that ended before `month` are history and stay as they are.
pub(crate) fn holding_changes<'a>(
    wanted: Vec<HoldingRow<'a>>,
    stored: &[StoredHolding],
    month: NaiveDate,
) -> HoldingChanges<'a> {
    let mut changes = HoldingChanges::default();
    let mut matched = vec![false; stored.len()];
    for w in wanted {
        let found = stored.iter().enumerate().position(|(k, s)| {
            !matched[k]
                && s.household_id == w.household_id
                && s.person_id == w.person_id
                && s.category == w.holding.category.code()
                // Held now: one that ended before this month stays history.
                && s.end_date.is_none_or(|e| e >= month)
        });
        match found {
            Some(k) => {
                matched[k] = true;
                let s = &stored[k];
                if let Some(end) = w.holding.end.filter(|&e| s.end_date.is_none_or(|s| s > e)) {
                    changes.end.push((s.id, end.max(s.start_date)));
                }
            }
            None => {
                // A start the sheet gives may reach back into an ended holding of the
                // same category: the new one begins the day after it ended.
                let mut w = w;
                let last_end = stored
                    .iter()
                    .filter(|s| {
                        s.household_id == w.household_id
                            && s.person_id == w.person_id
                            && s.category == w.holding.category.code()
                    })
                    .filter_map(|s| s.end_date)
                    .max();
                if let Some(next) = last_end.filter(|&e| e >= w.start).and_then(|e| e.succ_opt()) {
                    w.start = next;
                }
                // Ended before it would begin: the records there cover its time (a member
                // who died in an earlier month, listed with the category the death ended).
                if w.holding.end.is_none_or(|end| end >= w.start) {
                    changes.insert.push(w)
                }
            }
        }
    }
    let before = month.pred_opt().unwrap_or(month);
    for (s, _) in stored.iter().zip(&matched).filter(|(s, m)| !**m && s.end_date.is_none_or(|e| e >= month)) {
        if s.start_date >= month {
            changes.delete.push(s.id);
        } else {
            changes.end.push((s.id, before));
        }
    }
    changes
}

/// A registered household a sheet's household number names.
pub(crate) struct Existing {
    pub id: i64,
    /// Within the importer's scope.
    pub within: bool,
    pub digest: Option<Vec<u8>>,
    /// It has members (a household being registered meanwhile may not have yet).
    pub peopled: bool,
}

/// Existing households by number.
pub(crate) type ExistingHouseholds = HashMap<String, Existing>;

/// Registered persons by ID blind index: their household's id and their digest.
pub(crate) type RegisteredPersons = HashMap<Vec<u8>, (i64, Option<Vec<u8>>)>;

/// Sorts a file's households into new, changed, unchanged and conflicting.
pub(crate) fn plan(batch: &ImportBatch, existing: &ExistingHouseholds, registered: &RegisteredPersons) -> ImportPlan {
    let households = batch.households();
    let mut plan = ImportPlan::default();
    let mut unregistered = vec![0usize; households.len()];
    // Members registered in the household the number names, the sheet saying nothing new of them.
    let mut same_members = vec![0usize; households.len()];
    // Households of the sheet with a member registered in the household their number names.
    let mut shared = vec![false; households.len()];
    for (i, j, m) in batch.member_seals() {
        let same = |household: &i64| existing.get(&households[i].number).is_some_and(|e| e.id == *household);
        match registered.get(&m.id.bidx) {
            None => unregistered[i] += 1,
            Some((household, digest)) if same(household) => {
                shared[i] = true;
                same_members[i] += usize::from(digest.as_ref() == Some(&m.digest));
            }
            Some(_) => plan.conflicts.push(ImportConflict {
                household: i,
                member: Some(j),
                reason: ConflictReason::PersonElsewhere,
            }),
        }
    }
    let conflicted: std::collections::HashSet<usize> = plan.conflicts.iter().map(|c| c.household).collect();
    for (i, h) in households.iter().enumerate() {
        let conflict = |reason| ImportConflict { household: i, member: None, reason };
        match existing.get(&h.number) {
            Some(e) if !e.within => plan.conflicts.push(conflict(ConflictReason::NumberOutOfScope)),
            _ if conflicted.contains(&i) => {}
            // Another family under the same number: a worker's own numbering, or a typo.
            Some(e) if e.peopled && !shared[i] => plan.conflicts.push(conflict(ConflictReason::NumberOfAnother)),
            Some(e) => {
                // Members the sheet leaves out stay as they are: they change nothing.
                let members_same = unregistered[i] == 0 && same_members[i] == h.members.len();
                if members_same && e.digest.as_deref() == Some(batch.digest(i)) {
                    plan.unchanged.push(i);
                } else {
                    plan.changed.push((i, e.id));
                }
            }
            None => plan.new.push(i),
        }
    }
    plan.joining = plan.changed.iter().map(|&(i, _)| unregistered[i]).sum();
    plan.members_unchanged = plan.changed.iter().map(|&(i, _)| same_members[i]).sum();
    plan
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chunk_of_rows_binds_no_more_values_than_sqlite_takes() {
        let columns = |sql: &str| sql[sql.find('(').unwrap()..].split(',').count();
        assert!(HOUSEHOLD_CHUNK * columns(INSERT_HOUSEHOLD) <= 32_766, "{}", columns(INSERT_HOUSEHOLD));
    }

    use super::*;

    #[test]
    fn a_merge_joins_the_households_records_of_one_category_that_share_a_day() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let held = |id, person_id, category: &str, start, end| HoldingView {
            id,
            person_id,
            category: category.to_owned(),
            start_date: start,
            end_date: end,
        };
        let ours = [
            held(1, None, "dibao", day(1, 1), Some(day(6, 30))),
            held(2, None, "temporary", day(1, 1), Some(day(1, 31))),
            held(3, Some(9), "tekun", day(1, 1), None),
        ];
        let theirs = [
            // Overlaps 1 and runs on: 1 runs on from its own start.
            held(11, None, "dibao", day(3, 1), None),
            // After 2 ended: both stay.
            held(12, None, "temporary", day(2, 1), None),
            // A member's: never joined.
            held(13, Some(8), "tekun", day(1, 1), None),
        ];
        assert_eq!(
            join_overlapping(&ours, &theirs),
            [Joined { kept: 1, start: day(1, 1), end: None, taken: vec![11] }]
        );
        // Two of theirs inside one of ours: one record takes both.
        let theirs = [
            held(11, None, "dibao", day(2, 1), Some(day(2, 28))),
            held(12, None, "dibao", day(5, 1), Some(day(8, 31))),
        ];
        assert_eq!(
            join_overlapping(&ours, &theirs),
            [Joined { kept: 1, start: day(1, 1), end: Some(day(8, 31)), taken: vec![11, 12] }]
        );
    }

    fn household() -> Household {
        let id = |seq| IdNumber::from_parts("430602", NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(), seq).unwrap();
        let person = |name: &str, seq| Person {
            name: name.to_owned(),
            id_number: id(seq),
            relation: Relation::Head,
            phone: None,
            marital: Marital::Married,
            health: Health::Healthy,
            disability: None,
            work_ability: WorkAbility::Full,
            employment: Employment::Employed,
            schooling: Schooling::NotInSchool,
            monthly_income: Fen(0),
            categories: Vec::new(),
            death_date: None,
            unrecorded: 0,
        };
        Household {
            number: "H1".to_owned(),
            community: DivisionCode::parse("430602001001").unwrap(),
            address: "洞庭路1号".to_owned(),
            phone: None,
            registration: Registration::Urban,
            tenure: Tenure::Own,
            housing_condition: None,
            dangerous_housing: false,
            assets: Fen(0),
            income_items: Vec::new(),
            income_unrecorded: false,
            assets_unrecorded: false,
            tags: Vec::new(),
            categories: Vec::new(),
            members: vec![person("张三", 11), person("李四", 22)],
        }
    }

    #[test]
    fn a_sheet_replaces_only_the_income_kinds_it_has_columns_for() {
        use zhongfu_domain::ledger::Field;
        use zhongfu_domain::registry::IncomeKind::{Business, Property, Transfer};
        let item = |kind, fen| IncomeItem { kind, monthly: Fen(fen) };
        let stored = "business:100,transfer:300";
        let said = Said::of(&[Some(Field::Name), Some(Field::BusinessIncome), Some(Field::PropertyIncome)]);
        // The sheet's business income is blank (none), its property income 200; transfer has no column.
        let merged = merged_income_items(stored, &[item(Property, 200)], said);
        assert_eq!(merged, vec![item(Property, 200), item(Transfer, 300)]);
        assert_eq!(
            merged_income_items(stored, &[], Said::of(&[Some(Field::Name)])),
            vec![item(Business, 100), item(Transfer, 300)]
        );
    }

    #[test]
    fn a_digest_changes_with_any_fact_and_only_then() {
        let keys = PiiKeys::new(1, &[7; 32]);
        let base = digest(&keys, &household(), Said::all());
        assert_eq!(digest(&keys, &household(), Said::all()), base, "the same household, the same digest");
        let changed: [fn(&mut Household); 6] = [
            |h| h.address.push('A'),
            |h| {
                h.income_items
                    .push(IncomeItem { kind: zhongfu_domain::registry::IncomeKind::Property, monthly: Fen(1) })
            },
            |h| h.phone = Some(String::new()),
            |h| h.assets = Fen(1),
            |h| h.tags.push(Tag::LivingAlone),
            // Text moved from one field to the next is a change.
            |h| {
                h.number.push('洞');
                h.address = h.address.replacen('洞', "", 1);
            },
        ];
        for (i, change) in changed.iter().enumerate() {
            let mut h = household();
            change(&mut h);
            assert_ne!(digest(&keys, &h, Said::all()), base, "change {i}");
        }
        // A member's facts are in the member's digest, not the household's.
        let member = |h: &Household, j: usize| member_digest(&keys, &h.members[j], Said::all());
        let changed: [fn(&mut Household); 4] = [
            |h| h.members[1].monthly_income = Fen(1),
            |h| h.members[1].death_date = NaiveDate::from_ymd_opt(2026, 1, 1),
            |h| {
                h.members[1].categories.push(Holding {
                    category: Category::Dibao,
                    start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                    end: None,
                })
            },
            |h| h.members[1].name.push('五'),
        ];
        for (i, change) in changed.iter().enumerate() {
            let mut h = household();
            change(&mut h);
            assert_ne!(member(&h, 1), member(&household(), 1), "member change {i}");
            assert_eq!(digest(&keys, &h, Said::all()), base, "member change {i}");
            assert_eq!(member(&h, 0), member(&household(), 0), "member change {i}");
        }
        let mut fewer = household();
        fewer.members.pop();
        assert_eq!(digest(&keys, &fewer, Said::all()), base, "a member left out changes nothing of the household");
        // The same categories imported in another month (their start is the import's month) are no change.
        let held = |start: (i32, u32)| {
            let mut h = household();
            let start = NaiveDate::from_ymd_opt(start.0, start.1, 1).unwrap();
            h.categories.push(Holding { category: Category::Dibao, start, end: None });
            h.members[0].categories.push(Holding { category: Category::Tekun, start, end: None });
            (digest(&keys, &h, Said::all()), member_digest(&keys, &h.members[0], Said::all()))
        };
        assert_eq!(held((2026, 11)), held((2026, 12)));
        assert_ne!(held((2026, 11)).0, base);
        // A sheet without some of the fields leaves them as stored: its digest says so, and a
        // sheet with those columns left blank is another sheet. One with all of them is as whole.
        use zhongfu_domain::ledger::Field;
        let whole = Said::of(&Field::ALL.iter().filter(|f| f.in_digest()).map(|f| Some(*f)).collect::<Vec<_>>());
        assert_eq!(digest(&keys, &household(), whole), base);
        let without = Said::of(&[Some(Field::Name), Some(Field::IdNumber), Some(Field::Relation)]);
        let blank_income =
            Said::of(&[Some(Field::Name), Some(Field::IdNumber), Some(Field::Relation), Some(Field::OtherIncome)]);
        let (a, b) = (digest(&keys, &household(), without), digest(&keys, &household(), blank_income));
        assert!(a != b && a != base && b != base);
        assert_eq!(digest(&keys, &household(), without), a, "the same sheet again, the same digest");
        // Without a 婚姻状况 column the status is guessed from the age, which a birthday
        // changes: the same sheet imported again after it is still the same.
        let mut older = household();
        older.members[1].marital = zhongfu_domain::registry::Marital::Widowed;
        assert_ne!(older.members[1].marital, household().members[1].marital);
        let member = |h: &Household, said| member_digest(&keys, &h.members[1], said);
        assert_eq!(member(&older, without), member(&household(), without));
        assert_ne!(
            member(&older, Said::all()),
            member(&household(), Said::all()),
            "where the sheet says it, it counts"
        );
    }

    #[test]
    fn an_update_keeps_a_held_categorys_start_ends_an_unlisted_one_and_adds_a_new_one() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let month = day(2026, 11, 1);
        let stored = |id, person_id, category: &str, start, end| StoredHolding {
            id,
            household_id: 7,
            person_id,
            category: category.to_owned(),
            start_date: start,
            end_date: end,
        };
        let stored = vec![
            stored(1, None, "dibao", day(2023, 4, 1), None),
            stored(2, Some(70), "disability_living", day(2024, 1, 1), None),
            stored(3, None, "temporary", day(2025, 2, 1), Some(day(2025, 4, 30))),
            stored(4, Some(71), "orphan", day(2026, 12, 1), None),
        ];
        let listed = |category| Holding { category, start: month, end: None };
        let (dibao, severe) = (listed(Category::Dibao), listed(Category::DisabilityCare));
        let died = Holding { category: Category::DisabilityLiving, start: month, end: Some(day(2026, 11, 30)) };
        fn row(person_id: Option<i64>, holding: &Holding) -> HoldingRow<'_> {
            HoldingRow { household_id: 7, community: "430602001001", person_id, holding, start: holding.start }
        }
        let wanted = vec![row(None, &dibao), row(Some(70), &died), row(Some(70), &severe)];
        let changes = holding_changes(wanted, &stored, month);
        // 低保 held since 2023 keeps its start; only 护理补贴 is new.
        let inserted: Vec<_> = changes.insert.iter().map(|r| (r.person_id, r.holding.category)).collect();
        assert_eq!(inserted, [(Some(70), Category::DisabilityCare)]);
        // The member's 生活补贴 ends with the month of death; the 临时救助 that ended in 2025 is history.
        assert_eq!(changes.end, [(2, day(2026, 11, 30))]);
        // 孤儿 was to begin next month and is no longer listed: it goes.
        assert_eq!(changes.delete, [4]);
        // A ledger's start reaching back into the 临时救助 that ended in April 2025: the new one
        // begins the day after, so the two never overlap.
        let again = Holding { category: Category::Temporary, start: day(2025, 1, 1), end: None };
        let changes = holding_changes(vec![row(None, &again)], &stored, month);
        assert_eq!(changes.insert.iter().map(|r| r.start).collect::<Vec<_>>(), [day(2025, 5, 1)]);
    }
}
