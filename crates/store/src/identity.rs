//! Units, accounts, sessions and captchas: the rows, their SQL, and the audit
//! records their changes write.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use zhongfu_domain::DivisionCode;
use zhongfu_domain::identity::{Role, Roles};
use zhongfu_domain::signin::{Email, FailureState, Phone};

use crate::AuditEvent;

/// The kind of organisation an account belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 民政局
    CivilAffairs,
    /// 街道办 / 乡镇
    StreetOffice,
    /// 社区 / 村
    Community,
    /// 人社、医保、残联、教育、住建…
    Department,
    /// 社工机构
    SocialWork,
    /// 帮扶单位
    HelpingUnit,
}

impl UnitKind {
    pub const ALL: [Self; 6] = [
        Self::CivilAffairs,
        Self::StreetOffice,
        Self::Community,
        Self::Department,
        Self::SocialWork,
        Self::HelpingUnit,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::CivilAffairs => "civil_affairs",
            Self::StreetOffice => "street_office",
            Self::Community => "community",
            Self::Department => "department",
            Self::SocialWork => "social_work",
            Self::HelpingUnit => "helping_unit",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUnit {
    pub name: String,
    pub kind: UnitKind,
    pub division: DivisionCode,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub id: i64,
    pub name: String,
    pub kind: UnitKind,
    pub division: DivisionCode,
}

/// An account to create. The password is already hashed.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub volunteer_number: Option<String>,
    pub unit_id: Option<i64>,
    pub jurisdiction: DivisionCode,
    pub roles: Roles,
    pub password_hash: String,
    pub must_change_password: bool,
}

/// An account as others see it: no password hash, the phone masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone_masked: Option<String>,
    pub volunteer_number: Option<String>,
    pub unit_id: Option<i64>,
    pub jurisdiction: DivisionCode,
    pub roles: Vec<Role>,
    pub must_change_password: bool,
    #[serde(skip)]
    pub failures: FailureState,
    pub disabled: bool,
    /// Signs in with a second factor (TOTP).
    pub totp_enabled: bool,
}

/// A session to start. Only the token's hash is stored.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub at: DateTime<Utc>,
    /// The password was right; the second factor is still to come.
    pub second_factor_pending: bool,
}

/// A failed sign-in (wrong password or second factor, unknown, locked or disabled account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInFailure {
    /// The account the name belongs to, if any.
    pub account: Option<i64>,
    /// The account's failure count and lock after this failure; none leaves
    /// them as they are (unknown, already locked or disabled accounts).
    pub failures: Option<FailureState>,
    pub at: DateTime<Utc>,
    /// The per-address count restarts when its window began before this.
    pub window_start: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub second_factor_pending: bool,
}

/// `SELECT` of the account columns followed by the given clauses.
macro_rules! select_accounts {
    ($clauses:literal) => {
        concat!("SELECT ", $crate::identity::account_columns!(), " FROM account ", $clauses)
    };
}

/// The columns of an `AccountRow`, in order.
macro_rules! account_columns {
    () => {
        "id, username, display_name, email, phone_masked, volunteer_number, unit_id, jurisdiction, \
         must_change_password, failures, locked_until, disabled, password_hash, totp_enabled"
    };
}
pub(crate) use account_columns;
pub(crate) use select_accounts;

/// A row of `select_accounts!`, in column order.
pub(crate) type AccountRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    bool,
    i64,
    Option<String>,
    bool,
    String,
    bool,
);

/// Builds the account (with its roles) and returns the password hash beside it.
pub(crate) fn account_from_row(row: AccountRow, roles: Vec<Role>) -> crate::Result<(Account, String)> {
    let (
        id,
        username,
        display_name,
        email,
        phone_masked,
        volunteer_number,
        unit_id,
        jurisdiction,
        must_change,
        failures,
        locked,
        disabled,
        hash,
        totp_enabled,
    ) = row;
    let locked_until = locked.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc());
    let account = Account {
        id,
        username,
        display_name,
        email,
        phone_masked,
        volunteer_number,
        unit_id,
        jurisdiction: crate::parse_code(&jurisdiction)?,
        roles,
        must_change_password: must_change,
        failures: FailureState { failures: u32::try_from(failures).unwrap_or(u32::MAX), locked_until },
        disabled,
        totp_enabled,
    };
    Ok((account, hash))
}

