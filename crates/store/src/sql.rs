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
                    // One that rebuilds a table others refer to runs with SQLite's foreign keys
                    // off (a pragma that only takes effect outside a transaction), on a
                    // connection of its own, turned back on before it returns to the pool.
                    let keys_off = m.sql.starts_with($crate::migrations::FOREIGN_KEYS_OFF);
                    let mut conn = self.pool.acquire().await?;
                    if keys_off {
                        sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
                    }
                    let done = Self::apply_migration(&mut conn, m, keys_off).await;
                    if keys_off {
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                    }
                    done?;
                    report.applied.push(m.version);
                }
                report.divisions_loaded = self.load_divisions().await?;
                $crate::RegistryStore::restore_bulk_indexes(self).await?;
                self.check_pii_key().await?;
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

            async fn record_audit(&self, actor: &Actor, event: &AuditEvent) -> Result<()> {
                let mut tx = self.begin_write().await?;
                append_audit!(tx, actor, event);
                tx.commit().await?;
                Ok(())
            }

            async fn verify_audit(&self) -> Result<AuditVerifyReport> {
                Ok(verify_audit!(&self.pool))
            }

            async fn rotate_pii_key(&self, actor: &Actor) -> Result<$crate::PiiRotation> {
                use $crate::audit::{ENCRYPTED_COLUMNS, ROTATE_PAGE};
                let mut report = $crate::PiiRotation { key_id: self.keys.key_id(), columns: Vec::new() };
                for (table, column) in ENCRYPTED_COLUMNS {
                    // Names from the fixed list above, never from input.
                    let select = format!(
                        "SELECT id, {column} FROM {table} WHERE id > $1 AND {column} IS NOT NULL ORDER BY id LIMIT {ROTATE_PAGE}"
                    );
                    let update = format!("UPDATE {table} SET {column} = $2 WHERE id = $1 AND {column} = $3");
                    let mut done = $crate::RotatedColumn { table, column, ..Default::default() };
                    let mut after = 0i64;
                    loop {
                        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
                            .bind(after)
                            .fetch_all(&self.pool)
                            .await?;
                        let Some(&(last, _)) = rows.last() else { break };
                        after = last;
                        let mut tx = self.begin_write().await?;
                        for (id, blob) in &rows {
                            done.checked += 1;
                            if self.keys.is_current(blob) {
                                continue;
                            }
                            let Ok(plain) = self.keys.decrypt(blob) else {
                                done.unreadable += 1;
                                continue;
                            };
                            let sealed = self.keys.encrypt(&plain);
                            let res = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                                .bind(id)
                                .bind(&sealed)
                                .bind(blob)
                                .execute(&mut *tx)
                                .await?;
                            done.rewritten += res.rows_affected();
                        }
                        tx.commit().await?;
                    }
                    // The key id is the value's first byte.
                    let other_key = if $crate::Store::backend(self) == "postgres" {
                        format!("get_byte({column}, 0) <> {}", self.keys.key_id())
                    } else {
                        format!("substr({column}, 1, 1) <> X'{:02X}'", self.keys.key_id())
                    };
                    let count = format!("SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND {other_key}");
                    let remaining: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count)).fetch_one(&self.pool).await?;
                    done.remaining = remaining.max(0) as u64;
                    report.columns.push(done);
                }
                let counts: serde_json::Map<String, serde_json::Value> = (report.columns.iter())
                    .map(|c| (format!("{}.{}", c.table, c.column), serde_json::json!([c.checked, c.rewritten, c.remaining])))
                    .collect();
                let event = AuditEvent {
                    action: "pii.rotate_key".into(),
                    entity: "pii".into(),
                    entity_id: report.key_id.to_string(),
                    diff: serde_json::json!({ "key_id": report.key_id, "checked_rewritten_remaining": counts }).to_string(),
                };
                let mut tx = self.begin_write().await?;
                append_audit!(tx, actor, &event);
                tx.commit().await?;
                Ok(report)
            }

            async fn household_count(&self, scope: &Scope) -> Result<i64> {
                let n = sqlx::query_scalar("SELECT COUNT(*) FROM household WHERE community LIKE $1")
                    .bind(format!("{}%", scope.prefix()))
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn area_counts(&self, scope: &Scope, district: &DivisionCode) -> Result<Vec<AreaCount>> {
                // Below a street (or in a community): the street's communities, by their whole code.
                let prefix = scope.prefix();
                let (parent, key) = match prefix.get(..9).filter(|_| prefix.len() >= 9) {
                    Some(street) => (format!("{street}000"), 12i32),
                    None => (district.as_str().to_owned(), 9),
                };
                let rows = sqlx::query(AREA_COUNTS)
                    .bind(parent)
                    .bind(format!("{}%", district.prefix()))
                    .bind(format!("{prefix}%"))
                    .bind(key)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(AreaCount {
                            code: parse_code(r.try_get("code")?)?,
                            name: r.try_get("name")?,
                            households: r.try_get("households")?,
                            persons: r.try_get("persons")?,
                        })
                    })
                    .collect()
            }

            async fn create_unit(&self, actor: &Actor, unit: &NewUnit) -> Result<Unit> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(identity::INSERT_UNIT)
                    .bind(&unit.name)
                    .bind(unit.kind.code())
                    .bind(unit.division.as_str())
                    .bind(identity::time(chrono::Utc::now()))
                    .fetch_one(&mut *tx)
                    .await?;
                append_audit!(tx, actor, &identity::unit_created(id, unit));
                tx.commit().await?;
                Ok(Unit { id, name: unit.name.clone(), kind: unit.kind, division: unit.division })
            }

            async fn create_account(&self, actor: &Actor, account: &NewAccount) -> Result<Account> {
                let phone = account.phone.as_ref().map(|p| seal_phone(&self.keys, p.as_str()));
                let now = identity::time(chrono::Utc::now());
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(identity::INSERT_ACCOUNT)
                    .bind(&account.username)
                    .bind(&account.display_name)
                    .bind(account.email.as_ref().map(|e| e.as_str()))
                    .bind(phone.as_ref().map(|s| &s.cipher))
                    .bind(phone.as_ref().map(|s| &s.bidx))
                    .bind(phone.as_ref().map(|s| &s.masked))
                    .bind(&account.volunteer_number)
                    .bind(account.unit_id)
                    .bind(account.jurisdiction.as_str())
                    .bind(&account.password_hash)
                    .bind(account.must_change_password)
                    .bind(&now)
                    .fetch_one(&mut *tx)
                    .await?;
                for role in account.roles.as_slice() {
                    sqlx::query(identity::INSERT_ROLE).bind(id).bind(role.code()).execute(&mut *tx).await?;
                }
                sqlx::query(identity::INSERT_HISTORY)
                    .bind(id)
                    .bind(&account.password_hash)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                append_audit!(tx, actor, &identity::account_created(id, account));
                tx.commit().await?;
                self.account(id).await?.ok_or(sqlx::Error::RowNotFound.into())
            }

            async fn account(&self, id: i64) -> Result<Option<Account>> {
                let row: Option<identity::AccountRow> =
                    sqlx::query_as(identity::select_accounts!("WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
                match row {
                    Some(row) => Ok(Some(self.with_roles(row).await?.0)),
                    None => Ok(None),
                }
            }

            async fn accounts(&self) -> Result<Vec<Account>> {
                let rows: Vec<identity::AccountRow> =
                    sqlx::query_as(identity::select_accounts!("ORDER BY username")).fetch_all(&self.pool).await?;
                self.with_all_roles(rows).await
            }

            async fn accounts_within(&self, scope: &Scope) -> Result<Vec<Account>> {
                let rows: Vec<identity::AccountRow> =
                    sqlx::query_as(identity::select_accounts!("WHERE jurisdiction LIKE $1 ORDER BY username"))
                        .bind(format!("{}%", scope.prefix()))
                        .fetch_all(&self.pool)
                        .await?;
                self.with_all_roles(rows).await
            }

            async fn units_within(&self, scope: &Scope) -> Result<Vec<Unit>> {
                let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
                    "SELECT id, name, kind, division FROM unit WHERE division LIKE $1 ORDER BY division, name",
                )
                .bind(format!("{}%", scope.prefix()))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(identity::unit_from_row).collect()
            }
            async fn update_account(&self, actor: &Actor, account_id: i64, update: &AccountUpdate) -> Result<()> {
                let Some(before) = self.account(account_id).await? else {
                    return Err(sqlx::Error::RowNotFound.into());
                };
                let phone = update.phone.as_ref().map(|p| seal_phone(&self.keys, p.as_str()));
                let mut tx = self.begin_write().await?;
                sqlx::query(identity::UPDATE_ACCOUNT)
                    .bind(account_id)
                    .bind(&update.display_name)
                    .bind(update.email.as_ref().map(|e| e.as_str()))
                    .bind(phone.as_ref().map(|s| &s.cipher))
                    .bind(phone.as_ref().map(|s| &s.bidx))
                    .bind(phone.as_ref().map(|s| &s.masked))
                    .bind(update.unit_id)
                    .bind(update.jurisdiction.as_str())
                    .bind(identity::time(chrono::Utc::now()))
                    .execute(&mut *tx)
                    .await?;
                if before.jurisdiction != update.jurisdiction {
                    sqlx::query(identity::END_SESSIONS).bind(account_id).bind(None::<String>).execute(&mut *tx).await?;
                }
                let event = identity::account_updated(&before, update, phone.as_ref().map(|s| s.masked.as_str()));
                append_audit!(tx, actor, &event);
                tx.commit().await?;
                Ok(())
            }

            async fn set_disabled(&self, actor: &Actor, account_id: i64, disabled: bool) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let now = identity::time(chrono::Utc::now());
                let n = sqlx::query(identity::SET_DISABLED)
                    .bind(account_id)
                    .bind(disabled)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(sqlx::Error::RowNotFound.into());
                }
                sqlx::query(identity::END_SESSIONS).bind(account_id).bind(None::<String>).execute(&mut *tx).await?;
                let diff = serde_json::json!({"disabled": [!disabled, disabled]});
                append_audit!(tx, actor, &identity::event("account.set_disabled", "account", account_id, diff));
                tx.commit().await?;
                Ok(())
            }

            async fn unlock(&self, actor: &Actor, account_id: i64) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let now = identity::time(chrono::Utc::now());
                sqlx::query(identity::UNLOCK).bind(account_id).bind(&now).execute(&mut *tx).await?;
                append_audit!(tx, actor, &identity::event("account.unlock", "account", account_id, serde_json::json!({})));
                tx.commit().await?;
                Ok(())
            }

            async fn audit_page(&self, filter: &AuditFilter) -> Result<AuditPage> {
                let mut count = sqlx::QueryBuilder::<$db>::new("SELECT COUNT(*) FROM audit_log WHERE 1 = 1");
                identity::push_audit_filter!(count, filter);
                let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT seq, at, actor_id, actor_name, ip, action, entity, entity_id, diff FROM audit_log WHERE 1 = 1",
                );
                identity::push_audit_filter!(q, filter);
                q.push(" ORDER BY seq DESC").push($crate::limit_offset(filter.limit, filter.offset));
                let rows: Vec<(i64, String, Option<i64>, String, String, String, String, String, String)> =
                    q.build_query_as().fetch_all(&self.pool).await?;
                let records = rows
                    .into_iter()
                    .map(|(seq, at, actor_id, actor_name, ip, action, entity, entity_id, diff)| identity::AuditRecord {
                        seq,
                        at,
                        actor_id,
                        actor_name,
                        ip,
                        action,
                        entity,
                        entity_id,
                        diff,
                    })
                    .collect();
                Ok(AuditPage { total, records })
            }

            async fn account_for_sign_in(&self, login: &LoginName) -> Result<Option<(Account, String)>> {
                let query = match login {
                    LoginName::Username(name) => {
                        sqlx::query_as(identity::select_accounts!("WHERE username = $1")).bind(name.clone())
                    }
                    LoginName::Email(email) => {
                        sqlx::query_as(identity::select_accounts!("WHERE email = $1")).bind(email.as_str().to_owned())
                    }
                    LoginName::VolunteerNumber(number) => {
                        sqlx::query_as(identity::select_accounts!("WHERE volunteer_number = $1")).bind(number.clone())
                    }
                    LoginName::Phone(phone) => sqlx::query_as(identity::select_accounts!("WHERE phone_bidx = $1"))
                        .bind(self.keys.blind_index(IndexKind::Phone, phone.as_str())),
                };
                let row: Option<identity::AccountRow> = query.fetch_optional(&self.pool).await?;
                match row {
                    Some(row) => Ok(Some(self.with_roles(row).await?)),
                    None => Ok(None),
                }
            }

            async fn record_sign_in_failure(&self, actor: &Actor, failure: &SignInFailure) -> Result<()> {
                let mut tx = self.begin_write().await?;
                if let (Some(id), Some(state)) = (failure.account, failure.failures) {
                    sqlx::query(identity::SET_FAILURES)
                        .bind(id)
                        .bind(i64::from(state.failures))
                        .bind(state.locked_until.map(identity::time))
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(identity::THROTTLE)
                    .bind(&actor.ip)
                    .bind(identity::time(failure.at))
                    .bind(identity::time(failure.window_start))
                    .execute(&mut *tx)
                    .await?;
                let locked = failure.failures.and_then(|f| f.locked_until).map(identity::time);
                let action = if locked.is_some() { "account.locked" } else { "session.sign_in_failed" };
                let diff = match failure.failures {
                    Some(f) => serde_json::json!({"failures": [null, f.failures], "locked_until": [null, locked]}),
                    None => serde_json::json!({}),
                };
                let event = AuditEvent {
                    action: action.to_owned(),
                    entity: "account".to_owned(),
                    entity_id: failure.account.map(|id| id.to_string()).unwrap_or_default(),
                    diff: diff.to_string(),
                };
                append_audit!(tx, actor, &event);
                tx.commit().await?;
                Ok(())
            }

            async fn recent_failures(&self, ip: &str, window_start: DateTime<Utc>) -> Result<i64> {
                let n: Option<i64> = sqlx::query_scalar(identity::THROTTLE_COUNT)
                    .bind(ip)
                    .bind(identity::time(window_start))
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(n.unwrap_or(0))
            }

            async fn start_session(&self, actor: &Actor, session: &NewSession) -> Result<()> {
                let id = actor.id.unwrap_or_default();
                let mut tx = self.begin_write().await?;
                sqlx::query(identity::SET_FAILURES).bind(id).bind(0i64).bind(None::<String>).execute(&mut *tx).await?;
                sqlx::query(identity::INSERT_SESSION)
                    .bind(&session.token_hash)
                    .bind(id)
                    .bind(&session.csrf_token)
                    .bind(&actor.ip)
                    .bind(identity::time(session.at))
                    .bind(session.second_factor_pending)
                    .execute(&mut *tx)
                    .await?;
                let diff = serde_json::json!({"second_factor_pending": [null, session.second_factor_pending]});
                append_audit!(tx, actor, &identity::event("session.sign_in", "account", id, diff));
                tx.commit().await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str) -> Result<Option<(Session, Account)>> {
                use sqlx::{FromRow, Row};
                let rows = sqlx::query(identity::SESSION).bind(token_hash).fetch_all(&self.pool).await?;
                let Some(first) = rows.first() else { return Ok(None) };
                // A session of an account without roles has one row, its role NULL.
                let codes: Vec<String> =
                    rows.iter().filter_map(|r| r.try_get::<Option<String>, _>("role").transpose()).collect::<Result<_, _>>()?;
                // The account's columns come first, in `AccountRow`'s order.
                let (account, _) = identity::account_from_row(identity::AccountRow::from_row(first)?, identity::roles_from_codes(codes))?;
                let session = Session {
                    csrf_token: first.try_get("csrf_token")?,
                    created_at: identity::parse_time(first.try_get("created_at")?),
                    last_seen: identity::parse_time(first.try_get("last_seen")?),
                    second_factor_pending: first.try_get("second_factor_pending")?,
                };
                Ok(Some((session, account)))
            }

            async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
                sqlx::query(identity::TOUCH_SESSION).bind(token_hash).bind(identity::time(at)).execute(&self.pool).await?;
                Ok(())
            }

            async fn end_session(&self, actor: &Actor, token_hash: &str, audit: bool) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(identity::DELETE_SESSION).bind(token_hash).execute(&mut *tx).await?;
                if audit {
                    let id = actor.id.unwrap_or_default();
                    append_audit!(tx, actor, &identity::event("session.sign_out", "account", id, serde_json::json!({})));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn password_history(&self, account_id: i64, limit: usize) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(identity::HISTORY)
                    .bind(account_id)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn set_password(
                &self,
                actor: &Actor,
                account_id: i64,
                hash: &str,
                must_change: bool,
                keep_session: Option<&str>,
            ) -> Result<()> {
                let now = identity::time(chrono::Utc::now());
                let mut tx = self.begin_write().await?;
                let changed = sqlx::query(identity::SET_PASSWORD)
                    .bind(account_id)
                    .bind(hash)
                    .bind(must_change)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed == 0 {
                    return Err(sqlx::Error::RowNotFound.into());
                }
                sqlx::query(identity::INSERT_HISTORY).bind(account_id).bind(hash).bind(&now).execute(&mut *tx).await?;
                sqlx::query(identity::END_SESSIONS).bind(account_id).bind(keep_session).execute(&mut *tx).await?;
                let diff = serde_json::json!({"password": ["***", "***"], "must_change_password": [null, must_change]});
                append_audit!(tx, actor, &identity::event("account.set_password", "account", account_id, diff));
                tx.commit().await?;
                Ok(())
            }

            async fn set_roles(&self, actor: &Actor, account_id: i64, roles: &Roles) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let before: Vec<String> = sqlx::query_scalar(identity::ROLES_OF).bind(account_id).fetch_all(&mut *tx).await?;
                sqlx::query(identity::DELETE_ROLES).bind(account_id).execute(&mut *tx).await?;
                for role in roles.as_slice() {
                    sqlx::query(identity::INSERT_ROLE).bind(account_id).bind(role.code()).execute(&mut *tx).await?;
                }
                sqlx::query(identity::END_SESSIONS).bind(account_id).bind(None::<String>).execute(&mut *tx).await?;
                let before = identity::roles_from_codes(before);
                append_audit!(tx, actor, &identity::roles_changed(account_id, &before, roles));
                tx.commit().await?;
                Ok(())
            }

            async fn register_volunteer(&self, actor: &Actor, v: &NewVolunteer) -> Result<i64> {
                let phone = seal_phone(&self.keys, v.phone.as_str());
                let id_number = v.id_number.as_str();
                let mut tx = self.begin_write().await?;
                let taken: i64 = sqlx::query_scalar(volunteers::PHONE_TAKEN).bind(&phone.bidx).fetch_one(&mut *tx).await?;
                if taken > 0 {
                    return Err(crate::StoreError::Duplicate("phone".into()));
                }
                let id_bidx = self.keys.blind_index(IndexKind::IdNumber, id_number);
                let registered: i64 =
                    sqlx::query_scalar(volunteers::ID_REGISTERED).bind(&id_bidx).fetch_one(&mut *tx).await?;
                if registered > 0 {
                    return Err(crate::StoreError::Duplicate("id_number".into()));
                }
                let id: i64 = sqlx::query_scalar(volunteers::INSERT)
                    .bind(&v.name)
                    .bind(&phone.cipher)
                    .bind(&phone.bidx)
                    .bind(&phone.masked)
                    .bind(v.email.as_ref().map(|e| e.as_str()))
                    .bind(self.keys.encrypt(id_number))
                    .bind(&id_bidx)
                    .bind(v.id_number.masked())
                    .bind(v.community.as_str())
                    .bind(&v.skills)
                    .bind(&v.availability)
                    .bind(&v.password_hash)
                    .bind(identity::time(chrono::Utc::now()))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match crate::StoreError::from(e) {
                        // A registration of the same phone or ID number committed meanwhile.
                        crate::StoreError::Duplicate(what) if what.contains("id_bidx") || what.contains("volunteer_application_id") => {
                            crate::StoreError::Duplicate("id_number".into())
                        }
                        crate::StoreError::Duplicate(_) => crate::StoreError::Duplicate("phone".into()),
                        other => other,
                    })?;
                append_audit!(tx, actor, &volunteers::registered(id, v));
                tx.commit().await?;
                Ok(id)
            }

            async fn volunteer_applications(&self, scope: &Scope, status: Option<&str>) -> Result<Vec<VolunteerApplication>> {
                let rows: Vec<volunteers::Row> = sqlx::query_as(volunteers::select_applications!(
                    "WHERE community LIKE $1 AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT 500"
                ))
                .bind(format!("{}%", scope.prefix()))
                .bind(status)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(volunteers::from_row).collect()
            }

            async fn decide_volunteer(
                &self,
                actor: &Actor,
                scope: &Scope,
                id: i64,
                decision: &Decision,
            ) -> Result<DecisionOutcome> {
                let mut tx = self.begin_write().await?;
                let row: Option<volunteers::DecisionRow> = sqlx::query_as(volunteers::FOR_DECISION)
                    .bind(id)
                    .bind(actor.id.unwrap_or_default())
                    .bind(format!("{}%", scope.prefix()))
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((status, phone_cipher, phone_bidx, phone_masked, email, hash, name, community, own)) = row else {
                    return Ok(DecisionOutcome::NotFound);
                };
                if status != "pending" {
                    return Ok(DecisionOutcome::AlreadyDecided);
                }
                if own > 0 {
                    return Ok(DecisionOutcome::OwnRegistration);
                }
                let now = identity::time(chrono::Utc::now());
                let (outcome, account_id, number) = match decision {
                    Decision::Approve => {
                        // Numbers already given by hand or by an import are skipped.
                        let mut number = String::new();
                        for _ in 0..1000 {
                            let seq: i64 = sqlx::query_scalar(volunteers::NEXT_NUMBER).fetch_one(&mut *tx).await?;
                            number = volunteers::volunteer_number(seq);
                            let used: i64 =
                                sqlx::query_scalar(volunteers::NUMBER_USED).bind(&number).fetch_one(&mut *tx).await?;
                            if used == 0 {
                                break;
                            }
                        }
                        let account_id: i64 = sqlx::query_scalar(volunteers::INSERT_ACCOUNT)
                            .bind(number.to_lowercase())
                            .bind(&name)
                            .bind(&email)
                            .bind(&phone_cipher)
                            .bind(&phone_bidx)
                            .bind(&phone_masked)
                            .bind(&number)
                            .bind(&community)
                            .bind(&hash)
                            .bind(false)
                            .bind(&now)
                            .fetch_one(&mut *tx)
                            .await?;
                        sqlx::query(identity::INSERT_ROLE).bind(account_id).bind("volunteer").execute(&mut *tx).await?;
                        sqlx::query(identity::INSERT_HISTORY).bind(account_id).bind(&hash).bind(&now).execute(&mut *tx).await?;
                        let outcome = DecisionOutcome::Approved { account_id, volunteer_number: number.clone() };
                        (outcome, Some(account_id), Some(number))
                    }
                    Decision::Reject { .. } => (DecisionOutcome::Rejected, None, None),
                };
                let (status, reason) = match decision {
                    Decision::Approve => ("approved", None),
                    Decision::Reject { reason } => ("rejected", Some(reason.as_str())),
                };
                sqlx::query(volunteers::DECIDE)
                    .bind(id)
                    .bind(status)
                    .bind(reason)
                    .bind(actor.id)
                    .bind(&now)
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?;
                append_audit!(tx, actor, &volunteers::decided(id, decision, number.as_deref()));
                tx.commit().await?;
                Ok(outcome)
            }

            async fn set_totp_secret(&self, actor: &Actor, account_id: i64, secret: &[u8]) -> Result<()> {
                // The PII cipher seals text: the secret travels as hex.
                let cipher = self.keys.encrypt(&hex::encode(secret));
                let mut tx = self.begin_write().await?;
                let now = identity::time(chrono::Utc::now());
                sqlx::query(identity::SET_TOTP).bind(account_id).bind(&cipher).bind(false).bind(&now).execute(&mut *tx).await?;
                sqlx::query(identity::DELETE_RECOVERY).bind(account_id).execute(&mut *tx).await?;
                let diff = serde_json::json!({"totp_secret": [null, "***"], "totp_enabled": [null, false]});
                append_audit!(tx, actor, &identity::event("account.totp_setup", "account", account_id, diff));
                tx.commit().await?;
                Ok(())
            }

            async fn totp_secret(&self, account_id: i64) -> Result<Option<Vec<u8>>> {
                let cipher: Option<Option<Vec<u8>>> =
                    sqlx::query_scalar(identity::TOTP_SECRET).bind(account_id).fetch_optional(&self.pool).await?;
                let Some(cipher) = cipher.flatten() else { return Ok(None) };
                let text = self.keys.decrypt(&cipher).map_err(|e| crate::StoreError::Corrupt(format!("TOTP secret: {e}")))?;
                Ok(hex::decode(text).ok())
            }

            async fn enable_totp(&self, actor: &Actor, account_id: i64, recovery_hashes: &[String]) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let now = identity::time(chrono::Utc::now());
                sqlx::query(identity::ENABLE_TOTP).bind(account_id).bind(true).bind(&now).execute(&mut *tx).await?;
                sqlx::query(identity::DELETE_RECOVERY).bind(account_id).execute(&mut *tx).await?;
                for hash in recovery_hashes {
                    sqlx::query(identity::INSERT_RECOVERY).bind(account_id).bind(hash).execute(&mut *tx).await?;
                }
                let diff = serde_json::json!({"totp_enabled": [false, true], "recovery_codes": [null, recovery_hashes.len()]});
                append_audit!(tx, actor, &identity::event("account.totp_enable", "account", account_id, diff));
                tx.commit().await?;
                Ok(())
            }

            async fn accept_totp_step(&self, account_id: i64, step: i64) -> Result<bool> {
                let row: Option<i64> = sqlx::query_scalar(identity::ACCEPT_STEP)
                    .bind(format!("totp:{account_id}"))
                    .bind(step)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.is_some())
            }

            async fn use_recovery_code(&self, actor: &Actor, account_id: i64, code_hash: &str) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let now = identity::time(chrono::Utc::now());
                let used = sqlx::query(identity::USE_RECOVERY)
                    .bind(account_id)
                    .bind(code_hash)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if used {
                    let diff = serde_json::json!({});
                    append_audit!(tx, actor, &identity::event("account.recovery_code_used", "account", account_id, diff));
                }
                tx.commit().await?;
                Ok(used)
            }

            async fn complete_second_factor(&self, actor: &Actor, token_hash: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(identity::SECOND_FACTOR_DONE).bind(token_hash).bind(false).execute(&mut *tx).await?;
                let id = actor.id.unwrap_or_default();
                append_audit!(tx, actor, &identity::event("session.second_factor", "account", id, serde_json::json!({})));
                tx.commit().await?;
                Ok(())
            }

            async fn put_captcha(&self, id: &str, answer_hash: &str, expires_at: DateTime<Utc>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(identity::PURGE_CAPTCHAS).bind(identity::time(chrono::Utc::now())).execute(&mut *tx).await?;
                sqlx::query(identity::INSERT_CAPTCHA)
                    .bind(id)
                    .bind(answer_hash)
                    .bind(identity::time(expires_at))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_captcha(&self, id: &str) -> Result<Option<(String, DateTime<Utc>)>> {
                let row: Option<(String, String)> =
                    sqlx::query_as(identity::TAKE_CAPTCHA).bind(id).fetch_optional(&self.pool).await?;
                Ok(row.map(|(hash, expires)| (hash, identity::parse_time(&expires))))
            }
        }

        registry_store!($store, $db);
        $crate::sql_policy::policy_store!($store, $db);

        impl $store {
            /// Refuses keys that do not open the registry's ID numbers: a server or
            /// command started with another key file (the default path is relative to the
            /// working directory) would write values no one could look up beside them.
            /// One registered person's ID is opened and its blind index compared (under an
            /// encryption key not configured it cannot be: the key's rotation reports that).
            async fn check_pii_key(&self) -> Result<()> {
                use zhongfu_domain::pii::{IndexKind, PiiError};
                let sample: Option<(Vec<u8>, Vec<u8>)> =
                    sqlx::query_as("SELECT id_cipher, id_bidx FROM person ORDER BY id LIMIT 1")
                        .fetch_optional(&self.pool)
                        .await?;
                let Some((cipher, bidx)) = sample else { return Ok(()) };
                match self.keys.decrypt(&cipher) {
                    Ok(id) if self.keys.blind_index(IndexKind::IdNumber, &id) == bidx => Ok(()),
                    Err(PiiError::UnknownKey(_)) => Ok(()),
                    _ => Err($crate::StoreError::WrongPiiKey),
                }
            }

            /// Applies `m` in one transaction on `conn` and records it; with foreign keys
            /// off, refuses to commit if it left a row pointing nowhere.
            async fn apply_migration(
                conn: &mut sqlx::pool::PoolConnection<$db>,
                m: &$crate::migrations::Migration,
                keys_off: bool,
            ) -> Result<()> {
                let mut tx = sqlx::Connection::begin(&mut **conn).await?;
                sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
                if keys_off {
                    let broken = sqlx::raw_sql("PRAGMA foreign_key_check").fetch_all(&mut *tx).await?;
                    if !broken.is_empty() {
                        return Err($crate::StoreError::Corrupt(format!(
                            "migration {} ({}) would leave {} rows pointing nowhere",
                            m.version,
                            m.name,
                            broken.len()
                        )));
                    }
                }
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
                Ok(())
            }

            /// Loads the roles of many account rows in one query.
            async fn with_all_roles(&self, rows: Vec<identity::AccountRow>) -> Result<Vec<Account>> {
                let roles: Vec<(i64, String)> = sqlx::query_as(identity::ALL_ROLES).fetch_all(&self.pool).await?;
                let mut by_account: HashMap<i64, Vec<String>> = HashMap::new();
                for (id, role) in roles {
                    by_account.entry(id).or_default().push(role);
                }
                rows.into_iter()
                    .map(|row| {
                        let codes = by_account.remove(&row.0).unwrap_or_default();
                        identity::account_from_row(row, identity::roles_from_codes(codes)).map(|(a, _)| a)
                    })
                    .collect()
            }

            async fn with_roles(&self, row: identity::AccountRow) -> Result<(Account, String)> {
                let codes: Vec<String> = sqlx::query_scalar(identity::ROLES_OF).bind(row.0).fetch_all(&self.pool).await?;
                identity::account_from_row(row, identity::roles_from_codes(codes))
            }
        }
    };
}

pub(crate) use {select_divisions, sql_store};
