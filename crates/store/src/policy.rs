//! The policy catalogue's rows: versions with maker and checker, dated
//! parameters, the registry read as facts for the sweep, and the marks
//! workers put on sweep results.

use chrono::NaiveDate;
use serde::Serialize;
use zhongfu_domain::policy::{HouseholdFacts, ParamDef, PersonFacts, PolicyDef, Unrecorded};
use zhongfu_domain::registry::{
    Category, DisabilityKind, Employment, Health, Holding, Marital, Registration, Relation, Schooling, Tag, Tenure,
    WorkAbility,
};
use zhongfu_domain::{Fen, Sex};

use crate::{AuditEvent, StoreError};

/// One version of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub id: i64,
    pub policy_id: i64,
    pub version: i64,
    /// `draft`, `active`, `superseded` or `discarded`.
    pub status: String,
    pub definition: PolicyDef,
    /// `None` for the shipped catalogue.
    pub drafted_by: Option<i64>,
    /// The drafter as "display name（login）": two accounts may share a display name.
    pub drafted_by_name: Option<String>,
    pub drafted_at: String,
    pub approved_by: Option<i64>,
    pub approved_by_name: Option<String>,
    pub approved_at: Option<String>,
}

/// A new value proposed for a district parameter: it takes effect only when
/// another account with the publish permission applies it (maker ≠ checker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParamChange {
    pub id: i64,
    pub name: String,
    pub from: NaiveDate,
    /// In the parameter's unit (fen for money).
    pub value: i64,
    /// `proposed`, `applied` or `discarded`.
    pub status: String,
    pub proposed_by: i64,
    pub proposed_by_name: Option<String>,
    pub proposed_at: String,
}

macro_rules! select_param_changes {
    ($where:literal) => {
        concat!(
            "SELECT c.id, c.name, c.from_date, c.value, c.status, c.proposed_by, a.display_name, c.proposed_at
               FROM param_change c LEFT JOIN account a ON a.id = c.proposed_by ",
            $where
        )
    };
}
pub(crate) const OPEN_PARAM_CHANGES: &str = select_param_changes!("WHERE c.status = 'proposed' ORDER BY c.id");
pub(crate) const PARAM_CHANGE: &str = select_param_changes!("WHERE c.id = $1");
pub(crate) type ParamChangeRow = (i64, String, String, i64, String, i64, Option<String>, String);

pub(crate) fn param_change_from_row(r: ParamChangeRow) -> Result<ParamChange, StoreError> {
    let from = NaiveDate::parse_from_str(&r.2, "%Y-%m-%d").map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(ParamChange {
        id: r.0,
        name: r.1,
        from,
        value: r.3,
        status: r.4,
        proposed_by: r.5,
        proposed_by_name: r.6,
        proposed_at: r.7,
    })
}

/// What came of applying a proposed parameter value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamDecision {
    /// Applied: the parameter as it is now.
    Applied(Box<ParamDef>),
    NotFound,
    /// Already applied or discarded.
    NotOpen,
    /// Maker ≠ checker: its proposer can't apply it.
    OwnProposal,
}

/// What came of publishing a draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishOutcome {
    Published(Box<PolicyVersion>),
    NotFound,
    /// Only drafts can be published.
    NotDraft,
    /// Maker ≠ checker: the drafter can't publish their own draft.
    OwnDraft,
}

/// A worker's mark on one sweep result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SweepMark {
    pub policy_id: i64,
    pub household_id: i64,
    /// 0 for a household-level policy.
    pub person_id: i64,
    /// `missing` or `stale`; `taper` for a gradual-exit period (渐退期)
    /// started on a `stale` row.
    pub kind: String,
    /// `proposed` or `dismissed`; `started` for a taper, `ended` for one ended early.
    pub status: String,
    pub reason: Option<String>,
    /// A dismissal holds until the household changes; a taper holds whatever
    /// the household's version (its income changing is the point).
    pub household_version: i64,
    pub marked_by: i64,
    pub marked_at: String,
    /// A taper's last day; none for other marks.
    pub ends_on: Option<NaiveDate>,
}

