//! The default store: an embedded SQLite file in WAL mode.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use zhongfu_domain::pii::PiiKeys;
use zhongfu_domain::registry::{Household, IncomeItem};
use zhongfu_domain::{DivisionCode, Scope};

use crate::audit::{append_audit, verify_audit};
use crate::divisions::{bundled_checksum, bundled_rows};
use crate::identity::{
    self, Account, AccountUpdate, AuditFilter, AuditPage, NewAccount, NewSession, NewUnit, Session, SignInFailure, Unit,
};
use crate::migrations::{CREATE_HISTORY, MIGRATIONS_SQLITE, pending};
use crate::registry::{
    AREA_COUNTS, EditOutcome, HOUSEHOLD_CHUNK, HouseholdDetail, HouseholdEdit, HouseholdFilter, HouseholdPage,
    INSERT_HOLDING, INSERT_HOUSEHOLD, INSERT_PERSON, ImportPlan, MemberEdit, SealedBatch, batch_event, birth,
    seal_phone, sex_code, tags,
};
use crate::sql::{select_divisions, sql_store};
use crate::sql_registry::registry_store;
use crate::sqlite_bulk::{Insert, Value};
use crate::volunteers::{self, Decision, DecisionOutcome, NewVolunteer, VolunteerApplication};
use crate::{
    Actor, AreaCount, AuditEvent, AuditVerifyReport, Division, MigrateReport, OpenError, Result, like_escape,
    parse_code, parse_level,
};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use zhongfu_domain::identity::Roles;
use zhongfu_domain::pii::IndexKind;
use zhongfu_domain::registry::Person;
use zhongfu_domain::signin::LoginName;

#[derive(Debug)]
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    keys: Arc<PiiKeys>,
    totals: crate::registry::Remembered<i64>,
    facets: crate::registry::Remembered<crate::registry::HouseholdFacets>,
}