pub(crate) fn unit_from_row((id, name, kind, division): (i64, String, String, String)) -> crate::Result<Unit> {
    let kind = UnitKind::parse(&kind).unwrap_or(UnitKind::Department);
    Ok(Unit { id, name, kind, division: crate::parse_code(&division)? })
}

pub(crate) fn roles_from_codes(codes: Vec<String>) -> Vec<Role> {
    let mut roles: Vec<Role> = codes.iter().filter_map(|c| Role::parse(c)).collect();
    roles.sort();
    roles
}

pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).map(|t| t.to_utc()).unwrap_or_default()
}

pub(crate) const INSERT_UNIT: &str =
    "INSERT INTO unit (name, kind, division, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
pub(crate) const INSERT_ACCOUNT: &str = "
    INSERT INTO account (username, display_name, email, phone_cipher, phone_bidx, phone_masked, volunteer_number,
                         unit_id, jurisdiction, password_hash, must_change_password, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id";
pub(crate) const INSERT_ROLE: &str = "INSERT INTO account_role (account_id, role) VALUES ($1, $2)";
pub(crate) const DELETE_ROLES: &str = "DELETE FROM account_role WHERE account_id = $1";
pub(crate) const ROLES_OF: &str = "SELECT role FROM account_role WHERE account_id = $1";
pub(crate) const ALL_ROLES: &str = "SELECT account_id, role FROM account_role";
pub(crate) const INSERT_HISTORY: &str =
    "INSERT INTO password_history (account_id, hash, created_at) VALUES ($1, $2, $3)";
pub(crate) const HISTORY: &str = "SELECT hash FROM password_history WHERE account_id = $1 ORDER BY id DESC LIMIT $2";
pub(crate) const SET_PASSWORD: &str =
    "UPDATE account SET password_hash = $2, must_change_password = $3, updated_at = $4 WHERE id = $1";
pub(crate) const SET_FAILURES: &str = "UPDATE account SET failures = $2, locked_until = $3 WHERE id = $1";
pub(crate) const INSERT_SESSION: &str = "
    INSERT INTO session (token_hash, account_id, csrf_token, ip, created_at, last_seen, second_factor_pending)
    VALUES ($1, $2, $3, $4, $5, $5, $6)";
/// A session with its account, one row per role (a row with a NULL role when it
/// has none): what every request needs, in one query.
pub(crate) const SESSION: &str = concat!(
    "SELECT ",
    account_columns!(),
    ", s.csrf_token, s.created_at, s.last_seen, s.second_factor_pending, r.role
       FROM session s JOIN account ON account.id = s.account_id
       LEFT JOIN account_role r ON r.account_id = account.id
      WHERE s.token_hash = $1"
);
pub(crate) const TOUCH_SESSION: &str = "UPDATE session SET last_seen = $2 WHERE token_hash = $1";
pub(crate) const DELETE_SESSION: &str = "DELETE FROM session WHERE token_hash = $1";
/// Ends every session of an account except, optionally, one (`$2`, may be NULL).
pub(crate) const END_SESSIONS: &str = "DELETE FROM session WHERE account_id = $1 AND ($2 IS NULL OR token_hash <> $2)";
pub(crate) const INSERT_CAPTCHA: &str = "INSERT INTO captcha (id, answer_hash, expires_at) VALUES ($1, $2, $3)";
pub(crate) const PURGE_CAPTCHAS: &str = "DELETE FROM captcha WHERE expires_at < $1";
pub(crate) const TAKE_CAPTCHA: &str = "DELETE FROM captcha WHERE id = $1 RETURNING answer_hash, expires_at";
/// Counts a failure from `$1` at `$2`, restarting the count when the window began before `$3`.
/// Run in the transaction that records the failure.
pub(crate) const THROTTLE: &str = "
    INSERT INTO signin_throttle (ip, failures, window_start) VALUES ($1, 1, $2)
    ON CONFLICT (ip) DO UPDATE SET
        failures = CASE WHEN signin_throttle.window_start < $3 THEN 1 ELSE signin_throttle.failures + 1 END,
        window_start = CASE WHEN signin_throttle.window_start < $3 THEN $2 ELSE signin_throttle.window_start END";
pub(crate) const THROTTLE_COUNT: &str = "SELECT failures FROM signin_throttle WHERE ip = $1 AND window_start >= $2";

pub(crate) fn unit_created(id: i64, unit: &NewUnit) -> AuditEvent {
    event(
        "unit.create",
        "unit",
        id,
        json!({"name": [null, unit.name], "kind": [null, unit.kind.code()], "division": [null, unit.division.as_str()]}),
    )
}

pub(crate) fn account_created(id: i64, a: &NewAccount) -> AuditEvent {
    let roles: Vec<&str> = a.roles.as_slice().iter().map(|r| r.code()).collect();
    event(
        "account.create",
        "account",
        id,
        json!({
            "username": [null, a.username],
            "display_name": [null, a.display_name],
            "email": [null, a.email.as_ref().map(Email::as_str)],
            "phone": [null, a.phone.as_ref().map(|p| zhongfu_domain::pii::mask_phone(p.as_str()))],
            "volunteer_number": [null, a.volunteer_number],
            "unit_id": [null, a.unit_id],
            "jurisdiction": [null, a.jurisdiction.as_str()],
            "roles": [null, roles],
        }),
    )
}

pub(crate) fn roles_changed(id: i64, before: &[Role], after: &Roles) -> AuditEvent {
    let codes = |r: &[Role]| r.iter().map(|r| r.code()).collect::<Vec<_>>();
    event("account.set_roles", "account", id, json!({"roles": [codes(before), codes(after.as_slice())]}))
}

pub(crate) fn event(action: &str, entity: &str, id: i64, diff: serde_json::Value) -> AuditEvent {
    AuditEvent {
        action: action.to_owned(),
        entity: entity.to_owned(),
        entity_id: id.to_string(),
        diff: diff.to_string(),
    }
}

pub(crate) const SET_DISABLED: &str = "UPDATE account SET disabled = $2, updated_at = $3 WHERE id = $1";
pub(crate) const UNLOCK: &str = "UPDATE account SET failures = 0, locked_until = NULL, updated_at = $2 WHERE id = $1";

/// Which audit records to list; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Part of the actor's name.
    pub actor: Option<String>,
    /// An action or its area, e.g. `account` or `account.locked`.
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Also the record numbered so, whatever its entity (the batch that registered a household).
    pub or_seq: Option<i64>,
    /// Also the records of these persons (by id): a household's history shows whose
    /// ID number or phone was shown in full, and by whom.
    pub or_persons: Vec<i64>,
    /// Records by accounts of this unit.
    pub unit_id: Option<i64>,
    /// Records by accounts whose jurisdiction starts with this prefix (an
    /// audit administrator below the district sees only those).
    pub within: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`, exclusive.
    pub to: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// One audit record as the audit administrator reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub ip: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub diff: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditPage {
    pub total: i64,
    pub records: Vec<AuditRecord>,
}

/// Adds the filter's clauses to a query that ends in `WHERE 1 = 1`.
/// Values are always bound; the clause texts are fixed.
macro_rules! push_audit_filter {
    ($q:expr, $f:expr) => {{
        let (q, f) = (&mut $q, $f);
        if let Some(actor) = &f.actor {
            q.push(" AND actor_name LIKE ").push_bind(format!("%{}%", $crate::like_escape(actor))).push(" ESCAPE '\\'");
        }
        if let Some(action) = &f.action {
            q.push(" AND (action = ").push_bind(action.clone());
            q.push(" OR action LIKE ").push_bind(format!("{}.%", $crate::like_escape(action))).push(" ESCAPE '\\')");
        }
        q.push(" AND ((1 = 1");
        if let Some(entity) = &f.entity {
            q.push(" AND entity = ").push_bind(entity.clone());
        }
        if let Some(id) = &f.entity_id {
            q.push(" AND entity_id = ").push_bind(id.clone());
        }
        q.push(")");
        if let Some(seq) = f.or_seq {
            q.push(" OR seq = ").push_bind(seq);
        }
        if !f.or_persons.is_empty() {
            q.push(" OR (entity = 'person' AND entity_id IN (");
            let mut ids = q.separated(", ");
            for id in &f.or_persons {
                ids.push_bind(id.to_string());
            }
            q.push("))");
        }
        q.push(")");
        if let Some(prefix) = &f.within {
            q.push(" AND actor_id IN (SELECT id FROM account WHERE jurisdiction LIKE ")
                .push_bind(format!("{}%", $crate::like_escape(prefix)))
                .push(" ESCAPE '\\')");
        }
        if let Some(unit) = f.unit_id {
            q.push(" AND actor_id IN (SELECT id FROM account WHERE unit_id = ").push_bind(unit).push(")");
        }
        if let Some(from) = &f.from {
            q.push(" AND at >= ").push_bind(from.clone());
        }
        if let Some(to) = &f.to {
            q.push(" AND at < ").push_bind(to.clone());
        }
    }};
}
pub(crate) use push_audit_filter;

pub(crate) const SET_TOTP: &str =
    "UPDATE account SET totp_cipher = $2, totp_enabled = $3, updated_at = $4 WHERE id = $1";
pub(crate) const TOTP_SECRET: &str = "SELECT totp_cipher FROM account WHERE id = $1";
pub(crate) const ENABLE_TOTP: &str = "UPDATE account SET totp_enabled = $2, updated_at = $3 WHERE id = $1";
pub(crate) const DELETE_RECOVERY: &str = "DELETE FROM recovery_code WHERE account_id = $1";
pub(crate) const INSERT_RECOVERY: &str = "INSERT INTO recovery_code (account_id, code_hash) VALUES ($1, $2)";
pub(crate) const USE_RECOVERY: &str =
    "UPDATE recovery_code SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL";
/// Records the newest accepted TOTP step; no row back means the step was not newer.
pub(crate) const ACCEPT_STEP: &str = "
    INSERT INTO counter (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE counter.value < excluded.value
    RETURNING value";
pub(crate) const SECOND_FACTOR_DONE: &str = "UPDATE session SET second_factor_pending = $2 WHERE token_hash = $1";

/// New values for an account's profile; its roles and password change elsewhere.
#[derive(Clone, Debug)]
pub struct AccountUpdate {
    pub display_name: String,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub unit_id: Option<i64>,
    pub jurisdiction: DivisionCode,
}

pub(crate) const UPDATE_ACCOUNT: &str = "
    UPDATE account SET display_name = $2, email = $3, phone_cipher = $4, phone_bidx = $5, phone_masked = $6,
                       unit_id = $7, jurisdiction = $8, updated_at = $9
     WHERE id = $1";

pub(crate) fn account_updated(before: &Account, after: &AccountUpdate, phone_masked: Option<&str>) -> AuditEvent {
    let mut diff = serde_json::Map::new();
    let mut change = |field: &str, old: serde_json::Value, new: serde_json::Value| {
        if old != new {
            diff.insert(field.to_owned(), json!([old, new]));
        }
    };
    change("display_name", json!(before.display_name), json!(after.display_name));
    change("email", json!(before.email), json!(after.email.as_ref().map(Email::as_str)));
    change("phone", json!(before.phone_masked), json!(phone_masked));
    change("unit_id", json!(before.unit_id), json!(after.unit_id));
    change("jurisdiction", json!(before.jurisdiction.as_str()), json!(after.jurisdiction.as_str()));
    event("account.update", "account", before.id, serde_json::Value::Object(diff))
}
