//! Zhongfu's storage: one [`Store`] trait, implemented for SQLite (the
//! default, embedded) and PostgreSQL (for a city or province), chosen once
//! from the database URL by [`open`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use registry::{
    EditOutcome, HoldingEdit, HouseholdDetail, HouseholdEdit, HouseholdFilter, HouseholdPage, ImportBatch, ImportPlan,
    Imported, MemberEdit,
};
use serde::Serialize;
use zhongfu_domain::pii::PiiKeys;
use zhongfu_domain::registry::{Household, Person};
use zhongfu_domain::{DivisionCode, DivisionLevel, Scope};

mod audit;
pub mod divisions;
pub mod identity;
mod migrations;
pub mod policy;
mod postgres;
pub mod registry;
mod sql;
mod sql_policy;
mod sql_registry;
mod sqlite;
mod sqlite_bulk;
pub mod volunteers;

pub use audit::{Actor, AuditEvent, AuditVerifyReport, PiiRotation, RotatedColumn};
use chrono::{DateTime, Utc};
use identity::{
    Account, AccountUpdate, AuditFilter, AuditPage, NewAccount, NewSession, NewUnit, Session, SignInFailure, Unit,
};
pub use migrations::{MIGRATIONS_POSTGRES, MIGRATIONS_SQLITE, Migration};
pub use sqlite::CONNECTION_PRAGMAS as SQLITE_CONNECTION_PRAGMAS;
use volunteers::{Decision, DecisionOutcome, NewVolunteer, VolunteerApplication};
use zhongfu_domain::identity::Roles;
use zhongfu_domain::signin::LoginName;

/// What went wrong in the store. Constraint violations are told apart so the
/// web layer can turn them into user errors instead of racing checks.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint {0} violated")]
    Duplicate(String),
    #[error("foreign key violated: {0}")]
    MissingReference(String),
    #[error("migration {version} ({name}) was changed after it was applied")]
    MigrationChanged { version: i64, name: String },
    #[error("the database has migration {0}, which this build does not know: is it an older build?")]
    MigrationUnknown(i64),
    #[error("bundled division data is damaged: {0}")]
    DivisionData(String),
    /// The registry's ID numbers were written with another personal-data key.
    #[error(
        "the personal-data key is not the one this database's ID numbers were written with: \
         start with the key file (pii_key_file, default data/pii.key relative to the working \
         directory) or ZHONGFU_PII_KEY the database was made with"
    )]
    WrongPiiKey,
    /// A stored value that cannot be read back (a bad code, a seal the keys do not open).
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let constraint = db.constraint().unwrap_or_else(|| db.message()).to_owned();
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return Self::Duplicate(constraint),
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return Self::MissingReference(constraint);
                }
                _ => {}
            }
        }
        Self::Database(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why the store could not be opened: told to the operator in one line.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got \"{0}\")")]
    UnknownScheme(String),
    #[error("cannot create the directory {path} for the SQLite database: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("cannot open the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
}

/// A division as listed by the division browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Division {
    pub code: DivisionCode,
    pub name: String,
    pub level: DivisionLevel,
    pub has_children: bool,
}

/// Households and persons registered under one area (a street or a community).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AreaCount {
    pub code: DivisionCode,
    pub name: String,
    pub households: i64,
    pub persons: i64,
}

/// What `migrate` did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MigrateReport {
    pub applied: Vec<i64>,
    pub divisions_loaded: usize,
}

/// The household registry's part of the [`Store`]: every function that
/// reads or writes people takes the caller's [`Scope`] and filters in SQL.
#[async_trait]
pub trait RegistryStore {
    /// Writes new households with their members and holdings, in one
    /// transaction with its audit record. Personal data is encrypted with the
    /// store's keys.
    async fn insert_households(&self, actor: &Actor, households: &[Household]) -> Result<()>;

    /// A page of the registry within the scope, with the total matching the filter.
    async fn households(&self, scope: &Scope, filter: &HouseholdFilter) -> Result<HouseholdPage>;

    /// The household page (一户一表), if it lies within the scope.
    async fn household(&self, scope: &Scope, id: i64, today: NaiveDate) -> Result<Option<HouseholdDetail>>;