impl SweepMark {
    /// Whether this is a taper still running on `date`.
    pub fn tapers_on(&self, date: NaiveDate) -> bool {
        self.kind == "taper" && self.ends_on.is_some_and(|end| date <= end)
    }
}

pub(crate) const SELECT_VERSIONS: &str = "
    SELECT v.id, v.policy_id, v.version, v.status, v.definition,
           v.drafted_by, d.display_name || '（' || d.username || '）', v.drafted_at,
           v.approved_by, a.display_name || '（' || a.username || '）', v.approved_at
      FROM policy_version v
      LEFT JOIN account d ON d.id = v.drafted_by
      LEFT JOIN account a ON a.id = v.approved_by
     ORDER BY v.policy_id, v.version";
pub(crate) type VersionRow =
    (i64, i64, i64, String, String, Option<i64>, Option<String>, String, Option<i64>, Option<String>, Option<String>);

pub(crate) fn version_from_row(r: VersionRow) -> crate::Result<PolicyVersion> {
    let (
        id,
        policy_id,
        version,
        status,
        definition,
        drafted_by,
        drafted_by_name,
        drafted_at,
        approved_by,
        approved_by_name,
        approved_at,
    ) = r;
    let definition = serde_json::from_str(&definition).map_err(|e| StoreError::Corrupt(format!("policy {id}: {e}")))?;
    Ok(PolicyVersion {
        id,
        policy_id,
        version,
        status,
        definition,
        drafted_by,
        drafted_by_name,
        drafted_at,
        approved_by,
        approved_by_name,
        approved_at,
    })
}

pub(crate) fn json(def: &PolicyDef) -> String {
    serde_json::to_string(def).unwrap_or_default()
}

pub(crate) fn policy_event(action: &str, policy_id: i64, diff: serde_json::Value) -> AuditEvent {
    AuditEvent {
        action: action.into(),
        entity: "policy".into(),
        entity_id: policy_id.to_string(),
        diff: diff.to_string(),
    }
}

/// A facts query in two forms: over the whole prefix, and for one household
/// (`h.id = $2`, so the primary key serves an edit's re-read; a combined
/// `$2 = 0 OR h.id = $2` would scan every row).
macro_rules! facts {
    ($select:literal, $order:literal) => {
        [
            concat!($select, " WHERE h.community LIKE $1 ", $order),
            concat!($select, " WHERE h.community LIKE $1 AND h.id = $2 ", $order),
        ]
    };
}

pub(crate) const HOUSEHOLD_FACTS: [&str; 2] = facts!(
    "SELECT h.id, h.version, h.community, h.registration, h.tenure, h.dangerous_housing, h.assets_fen,
            h.items_income_fen, h.tags, h.income_unrecorded, h.assets_unrecorded
       FROM household h",
    "ORDER BY h.id"
);
pub(crate) type HouseholdFactRow = (i64, i64, String, String, String, bool, i64, i64, String, bool, bool);

pub(crate) const PERSON_FACTS: [&str; 2] = facts!(
    "SELECT p.id, p.household_id, p.birth_date, p.sex, p.relation, p.marital, p.health, p.disability_kind,
            CAST(p.disability_grade AS BIGINT), p.work_ability, p.employment, p.schooling, p.monthly_income_fen,
            p.death_date, p.unrecorded
       FROM person p JOIN household h ON h.id = p.household_id",
    ""
);
pub(crate) const COUNT_PERSONS: [&str; 2] =
    facts!("SELECT COUNT(*) FROM person p JOIN household h ON h.id = p.household_id", "");
pub(crate) type PersonFactRow = (
    i64,
    i64,
    NaiveDate,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    String,
    String,
    i64,
    Option<NaiveDate>,
    i32,
);