impl SqliteStore {
    pub(crate) async fn open(url: &str, keys: Arc<PiiKeys>) -> Result<Self, OpenError> {
        let connect = |source| OpenError::Connect { url: url.to_owned(), source };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(connect)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let options = CONNECTION_PRAGMAS
            .iter()
            .fold(options, |o, &(name, value)| o.pragma(name, value))
            // Rows a statement may run ahead of its reader by. At sqlx's 50,
            // the connection's thread parked every 50 rows of an import's
            // `RETURNING` until the (busy) reader caught up.
            .row_buffer_size(2048);
        let path = options.get_filename();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| OpenError::Directory { path: dir.display().to_string(), source })?;
        }
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.map_err(connect)?;
        Ok(Self { pool, keys, totals: Default::default(), facets: Default::default() })
    }

    /// A transaction that writes. It takes the write lock at once
    /// (`BEGIN IMMEDIATE`), waiting its turn under the busy timeout: a
    /// deferred one that reads first fails outright if another write
    /// commits before its own first write.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// An import's transaction: the write lock held from the start keeps other
    /// writers out until it commits.
    async fn begin_import(&self) -> Result<sqlx::Transaction<'static, Sqlite>> {
        self.begin_write().await
    }

    /// Drops `holding_area` before an import of `rows` rows when they are many
    /// and at least as many as the holdings ever written (the largest id).
    async fn set_aside_holding_area(&self, rows: usize) -> Result<bool> {
        let written: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM holding").fetch_one(&self.pool).await?;
        if rows < BULK_ROWS || i64::try_from(rows).unwrap_or(i64::MAX) < written {
            return Ok(false);
        }
        sqlx::query("DROP INDEX IF EXISTS holding_area").execute(&self.pool).await?;
        Ok(true)
    }

    /// Builds `holding_area` if it is missing.
    async fn build_holding_area(&self) -> Result<()> {
        sqlx::query(HOLDING_AREA).execute(&self.pool).await?;
        Ok(())
    }

    /// Nothing after an import's batch: SQLite plans the import's lookups on
    /// their indexes without statistics (PostgreSQL's store analyses here).
    async fn refresh_statistics(&self, _written: usize) -> Result<()> {
        Ok(())
    }

    async fn load_divisions(&self) -> Result<usize> {
        let checksum = bundled_checksum();
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'division_data'").fetch_optional(&self.pool).await?;
        if current.as_deref() == Some(checksum.as_str()) {
            return Ok(0);
        }
        let rows = bundled_rows()?;
        let mut tx = self.begin_write().await?;
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS division_load AS SELECT * FROM division WHERE 0")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM temp.division_load").execute(&mut *tx).await?;
        for chunk in rows.chunks(5000) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO temp.division_load (code, name, level, parent, has_children) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.code.as_str())
                    .push_bind(&r.name)
                    .push_bind(r.code.level().as_str())
                    .push_bind(r.parent.map(|p| p.to_string()))
                    .push_bind(r.has_children);
            });
            q.build().execute(&mut *tx).await?;
        }
        // Upsert rather than replace: households reference division codes.
        sqlx::query(
            "INSERT INTO division (code, name, level, parent, has_children)
             SELECT code, name, level, parent, has_children FROM temp.division_load WHERE true
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                 parent = excluded.parent, has_children = excluded.has_children",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("DROP TABLE temp.division_load").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('division_data', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(&checksum)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Inserts a batch's members; their ids by ID blind index. The ids are
    /// given here, after the largest in the table (the transaction holds the
    /// write lock), in the members' order.
    async fn insert_persons(
        &self,
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        batch: &SealedBatch<'_>,
        household_ids: &HashMap<String, i64>,
    ) -> Result<HashMap<Vec<u8>, i64>> {
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM person").fetch_one(&mut **tx).await?;
        let id = |i: usize| last + 1 + i64::try_from(i).unwrap_or(i64::MAX);
        let births: Vec<String> = batch.members.iter().map(|m| birth(m.person).to_string()).collect();
        let deaths: Vec<Option<String>> =
            batch.members.iter().map(|m| m.person.death_date.map(|d| d.to_string())).collect();
        let mut handle = tx.lock_handle().await?;
        bulk(|| {
            let mut insert = Insert::prepare(&mut handle, &bulk_head(INSERT_PERSON, "id"), PERSON_ROWS)?;
            for (i, m) in batch.members.iter().enumerate() {
                let p = m.person;
                let phone = m.phone.as_ref();
                insert.row(&[
                    Value::Int(id(i)),
                    household_ids.get(m.household).copied().into(),
                    Value::Text(&p.name),
                    Value::Blob(&m.id.cipher),
                    Value::Blob(&m.id.bidx),
                    Value::Text(&m.id.masked),
                    Value::Text(sex_code(p)),
                    Value::Text(&births[i]),
                    Value::Text(p.relation.code()),
                    phone.map(|s| s.cipher.as_slice()).into(),
                    phone.map(|s| s.bidx.as_slice()).into(),
                    phone.map(|s| s.masked.as_str()).into(),
                    Value::Text(p.marital.code()),
                    Value::Text(p.health.code()),
                    p.disability.as_ref().map(|d| d.kind.code()).into(),
                    p.disability.as_ref().map(|d| i64::from(d.grade)).into(),
                    m.certificate.as_deref().into(),
                    Value::Text(p.work_ability.code()),
                    Value::Text(p.employment.code()),
                    Value::Text(p.schooling.code()),
                    Value::Int(p.monthly_income.0),
                    deaths[i].as_deref().into(),
                    Value::Int(i64::from(p.unrecorded)),
                    Value::Blob(&m.digest),
                ])?;
            }
            insert.finish()
        })?;
        Ok(batch.members.iter().enumerate().map(|(i, m)| (m.id.bidx.clone(), id(i))).collect())
    }

    /// Inserts holdings in their households' and members' order, so that the
    /// indexes led by either take each entry after the one before.
    async fn insert_holdings(
        &self,
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        rows: &[crate::registry::HoldingRow<'_>],
    ) -> Result<()> {
        let mut rows: Vec<_> = rows.iter().collect();
        rows.sort_by_key(|r| (r.household_id, r.person_id));
        let starts: Vec<String> = rows.iter().map(|r| r.start.to_string()).collect();
        let ends: Vec<Option<String>> = rows.iter().map(|r| r.holding.end.map(|d| d.to_string())).collect();
        let mut handle = tx.lock_handle().await?;
        bulk(|| {
            let mut insert = Insert::prepare(&mut handle, &bulk_head(INSERT_HOLDING, ""), HOLDING_ROWS)?;
            for (i, r) in rows.iter().enumerate() {
                insert.row(&[
                    Value::Int(r.household_id),
                    Value::Text(r.community),
                    r.person_id.into(),
                    Value::Text(r.holding.category.code()),
                    Value::Text(&starts[i]),
                    ends[i].as_deref().into(),
                ])?;
            }
            insert.finish()
        })
    }
}

/// The settings of each SQLite connection besides its journal, durability,
/// references and busy timeout (`zhongfu bench import` gives the `sqlite3`
/// shell of its bare load the same).
pub const CONNECTION_PRAGMAS: [(&str, &str); 3] = [
    // 32 MB of page cache per connection: bulk writes touch many index pages.
    ("cache_size", "-32768"),
    ("temp_store", "memory"),
    // Reads straight from the mapped file, without a copy through a system call
    // per page (up to 64 GB; see LIBSQLITE3_FLAGS in .cargo/config.toml).
    ("mmap_size", "68719476736"),
];

/// `holding_area` as migration 0008 made it (and 0022 again): the
/// index an import of many rows sets aside and builds again once at its end.
/// A migration that changes the index changes this too.
const HOLDING_AREA: &str =
    "CREATE INDEX IF NOT EXISTS holding_area ON holding (category, community, start_date, end_date, household_id)";

/// Rows an import needs before its indexes are set aside (see `HOLDING_AREA`).
const BULK_ROWS: usize = 10_000;

/// Rows a bulk insert's statement takes: members have 23 columns, holdings 6.
const PERSON_ROWS: usize = 64;
const HOLDING_ROWS: usize = 128;

/// `insert` (`INSERT INTO table (a, …) `) as `INSERT OR FAIL`, with `first`
/// as its first column if one is named. A bulk insert's transaction is rolled
/// back whole on an error, so no statement need undo its own rows (and, with
/// the tables' references checked at commit, SQLite journals none).
fn bulk_head(insert: &str, first: &str) -> String {
    let (into, columns) = insert.split_once('(').unwrap_or((insert, ""));
    let first = if first.is_empty() { String::new() } else { format!("{first}, ") };
    format!("{}({first}{columns}", into.replacen("INSERT INTO", "INSERT OR FAIL INTO", 1))
}

/// Runs a bulk write on this thread, telling a multi-threaded runtime first
/// so that its other tasks move to other threads meanwhile.
fn bulk<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

sql_store!(SqliteStore, Sqlite, "sqlite", MIGRATIONS_SQLITE);
