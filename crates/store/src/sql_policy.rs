//! The policy half of the shared `Store` implementation, expanded inside
//! `sql_store!` for each backend.

/// Implements `PolicyStore` for `$store` over the sqlx database `$db`.
macro_rules! policy_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::PolicyStore for $store {
            async fn seed_catalogue(
                &self,
                actor: &Actor,
                catalogue: &zhongfu_domain::policy::Catalogue,
            ) -> Result<usize> {
                use $crate::policy::{json, policy_event};
                let mut tx = self.begin_write().await?;
                let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM policy").fetch_one(&mut *tx).await?;
                if existing > 0 {
                    return Ok(0);
                }
                let now = $crate::audit::now();
                for p in &catalogue.params {
                    sqlx::query("INSERT INTO policy_param (name, definition) VALUES ($1, $2)")
                        .bind(&p.name)
                        .bind(serde_json::to_string(p).unwrap_or_default())
                        .execute(&mut *tx)
                        .await?;
                }
                for p in &catalogue.policies {
                    let id: i64 = sqlx::query_scalar("INSERT INTO policy (code, created_at) VALUES ($1, $2) RETURNING id")
                        .bind(&p.code)
                        .bind(&now)
                        .fetch_one(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO policy_version (policy_id, version, status, definition, drafted_at, approved_at)
                         VALUES ($1, 1, 'active', $2, $3, $3)",
                    )
                    .bind(id)
                    .bind(json(p))
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
                let diff = serde_json::json!({ "district": catalogue.district.name, "policies": catalogue.policies.len(),
                                               "params": catalogue.params.len() });
                append_audit!(tx, actor, &policy_event("policy.seed", 0, diff));
                tx.commit().await?;
                Ok(catalogue.policies.len())
            }

            async fn policy_params(&self) -> Result<Vec<zhongfu_domain::policy::ParamDef>> {
                let rows: Vec<String> = sqlx::query_scalar($crate::policy::SELECT_PARAMS).fetch_all(&self.pool).await?;
                rows.iter().map(|r| $crate::policy::param_from_json(r)).collect()
            }

            async fn policy_versions(&self) -> Result<Vec<$crate::policy::PolicyVersion>> {
                let rows: Vec<$crate::policy::VersionRow> =
                    sqlx::query_as($crate::policy::SELECT_VERSIONS).fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::policy::version_from_row).collect()
            }

            async fn draft_policy(
                &self,
                actor: &Actor,
                policy_id: Option<i64>,
                definition: &zhongfu_domain::policy::PolicyDef,
            ) -> Result<Option<$crate::policy::PolicyVersion>> {
                use $crate::policy::{json, policy_event};
                let mut tx = self.begin_write().await?;
                let now = $crate::audit::now();
                let id = match policy_id {
                    Some(id) => {
                        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM policy WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let Some(id) = found else { return Ok(None) };
                        id
                    }
                    None => sqlx::query_scalar("INSERT INTO policy (code, created_at) VALUES ($1, $2) RETURNING id")
                        .bind(&definition.code)
                        .bind(&now)
                        .fetch_one(&mut *tx)
                        .await?,
                };
                let before: Option<String> = sqlx::query_scalar(
                    "SELECT definition FROM policy_version WHERE policy_id = $1 AND status IN ('draft', 'active')
                      ORDER BY version DESC LIMIT 1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                sqlx::query("UPDATE policy_version SET status = 'discarded' WHERE policy_id = $1 AND status = 'draft'")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let version: i64 = sqlx::query_scalar(
                    "INSERT INTO policy_version (policy_id, version, status, definition, drafted_by, drafted_at)
                     SELECT $1, COALESCE(MAX(version), 0) + 1, 'draft', $2, $3, $4 FROM policy_version WHERE policy_id = $1
                     RETURNING id",
                )
                .bind(id)
                .bind(json(definition))
                .bind(actor.id)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?;
                let before: Option<serde_json::Value> = before.and_then(|b| serde_json::from_str(&b).ok());
                let diff = serde_json::json!({ "definition": [before, definition], "status": [null, "draft"] });
                append_audit!(tx, actor, &policy_event("policy.draft", id, diff));
                tx.commit().await?;
                let versions = $crate::PolicyStore::policy_versions(self).await?;
                Ok(versions.into_iter().find(|v| v.id == version))
            }

            async fn publish_policy(&self, actor: &Actor, version_id: i64) -> Result<$crate::policy::PublishOutcome> {
                use $crate::policy::{PublishOutcome, policy_event};
                let mut tx = self.begin_write().await?;
                let row: Option<(i64, String, Option<i64>, i64)> = sqlx::query_as(
                    "SELECT policy_id, status, drafted_by, version FROM policy_version WHERE id = $1",
                )
                .bind(version_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((policy_id, status, drafted_by, version)) = row else { return Ok(PublishOutcome::NotFound) };
                if status != "draft" {
                    return Ok(PublishOutcome::NotDraft);
                }
                if drafted_by.is_some() && drafted_by == actor.id {
                    return Ok(PublishOutcome::OwnDraft);
                }
                sqlx::query("UPDATE policy_version SET status = 'superseded' WHERE policy_id = $1 AND status = 'active'")
                    .bind(policy_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE policy_version SET status = 'active', approved_by = $2, approved_at = $3 WHERE id = $1")
                    .bind(version_id)
                    .bind(actor.id)
                    .bind($crate::audit::now())
                    .execute(&mut *tx)
                    .await?;
                let diff = serde_json::json!({ "status": ["draft", "active"], "version": version });
                append_audit!(tx, actor, &policy_event("policy.publish", policy_id, diff));
                tx.commit().await?;
                let versions = $crate::PolicyStore::policy_versions(self).await?;
                Ok(versions
                    .into_iter()
                    .find(|v| v.id == version_id)
                    .map_or(PublishOutcome::NotFound, |v| PublishOutcome::Published(Box::new(v))))
            }

            async fn propose_param_value(
                &self,
                actor: &Actor,
                name: &str,
                from: chrono::NaiveDate,
                value: i64,
            ) -> Result<Option<$crate::policy::ParamChange>> {
                let mut tx = self.begin_write().await?;
                let known: Option<String> = sqlx::query_scalar("SELECT name FROM policy_param WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
                if known.is_none() {
                    return Ok(None);
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO param_change (name, from_date, value, proposed_by, proposed_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(name)
                .bind(from.to_string())
                .bind(value)
                .bind(actor.id)
                .bind($crate::audit::now())
                .fetch_one(&mut *tx)
                .await?;
                let event = AuditEvent {
                    action: "policy.param_propose".into(),
                    entity: "policy_param".into(),
                    entity_id: name.to_owned(),
                    diff: serde_json::json!({ "change": id, "from": from.to_string(), "value": value }).to_string(),
                };
                append_audit!(tx, actor, &event);
                let row: $crate::policy::ParamChangeRow =
                    sqlx::query_as($crate::policy::PARAM_CHANGE).bind(id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(Some($crate::policy::param_change_from_row(row)?))
            }

            async fn open_param_changes(&self) -> Result<Vec<$crate::policy::ParamChange>> {
                let rows: Vec<$crate::policy::ParamChangeRow> =
                    sqlx::query_as($crate::policy::OPEN_PARAM_CHANGES).fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::policy::param_change_from_row).collect()
            }

            async fn apply_param_change(&self, actor: &Actor, id: i64) -> Result<$crate::policy::ParamDecision> {
                use $crate::policy::ParamDecision;
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::policy::ParamChangeRow> =
                    sqlx::query_as($crate::policy::PARAM_CHANGE).bind(id).fetch_optional(&mut *tx).await?;
                let Some(change) = row.map($crate::policy::param_change_from_row).transpose()? else {
                    return Ok(ParamDecision::NotFound);
                };
                if change.status != "proposed" {
                    return Ok(ParamDecision::NotOpen);
                }
                if actor.id == Some(change.proposed_by) {
                    return Ok(ParamDecision::OwnProposal);
                }
                // Claimed while still proposed, so a discard or another checker meanwhile
                // makes this one NotOpen; then the parameter's row is locked (a no-op
                // write) before it is read, so two values applied at once both stay.
                let claimed: Option<i64> = sqlx::query_scalar(
                    "UPDATE param_change SET status = 'applied', decided_by = $2, decided_at = $3
                      WHERE id = $1 AND status = 'proposed' RETURNING id",
                )
                .bind(id)
                .bind(actor.id)
                .bind($crate::audit::now())
                .fetch_optional(&mut *tx)
                .await?;
                if claimed.is_none() {
                    return Ok(ParamDecision::NotOpen);
                }
                sqlx::query("UPDATE policy_param SET definition = definition WHERE name = $1")
                    .bind(&change.name)
                    .execute(&mut *tx)
                    .await?;
                let stored: String = sqlx::query_scalar("SELECT definition FROM policy_param WHERE name = $1")
                    .bind(&change.name)
                    .fetch_one(&mut *tx)
                    .await?;
                let mut def = $crate::policy::param_from_json(&stored)?;
                let before = def.values.clone();
                def.set(change.from, change.value);
                sqlx::query("UPDATE policy_param SET definition = $2 WHERE name = $1")
                    .bind(&change.name)
                    .bind(serde_json::to_string(&def).unwrap_or_default())
                    .execute(&mut *tx)
                    .await?;
                let event = AuditEvent {
                    action: "policy.param".into(),
                    entity: "policy_param".into(),
                    entity_id: change.name.clone(),
                    diff: serde_json::json!({ "values": [before, def.values], "change": id,
                                              "proposed_by": change.proposed_by_name })
                    .to_string(),
                };
                append_audit!(tx, actor, &event);
                tx.commit().await?;
                Ok(ParamDecision::Applied(Box::new(def)))
            }

            async fn discard_param_change(&self, actor: &Actor, id: i64, reason: &str) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let name: Option<String> = sqlx::query_scalar(
                    "UPDATE param_change SET status = 'discarded', decided_by = $2, decided_at = $3, reason = $4
                      WHERE id = $1 AND status = 'proposed' RETURNING name",
                )
                .bind(id)
                .bind(actor.id)
                .bind($crate::audit::now())
                .bind(reason)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(name) = name else { return Ok(false) };
                let event = AuditEvent {
                    action: "policy.param_discard".into(),
                    entity: "policy_param".into(),
                    entity_id: name,
                    diff: serde_json::json!({ "change": id, "reason": reason }).to_string(),
                };
                append_audit!(tx, actor, &event);
                tx.commit().await?;
                Ok(true)
            }

            async fn discard_draft(&self, actor: &Actor, version_id: i64, reason: &str) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let discarded: Option<(i64, i64)> = sqlx::query_as(
                    "UPDATE policy_version SET status = 'discarded' WHERE id = $1 AND status = 'draft'
                     RETURNING policy_id, version",
                )
                .bind(version_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((policy_id, version)) = discarded else { return Ok(false) };
                let diff = serde_json::json!({ "status": ["draft", "discarded"], "version": version, "reason": reason });
                append_audit!(tx, actor, &$crate::policy::policy_event("policy.discard", policy_id, diff));
                tx.commit().await?;
                Ok(true)
            }

            async fn registry_facts(
                &self,
                prefix: &str,
                household: Option<i64>,
                progress: Option<&(dyn Fn(usize, usize) + Send + Sync)>,
            ) -> Result<Vec<zhongfu_domain::policy::HouseholdFacts>> {
                use futures::TryStreamExt;
                use $crate::policy::*;
                let like = format!("{}%", $crate::like_escape(prefix));
                // The one-household form binds the id as $2.
                let form = usize::from(household.is_some());
                macro_rules! query {
                    ($q:expr) => {
                        match household {
                            Some(id) => $q.bind(&like).bind(id),
                            None => $q.bind(&like),
                        }
                    };
                }
                let mut households = Vec::new();
                let mut rows = query!(sqlx::query_as::<_, HouseholdFactRow>(HOUSEHOLD_FACTS[form])).fetch(&self.pool);
                while let Some(r) = rows.try_next().await? {
                    households.push(household_facts(r)?);
                }
                drop(rows);
                let total: i64 = match progress {
                    Some(_) => query!(sqlx::query_scalar(COUNT_PERSONS[form])).fetch_one(&self.pool).await?,
                    None => 0,
                };
                let mut persons = Vec::with_capacity(households.len() * 4);
                let mut rows = query!(sqlx::query_as::<_, PersonFactRow>(PERSON_FACTS[form])).fetch(&self.pool);
                while let Some(r) = rows.try_next().await? {
                    persons.push(person_facts(r)?);
                    if let Some(tell) = progress.filter(|_| persons.len() % 65_536 == 0) {
                        tell(persons.len(), total as usize);
                    }
                }
                drop(rows);
                let (mut households, index) = assemble(households, persons);
                // Streamed: a city's tens of millions of holdings are never held as rows.
                let mut rows = query!(sqlx::query_as::<_, HoldingFactRow>(HOLDING_FACTS[form])).fetch(&self.pool);
                while let Some(r) = rows.try_next().await? {
                    attach_holding(&mut households, &index, r)?;
                }
                Ok(households)
            }

            async fn mark_finding(&self, actor: &Actor, scope: &Scope, mark: &$crate::policy::SweepMark) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let before: Option<$crate::policy::MarkBefore> = sqlx::query_as($crate::policy::MARK_BEFORE)
                    .bind(mark.policy_id)
                    .bind(mark.household_id)
                    .bind(mark.person_id)
                    .bind(&mark.kind)
                    .bind(format!("{}%", scope.prefix()))
                    .fetch_optional(&mut *tx)
                    .await?;
                // The same mark again, on the household as it was then, changes nothing.
                if let Some((status, reason, ends_on, true)) = &before
                    && (status, reason, ends_on) == (&mark.status, &mark.reason, &mark.ends_on)
                {
                    return Ok(true);
                }
                // A proposal or a dismissal withdrawn: gone, the row back on its list unmarked.
                // A dismissal made before the household last changed is shown no more: nothing to take back.
                let withdrawn = match &before {
                    Some((status, _, _, current)) if status == "proposed" || (status == "dismissed" && *current) => {
                        Some(status.clone())
                    }
                    _ => None,
                };
                if mark.status == "withdrawn" {
                    let Some(withdrawn) = withdrawn else { return Ok(false) };
                    sqlx::query($crate::policy::DELETE_MARK)
                        .bind(mark.policy_id)
                        .bind(mark.household_id)
                        .bind(mark.person_id)
                        .bind(&mark.kind)
                        .execute(&mut *tx)
                        .await?;
                    let diff = serde_json::json!({ "policy": mark.policy_id, "person": mark.person_id, "kind": mark.kind,
                                                   "status": [withdrawn, null] });
                    append_audit!(tx, actor, &$crate::registry::household_event("sweep.mark", mark.household_id, diff.to_string()));
                    tx.commit().await?;
                    return Ok(true);
                }
                let done = sqlx::query($crate::policy::UPSERT_MARK)
                    .bind(mark.policy_id)
                    .bind(mark.household_id)
                    .bind(mark.person_id)
                    .bind(&mark.kind)
                    .bind(&mark.status)
                    .bind(&mark.reason)
                    .bind(mark.marked_by)
                    .bind($crate::audit::now())
                    .bind(format!("{}%", scope.prefix()))
                    .bind(mark.ends_on)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if done == 0 {
                    return Ok(false);
                }
                let (status_before, ends_before) = before.map_or((None, None), |(s, _, e, _)| (Some(s), e));
                let (action, diff) = if mark.kind == "taper" {
                    // A taper's audit record says which end it replaced, if any.
                    let diff = serde_json::json!({ "policy": mark.policy_id, "person": mark.person_id, "kind": mark.kind,
                                                   "ends_on": [ends_before, mark.ends_on], "status": mark.status,
                                                   "reason": mark.reason });
                    (if mark.status == "ended" { "sweep.taper_end" } else { "sweep.taper" }, diff)
                } else {
                    let diff = serde_json::json!({ "policy": mark.policy_id, "person": mark.person_id, "kind": mark.kind,
                                                   "status": [status_before, mark.status], "reason": mark.reason });
                    ("sweep.mark", diff)
                };
                append_audit!(tx, actor, &$crate::registry::household_event(action, mark.household_id, diff.to_string()));
                tx.commit().await?;
                Ok(true)
            }

            async fn sweep_marks(&self, prefix: &str) -> Result<Vec<$crate::policy::SweepMark>> {
                let rows: Vec<$crate::policy::MarkRow> = sqlx::query_as($crate::policy::SELECT_MARKS)
                    .bind(format!("{}%", $crate::like_escape(prefix)))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map($crate::policy::mark_from_row).collect())
            }

            async fn finding_labels(&self, scope: &Scope, households: &[i64]) -> Result<Vec<$crate::policy::MemberLabel>> {
                // In chunks: an export may name more households than a statement takes parameters.
                let mut rows: Vec<$crate::policy::LabelRow> = Vec::new();
                for chunk in households.chunks(10_000) {
                    let mut q = sqlx::QueryBuilder::<$db>::new($crate::policy::SELECT_LABELS);
                    q.push_bind(format!("{}%", scope.prefix())).push(" AND h.id IN (");
                    let mut ids = q.separated(", ");
                    for id in chunk {
                        ids.push_bind(*id);
                    }
                    q.push(") ORDER BY h.id, p.id");
                    rows.extend(q.build_query_as::<$crate::policy::LabelRow>().fetch_all(&self.pool).await?);
                }
                Ok(rows.into_iter().map($crate::policy::label_from_row).collect())
            }
        }
    };
}

pub(crate) use policy_store;
