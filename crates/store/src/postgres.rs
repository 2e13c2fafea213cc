//! The store for a city or province: PostgreSQL.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use zhongfu_domain::pii::PiiKeys;
use zhongfu_domain::registry::{Household, IncomeItem};
use zhongfu_domain::{DivisionCode, Scope};

use crate::audit::{append_audit, verify_audit};
use crate::divisions::{bundled_checksum, bundled_rows};
use crate::identity::{
    self, Account, AccountUpdate, AuditFilter, AuditPage, NewAccount, NewSession, NewUnit, Session, SignInFailure, Unit,
};
use crate::migrations::{CREATE_HISTORY, MIGRATIONS_POSTGRES, pending};
use crate::registry::{
    AREA_COUNTS, EditOutcome, HOUSEHOLD_CHUNK, HouseholdDetail, HouseholdEdit, HouseholdFilter, HouseholdPage,
    INSERT_HOUSEHOLD, ImportPlan, MemberEdit, SealedBatch, batch_event, birth, seal_phone, sex_code, tags,
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
pub(crate) struct PgStore {
    pool: PgPool,
    keys: Arc<PiiKeys>,
    totals: crate::registry::Remembered<i64>,
    facets: crate::registry::Remembered<crate::registry::HouseholdFacets>,
}

impl PgStore {
    /// A transaction that writes (PostgreSQL takes row locks as it goes).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// An import's transaction: other writers of households and persons wait
    /// until it commits (readers go on), so what it plans from the registry is
    /// still true when it writes. SQLite's `BEGIN IMMEDIATE` already holds the
    /// database's write lock. The tables are locked in the order edits write
    /// them (the household's version first), so the two wait rather than deadlock.
    /// (`insert_households`, the generator's and the benchmark's bulk registration,
    /// takes the audit head first: run beside an import, PostgreSQL may end one of
    /// the two with a deadlock error.) Edits anywhere wait for at most one batch.
    async fn begin_import(&self) -> Result<sqlx::Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("LOCK TABLE household, person IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        Ok(tx)
    }

    /// PostgreSQL keeps `holding_area` through an import: setting it aside gained
    /// nothing measurable, and its `DROP INDEX` waits for (and holds up) every
    /// transaction on `holding`.
    async fn set_aside_holding_area(&self, _rows: usize) -> Result<bool> {
        Ok(false)
    }

    /// Nothing was set aside (see `set_aside_holding_area`).
    async fn build_holding_area(&self) -> Result<()> {
        Ok(())
    }

    /// After an import's batch of `written` households: a large import changes the
    /// tables' shape faster than autovacuum notices, and fresh statistics keep the
    /// next batch's lookups on their indexes. Taken again each time the tables have
    /// grown fourfold: an import into an empty registry analyses a few times, not
    /// after every batch.
    async fn refresh_statistics(&self, written: usize) -> Result<()> {
        if written >= 1000 && sqlx::query_scalar::<_, bool>(STATISTICS_OUTGROWN).fetch_one(&self.pool).await? {
            sqlx::query("ANALYZE household, person, holding").execute(&self.pool).await?;
        }
        Ok(())
    }

    pub(crate) async fn open(url: &str, keys: Arc<PiiKeys>) -> Result<Self, OpenError> {
        let connect = |source| OpenError::Connect { url: url.to_owned(), source };
        let options = PgConnectOptions::from_str(url).map_err(connect)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(connect)?;
        Ok(Self { pool, keys, totals: Default::default(), facets: Default::default() })
    }

    async fn load_divisions(&self) -> Result<usize> {
        let checksum = bundled_checksum();
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'division_data'").fetch_optional(&self.pool).await?;
        if current.as_deref() == Some(checksum.as_str()) {
            return Ok(0);
        }
        let rows = bundled_rows()?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("CREATE TEMP TABLE division_load (LIKE division) ON COMMIT DROP").execute(&mut *tx).await?;
        for chunk in rows.chunks(5000) {
            let mut q =
                QueryBuilder::<Postgres>::new("INSERT INTO division_load (code, name, level, parent, has_children) ");
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
             SELECT code, name, level, parent, has_children FROM division_load WHERE true
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                 parent = excluded.parent, has_children = excluded.has_children",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('division_data', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(&checksum)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Inserts a batch's members, a column at a time: each chunk is one statement of
    /// 23 arrays that the server unnests, planned once whatever the chunk's size
    /// (a `VALUES` list of as many rows is parsed and planned afresh each time).
    /// Their ids by ID blind index.
    async fn insert_persons(
        &self,
        tx: &mut sqlx::Transaction<'_, Postgres>,
        batch: &SealedBatch<'_>,
        household_ids: &HashMap<String, i64>,
    ) -> Result<HashMap<Vec<u8>, i64>> {
        let mut person_ids = HashMap::with_capacity(batch.members.len());
        for chunk in batch.members.chunks(UNNEST_CHUNK) {
            let ids: Vec<(Vec<u8>, i64)> = sqlx::query_as(UNNEST_PERSON)
                .bind(column(chunk, |m| household_ids.get(m.household).copied()))
                .bind(column(chunk, |m| m.person.name.as_str()))
                .bind(column(chunk, |m| m.id.cipher.as_slice()))
                .bind(column(chunk, |m| m.id.bidx.as_slice()))
                .bind(column(chunk, |m| m.id.masked.as_str()))
                .bind(column(chunk, |m| sex_code(m.person)))
                .bind(column(chunk, |m| birth(m.person)))
                .bind(column(chunk, |m| m.person.relation.code()))
                .bind(column(chunk, |m| m.phone.as_ref().map(|s| s.cipher.as_slice())))
                .bind(column(chunk, |m| m.phone.as_ref().map(|s| s.bidx.as_slice())))
                .bind(column(chunk, |m| m.phone.as_ref().map(|s| s.masked.as_str())))
                .bind(column(chunk, |m| m.person.marital.code()))
                .bind(column(chunk, |m| m.person.health.code()))
                .bind(column(chunk, |m| m.person.disability.as_ref().map(|d| d.kind.code())))
                .bind(column(chunk, |m| m.person.disability.as_ref().map(|d| i64::from(d.grade))))
                .bind(column(chunk, |m| m.certificate.as_deref()))
                .bind(column(chunk, |m| m.person.work_ability.code()))
                .bind(column(chunk, |m| m.person.employment.code()))
                .bind(column(chunk, |m| m.person.schooling.code()))
                .bind(column(chunk, |m| m.person.monthly_income.0))
                .bind(column(chunk, |m| m.person.death_date))
                .bind(column(chunk, |m| i32::from(m.person.unrecorded)))
                .bind(column(chunk, |m| m.digest.as_slice()))
                .fetch_all(&mut **tx)
                .await?;
            person_ids.extend(ids);
        }
        Ok(person_ids)
    }

    /// Inserts holdings, a column at a time (see `insert_persons`).
    async fn insert_holdings(
        &self,
        tx: &mut sqlx::Transaction<'_, Postgres>,
        rows: &[crate::registry::HoldingRow<'_>],
    ) -> Result<()> {
        for chunk in rows.chunks(UNNEST_CHUNK) {
            sqlx::query(UNNEST_HOLDING)
                .bind(column(chunk, |r| r.household_id))
                .bind(column(chunk, |r| r.community))
                .bind(column(chunk, |r| r.person_id))
                .bind(column(chunk, |r| r.holding.category.code()))
                .bind(column(chunk, |r| r.start))
                .bind(column(chunk, |r| r.holding.end))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// Whether the person table is now more than four times the size its
/// statistics were taken at (never taken: any size).
const STATISTICS_OUTGROWN: &str = "SELECT pg_relation_size(c.oid) > \
    4 * c.relpages::bigint * current_setting('block_size')::bigint FROM pg_class c WHERE c.oid = 'person'::regclass";

/// Rows an import writes per statement on PostgreSQL: bound as one array per
/// column, so not limited by the number of parameters.
const UNNEST_CHUNK: usize = 5_000;

const UNNEST_PERSON: &str = "INSERT INTO person (household_id, name, id_cipher, id_bidx, id_masked, \
    sex, birth_date, relation, phone_cipher, phone_bidx, phone_masked, marital, health, disability_kind, \
    disability_grade, disability_cert, work_ability, employment, schooling, monthly_income_fen, death_date, unrecorded, \
    digest) SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bytea[], $4::bytea[], $5::text[], $6::text[], $7::date[], \
    $8::text[], $9::bytea[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], \
    $16::bytea[], $17::text[], $18::text[], $19::text[], $20::bigint[], $21::date[], $22::integer[], \
    $23::bytea[]) \
    RETURNING id_bidx, id";

const UNNEST_HOLDING: &str = "INSERT INTO holding (household_id, community, person_id, category, start_date, end_date) \
    SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::date[], $6::date[])";

/// One column of `rows`, to bind as an array.
fn column<'a, R, T>(rows: &'a [R], value: impl Fn(&'a R) -> T) -> Vec<T> {
    rows.iter().map(value).collect()
}

sql_store!(PgStore, Postgres, "postgres", MIGRATIONS_POSTGRES);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unnested_inserts_name_the_columns_of_the_others_with_one_array_each() {
        for (unnest, insert) in
            [(UNNEST_PERSON, crate::registry::INSERT_PERSON), (UNNEST_HOLDING, crate::registry::INSERT_HOLDING)]
        {
            assert!(unnest.starts_with(insert.trim_end()), "{unnest}");
            let columns = insert.matches(',').count() + 1;
            assert_eq!(unnest.matches("[]").count(), columns, "{unnest}");
        }
    }
}
