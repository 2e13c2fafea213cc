//! Volunteer self-registration and its approval: the rows and their SQL.

use chrono::Datelike;
use serde::Serialize;
use serde_json::json;
use zhongfu_domain::signin::{Email, Phone};
use zhongfu_domain::{DivisionCode, IdNumber};

use crate::AuditEvent;
use crate::identity::event;

/// A registration as the public form sends it; the password is hashed.
#[derive(Clone, Debug)]
pub struct NewVolunteer {
    pub name: String,
    pub phone: Phone,
    pub email: Option<Email>,
    pub id_number: IdNumber,
    pub community: DivisionCode,
    pub skills: String,
    pub availability: String,
    pub password_hash: String,
}

/// A registration as workers see it: personal numbers masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VolunteerApplication {
    pub id: i64,
    pub name: String,
    pub phone_masked: String,
    pub email: Option<String>,
    pub id_masked: String,
    pub community: DivisionCode,
    pub skills: String,
    pub availability: String,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: String,
}

/// What a worker decides about a pending registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject { reason: String },
}

/// What came of a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// No such registration within the decider's scope.
    NotFound,
    /// Already approved or rejected.
    AlreadyDecided,
    /// The decider registered it themselves (same phone number).
    OwnRegistration,
    Approved {
        account_id: i64,
        volunteer_number: String,
    },
    Rejected,
}

/// Accounts and standing registrations (pending or approved) with this phone number.
pub(crate) const PHONE_TAKEN: &str = "SELECT (SELECT COUNT(*) FROM account WHERE phone_bidx = $1)
     + (SELECT COUNT(*) FROM volunteer_application WHERE phone_bidx = $1 AND status <> 'rejected')";
/// Standing registrations of this ID number.
pub(crate) const ID_REGISTERED: &str =
    "SELECT COUNT(*) FROM volunteer_application WHERE id_bidx = $1 AND status <> 'rejected'";
pub(crate) const INSERT: &str = "
    INSERT INTO volunteer_application (name, phone_cipher, phone_bidx, phone_masked, email, id_cipher, id_bidx,
        id_masked, community, skills, availability, password_hash, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";

/// `SELECT` of the application columns followed by the given clauses.
macro_rules! select_applications {
    ($clauses:literal) => {
        concat!(
            "SELECT id, name, phone_masked, email, id_masked, community, skills, availability, status, reason, \
             created_at FROM volunteer_application ",
            $clauses
        )
    };
}
pub(crate) use select_applications;

pub(crate) type Row =
    (i64, String, String, Option<String>, String, String, String, String, String, Option<String>, String);

pub(crate) fn from_row(row: Row) -> crate::Result<VolunteerApplication> {
    let (id, name, phone_masked, email, id_masked, community, skills, availability, status, reason, created_at) = row;
    Ok(VolunteerApplication {
        id,
        name,
        phone_masked,
        email,
        id_masked,
        community: crate::parse_code(&community)?,
        skills,
        availability,
        status,
        reason,
        created_at,
    })
}

/// What approval needs beyond the listed columns.
pub(crate) const FOR_DECISION: &str = "
    SELECT a.status, a.phone_cipher, a.phone_bidx, a.phone_masked, a.email, a.password_hash, a.name, a.community,
           (SELECT COUNT(*) FROM account d WHERE d.id = $2 AND d.phone_bidx = a.phone_bidx) AS own
      FROM volunteer_application a
     WHERE a.id = $1 AND a.community LIKE $3";
pub(crate) type DecisionRow = (String, Vec<u8>, Vec<u8>, String, Option<String>, String, String, String, i64);

pub(crate) const NEXT_NUMBER: &str = "
    INSERT INTO counter (name, value) VALUES ('volunteer', 1)
    ON CONFLICT (name) DO UPDATE SET value = counter.value + 1
    RETURNING value";
pub(crate) const NUMBER_USED: &str = "SELECT COUNT(*) FROM account WHERE volunteer_number = $1";
pub(crate) const INSERT_ACCOUNT: &str = "
    INSERT INTO account (username, display_name, email, phone_cipher, phone_bidx, phone_masked, volunteer_number,
                         jurisdiction, password_hash, must_change_password, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id";
pub(crate) const DECIDE: &str = "
    UPDATE volunteer_application SET status = $2, reason = $3, decided_by = $4, decided_at = $5, account_id = $6
     WHERE id = $1";

/// `ZY` + year + six digits, e.g. `ZY2026000001`.
pub(crate) fn volunteer_number(sequence: i64) -> String {
    format!("ZY{}{sequence:06}", chrono::Utc::now().year())
}

pub(crate) fn registered(id: i64, v: &NewVolunteer) -> AuditEvent {
    event(
        "volunteer.register",
        "volunteer_application",
        id,
        json!({"name": [null, v.name], "phone": [null, zhongfu_domain::pii::mask_phone(v.phone.as_str())],
               "id_number": [null, v.id_number.masked()], "community": [null, v.community.as_str()]}),
    )
}

pub(crate) fn decided(id: i64, decision: &Decision, number: Option<&str>) -> AuditEvent {
    match decision {
        Decision::Approve => event(
            "volunteer.approve",
            "volunteer_application",
            id,
            json!({"status": ["pending", "approved"], "volunteer_number": [null, number]}),
        ),
        Decision::Reject { reason } => event(
            "volunteer.reject",
            "volunteer_application",
            id,
            json!({"status": ["pending", "rejected"], "reason": [null, reason]}),
        ),
    }
}