pub(crate) const HOLDING_FACTS: [&str; 2] = facts!(
    "SELECT g.household_id, g.person_id, g.category, g.start_date, g.end_date
       FROM holding g JOIN household h ON h.id = g.household_id",
    ""
);
pub(crate) type HoldingFactRow = (i64, Option<i64>, String, NaiveDate, Option<NaiveDate>);

fn code<T>(parse: fn(&str) -> Option<T>, s: &str, what: &str) -> crate::Result<T> {
    parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} code {s}")))
}

pub(crate) fn household_facts(r: HouseholdFactRow) -> crate::Result<HouseholdFacts> {
    let (id, version, community, registration, tenure, dangerous_housing, assets, items_income, tags, income, assets_u) =
        r;
    Ok(HouseholdFacts {
        id,
        version,
        community: crate::parse_code(&community)?,
        registration: code(Registration::parse, &registration, "registration")?,
        tenure: code(Tenure::parse, &tenure, "tenure")?,
        dangerous_housing,
        assets: Fen(assets),
        items_income: Fen(items_income),
        unrecorded: Unrecorded::bits(income, assets_u),
        tags: tags.split(',').filter_map(Tag::parse).collect(),
        holdings: Vec::new(),
        members: Vec::new(),
    })
}

pub(crate) fn person_facts(r: PersonFactRow) -> crate::Result<(i64, PersonFacts)> {
    let (
        id,
        household,
        birth,
        sex,
        relation,
        marital,
        health,
        dkind,
        dgrade,
        work,
        employment,
        schooling,
        income,
        death,
        unrecorded,
    ) = r;
    let disability = match (dkind, dgrade) {
        (Some(k), Some(g)) => Some((code(DisabilityKind::parse, &k, "disability")?, g.clamp(1, 4) as u8)),
        _ => None,
    };
    Ok((
        household,
        PersonFacts {
            id,
            birth,
            sex: if sex == "female" { Sex::Female } else { Sex::Male },
            relation: code(Relation::parse, &relation, "relation")?,
            marital: code(Marital::parse, &marital, "marital")?,
            health: code(Health::parse, &health, "health")?,
            disability,
            work_ability: code(WorkAbility::parse, &work, "work ability")?,
            employment: code(Employment::parse, &employment, "employment")?,
            schooling: code(Schooling::parse, &schooling, "schooling")?,
            income: Fen(income),
            death,
            holdings: Vec::new(),
            unrecorded: u8::try_from(unrecorded & i32::from(Unrecorded::MEMBER)).unwrap_or(0),
        },
    ))
}

/// Puts persons and holdings into their households (all sorted by household).
/// Households with their members, heads first. Persons come in table order:
/// sorting ten million of them here is seconds, where SQLite's sorter spilled
/// to disk for many minutes.
pub(crate) fn assemble(
    mut households: Vec<HouseholdFacts>,
    mut persons: Vec<(i64, PersonFacts)>,
) -> (Vec<HouseholdFacts>, std::collections::HashMap<i64, usize>) {
    persons.sort_unstable_by_key(|(hid, p)| (*hid, p.relation != Relation::Head, p.id));
    let index: std::collections::HashMap<i64, usize> = households.iter().enumerate().map(|(i, h)| (h.id, i)).collect();
    for (hid, p) in persons {
        if let Some(&i) = index.get(&hid) {
            households[i].unrecorded |= p.unrecorded;
            households[i].members.push(p);
        }
    }
    (households, index)
}

