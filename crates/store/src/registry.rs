//! Registry rows as both backends write them: personal fields sealed
//! (ciphertext, blind index, mask) before they reach SQL.

use std::collections::HashMap;

use chrono::NaiveDate;
use zhongfu_domain::pii::{IndexKind, PiiKeys, mask_phone};
use zhongfu_domain::registry::{Holding, Household, Person};

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
}

pub(crate) struct SealedMember<'a> {
    /// The household's number (户编号).
    pub household: &'a str,
    pub person: &'a Person,
    pub id: Sealed,
    pub phone: Option<Sealed>,
    pub certificate: Option<Vec<u8>>,
}

/// A holding to insert, its owners resolved to row ids.
pub(crate) struct HoldingRow<'a> {
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub holding: &'a Holding,
}

impl<'a> SealedBatch<'a> {
    pub fn new(keys: &PiiKeys, households: &'a [Household]) -> Self {
        let sealed = households
            .iter()
            .map(|household| SealedHousehold {
                household,
                phone: household.phone.as_deref().map(|p| seal_phone(keys, p)),
            })
            .collect();
        let members = households
            .iter()
            .flat_map(|h| h.members.iter().map(move |person| (h.number.as_str(), person)))
            .map(|(household, person)| SealedMember {
                household,
                person,
                id: seal_id(keys, person),
                phone: person.phone.as_deref().map(|p| seal_phone(keys, p)),
                certificate: person.disability.as_ref().map(|d| keys.encrypt(&d.certificate)),
            })
            .collect();
        Self { households: sealed, members }
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
                person_id: None,
                holding,
            }));
        }
        for m in &self.members {
            let (Some(&household_id), Some(&person_id)) = (households.get(m.household), persons.get(&m.id.bidx)) else {
                continue;
            };
            rows.extend(m.person.categories.iter().map(|holding| HoldingRow {
                household_id,
                person_id: Some(person_id),
                holding,
            }));
        }
        rows
    }
}

pub(crate) const INSERT_HOUSEHOLD: &str = "INSERT INTO household (number, community, address, \
    phone_cipher, phone_bidx, phone_masked, registration, tenure, dangerous_housing, assets_fen, tags) ";

pub(crate) const INSERT_PERSON: &str = "INSERT INTO person (household_id, name, id_cipher, id_bidx, id_masked, \
    sex, birth_date, relation, phone_cipher, phone_bidx, phone_masked, marital, health, disability_kind, \
    disability_grade, disability_cert, work_ability, employment, schooling, monthly_income_fen, death_date) ";

pub(crate) const INSERT_HOLDING: &str =
    "INSERT INTO holding (household_id, person_id, category, start_date, end_date) ";

/// Persons are inserted in chunks that keep bound parameters under both
/// backends' limits (21 columns × 1,500 rows).
pub(crate) const PERSON_CHUNK: usize = 1500;
/// Households: 11 columns × 2,500 rows.
pub(crate) const HOUSEHOLD_CHUNK: usize = 2500;

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
pub(crate) const STREET_COUNTS: &str = "
    WITH hh AS (
        SELECT substr(h.community, 1, 9) AS street,
               (SELECT COUNT(*) FROM person p
                 WHERE p.household_id = h.id AND p.death_date IS NULL) AS persons
          FROM household h
         WHERE h.community LIKE $2 AND h.community LIKE $3
    )
    SELECT d.code, d.name,
           COUNT(hh.street) AS households,
           CAST(COALESCE(SUM(hh.persons), 0) AS BIGINT) AS persons
      FROM division d
      LEFT JOIN hh ON hh.street = substr(d.code, 1, 9)
     WHERE d.parent = $1
       AND (d.code LIKE $3 OR substr($3, 1, 9) = substr(d.code, 1, 9))
     GROUP BY d.code, d.name
     ORDER BY d.code";

/// The audit record of one batch of new households (personal data stays out).
pub(crate) fn batch_event(households: &[Household]) -> crate::AuditEvent {
    let first = households.first().map(|h| h.number.as_str()).unwrap_or_default();
    let last = households.last().map(|h| h.number.as_str()).unwrap_or_default();
    let persons: usize = households.iter().map(|h| h.members.len()).sum();
    crate::AuditEvent {
        action: "household.create".to_owned(),
        entity: "household".to_owned(),
        entity_id: format!("{first}..{last}"),
        diff: format!(r#"{{"households":[null,{}],"persons":[null,{persons}]}}"#, households.len()),
    }
}
