//! The `Store` implementation shared by SQLite and PostgreSQL: the SQL and how
//! values are bound are the same, only the sqlx database type differs, so one
//! macro writes both. Each backend keeps what really differs (opening the
//! pool, loading divisions) in its own module.

/// `SELECT` of the division columns followed by the given clauses.
macro_rules! select_divisions {
    ($clauses:literal) => {
        concat!("SELECT code, name, level, has_children FROM division ", $clauses)
    };
}

/// Implements `Store` for `$store`, a struct with a sqlx `pool` of `$db`,
/// personal-data `keys` and a `load_divisions` method.
macro_rules! sql_store {
    ($store:ty, $db:ty, $backend:literal, $migrations:expr) => {
        fn division_from_row(row: &<$db as sqlx::Database>::Row) -> $crate::Result<$crate::Division> {
            Ok(Division {
                code: parse_code(row.try_get("code")?)?,
                name: row.try_get("name")?,
                level: parse_level(row.try_get("level")?),
                has_children: row.try_get("has_children")?,
            })
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn migrate(&self) -> Result<MigrateReport> {
                sqlx::query(CREATE_HISTORY).execute(&self.pool).await?;
                let applied: Vec<(i64, String)> =
                    sqlx::query_as("SELECT version, checksum FROM schema_migration").fetch_all(&self.pool).await?;
                let mut report = MigrateReport::default();
                for m in pending(&applied, $migrations)? {
                    let mut tx = self.pool.begin().await?;
                    sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
                    sqlx::query(
                        "INSERT INTO schema_migration (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(m.version)
                    .bind(m.name)
                    .bind(m.checksum())
                    .bind(chrono::Utc::now().to_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    report.applied.push(m.version);
                }
                report.divisions_loaded = self.load_divisions().await?;
                Ok(report)
            }

            async fn division(&self, code: &DivisionCode) -> Result<Option<Division>> {
                let row = sqlx::query(select_divisions!("WHERE code = $1"))
                    .bind(code.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(division_from_row).transpose()
            }

            async fn division_children(&self, parent: Option<&DivisionCode>) -> Result<Vec<Division>> {
                let rows = match parent {
                    Some(p) => {
                        sqlx::query(select_divisions!("WHERE parent = $1 ORDER BY code"))
                            .bind(p.as_str())
                            .fetch_all(&self.pool)
                            .await?
                    }
                    None => {
                        sqlx::query(select_divisions!("WHERE parent IS NULL ORDER BY code"))
                            .fetch_all(&self.pool)
                            .await?
                    }
                };
                rows.iter().map(division_from_row).collect()
            }

            async fn search_divisions(&self, query: &str, limit: u32) -> Result<Vec<Division>> {
                let rows = sqlx::query(select_divisions!(
                    "WHERE name LIKE $1 ESCAPE '\\' ORDER BY length(name), code LIMIT $2"
                ))
                .bind(format!("%{}%", like_escape(query)))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(division_from_row).collect()
            }

            async fn insert_households(&self, actor: &Actor, households: &[Household]) -> Result<()> {
                let batch = SealedBatch::new(&self.keys, households);
                let mut tx = self.pool.begin().await?;
                let mut household_ids = HashMap::with_capacity(households.len());
                for chunk in batch.households.chunks(HOUSEHOLD_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(INSERT_HOUSEHOLD);
                    q.push_values(chunk, |mut b, s| {
                        let (h, phone) = (s.household, s.phone.as_ref());
                        b.push_bind(&h.number)
                            .push_bind(h.community.as_str())
                            .push_bind(&h.address)
                            .push_bind(phone.map(|s| &s.cipher))
                            .push_bind(phone.map(|s| &s.bidx))
                            .push_bind(phone.map(|s| &s.masked))
                            .push_bind(h.registration.code())
                            .push_bind(h.tenure.code())
                            .push_bind(h.dangerous_housing)
                            .push_bind(h.assets.0)
                            .push_bind(tags(h));
                    });
                    q.push(" RETURNING number, id");
                    let ids: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
                    household_ids.extend(ids);
                }
                let mut person_ids = HashMap::with_capacity(batch.members.len());
                for chunk in batch.members.chunks(PERSON_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(INSERT_PERSON);
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
                            .push_bind(p.death_date);
                    });
                    q.push(" RETURNING id_bidx, id");
                    let ids: Vec<(Vec<u8>, i64)> = q.build_query_as().fetch_all(&mut *tx).await?;
                    person_ids.extend(ids);
                }
                for chunk in batch.holdings(&household_ids, &person_ids).chunks(HOUSEHOLD_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(INSERT_HOLDING);
                    q.push_values(chunk, |mut b, r| {
                        b.push_bind(r.household_id)
                            .push_bind(r.person_id)
                            .push_bind(r.holding.category.code())
                            .push_bind(r.holding.start)
                            .push_bind(r.holding.end);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                append_audit!(tx, actor, &batch_event(households));
                tx.commit().await?;
                Ok(())
            }

            async fn record_audit(&self, actor: &Actor, event: &AuditEvent) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                append_audit!(tx, actor, event);
                tx.commit().await?;
                Ok(())
            }

            async fn verify_audit(&self) -> Result<AuditVerifyReport> {
                Ok(verify_audit!(&self.pool))
            }

            async fn household_count(&self, scope: &Scope) -> Result<i64> {
                let n = sqlx::query_scalar("SELECT COUNT(*) FROM household WHERE community LIKE $1")
                    .bind(format!("{}%", scope.prefix()))
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn street_counts(&self, scope: &Scope, district: &DivisionCode) -> Result<Vec<StreetCount>> {
                let rows = sqlx::query(STREET_COUNTS)
                    .bind(district.as_str())
                    .bind(format!("{}%", district.prefix()))
                    .bind(format!("{}%", scope.prefix()))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(StreetCount {
                            code: parse_code(r.try_get("code")?)?,
                            name: r.try_get("name")?,
                            households: r.try_get("households")?,
                            persons: r.try_get("persons")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use {select_divisions, sql_store};