/// Attaches one holding row to its household or member.
pub(crate) fn attach_holding(
    households: &mut [HouseholdFacts],
    index: &std::collections::HashMap<i64, usize>,
    (hid, pid, category, start, end): HoldingFactRow,
) -> crate::Result<()> {
    let Some(&i) = index.get(&hid) else { return Ok(()) };
    let holding = Holding { category: code(Category::parse, &category, "category")?, start, end };
    let h = &mut households[i];
    match pid {
        None => h.holdings.push(holding),
        Some(pid) => {
            if let Some(m) = h.members.iter_mut().find(|m| m.id == pid) {
                m.holdings.push(holding);
            }
        }
    }
    Ok(())
}

pub(crate) const SELECT_PARAMS: &str = "SELECT definition FROM policy_param ORDER BY name";

pub(crate) fn param_from_json(s: &str) -> crate::Result<ParamDef> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("param: {e}")))
}

pub(crate) const SELECT_MARKS: &str = "
    SELECT m.policy_id, m.household_id, m.person_id, m.kind, m.status, m.reason, m.household_version, m.marked_by,
           m.marked_at, m.ends_on
      FROM sweep_mark m JOIN household h ON h.id = m.household_id
     WHERE h.community LIKE $1";
pub(crate) type MarkRow = (i64, i64, i64, String, String, Option<String>, i64, i64, String, Option<NaiveDate>);

pub(crate) fn mark_from_row(r: MarkRow) -> SweepMark {
    let (policy_id, household_id, person_id, kind, status, reason, household_version, marked_by, marked_at, ends_on) =
        r;
    SweepMark {
        policy_id,
        household_id,
        person_id,
        kind,
        status,
        reason,
        household_version,
        marked_by,
        marked_at,
        ends_on,
    }
}

pub(crate) const UPSERT_MARK: &str = "
    INSERT INTO sweep_mark (policy_id, household_id, person_id, kind, status, reason, household_version, marked_by,
                            marked_at, ends_on)
    SELECT $1, h.id, $3, $4, $5, $6, h.version, $7, $8, $10 FROM household h WHERE h.id = $2 AND h.community LIKE $9
    ON CONFLICT (policy_id, household_id, person_id, kind) DO UPDATE
       SET status = excluded.status, reason = excluded.reason, household_version = excluded.household_version,
           marked_by = excluded.marked_by, marked_at = excluded.marked_at, ends_on = excluded.ends_on";

/// A finding's mark as it stands, within the prefix `$5`: its status, reason and end
/// (a taper's), and whether the household is as it was when marked.
/// Withdraws a proposal: the row is listed as it was before it.
pub(crate) const DELETE_MARK: &str = "
    DELETE FROM sweep_mark
     WHERE policy_id = $1 AND household_id = $2 AND person_id = $3 AND kind = $4
       AND status IN ('proposed', 'dismissed')";
pub(crate) const MARK_BEFORE: &str = "
    SELECT m.status, m.reason, m.ends_on, m.household_version = h.version
      FROM sweep_mark m JOIN household h ON h.id = m.household_id
     WHERE m.policy_id = $1 AND m.household_id = $2 AND m.person_id = $3 AND m.kind = $4 AND h.community LIKE $5";
pub(crate) type MarkBefore = (String, Option<String>, Option<NaiveDate>, bool);

/// Who a sweep result is about, as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberLabel {
    pub household_id: i64,
    pub household_number: String,
    pub community: String,
    pub community_name: String,
    pub person_id: i64,
    pub name: String,
    pub id_masked: String,
    pub relation: String,
}

pub(crate) const SELECT_LABELS: &str = "
    SELECT h.id, h.number, h.community, d.name, p.id, p.name, p.id_masked, p.relation
      FROM household h JOIN person p ON p.household_id = h.id JOIN division d ON d.code = h.community
     WHERE h.community LIKE ";
pub(crate) type LabelRow = (i64, String, String, String, i64, String, String, String);

pub(crate) fn label_from_row(r: LabelRow) -> MemberLabel {
    let (household_id, household_number, community, community_name, person_id, name, id_masked, relation) = r;
    MemberLabel { household_id, household_number, community, community_name, person_id, name, id_masked, relation }
}