    /// The members of `households` that lie within the scope, each with its
    /// household's id, in the households' order (head first, then by age); for
    /// an export, so without their disability certificates.
    async fn members_of(
        &self,
        scope: &Scope,
        households: &[i64],
        today: NaiveDate,
    ) -> Result<Vec<(i64, registry::MemberView)>>;

    /// A member's full ID number, if within the scope; the reveal is audited.
    async fn reveal_id_number(&self, actor: &Actor, scope: &Scope, person_id: i64) -> Result<Option<String>>;

    /// A member's or a household's full phone, if within the scope (None if not;
    /// Some(None) if it has none); the reveal is audited.
    async fn reveal_phone(&self, actor: &Actor, scope: &Scope, of: registry::PhoneOf)
    -> Result<Option<Option<String>>>;

    /// Edits a household's facts if it is still at `version`.
    async fn update_household(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        version: i64,
        edit: &HouseholdEdit,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    /// Edits one member (a death date ends their categories at the end of that month).
    #[allow(clippy::too_many_arguments)]
    async fn update_member(
        &self,
        actor: &Actor,
        scope: &Scope,
        household_id: i64,
        version: i64,
        person_id: i64,
        edit: &MemberEdit,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    /// Starts, corrects, ends or removes one category held by the household or a member.
    async fn edit_holding(
        &self,
        actor: &Actor,
        scope: &Scope,
        household_id: i64,
        version: i64,
        edit: &HoldingEdit,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    async fn add_member(
        &self,
        actor: &Actor,
        scope: &Scope,
        household_id: i64,
        version: i64,
        person: &Person,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    /// Removes a member other than the head.
    async fn remove_member(
        &self,
        actor: &Actor,
        scope: &Scope,
        household_id: i64,
        version: i64,
        person_id: i64,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    /// Splits `members` off a household into a new one numbered `number`,
    /// with `head` (one of them) as its head. The source keeps its head.
    #[allow(clippy::too_many_arguments)]
    async fn split_household(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        version: i64,
        members: &[i64],
        head: i64,
        number: &str,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    /// Moves every member and category of household `other` into `id` (its
    /// head becomes 其他 there) and removes `other`. Both versions must hold.
    #[allow(clippy::too_many_arguments)]
    async fn merge_households(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        version: i64,
        other: i64,
        other_version: i64,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    /// Moves member `person_id` of household `id` into household `to` as `relation`
    /// to its head, with the member's own categories. Both versions must hold
    /// (a stale `to_version` answers `Stale` with that household). The head of a
    /// household with other members cannot leave (`Conflict("move_head")`);
    /// `to` outside the scope is `NotFound`. `Saved` carries `id`'s new version.
    #[allow(clippy::too_many_arguments)]
    async fn move_member(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        version: i64,
        person_id: i64,
        to: i64,
        to_version: i64,
        relation: zhongfu_domain::registry::Relation,
        today: NaiveDate,
    ) -> Result<EditOutcome>;

    /// How many households `filter` finds per part of its area, per category and
    /// per tag (see [`registry::HouseholdFacets`]); paging and order are ignored.
    async fn household_facets(&self, scope: &Scope, filter: &HouseholdFilter) -> Result<registry::HouseholdFacets>;

    /// Pairs a household within the scope with a social worker or helper; false if out of scope.
    async fn pair(
        &self,
        actor: &Actor,
        scope: &Scope,
        household_id: i64,
        account_id: i64,
        today: NaiveDate,
    ) -> Result<bool>;

    /// Saves (or replaces, by name) an account's column mapping: header → field code.
    async fn save_mapping(&self, actor: &Actor, account_id: i64, name: &str, columns: &str) -> Result<i64>;

    /// An account's saved mappings, by name: (id, name, columns as JSON).
    async fn mappings(&self, account_id: i64) -> Result<Vec<(i64, String, String)>>;

    /// A stable household number for a ledger that has none, from the head's
    /// ID (keyed, so it reveals nothing of the ID).
    fn household_number_for(&self, head: &zhongfu_domain::IdNumber) -> String;

    /// A batch of households to import, sealed (no database work; the
    /// caller seals the next batch while the one before is written).
    fn prepare_import(&self, households: Vec<Household>, said: zhongfu_domain::ledger::Said) -> ImportBatch;

    /// How an import of this batch would go, for the importer's scope.
    async fn plan_import(&self, scope: &Scope, batch: &ImportBatch) -> Result<ImportPlan>;

    /// Plans the batch and writes its new and changed households in one
    /// transaction, audited: what the plan read cannot change before it is written.
    async fn import_households(&self, actor: &Actor, scope: &Scope, batch: ImportBatch) -> Result<Imported>;

    /// Before an import of `rows` rows, on SQLite: when they are many and at least as
    /// many as the holdings ever written (the largest id), drops the index a bulk load
    /// builds faster once at its end than entry by entry (`holding_area`, whose entries
    /// land all over it); true if it did. Queries stay right meanwhile, only slower.
    async fn set_aside_bulk_indexes(&self, rows: usize) -> Result<bool>;

    /// Builds again what [`RegistryStore::set_aside_bulk_indexes`] dropped, if it
    /// is missing (also at start-up: an import that died midway left it so).
    async fn restore_bulk_indexes(&self) -> Result<()>;
}

/// The policy catalogue's part of the [`Store`].
#[async_trait]
pub trait PolicyStore {
    /// Loads a catalogue (params and active policies) into an empty
    /// catalogue; returns how many policies were added (0 if there were some).
    async fn seed_catalogue(&self, actor: &Actor, catalogue: &zhongfu_domain::policy::Catalogue) -> Result<usize>;

    async fn policy_params(&self) -> Result<Vec<zhongfu_domain::policy::ParamDef>>;

    /// Every version of every policy, by policy and version.
    async fn policy_versions(&self) -> Result<Vec<policy::PolicyVersion>>;

    /// Drafts a new policy (`policy_id` none) or a new version of one,
    /// replacing its open draft. `None` when there is no such policy.
    async fn draft_policy(
        &self,
        actor: &Actor,
        policy_id: Option<i64>,
        definition: &zhongfu_domain::policy::PolicyDef,
    ) -> Result<Option<policy::PolicyVersion>>;

    /// Proposes a value for district parameter `name` from a day on; None if there
    /// is no such parameter. Nothing changes until another account applies it. Audited.
    async fn propose_param_value(
        &self,
        actor: &Actor,
        name: &str,
        from: chrono::NaiveDate,
        value: i64,
    ) -> Result<Option<policy::ParamChange>>;

    /// The proposed parameter values waiting for a second account, oldest first.
    async fn open_param_changes(&self) -> Result<Vec<policy::ParamChange>>;

    /// Applies a proposed value (its proposer may not); audited with the values before and after.
    async fn apply_param_change(&self, actor: &Actor, id: i64) -> Result<policy::ParamDecision>;

    /// Discards a proposed value with the reason; false if `id` is not open.
    async fn discard_param_change(&self, actor: &Actor, id: i64, reason: &str) -> Result<bool>;

    /// Makes a draft the active version; its drafter may not.
    async fn publish_policy(&self, actor: &Actor, version_id: i64) -> Result<policy::PublishOutcome>;

    /// Discards a draft (its drafter withdrawing it, or a checker turning it
    /// down) with the reason; false if `version_id` is no draft.
    async fn discard_draft(&self, actor: &Actor, version_id: i64, reason: &str) -> Result<bool>;

    /// The registry within a division prefix (one household if given), as
    /// the sweep engine reads it. `progress` hears (persons read, persons in all) as it goes.
    async fn registry_facts(
        &self,
        prefix: &str,
        household: Option<i64>,
        progress: Option<&(dyn Fn(usize, usize) + Send + Sync)>,
    ) -> Result<Vec<zhongfu_domain::policy::HouseholdFacts>>;

    /// Proposes or dismisses one sweep result of a household in scope, or
    /// starts its gradual-exit period (kind `taper`, with `ends_on`); audited
    /// in the same transaction. False if the household is not found there.
    async fn mark_finding(&self, actor: &Actor, scope: &Scope, mark: &policy::SweepMark) -> Result<bool>;

    async fn sweep_marks(&self, prefix: &str) -> Result<Vec<policy::SweepMark>>;

    /// Household numbers and members' names and masked IDs, for listing
    /// sweep results; households outside the scope are left out.
    async fn finding_labels(&self, scope: &Scope, households: &[i64]) -> Result<Vec<policy::MemberLabel>>;
}

/// The one storage interface. Functions that read or write people take the
/// caller's [`Scope`] and filter in SQL.
#[async_trait]
pub trait Store: RegistryStore + PolicyStore + Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Cheap round trip, for readiness probes.
    async fn ping(&self) -> Result<()>;

    /// Applies pending migrations and (re)loads the bundled division data
    /// when it changed. Safe to run on every start.
    async fn migrate(&self) -> Result<MigrateReport>;

    async fn division(&self, code: &DivisionCode) -> Result<Option<Division>>;

    /// Children of a division, or the provinces when `parent` is `None`.
    async fn division_children(&self, parent: Option<&DivisionCode>) -> Result<Vec<Division>>;

    /// Divisions whose name contains `query`, at most `limit`, by code.
    async fn search_divisions(&self, query: &str, limit: u32) -> Result<Vec<Division>>;

    /// Records an event that changes nothing else (a sign-in, a reveal, an export).
    async fn record_audit(&self, actor: &Actor, event: &AuditEvent) -> Result<()>;

    /// Walks the whole audit chain; `broken` names the first bad record.
    async fn verify_audit(&self) -> Result<AuditVerifyReport>;

    /// Re-encrypts every stored personal value that is not under the current
    /// key, a page of rows per transaction (safe to stop and run again; an edit
    /// made meanwhile is not overwritten). Blind indexes do not change. Audited.
    async fn rotate_pii_key(&self, actor: &Actor) -> Result<PiiRotation>;

    // Identity: units, accounts, sessions, captchas. Changes are audited in
    // their own transaction; a change of password or roles ends sessions.

    async fn create_unit(&self, actor: &Actor, unit: &NewUnit) -> Result<Unit>;

    async fn create_account(&self, actor: &Actor, account: &NewAccount) -> Result<Account>;

    async fn account(&self, id: i64) -> Result<Option<Account>>;

    /// Every account: for the server's own commands (`demo`, `admin create`).
    async fn accounts(&self) -> Result<Vec<Account>>;

    /// Accounts whose jurisdiction lies within the scope.
    async fn accounts_within(&self, scope: &Scope) -> Result<Vec<Account>>;

    /// Units whose division lies within the scope.
    async fn units_within(&self, scope: &Scope) -> Result<Vec<Unit>>;

    /// Changes an account's profile; a new jurisdiction ends its sessions.
    async fn update_account(&self, actor: &Actor, account_id: i64, update: &AccountUpdate) -> Result<()>;

    /// Disables or enables an account; disabling ends its sessions.
    async fn set_disabled(&self, actor: &Actor, account_id: i64, disabled: bool) -> Result<()>;

    /// Clears an account's failures and lock.
    async fn unlock(&self, actor: &Actor, account_id: i64) -> Result<()>;

    /// A page of the audit trail, newest first.
    async fn audit_page(&self, filter: &AuditFilter) -> Result<AuditPage>;

    /// The account a sign-in names, with its password hash.
    async fn account_for_sign_in(&self, login: &LoginName) -> Result<Option<(Account, String)>>;

    /// Records a failed sign-in in one transaction: the account's new failure
    /// count and lock (if any), a failure against `actor.ip` for the throttle,
    /// and the audit record under the name as typed.
    async fn record_sign_in_failure(&self, actor: &Actor, failure: &SignInFailure) -> Result<()>;

    /// Failed sign-ins from `ip` in the window starting at `window_start`.
    async fn recent_failures(&self, ip: &str, window_start: DateTime<Utc>) -> Result<i64>;

    /// Starts a session for `actor.id`, clearing its failures; audited.
    async fn start_session(&self, actor: &Actor, session: &NewSession) -> Result<()>;

    /// The session a token names, with its account.
    async fn session(&self, token_hash: &str) -> Result<Option<(Session, Account)>>;

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()>;

    /// Ends one session; audited as a sign-out when `audit` holds.
    async fn end_session(&self, actor: &Actor, token_hash: &str, audit: bool) -> Result<()>;

    /// Previous password hashes, newest first.
    async fn password_history(&self, account_id: i64, limit: usize) -> Result<Vec<String>>;

    /// Sets a new password (the old one joins the history) and ends every
    /// session of the account but `keep_session`.
    async fn set_password(
        &self,
        actor: &Actor,
        account_id: i64,
        hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
    ) -> Result<()>;

    /// Replaces an account's roles and ends its sessions.
    async fn set_roles(&self, actor: &Actor, account_id: i64, roles: &Roles) -> Result<()>;

    /// Stores a new, not yet enabled TOTP secret (encrypted); old recovery codes go.
    async fn set_totp_secret(&self, actor: &Actor, account_id: i64, secret: &[u8]) -> Result<()>;

    async fn totp_secret(&self, account_id: i64) -> Result<Option<Vec<u8>>>;

    /// Turns the second factor on with these recovery code hashes.
    async fn enable_totp(&self, actor: &Actor, account_id: i64, recovery_hashes: &[String]) -> Result<()>;

    /// Accepts a TOTP time step once: false if it (or a later one) was used.
    async fn accept_totp_step(&self, account_id: i64, step: i64) -> Result<bool>;

    /// Uses up a recovery code; false if unknown or used.
    async fn use_recovery_code(&self, actor: &Actor, account_id: i64, code_hash: &str) -> Result<bool>;

    /// Marks a session's second factor as given; audited.
    async fn complete_second_factor(&self, actor: &Actor, token_hash: &str) -> Result<()>;

    /// Stores a captcha's answer hash; expired ones are purged on the way.
    async fn put_captcha(&self, id: &str, answer_hash: &str, expires_at: DateTime<Utc>) -> Result<()>;

    /// Records a volunteer's registration. `Duplicate("phone")` when the phone
    /// already has a live registration or an account, `Duplicate("id_number")`
    /// when the ID number has a live registration.
    async fn register_volunteer(&self, actor: &Actor, volunteer: &NewVolunteer) -> Result<i64>;

    /// Registrations for communities within the scope, optionally of one status, newest first.
    async fn volunteer_applications(&self, scope: &Scope, status: Option<&str>) -> Result<Vec<VolunteerApplication>>;

    /// Approves (making the volunteer's account) or rejects a pending registration.
    async fn decide_volunteer(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        decision: &Decision,
    ) -> Result<DecisionOutcome>;

    /// Removes and returns a captcha: each answers one sign-in at most.
    async fn take_captcha(&self, id: &str) -> Result<Option<(String, DateTime<Utc>)>>;

    /// Number of households within scope.
    async fn household_count(&self, scope: &Scope) -> Result<i64>;

    /// Households and persons per area one level below the scope's jurisdiction, within
    /// `district`: its streets for a district (or wider), a street's communities, a
    /// community itself.
    async fn area_counts(&self, scope: &Scope, district: &DivisionCode) -> Result<Vec<AreaCount>>;
}

/// Opens the store named by `url` (`sqlite://path` or `postgres://…`).
/// Does not migrate: call [`Store::migrate`].
pub async fn open(url: &str, keys: Arc<PiiKeys>) -> Result<Arc<dyn Store>, OpenError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url, keys).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PgStore::open(url, keys).await?))
    } else {
        let scheme = url.split(':').next().unwrap_or(url);
        Err(OpenError::UnknownScheme(scheme.to_owned()))
    }
}

/// A page's `LIMIT … OFFSET …`, written into the SQL rather than bound. SQLite
/// plans with the numbers it sees (a short page near the start of a long list
/// is read in index order), and a statement whose LIMIT is a bound parameter is
/// marked to be parsed and planned again every time it runs. The numbers are
/// integers of our own, never text from a request.
fn limit_offset(limit: i64, offset: i64) -> String {
    format!(" LIMIT {limit} OFFSET {offset}")
}

/// Escapes `%`, `_` and `\` so user text is matched literally by `LIKE … ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn parse_level(level: &str) -> DivisionLevel {
    match level {
        "province" => DivisionLevel::Province,
        "city" => DivisionLevel::City,
        "county" => DivisionLevel::County,
        "township" => DivisionLevel::Township,
        _ => DivisionLevel::Village,
    }
}

fn parse_code(code: &str) -> Result<DivisionCode> {
    DivisionCode::parse(code).map_err(|e| StoreError::Corrupt(format!("division code {code}: {e}")))
}
