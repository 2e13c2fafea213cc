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
    INSERT_HOLDING, INSERT_HOUSEHOLD, INSERT_PERSON, ImportPlan, MemberEdit, PERSON_CHUNK, SealedBatch, batch_event,
    birth, seal_phone, sex_code, tags,
};
use crate::sql::{select_divisions, sql_store};
use crate::sql_registry::registry_store;
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
            .busy_timeout(Duration::from_secs(10))
            // 32 MB of page cache per connection: bulk writes touch many index pages.
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "memory")
            // Reads straight from the mapped file, without a copy through a system call
            // per page (up to 64 GB; see LIBSQLITE3_FLAGS in .cargo/config.toml).
            .pragma("mmap_size", "68719476736")
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

    /// Inserts a batch's members; their ids by ID blind index.
    async fn insert_persons(
        &self,
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        batch: &SealedBatch<'_>,
        household_ids: &HashMap<String, i64>,
    ) -> Result<HashMap<Vec<u8>, i64>> {
        // Each chunk's statement is built while the one before it runs (the
        // database works on its own thread or server meanwhile).
        let mut person_ids = HashMap::with_capacity(batch.members.len());
        let mut persons = batch.members.chunks(PERSON_CHUNK).map(|chunk| {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(INSERT_PERSON);
            q.push_values(chunk, |mut b, m| {
                let p = m.person;
                let phone = m.phone.as_ref();
                b.push_bind(household_ids.get(m.household).copied())
                    .push_bind(&p.name)
                    .push_bind(&m.id.cipher)
                    .push_bind(&m.id.bidx)
                    .push_bind(&m.id.masked)
                    .push_bind(sex_code(p))
                    .push_bind(birth(p))
                    .push_bind(p.relation.code())
                    .push_bind(phone.map(|s| &s.cipher))
                    .push_bind(phone.map(|s| &s.bidx))
                    .push_bind(phone.map(|s| &s.masked))
                    .push_bind(p.marital.code())
                    .push_bind(p.health.code())
                    .push_bind(p.disability.as_ref().map(|d| d.kind.code()))
                    .push_bind(p.disability.as_ref().map(|d| i64::from(d.grade)))
                    .push_bind(m.certificate.as_ref())
                    .push_bind(p.work_ability.code())
                    .push_bind(p.employment.code())
                    .push_bind(p.schooling.code())
                    .push_bind(p.monthly_income.0)
                    .push_bind(p.death_date)
                    .push_bind(i32::from(p.unrecorded));
            });
            q.push(" RETURNING id_bidx, id");
            q
        });
        let mut next = persons.next();
        while let Some(mut q) = next {
            let (ids, following) =
                futures::future::join(q.build_query_as::<(Vec<u8>, i64)>().fetch_all(&mut **tx), async {
                    persons.next()
                })
                .await;
            person_ids.extend(ids?);
            next = following;
        }
        Ok(person_ids)
    }

    async fn insert_holdings(
        &self,
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        rows: &[crate::registry::HoldingRow<'_>],
    ) -> Result<()> {
        let mut holdings = rows.chunks(HOUSEHOLD_CHUNK).map(|chunk| {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(INSERT_HOLDING);
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.household_id)
                    .push_bind(r.community)
                    .push_bind(r.person_id)
                    .push_bind(r.holding.category.code())
                    .push_bind(r.start)
                    .push_bind(r.holding.end);
            });
            q
        });
        let mut next = holdings.next();
        while let Some(mut q) = next {
            let (done, following) =
                futures::future::join(q.build().execute(&mut **tx), async { holdings.next() }).await;
            done?;
            next = following;
        }
        Ok(())
    }
}

sql_store!(SqliteStore, Sqlite, "sqlite", MIGRATIONS_SQLITE);
