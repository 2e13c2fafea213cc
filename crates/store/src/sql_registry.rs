//! The registry half of the shared `Store` implementation: households and
//! members, read and edited within a scope, and imports. Expanded inside
//! `sql_store!` for each backend.

/// Implements `RegistryStore` for `$store` over the sqlx database `$db`.
macro_rules! registry_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::RegistryStore for $store {
        async fn insert_households(&self, actor: &Actor, households: &[Household]) -> Result<()> {
            let batch = SealedBatch::new(&self.keys, households);
            let mut tx = self.begin_write().await?;
            // The batch's record first: each household remembers it as how it arrived.
            let seq = append_audit!(tx, actor, &batch_event(&batch));
            let household_ids = self.insert_household_rows(&mut tx, &batch, seq).await?;
            self.insert_members(&mut tx, &batch, &household_ids).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn households(&self, scope: &Scope, filter: &HouseholdFilter) -> Result<HouseholdPage> {
            use $crate::registry::{SUMMARY_COLUMNS, SUMMARY_FROM, push_held_categories, push_household_filter};
            // A list's total is remembered; a search by name, number, ID or phone is not
            // (it finds a few households): its page comes first, counted only when full.
            let total = self.remembered_total(scope, filter).await?;
            if total.is_some_and(|t| t == 0 || filter.offset >= t) {
                return Ok(HouseholdPage { total: total.unwrap_or(0), items: Vec::new() });
            }
            // The page's ids first, then the summary of those rows only. A page of a
            // category list in the ledger's order either walks the area's households in
            // order, testing each, and stops after the page, or gathers the whole list from
            // the category's index range and sorts it. The walk is taken when it is expected
            // to be short beside the gathering: the rows up to the page's end over the list's
            // share of the area's households, each visit costing a few gathered rows.
            let per_row = match (filter.category, total) {
                (Some(_), Some(_)) if filter.sort != $crate::registry::HouseholdSort::Community => false,
                // Far from its end: walked, without counting the area.
                (Some(_), Some(total)) if total >= 50 * (filter.offset + filter.limit) => true,
                (Some(_), Some(total)) => {
                    let mut area = HouseholdFilter::new(filter.today);
                    area.division = filter.division;
                    let households = self.remembered_total(scope, &area).await?.unwrap_or(i64::MAX);
                    let walk = (filter.offset + filter.limit) as f64 * households as f64 / total.max(1) as f64;
                    walk * $crate::registry::WALK_COST <= total as f64
                }
                _ => false,
            };
            let order = $crate::registry::order_by(filter.sort, filter.descending);
            let mut q = sqlx::QueryBuilder::<$db>::new(SUMMARY_COLUMNS);
            push_held_categories!(q, $crate::Store::backend(self), filter.today);
            q.push(SUMMARY_FROM);
            q.push("h.id IN (SELECT h.id FROM household h WHERE ");
            push_household_filter!(q, scope, filter, self.keys, per_row);
            q.push(" ORDER BY ").push(&order);
            q.push($crate::limit_offset(filter.limit, filter.offset)).push(")");
            q.push(" ORDER BY ").push(&order);
            let rows = q.build().fetch_all(&self.pool).await?;
            let items = rows
                .iter()
                .map(|r| {
                    Ok($crate::registry::HouseholdSummary {
                        id: r.try_get("id")?,
                        number: r.try_get("number")?,
                        community: r.try_get("community")?,
                        community_name: r.try_get("community_name")?,
                        address: r.try_get("address")?,
                        head_name: r.try_get("head_name")?,
                        head_id_masked: r.try_get("head_id")?,
                        phone_masked: r.try_get("phone_masked")?,
                        members: r.try_get("members")?,
                        monthly_income_fen: r.try_get("income")?,
                        per_capita_income_fen: r.try_get("per_capita")?,
                        income_unrecorded: r.try_get("income_unrecorded")?,
                        tags: $crate::registry::split_list(r.try_get("tags")?),
                        categories: $crate::registry::split_list(r.try_get::<Option<&str>, _>("categories")?.unwrap_or("")),
                        version: r.try_get("version")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let total = match total {
                Some(total) => total,
                None if (items.len() as i64) < filter.limit && (filter.offset == 0 || !items.is_empty()) => {
                    filter.offset + items.len() as i64
                }
                None => self.count_households(scope, filter).await?,
            };
            Ok(HouseholdPage { total, items })
        }

        async fn household_facets(&self, scope: &Scope, filter: &HouseholdFilter) -> Result<$crate::registry::HouseholdFacets> {
            use $crate::registry::{CATEGORY_FACET, GROUP_CATEGORY, HouseholdFacets, push_household_filter};
            let remembered = self.remembered(scope, filter).await?;
            if let Some(facets) = remembered.as_ref().and_then(|(key, seq)| self.facets.get(key, *seq)) {
                return Ok(facets);
            }
            let area = HouseholdFacets::area(scope, filter);
            let parts = self.count_parts(scope, filter, &area).await?;
            // Above a division chosen within the jurisdiction, the parts of each division it
            // lies in, that choice left out (the street's sibling streets…).
            let mut around = std::collections::BTreeMap::new();
            let mut within = area;
            while within != *scope.jurisdiction() && let Some(parent) = within.parent() {
                let mut others = filter.clone();
                others.division = Some(parent);
                around.extend(self.count_parts(scope, &others, &parent).await?);
                within = parent;
            }

            let mut others = filter.clone();
            others.category = None;
            let mut q = sqlx::QueryBuilder::<$db>::new(CATEGORY_FACET);
            q.push_bind(filter.today).push(" AND (g.end_date IS NULL OR g.end_date >= ").push_bind(filter.today).push(") WHERE ");
            push_household_filter!(q, scope, &others, self.keys);
            q.push(GROUP_CATEGORY);
            let categories: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;

            let mut others = filter.clone();
            others.tag = None;
            let tags = zhongfu_domain::registry::Tag::ALL;
            let mut q = sqlx::QueryBuilder::<$db>::new("SELECT ");
            for (i, tag) in tags.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("CAST(COALESCE(SUM(CASE WHEN (',' || h.tags || ',') LIKE ")
                    .push_bind(format!("%,{},%", tag.code()))
                    .push(" THEN 1 ELSE 0 END), 0) AS BIGINT)");
            }
            q.push(" FROM household h WHERE ");
            push_household_filter!(q, scope, &others, self.keys);
            let row = q.build().fetch_one(&self.pool).await?;
            let mut tag_counts = std::collections::BTreeMap::new();
            for (i, tag) in tags.iter().enumerate() {
                let n: i64 = row.try_get(i)?;
                if n > 0 {
                    tag_counts.insert(tag.code().to_owned(), n);
                }
            }
            // Members' disability types and work abilities: one grouped join each, the
            // facet's own criterion left out, the other member criteria on the same member.
            let mut member_counts: [std::collections::BTreeMap<String, i64>; 3] = Default::default();
            let member_columns: [(&str, fn(&mut HouseholdFilter)); 3] = [
                ("disability_kind", |f| f.disability_kind = None),
                ("disability_grade", |f| f.disability_grade = None),
                ("work_ability", |f| f.work_ability = None),
            ];
            for (counts, (column, leave_out)) in member_counts.iter_mut().zip(member_columns) {
                let mut others = filter.clone();
                leave_out(&mut others);
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::registry::member_facet(column));
                push_household_filter!(q, scope, &others.households_only(), self.keys);
                q.push(" AND p.death_date IS NULL AND p.").push(column).push(" IS NOT NULL");
                $crate::registry::push_member_criteria!(q, &others);
                q.push(" GROUP BY p.").push(column);
                let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
                counts.extend(rows);
            }
            let [disability_kinds, disability_grades, work_abilities] = member_counts;
            let facets = HouseholdFacets {
                area: area.as_str().to_owned(),
                divisions: parts,
                around,
                categories: categories.into_iter().collect(),
                tags: tag_counts,
                disability_kinds,
                disability_grades,
                work_abilities,
            };
            if let Some((key, seq)) = remembered {
                self.facets.put(key, seq, facets.clone());
            }
            Ok(facets)
        }

        async fn household(&self, scope: &Scope, id: i64, today: NaiveDate) -> Result<Option<HouseholdDetail>> {
            let mut conn = self.pool.acquire().await?;
            self.read_household(&mut conn, scope, id, today).await
        }

        async fn members_of(
            &self,
            scope: &Scope,
            households: &[i64],
            today: NaiveDate,
        ) -> Result<Vec<(i64, $crate::registry::MemberView)>> {
            let order: HashMap<i64, usize> = households.iter().enumerate().map(|(i, &id)| (id, i)).collect();
            let mut members = Vec::new();
            for chunk in households.chunks($crate::registry::LOOKUP_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::registry::SELECT_MEMBERS_OF);
                q.push_bind(format!("{}%", scope.prefix())).push(" AND p.household_id IN ");
                $crate::registry::push_ids(&mut q, chunk);
                for row in q.build().fetch_all(&self.pool).await? {
                    members.push((row.try_get::<i64, _>("household_id")?, self.member_view(&row, today)?));
                }
            }
            members.sort_by_key(|(household, m)| (order[household], m.relation != "head", m.birth_date, m.id));
            Ok(members)
        }

        async fn reveal_id_number(&self, actor: &Actor, scope: &Scope, person_id: i64) -> Result<Option<String>> {
            let sealed = self.reveal_sealed(actor, scope, $crate::registry::SEALED_ID, person_id, "person.reveal_id").await?;
            Ok(sealed.flatten())
        }

        async fn reveal_phone(
            &self,
            actor: &Actor,
            scope: &Scope,
            of: $crate::registry::PhoneOf,
        ) -> Result<Option<Option<String>>> {
            use $crate::registry::{PhoneOf, SEALED_HOUSEHOLD_PHONE, SEALED_PHONE};
            match of {
                PhoneOf::Person(id) => self.reveal_sealed(actor, scope, SEALED_PHONE, id, "person.reveal_phone").await,
                PhoneOf::Household(id) => {
                    self.reveal_sealed(actor, scope, SEALED_HOUSEHOLD_PHONE, id, "household.reveal_phone").await
                }
            }
        }

        async fn update_household(
            &self,
            actor: &Actor,
            scope: &Scope,
            id: i64,
            version: i64,
            edit: &HouseholdEdit,
            today: NaiveDate,
        ) -> Result<EditOutcome> {
            let (mut tx, before, new_version) = match self.begin_edit(scope, id, version, today).await? {
                Ok(edit) => edit,
                Err(outcome) => return Ok(outcome),
            };
            if $crate::registry::household_unchanged(&before, edit) {
                tx.rollback().await?;
                return Ok(EditOutcome::Saved(version));
            }
            sqlx::query($crate::registry::UPDATE_HOUSEHOLD)
                .bind(id)
                .bind(edit.community.as_str())
                .bind(&edit.address)
                .bind(edit.registration.code())
                .bind(edit.tenure.code())
                .bind(edit.dangerous_housing)
                .bind(edit.assets.0)
                .bind(edit.tags.iter().map(|t| t.code()).collect::<Vec<_>>().join(","))
                .bind(edit.income_unrecorded)
                .bind(edit.assets_unrecorded)
                .execute(&mut *tx)
                .await?;
            if let Some(number) = edit.number.as_ref().filter(|&n| *n != before.number) {
                let renumbered = sqlx::query($crate::registry::UPDATE_NUMBER).bind(id).bind(number).execute(&mut *tx).await;
                match renumbered.map_err($crate::StoreError::from) {
                    Err($crate::StoreError::Duplicate(_)) => return Ok(EditOutcome::Conflict("number_taken")),
                    other => other?,
                };
            }
            if let Some(condition) = edit.housing_condition {
                sqlx::query($crate::registry::UPDATE_HOUSING_CONDITION)
                    .bind(id)
                    .bind(condition.map(|c| c.code()))
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(items) = &edit.income_items {
                sqlx::query($crate::registry::UPDATE_INCOME_ITEMS)
                    .bind(id)
                    .bind(IncomeItem::encode(items))
                    .bind(IncomeItem::total(items).0)
                    .execute(&mut *tx)
                    .await?;
            }
            let phone = edit.phone.as_ref().map(|p| p.as_deref().map(|p| seal_phone(&self.keys, p)));
            if let Some(phone) = &phone {
                sqlx::query($crate::registry::UPDATE_HOUSEHOLD_PHONE)
                    .bind(id)
                    .bind(phone.as_ref().map(|s| &s.cipher))
                    .bind(phone.as_ref().map(|s| &s.bidx))
                    .bind(phone.as_ref().map(|s| &s.masked))
                    .execute(&mut *tx)
                    .await?;
            }
            let masked = phone.as_ref().and_then(|p| p.as_ref().map(|s| s.masked.as_str()));
            let diff = $crate::registry::household_diff(&before, edit, masked);
            append_audit!(tx, actor, &$crate::registry::household_event("household.update", id, diff));
            tx.commit().await?;
            Ok(EditOutcome::Saved(new_version))
        }

        async fn update_member(
            &self,
            actor: &Actor,
            scope: &Scope,
            household_id: i64,
            version: i64,
            person_id: i64,
            edit: &MemberEdit,
            today: NaiveDate,
        ) -> Result<EditOutcome> {
            let (mut tx, before, new_version) = match self.begin_edit(scope, household_id, version, today).await? {
                Ok(edit) => edit,
                Err(outcome) => return Ok(outcome),
            };
            let Some(member) = before.members.iter().find(|m| m.id == person_id).cloned() else {
                return Ok(EditOutcome::NotFound);
            };
            if $crate::registry::member_unchanged(&member, edit) {
                tx.rollback().await?;
                return Ok(EditOutcome::Saved(version));
            }
            // A household always has its one head: the head's relation changes only by
            // making another member head, which makes the former head 其他 in the same step.
            let is_head = member.relation == "head";
            let to_head = edit.relation == zhongfu_domain::registry::Relation::Head;
            if is_head && !to_head {
                return Ok(EditOutcome::Conflict("keep_head"));
            }
            if to_head && !is_head {
                sqlx::query($crate::registry::DEMOTE_HEAD).bind(household_id).execute(&mut *tx).await?;
            }
            let updated = sqlx::query($crate::registry::UPDATE_MEMBER)
                .bind(person_id)
                .bind(household_id)
                .bind(&edit.name)
                .bind(edit.relation.code())
                .bind(edit.marital.code())
                .bind(edit.health.code())
                .bind(edit.disability.map(|d| d.0.code()))
                .bind(edit.disability.map(|d| i64::from(d.1)))
                .bind(edit.work_ability.code())
                .bind(edit.employment.code())
                .bind(edit.schooling.code())
                .bind(edit.monthly_income.0)
                .bind(edit.death_date)
                .execute(&mut *tx)
                .await;
            if let Err(e) = updated {
                return match $crate::StoreError::from(e) {
                    $crate::StoreError::Duplicate(_) => Ok(EditOutcome::Conflict("one_head")),
                    other => Err(other),
                };
            }
            let phone = edit.phone.as_ref().map(|p| p.as_deref().map(|p| seal_phone(&self.keys, p)));
            if let Some(phone) = &phone {
                sqlx::query($crate::registry::UPDATE_MEMBER_PHONE)
                    .bind(person_id)
                    .bind(household_id)
                    .bind(phone.as_ref().map(|s| &s.cipher))
                    .bind(phone.as_ref().map(|s| &s.bidx))
                    .bind(phone.as_ref().map(|s| &s.masked))
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(certificate) = edit.certificate() {
                sqlx::query($crate::registry::UPDATE_MEMBER_CERT)
                    .bind(person_id)
                    .bind(household_id)
                    .bind(certificate.map(|c| self.keys.encrypt(c)))
                    .execute(&mut *tx)
                    .await?;
            }
            // A death cleared or corrected gives back what it ended, then ends from the new date.
            if member.death_date.is_some() && edit.death_date != member.death_date {
                sqlx::query($crate::registry::RESTORE_MEMBER_HOLDINGS).bind(person_id).execute(&mut *tx).await?;
            }
            if let Some(died) = edit.death_date {
                sqlx::query($crate::registry::END_MEMBER_HOLDINGS)
                    .bind(person_id)
                    .bind($crate::registry::end_of_month(died))
                    .execute(&mut *tx)
                    .await?;
            }
            Self::clear_digests(&mut tx, household_id, Some(person_id)).await?;
            // A member's income recorded records the household's, as an amount typed in
            // the household's form does: the sweep can then decide on its income.
            let income_recorded = before.income_unrecorded && edit.monthly_income.0 != member.monthly_income_fen;
            if income_recorded {
                sqlx::query($crate::registry::INCOME_RECORDED).bind(household_id).execute(&mut *tx).await?;
            }
            let masked = phone.as_ref().and_then(|p| p.as_ref().map(|s| s.masked.as_str()));
            let diff = $crate::registry::member_diff(&member, edit, masked, income_recorded);
            let action = if edit.death_date.is_some() && member.death_date.is_none() {
                "household.member_died"
            } else {
                "household.member_update"
            };
            append_audit!(tx, actor, &$crate::registry::household_event(action, household_id, diff));
            tx.commit().await?;
            Ok(EditOutcome::Saved(new_version))
        }

        async fn edit_holding(
            &self,
            actor: &Actor,
            scope: &Scope,
            household_id: i64,
            version: i64,
            edit: &$crate::registry::HoldingEdit,
            today: NaiveDate,
        ) -> Result<EditOutcome> {
            use $crate::registry::HoldingEdit;
            let (mut tx, before, new_version) = match self.begin_edit(scope, household_id, version, today).await? {
                Ok(edit) => edit,
                Err(outcome) => return Ok(outcome),
            };
            if let Err(outcome) = edit.check(&before) {
                return Ok(outcome);
            }
            let (id, action) = match edit {
                HoldingEdit::Add { person_id, category, start, end } => {
                    let id: i64 = sqlx::query_scalar($crate::registry::ADD_HOLDING)
                        .bind(household_id)
                        .bind(&before.community)
                        .bind(*person_id)
                        .bind(category.code())
                        .bind(*start)
                        .bind(*end)
                        .fetch_one(&mut *tx)
                        .await?;
                    (id, "household.holding_add")
                }
                HoldingEdit::Dates { id, start, end } => {
                    sqlx::query($crate::registry::UPDATE_HOLDING)
                        .bind(*id)
                        .bind(household_id)
                        .bind(*start)
                        .bind(*end)
                        .execute(&mut *tx)
                        .await?;
                    (*id, "household.holding_update")
                }
                HoldingEdit::Remove { id } => {
                    sqlx::query($crate::registry::REMOVE_HOLDING).bind(*id).bind(household_id).execute(&mut *tx).await?;
                    (*id, "household.holding_remove")
                }
            };
            // A member's category is in the member's digest, the household's in its own.
            let owner = match edit {
                HoldingEdit::Add { person_id, .. } => *person_id,
                HoldingEdit::Dates { id, .. } | HoldingEdit::Remove { id } => {
                    before.holdings.iter().find(|h| h.id == *id).and_then(|h| h.person_id)
                }
            };
            Self::clear_digests(&mut tx, household_id, owner).await?;
            append_audit!(tx, actor, &$crate::registry::household_event(action, household_id, edit.diff(&before, id)));
            tx.commit().await?;
            Ok(EditOutcome::Saved(new_version))
        }

        async fn add_member(
            &self,
            actor: &Actor,
            scope: &Scope,
            household_id: i64,
            version: i64,
            person: &Person,
            today: NaiveDate,
        ) -> Result<EditOutcome> {
            let (mut tx, before, new_version) = match self.begin_edit(scope, household_id, version, today).await? {
                Ok(edit) => edit,
                Err(outcome) => return Ok(outcome),
            };
            let number = before.number.clone();
            let ids = std::collections::HashMap::from([(number.clone(), household_id)]);
            let batch = SealedBatch::members_of(&self.keys, (&number, &before.community), std::slice::from_ref(person));
            if let Err(e) = self.insert_members(&mut tx, &batch, &ids).await {
                return match e {
                    $crate::StoreError::Duplicate(c) if c.contains("bidx") => {
                        Ok(EditOutcome::Conflict("person_elsewhere"))
                    }
                    $crate::StoreError::Duplicate(_) => Ok(EditOutcome::Conflict("one_head")),
                    other => Err(other),
                };
            }
            Self::clear_digests(&mut tx, household_id, None).await?;
            let diff = serde_json::json!({
                "member": [null, { "name": person.name, "id_number": person.id_number.masked(), "relation": person.relation.code() }]
            });
            append_audit!(tx, actor, &$crate::registry::household_event("household.member_add", household_id, diff.to_string()));
            tx.commit().await?;
            Ok(EditOutcome::Saved(new_version))
        }

        async fn remove_member(
            &self,
            actor: &Actor,
            scope: &Scope,
            household_id: i64,
            version: i64,
            person_id: i64,
            today: NaiveDate,
        ) -> Result<EditOutcome> {
            let (mut tx, before, new_version) = match self.begin_edit(scope, household_id, version, today).await? {
                Ok(edit) => edit,
                Err(outcome) => return Ok(outcome),
            };
            let Some(member) = before.members.iter().find(|m| m.id == person_id).cloned() else {
                return Ok(EditOutcome::NotFound);
            };
            if member.relation == "head" {
                return Ok(EditOutcome::Conflict("remove_head"));
            }
            sqlx::query($crate::registry::DELETE_MEMBER).bind(person_id).bind(household_id).execute(&mut *tx).await?;
            Self::clear_digests(&mut tx, household_id, None).await?;
            let diff = serde_json::json!({
                "member": [{ "person": person_id, "name": member.name, "id_number": member.id_masked }, null]
            });
            append_audit!(tx, actor, &$crate::registry::household_event("household.member_remove", household_id, diff.to_string()));
            tx.commit().await?;
            Ok(EditOutcome::Saved(new_version))
        }

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
        ) -> Result<EditOutcome> {
            let (mut tx, before, new_version) = match self.begin_edit(scope, id, version, today).await? {
                Ok(edit) => edit,
                Err(outcome) => return Ok(outcome),
            };
            let known = |p: &i64| before.members.iter().any(|m| m.id == *p);
            let moves_head = before.members.iter().any(|m| m.relation == "head" && members.contains(&m.id));
            if members.is_empty() || !members.iter().all(known) || !members.contains(&head) {
                return Ok(EditOutcome::Conflict("split_members"));
            }
            if moves_head {
                return Ok(EditOutcome::Conflict("remove_head"));
            }
            // A member who has died stays where the death was recorded, as in a move.
            if before.members.iter().any(|m| members.contains(&m.id) && m.death_date.is_some()) {
                return Ok(EditOutcome::Conflict("move_deceased"));
            }
            let created: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar($crate::registry::COPY_HOUSEHOLD)
                .bind(id)
                .bind(number)
                .fetch_one(&mut *tx)
                .await;
            let new_id = match created.map_err($crate::StoreError::from) {
                Ok(new_id) => new_id,
                Err($crate::StoreError::Duplicate(_)) => return Ok(EditOutcome::Conflict("number_taken")),
                Err(e) => return Err(e),
            };
            for person in members {
                let relation = if *person == head { "head" } else { "other" };
                sqlx::query("UPDATE person SET household_id = $1, relation = $2, digest = NULL WHERE id = $3 AND household_id = $4")
                    .bind(new_id)
                    .bind(relation)
                    .bind(person)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE holding SET household_id = $1 WHERE person_id = $2")
                    .bind(new_id)
                    .bind(person)
                    .execute(&mut *tx)
                    .await?;
            }
            Self::clear_digests(&mut tx, id, None).await?;
            // Each side names the other by its number, as people know it.
            let diff = serde_json::json!({ "members": [members, null], "into": [null, number] }).to_string();
            append_audit!(tx, actor, &$crate::registry::household_event("household.split", id, diff));
            let diff = serde_json::json!({ "members": [null, members], "from": [null, before.number] }).to_string();
            append_audit!(tx, actor, &$crate::registry::household_event("household.split_from", new_id, diff));
            tx.commit().await?;
            let _ = new_version;
            Ok(EditOutcome::Saved(new_id))
        }

        async fn merge_households(
            &self,
            actor: &Actor,
            scope: &Scope,
            id: i64,
            version: i64,
            other: i64,
            other_version: i64,
            today: NaiveDate,
        ) -> Result<EditOutcome> {
            let (mut tx, before, new_version) = match self.begin_edit(scope, id, version, today).await? {
                Ok(edit) => edit,
                Err(outcome) => return Ok(outcome),
            };
            if id == other {
                return Ok(EditOutcome::Conflict("merge_self"));
            }
            let Some(absorbed) = self.read_household(&mut *tx, scope, other, today).await? else {
                return Ok(EditOutcome::NotFound);
            };
            if self.bump_version(&mut tx, scope, other, other_version).await?.is_none() {
                return Ok(EditOutcome::Stale(Box::new(absorbed)));
            }
            // Their relations were to the other head: 其他 until someone checks them, as in a split.
            sqlx::query("UPDATE person SET household_id = $1, relation = 'other', digest = NULL WHERE household_id = $2")
                .bind(id)
                .bind(other)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE holding SET household_id = $1 WHERE household_id = $2")
                .bind(id)
                .bind(other)
                .execute(&mut *tx)
                .await?;
            let joined = $crate::registry::join_overlapping(&before.holdings, &absorbed.holdings);
            for j in &joined {
                sqlx::query($crate::registry::UPDATE_HOLDING)
                    .bind(j.kept)
                    .bind(id)
                    .bind(j.start)
                    .bind(j.end)
                    .execute(&mut *tx)
                    .await?;
                for taken in &j.taken {
                    sqlx::query($crate::registry::REMOVE_HOLDING).bind(taken).bind(id).execute(&mut *tx).await?;
                }
            }
            sqlx::query("DELETE FROM household WHERE id = $1").bind(other).execute(&mut *tx).await?;
            Self::clear_digests(&mut tx, id, None).await?;
            // One household now: its assets and its own income are both households'.
            let items = IncomeItem::combined(&before.income_items, &absorbed.income_items);
            let assets = before.assets_fen.saturating_add(absorbed.assets_fen);
            // What either did not record, the two together do not have.
            sqlx::query($crate::registry::UPDATE_MERGED)
                .bind(id)
                .bind(assets)
                .bind(before.income_unrecorded || absorbed.income_unrecorded)
                .bind(before.assets_unrecorded || absorbed.assets_unrecorded)
                .execute(&mut *tx)
                .await?;
            sqlx::query($crate::registry::UPDATE_INCOME_ITEMS)
                .bind(id)
                .bind(IncomeItem::encode(&items))
                .bind(IncomeItem::total(&items).0)
                .execute(&mut *tx)
                .await?;
            let moved: Vec<i64> = absorbed.members.iter().map(|m| m.id).collect();
            let mut diff = serde_json::json!({
                "merged": [null, absorbed.number],
                "members": [null, moved],
                "assets_fen": [before.assets_fen, assets],
                "income_items": [IncomeItem::encode(&before.income_items), IncomeItem::encode(&items)],
            });
            if !joined.is_empty() {
                let joined: Vec<_> = joined
                    .iter()
                    .map(|j| serde_json::json!({"holding": j.kept, "taken": j.taken, "start_date": j.start, "end_date": j.end}))
                    .collect();
                diff["holdings_joined"] = serde_json::json!([null, joined]);
            }
            let diff = diff.to_string();
            append_audit!(tx, actor, &$crate::registry::household_event("household.merge", id, diff));
            let diff = serde_json::json!({ "merged_into": [null, before.number] }).to_string();
            append_audit!(tx, actor, &$crate::registry::household_event("household.merged_away", other, diff));
            tx.commit().await?;
            Ok(EditOutcome::Saved(new_version))
        }

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
        ) -> Result<EditOutcome> {
            let mut tx = self.begin_write().await?;
            let checked = self.check_move(&mut tx, scope, (id, version), person_id, (to, to_version), today).await?;
            let (before, target, member, new_version) = match checked {
                Ok(checked) => checked,
                Err(outcome) => {
                    // Released before the answer goes out, so the caller's next edit finds no lock.
                    tx.rollback().await?;
                    return Ok(outcome);
                }
            };
            let moved = sqlx::query("UPDATE person SET household_id = $1, relation = $2, digest = NULL WHERE id = $3 AND household_id = $4")
                .bind(to)
                .bind(relation.code())
                .bind(person_id)
                .bind(id)
                .execute(&mut *tx)
                .await;
            if let Err(e) = moved {
                tx.rollback().await?;
                return match $crate::StoreError::from(e) {
                    $crate::StoreError::Duplicate(_) => Ok(EditOutcome::Conflict("one_head")),
                    other => Err(other),
                };
            }
            sqlx::query("UPDATE holding SET household_id = $1 WHERE person_id = $2")
                .bind(to)
                .bind(person_id)
                .execute(&mut *tx)
                .await?;
            Self::clear_digests(&mut tx, id, None).await?;
            Self::clear_digests(&mut tx, to, None).await?;
            let who = serde_json::json!({ "person": person_id, "name": member.name, "id_number": member.id_masked });
            let diff = serde_json::json!({ "member": [who, null], "moved_to": [null, target.number] }).to_string();
            append_audit!(tx, actor, &$crate::registry::household_event("household.member_move_out", id, diff));
            let mut arrived = who;
            arrived["relation"] = relation.code().into();
            let diff = serde_json::json!({ "member": [null, arrived], "moved_from": [null, before.number] }).to_string();
            append_audit!(tx, actor, &$crate::registry::household_event("household.member_move_in", to, diff));
            tx.commit().await?;
            Ok(EditOutcome::Saved(new_version))
        }

        async fn pair(&self, actor: &Actor, scope: &Scope, household_id: i64, account_id: i64, today: NaiveDate) -> Result<bool> {
            let mut tx = self.begin_write().await?;
            let within: Option<i64> = sqlx::query_scalar("SELECT id FROM household WHERE id = $1 AND community LIKE $2")
                .bind(household_id)
                .bind(format!("{}%", scope.prefix()))
                .fetch_optional(&mut *tx)
                .await?;
            if within.is_none() {
                return Ok(false);
            }
            sqlx::query($crate::registry::INSERT_PAIRING)
                .bind(household_id)
                .bind(account_id)
                .bind(today)
                .execute(&mut *tx)
                .await?;
            // Named as policy versions name people: two helpers may share a display name.
            let helper: Option<String> =
                sqlx::query_scalar("SELECT display_name || '（' || username || '）' FROM account WHERE id = $1")
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
            let diff = serde_json::json!({ "paired_with": [null, helper.unwrap_or_else(|| account_id.to_string())] })
                .to_string();
            append_audit!(tx, actor, &$crate::registry::household_event("household.pair", household_id, diff));
            tx.commit().await?;
            Ok(true)
        }

        async fn save_mapping(&self, actor: &Actor, account_id: i64, name: &str, columns: &str) -> Result<i64> {
            let mut tx = self.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO import_mapping (account_id, name, columns, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id, name) DO UPDATE SET columns = excluded.columns RETURNING id",
            )
            .bind(account_id)
            .bind(name)
            .bind(columns)
            .bind(chrono::Utc::now().to_rfc3339())
            .fetch_one(&mut *tx)
            .await?;
            let event = AuditEvent {
                action: "import_mapping.save".to_owned(),
                entity: "import_mapping".to_owned(),
                entity_id: id.to_string(),
                diff: serde_json::json!({ "name": [null, name] }).to_string(),
            };
            append_audit!(tx, actor, &event);
            tx.commit().await?;
            Ok(id)
        }

        async fn mappings(&self, account_id: i64) -> Result<Vec<(i64, String, String)>> {
            Ok(sqlx::query_as("SELECT id, name, columns FROM import_mapping WHERE account_id = $1 ORDER BY name")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?)
        }

        fn household_number_for(&self, head: &zhongfu_domain::IdNumber) -> String {
            let digest = self.keys.blind_index(IndexKind::Record, &format!("head:{}", head.as_str()));
            format!("HZ{}", hex::encode(&digest[..5]).to_uppercase())
        }

        fn prepare_import(&self, households: Vec<Household>, said: zhongfu_domain::ledger::Said) -> $crate::registry::ImportBatch {
            $crate::registry::ImportBatch::new(&self.keys, households, said)
        }

        async fn plan_import(&self, scope: &Scope, batch: &$crate::registry::ImportBatch) -> Result<ImportPlan> {
            let mut conn = self.pool.acquire().await?;
            self.plan_on(&mut conn, scope, batch).await
        }

        async fn set_aside_bulk_indexes(&self, rows: usize) -> Result<bool> {
            self.set_aside_holding_area(rows).await
        }

        async fn restore_bulk_indexes(&self) -> Result<()> {
            self.build_holding_area().await
        }

        async fn import_households(
            &self,
            actor: &Actor,
            scope: &Scope,
            batch: $crate::registry::ImportBatch,
        ) -> Result<$crate::registry::Imported> {
            // Planned in the transaction that writes it, which other writers wait for: a
            // household or person registered meanwhile is seen by the plan.
            let mut tx = self.begin_import().await?;
            let plan = self.plan_on(&mut tx, scope, &batch).await?;
            let said = batch.said();
            let (households, mut seals) = batch.into_parts();
            let new = SealedBatch::take(&households, &mut seals, plan.new.iter().copied());
            let changed = SealedBatch::take(&households, &mut seals, plan.changed.iter().map(|c| c.0));
            let mut written: Vec<i64> = plan.changed.iter().map(|c| c.1).collect();
            if !new.households.is_empty() {
                let seq = append_audit!(tx, actor, &$crate::registry::import_event("household.import", &new));
                let ids = self.insert_household_rows(&mut tx, &new, seq).await?;
                self.insert_members(&mut tx, &new, &ids).await?;
                written.extend(ids.values());
            }
            if !changed.households.is_empty() {
                let ids = changed.households.iter().zip(&plan.changed).map(|(s, c)| (s.household.number.clone(), c.1)).collect();
                self.update_households(&mut tx, actor, changed, &ids, said).await?;
            }
            tx.commit().await?;
            self.refresh_statistics(written.len()).await?;
            Ok($crate::registry::Imported { plan, written, households })
        }
        }

        impl $store {
        /// Forgets what an import last wrote of a household, and of the member changed
        /// with it if one: changed by other means, they are written again by a sheet that
        /// says the same. (Members moved or demoted forget theirs in the same statement.)
        async fn clear_digests(
            conn: &mut <$db as sqlx::Database>::Connection,
            household: i64,
            member: Option<i64>,
        ) -> Result<()> {
            sqlx::query($crate::registry::CLEAR_DIGEST).bind(household).execute(&mut *conn).await?;
            if let Some(person) = member {
                sqlx::query($crate::registry::CLEAR_MEMBER_DIGEST).bind(person).execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// How an import of `batch` would go, read on `conn` (a transaction's, to write it).
        async fn plan_on(
            &self,
            conn: &mut <$db as sqlx::Database>::Connection,
            scope: &Scope,
            batch: &$crate::registry::ImportBatch,
        ) -> Result<ImportPlan> {
            use std::collections::HashMap;
            let prefix = format!("{}%", scope.prefix());
            let mut existing: $crate::registry::ExistingHouseholds = HashMap::new();
            // The statements' text grows with a chunk's length: only a full chunk's is
            // kept prepared (sqlx's cache would keep the last, shorter one of every batch).
            let full = |chunk: usize| chunk == $crate::registry::LOOKUP_CHUNK;
            for chunk in batch.households().chunks($crate::registry::LOOKUP_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT number, id, CASE WHEN community LIKE ");
                q.push_bind(prefix.clone());
                q.push(
                    " THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS within, digest,
                    CASE WHEN EXISTS (SELECT 1 FROM person p WHERE p.household_id = household.id)
                        THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS peopled
                    FROM household WHERE number IN (",
                );
                let mut list = q.separated(", ");
                for h in chunk {
                    list.push_bind(h.number.as_str());
                }
                q.push(")");
                let rows: Vec<(String, i64, i64, Option<Vec<u8>>, i64)> =
                    q.build_query_as().persistent(full(chunk.len())).fetch_all(&mut *conn).await?;
                existing.extend(rows.into_iter().map(|(n, id, within, digest, peopled)| {
                    (n, $crate::registry::Existing { id, within: within == 1, digest, peopled: peopled == 1 })
                }));
            }
            let indexes: Vec<&[u8]> = batch.id_indexes().map(|(_, _, bidx)| bidx).collect();
            let mut registered: $crate::registry::RegisteredPersons = HashMap::new();
            for chunk in indexes.chunks($crate::registry::LOOKUP_CHUNK) {
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::registry::PERSONS_BY_INDEX);
                q.push("(");
                let mut list = q.separated(", ");
                for &bidx in chunk {
                    list.push_bind(bidx);
                }
                q.push(")");
                let rows: Vec<(Vec<u8>, i64, Option<Vec<u8>>)> =
                    q.build_query_as().persistent(full(chunk.len())).fetch_all(&mut *conn).await?;
                registered.extend(rows.into_iter().map(|(bidx, household, digest)| (bidx, (household, digest))));
            }
            Ok($crate::registry::plan(batch, &existing, &registered))
        }

        /// A sealed value read by `sql` (the cipher, if any, and the household) for
        /// row `id` within the scope, decrypted, and the reveal audited as `action`
        /// (`entity.reveal_…`). None if out of scope; Some(None) if there is no value.
        async fn reveal_sealed(
            &self,
            actor: &Actor,
            scope: &Scope,
            sql: &'static str,
            id: i64,
            action: &str,
        ) -> Result<Option<Option<String>>> {
            let mut tx = self.begin_write().await?;
            let row: Option<(Option<Vec<u8>>, i64, String, Option<String>)> =
                sqlx::query_as(sql).bind(id).bind(format!("{}%", scope.prefix())).fetch_optional(&mut *tx).await?;
            let Some((cipher, household_id, number, name)) = row else {
                return Ok(None);
            };
            let Some(cipher) = cipher else {
                return Ok(Some(None));
            };
            let plain = self.keys.decrypt(&cipher).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?;
            let event = AuditEvent {
                action: action.to_owned(),
                entity: action.split('.').next().unwrap_or_default().to_owned(),
                entity_id: id.to_string(),
                // Whose value it was, as an auditor reads it: the household's number and the member's name.
                diff: serde_json::json!({ "household": household_id, "number": number, "name": name }).to_string(),
            };
            append_audit!(tx, actor, &event);
            tx.commit().await?;
            Ok(Some(Some(plain)))
        }

        /// The list's total, counted once per registry state; None for a search that
        /// is not remembered (by name, number, ID or phone).
        async fn remembered_total(&self, scope: &Scope, filter: &HouseholdFilter) -> Result<Option<i64>> {
            let Some((key, seq)) = self.remembered(scope, filter).await? else {
                return Ok(None);
            };
            if let Some(total) = self.totals.get(&key, seq) {
                return Ok(Some(total));
            }
            let total = self.count_households(scope, filter).await?;
            self.totals.put(key, seq, total);
            Ok(Some(total))
        }

        /// The key a count of this filter is remembered under, and the audit head
        /// it would hold for; None when it is not remembered.
        async fn remembered(&self, scope: &Scope, filter: &HouseholdFilter) -> Result<Option<(String, i64)>> {
            let Some(key) = $crate::registry::count_key(scope, filter) else {
                return Ok(None);
            };
            let seq: i64 = sqlx::query_scalar($crate::registry::AUDIT_SEQ).fetch_one(&self.pool).await?;
            Ok(Some((key, seq)))
        }

        /// Matching households per part of `area` (the filter's division within it), by 12-digit code.
        async fn count_parts(
            &self,
            scope: &Scope,
            filter: &HouseholdFilter,
            area: &zhongfu_domain::DivisionCode,
        ) -> Result<std::collections::BTreeMap<String, i64>> {
            use $crate::registry::{HouseholdFacets, full_code, push_household_filter};
            // The part length is one of five fixed numbers, not input.
            let len = HouseholdFacets::part_len(area);
            let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                "SELECT substr(h.community, 1, {len}) AS part, COUNT(*) FROM household h WHERE "
            ));
            push_household_filter!(q, scope, filter, self.keys);
            q.push(" GROUP BY substr(h.community, 1, ").push(len.to_string()).push(")");
            let parts: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
            Ok(parts.into_iter().map(|(p, n)| (full_code(&p), n)).collect())
        }

        async fn count_households(&self, scope: &Scope, filter: &HouseholdFilter) -> Result<i64> {
            use $crate::registry::{COUNT_HOLDERS, COUNT_HOUSEHOLDS, push_household_filter};
            if let (Some(area), Some(category)) = (filter.category_area(scope), filter.category) {
                return Ok(sqlx::query_scalar(COUNT_HOLDERS)
                    .bind(category.code())
                    .bind(area)
                    .bind(format!("{area}~"))
                    .bind(filter.today)
                    .bind(filter.today)
                    .fetch_one(&self.pool)
                    .await?);
            }
            let mut count = sqlx::QueryBuilder::<$db>::new(COUNT_HOUSEHOLDS);
            push_household_filter!(count, scope, filter, self.keys);
            Ok(count.build_query_scalar().fetch_one(&self.pool).await?)
        }

        async fn insert_household_rows(
            &self,
            tx: &mut sqlx::Transaction<'_, $db>,
            batch: &SealedBatch<'_>,
            created_audit: i64,
        ) -> Result<HashMap<String, i64>> {
            let mut household_ids = HashMap::with_capacity(batch.households.len());
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
                        .push_bind(h.housing_condition.map(|c| c.code()))
                        .push_bind(h.dangerous_housing)
                        .push_bind(h.assets.0)
                        .push_bind(IncomeItem::encode(&h.income_items))
                        .push_bind(IncomeItem::total(&h.income_items).0)
                        .push_bind(tags(h))
                        .push_bind(&s.digest)
                        .push_bind(created_audit)
                        .push_bind(h.income_unrecorded)
                        .push_bind(h.assets_unrecorded);
                });
                q.push(" RETURNING number, id");
                // Only a full chunk's statement is kept prepared (see `plan_on`).
                let full = chunk.len() == HOUSEHOLD_CHUNK;
                let ids: Vec<(String, i64)> = q.build_query_as().persistent(full).fetch_all(&mut **tx).await?;
                household_ids.extend(ids);
            }
            Ok(household_ids)
        }

        /// Updates registered households from a sheet: the fields it has columns
        /// for, its members by ID number (kept, with their ids, or added; a member
        /// the sheet leaves out stays, no longer head if the sheet names another),
        /// and the categories it lists (see `holding_changes`). One audit record per household.
        async fn update_households(
            &self,
            tx: &mut sqlx::Transaction<'_, $db>,
            actor: &Actor,
            batch: SealedBatch<'_>,
            ids: &HashMap<String, i64>,
            said: zhongfu_domain::ledger::Said,
        ) -> Result<()> {
            use zhongfu_domain::ledger::Field;
            use $crate::registry::{DEMOTE_HEAD, END_MEMBER_HOLDINGS, StoredHolding, end_of_month, holding_changes};
            let household_ids: Vec<i64> = ids.values().copied().collect();
            // Registered members by household and ID blind index: their id, relation, digest and death.
            let mut stored: HashMap<(i64, Vec<u8>), $crate::registry::StoredMember> = HashMap::new();
            let mut holdings: Vec<StoredHolding> = Vec::new();
            let items_said = zhongfu_domain::ledger::INCOME_FIELDS.iter().any(|&(f, _)| said.has(f));
            // The households' own facts as stored: what the sheet changes of them is recorded.
            let mut stored_households: HashMap<i64, $crate::registry::StoredHousehold> = HashMap::new();
            for chunk in household_ids.chunks(1000) {
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::registry::STORED_HOUSEHOLDS);
                $crate::registry::push_ids(&mut q, chunk);
                let rows: Vec<$crate::registry::StoredHouseholdRow> = q.build_query_as().fetch_all(&mut **tx).await?;
                stored_households.extend(rows.into_iter().map($crate::registry::StoredHousehold::from_row));
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::registry::STORED_MEMBERS);
                $crate::registry::push_ids(&mut q, chunk);
                let rows: Vec<(i64, i64, Vec<u8>, String, Option<Vec<u8>>, Option<chrono::NaiveDate>)> =
                    q.build_query_as().fetch_all(&mut **tx).await?;
                stored.extend(rows.into_iter().map(|(id, h, bidx, relation, digest, died)| ((h, bidx), (id, relation, digest, died))));
            }
            // A death the sheet clears or corrects gives back what it ended first, as an edit
            // does (then it ends them from the new date), so the categories compare as they stand.
            if said.has(Field::DeathDate) {
                for m in &batch.members {
                    if let Some((person, _, _, Some(died))) = stored.get(&(ids[m.household], m.id.bidx.clone()))
                        && m.person.death_date != Some(*died)
                    {
                        sqlx::query($crate::registry::RESTORE_MEMBER_HOLDINGS).bind(person).execute(&mut **tx).await?;
                    }
                }
            }
            for chunk in household_ids.chunks(1000) {
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::registry::STORED_HOLDINGS);
                $crate::registry::push_ids(&mut q, chunk);
                holdings.extend(q.build_query_as().fetch_all(&mut **tx).await?.into_iter().map(StoredHolding::from_row));
            }
            // A member the sheet adds, with no income column to say theirs, leaves the
            // household's income not recorded (it may have been recorded before them).
            let income_said = items_said || said.has(Field::MonthlyIncome);
            let joined: std::collections::HashSet<i64> = if income_said {
                Default::default()
            } else {
                batch
                    .members
                    .iter()
                    .map(|m| (ids[m.household], m))
                    .filter(|(h, m)| !stored.contains_key(&(*h, m.id.bidx.clone())))
                    .map(|(h, _)| h)
                    .collect()
            };
            let now = chrono::Utc::now();
            let mut household_changes = HashMap::new();
            for s in &batch.households {
                let id = ids[&s.household.number];
                let mut items_after = None;
                let mut q = sqlx::QueryBuilder::<$db>::new("UPDATE household SET version = version + 1, updated_at = ");
                q.push_bind(now).push(", digest = ").push_bind(&s.digest);
                let h = s.household;
                // A sheet without a community column leaves a registered household where it is
                // (the community chosen for the import is for the new ones).
                if said.has(Field::Community) {
                    q.push(", community = ").push_bind(h.community.as_str());
                }
                if said.has(Field::Address) {
                    q.push(", address = ").push_bind(&h.address);
                }
                if said.has(Field::HouseholdPhone) {
                    $crate::registry::push_phone(&mut q, s.phone.as_ref());
                }
                if said.has(Field::Registration) {
                    q.push(", registration = ").push_bind(h.registration.code());
                }
                if said.has(Field::Tenure) {
                    q.push(", tenure = ").push_bind(h.tenure.code());
                }
                if said.has(Field::HousingCondition) {
                    q.push(", housing_condition = ").push_bind(h.housing_condition.map(|c| c.code()));
                }
                if said.has(Field::DangerousHousing) {
                    q.push(", dangerous_housing = ").push_bind(h.dangerous_housing);
                }
                // A sheet with the columns records the facts (a blank cell says none).
                if said.has(Field::Assets) {
                    q.push(", assets_fen = ").push_bind(h.assets.0).push(", assets_unrecorded = ").push_bind(false);
                }
                if income_said || joined.contains(&id) {
                    q.push(", income_unrecorded = ").push_bind(!income_said);
                }
                if items_said {
                    let stored = stored_households.get(&id).map_or("", |s| s.income_items.as_str());
                    let items = $crate::registry::merged_income_items(stored, &h.income_items, said);
                    q.push(", income_items = ").push_bind(IncomeItem::encode(&items));
                    q.push(", items_income_fen = ").push_bind(IncomeItem::total(&items).0);
                    items_after = Some(IncomeItem::encode(&items));
                }
                if let Some(before) = stored_households.get(&id) {
                    let phone = s.phone.as_ref().map(|p| p.masked.as_str());
                    let changes = $crate::registry::sheet_changes(before, h, said, phone, items_after.as_deref());
                    household_changes.insert(id, changes);
                }
                if said.has(Field::HouseholdTags) {
                    q.push(", tags = ").push_bind(tags(h));
                }
                q.push(" WHERE id = ").push_bind(id);
                q.build().execute(&mut **tx).await?;
                // The sheet's head displaces a stored head it does not list as head.
                let head = h.members.iter().find(|m| m.relation == zhongfu_domain::registry::Relation::Head);
                let head_bidx = head.map(|m| self.keys.blind_index(IndexKind::IdNumber, m.id_number.as_str()));
                let stays = head_bidx.is_some_and(|b| stored.get(&(id, b)).is_some_and(|(_, r, ..)| r == "head"));
                if !stays {
                    sqlx::query(DEMOTE_HEAD).bind(id).execute(&mut **tx).await?;
                }
            }
            let (mut kept, fresh): (Vec<_>, Vec<_>) =
                batch.members.into_iter().partition(|m| stored.contains_key(&(ids[m.household], m.id.bidx.clone())));
            let mut persons: HashMap<Vec<u8>, i64> =
                stored.iter().map(|((_, bidx), (id, ..))| (bidx.clone(), *id)).collect();
            let mut spoken_for = std::collections::HashSet::new();
            // Per household: the names of the members the sheet changes and of those it adds.
            let mut changed_members: HashMap<i64, (Vec<&str>, Vec<&str>)> = HashMap::new();
            for m in &kept {
                let household = ids[m.household];
                let (person, _, digest, _) = &stored[&(household, m.id.bidx.clone())];
                let person = *person;
                spoken_for.insert(person);
                // The relation is in the digest: a head the sheet names no more is written.
                if digest.as_ref() == Some(&m.digest) {
                    continue;
                }
                changed_members.entry(household).or_default().0.push(&m.person.name);
                self.update_member_from_sheet(tx, person, m, said).await?;
                if let Some(died) = m.person.death_date.filter(|_| said.has(Field::DeathDate)) {
                    sqlx::query(END_MEMBER_HOLDINGS).bind(person).bind(end_of_month(died)).execute(&mut **tx).await?;
                }
            }
            for m in &fresh {
                changed_members.entry(ids[m.household]).or_default().1.push(&m.person.name);
            }
            let fresh = SealedBatch { households: Vec::new(), members: fresh };
            persons.extend(self.insert_persons(tx, &fresh, ids).await?);
            kept.extend(fresh.members);
            let everyone = SealedBatch { households: batch.households, members: kept };
            // The categories the sheet speaks for, listed or not, against those stored.
            let (household_level, person_level) =
                (said.has(Field::HouseholdCategories), said.has(Field::PersonCategories));
            let wanted = everyone
                .holdings(ids, &persons)
                .into_iter()
                .filter(|r| if r.person_id.is_some() { person_level } else { household_level })
                .collect();
            holdings.retain(|s| match s.person_id {
                None => household_level,
                Some(p) => person_level && spoken_for.contains(&p),
            });
            let month = chrono::Datelike::with_day(&chrono::Local::now().date_naive(), 1).expect("the first of a month");
            let changes = holding_changes(wanted, &holdings, month);
            self.insert_holdings(tx, &changes.insert).await?;
            for (holding, end) in changes.end {
                sqlx::query($crate::registry::END_HOLDING).bind(holding).bind(end).execute(&mut **tx).await?;
            }
            for holding in changes.delete {
                sqlx::query($crate::registry::DELETE_HOLDING).bind(holding).execute(&mut **tx).await?;
            }
            for s in &everyone.households {
                let id = ids[&s.household.number];
                let (changed, joined) = changed_members.remove(&id).unwrap_or_default();
                // What the sheet changed of the household's own facts, as an edit's record says it.
                let mut diff = household_changes.remove(&id).unwrap_or_default();
                diff.insert("sheet_persons".to_owned(), serde_json::json!([null, s.household.members.len()]));
                for (key, names) in [("members_changed", changed), ("members_joined", joined)] {
                    if !names.is_empty() {
                        diff.insert(key.to_owned(), serde_json::json!([null, names]));
                    }
                }
                let diff = serde_json::Value::Object(diff);
                let event = $crate::registry::household_event("household.import_update", id, diff.to_string());
                append_audit!(*tx, actor, &event);
            }
            Ok(())
        }

        /// Rewrites a registered member with what the sheet says of them.
        async fn update_member_from_sheet(
            &self,
            tx: &mut sqlx::Transaction<'_, $db>,
            person: i64,
            m: &$crate::registry::SealedMember<'_>,
            said: zhongfu_domain::ledger::Said,
        ) -> Result<()> {
            use zhongfu_domain::ledger::Field;
            let p = m.person;
            let mut q = sqlx::QueryBuilder::<$db>::new("UPDATE person SET name = ");
            q.push_bind(&p.name).push(", relation = ").push_bind(p.relation.code());
            if said.has(Field::Phone) {
                $crate::registry::push_phone(&mut q, m.phone.as_ref());
            }
            if said.has(Field::Marital) {
                q.push(", marital = ").push_bind(p.marital.code());
            }
            if said.has(Field::Health) {
                q.push(", health = ").push_bind(p.health.code());
            }
            if said.has(Field::DisabilityKind) {
                let d = p.disability.as_ref();
                q.push(", disability_kind = ").push_bind(d.map(|d| d.kind.code()));
                q.push(", disability_grade = ").push_bind(d.map(|d| i64::from(d.grade)));
                q.push(", disability_cert = ").push_bind(m.certificate.as_ref());
            }
            if said.has(Field::WorkAbility) {
                q.push(", work_ability = ").push_bind(p.work_ability.code());
            }
            if said.has(Field::Employment) {
                q.push(", employment = ").push_bind(p.employment.code());
            }
            if said.has(Field::Schooling) {
                q.push(", schooling = ").push_bind(p.schooling.code());
            }
            if said.has(Field::MonthlyIncome) {
                q.push(", monthly_income_fen = ").push_bind(p.monthly_income.0);
            }
            if said.has(Field::DeathDate) {
                q.push(", death_date = ").push_bind(p.death_date);
            }
            // The facts the sheet has columns for are recorded now.
            let recorded = zhongfu_domain::ledger::MEMBER_FACTS
                .iter()
                .filter(|(field, _)| said.has(*field))
                .fold(0, |bits, (_, fact)| bits | i32::from(*fact));
            if recorded != 0 {
                let member = i32::from(zhongfu_domain::policy::Unrecorded::MEMBER);
                q.push(", unrecorded = unrecorded & ").push_bind(member & !recorded);
            }
            q.push(", digest = ").push_bind(&m.digest).push(" WHERE id = ").push_bind(person);
            q.build().execute(&mut **tx).await?;
            Ok(())
        }

        async fn insert_members(
            &self,
            tx: &mut sqlx::Transaction<'_, $db>,
            batch: &SealedBatch<'_>,
            household_ids: &HashMap<String, i64>,
        ) -> Result<()> {
            let person_ids = self.insert_persons(tx, batch, household_ids).await?;
            self.insert_holdings(tx, &batch.holdings(household_ids, &person_ids)).await
        }

        /// The checks of a member move, in the order a caller hears them, and both
        /// households' versions bumped: (the household left, the one joined, the member,
        /// the left household's new version), or the answer to give at once.
        async fn check_move(
            &self,
            tx: &mut sqlx::Transaction<'static, $db>,
            scope: &Scope,
            (id, version): (i64, i64),
            person_id: i64,
            (to, to_version): (i64, i64),
            today: NaiveDate,
        ) -> Result<std::result::Result<(HouseholdDetail, HouseholdDetail, $crate::registry::MemberView, i64), EditOutcome>> {
            if id == to {
                let within = self.read_household(&mut **tx, scope, id, today).await?.is_some();
                return Ok(Err(if within { EditOutcome::Conflict("move_self") } else { EditOutcome::NotFound }));
            }
            // Both versions are bumped first, in id order: the first statement writes, so
            // SQLite takes its write lock before any read (a read then a write could fail
            // when another edit commits in between), and two moves in opposite directions
            // wait for each other in PostgreSQL instead of deadlocking.
            let mut bumps = [(id, version), (to, to_version)];
            bumps.sort_unstable();
            let mut new_version = version + 1;
            for (household, expected) in bumps {
                match self.bump_version(tx, scope, household, expected).await? {
                    Some(bumped) if household == id => new_version = bumped,
                    Some(_) => {}
                    None => {
                        // A source outside the scope is 404 whatever the target's version says.
                        if household != id && self.read_household(&mut **tx, scope, id, today).await?.is_none() {
                            return Ok(Err(EditOutcome::NotFound));
                        }
                        let now = self.read_household(&mut **tx, scope, household, today).await?;
                        return Ok(Err(now.map_or(EditOutcome::NotFound, |h| EditOutcome::Stale(Box::new(h)))));
                    }
                }
            }
            // Read within the scope (a paired-only role sees its own households only).
            let Some(before) = self.read_household(&mut **tx, scope, id, today).await? else {
                return Ok(Err(EditOutcome::NotFound));
            };
            let Some(member) = before.members.iter().find(|m| m.id == person_id).cloned() else {
                return Ok(Err(EditOutcome::NotFound));
            };
            let Some(target) = self.read_household(&mut **tx, scope, to, today).await? else {
                return Ok(Err(EditOutcome::NotFound));
            };
            match before.members.len() {
                1 => return Ok(Err(EditOutcome::Conflict("move_last"))),
                _ if member.relation == "head" => return Ok(Err(EditOutcome::Conflict("move_head"))),
                // A member who has died stays where the death was recorded.
                _ if member.death_date.is_some() => return Ok(Err(EditOutcome::Conflict("move_deceased"))),
                _ => {}
            }
            Ok(Ok((before, target, member, new_version)))
        }

        /// Opens an edit of household `id` made against `version`: the
        /// transaction, the household as it was and its new version; or the
        /// answer to give at once (not found, or stale with the household as it is).
        async fn begin_edit(
            &self,
            scope: &Scope,
            id: i64,
            version: i64,
            today: NaiveDate,
        ) -> Result<std::result::Result<(sqlx::Transaction<'static, $db>, HouseholdDetail, i64), EditOutcome>> {
            let mut tx = self.begin_write().await?;
            let Some(before) = self.read_household(&mut *tx, scope, id, today).await? else {
                return Ok(Err(EditOutcome::NotFound));
            };
            let Some(new_version) = self.bump_version(&mut tx, scope, id, version).await? else {
                return Ok(Err(EditOutcome::Stale(Box::new(before))));
            };
            Ok(Ok((tx, before, new_version)))
        }

        /// Bumps a household's version if it is still `version`; `None` when it moved on.
        async fn bump_version(
            &self,
            tx: &mut sqlx::Transaction<'_, $db>,
            scope: &Scope,
            id: i64,
            version: i64,
        ) -> Result<Option<i64>> {
            Ok(sqlx::query_scalar($crate::registry::BUMP_VERSION)
                .bind(id)
                .bind(version)
                .bind(format!("{}%", scope.prefix()))
                .bind(chrono::Utc::now())
                .fetch_optional(&mut **tx)
                .await?)
        }

        /// A member as a row of `SELECT_MEMBERS` (or `SELECT_MEMBERS_OF`) reads.
        fn member_view(&self, m: &<$db as sqlx::Database>::Row, today: NaiveDate) -> Result<$crate::registry::MemberView> {
            use $crate::registry::MemberView;
            let birth_date: NaiveDate = m.try_get("birth_date")?;
            Ok(MemberView {
                id: m.try_get("id")?,
                name: m.try_get("name")?,
                id_masked: m.try_get("id_masked")?,
                sex: m.try_get("sex")?,
                birth_date,
                age: zhongfu_domain::id_number::age_on(birth_date, today),
                relation: m.try_get("relation")?,
                phone_masked: m.try_get("phone_masked")?,
                marital: m.try_get("marital")?,
                health: m.try_get("health")?,
                disability_kind: m.try_get("disability_kind")?,
                disability_grade: m.try_get("disability_grade")?,
                disability_cert_masked: m
                    .try_get::<Option<Vec<u8>>, _>("disability_cert")?
                    .and_then(|c| self.keys.decrypt(&c).ok())
                    .filter(|c| !c.is_empty())
                    .map(|c| zhongfu_domain::ledger::mask_id_text(&c)),
                work_ability: m.try_get("work_ability")?,
                employment: m.try_get("employment")?,
                schooling: m.try_get("schooling")?,
                monthly_income_fen: m.try_get("monthly_income_fen")?,
                death_date: m.try_get("death_date")?,
                unrecorded: $crate::registry::unrecorded_facts(m.try_get("unrecorded")?),
            })
        }

        /// The household page within the scope, read on `conn` (a pool's or a transaction's).
        async fn read_household(
            &self,
            conn: &mut <$db as sqlx::Database>::Connection,
            scope: &Scope,
            id: i64,
            today: NaiveDate,
        ) -> Result<Option<HouseholdDetail>> {
            use $crate::registry::HoldingView;
            let paired = if scope.paired_only() { scope.account().unwrap_or(-1) } else { 0 };
            let Some(r) = sqlx::query($crate::registry::SELECT_DETAIL)
                .bind(id)
                .bind(format!("{}%", scope.prefix()))
                .bind(paired)
                .fetch_optional(&mut *conn)
                .await?
            else {
                return Ok(None);
            };
            let members = sqlx::query($crate::registry::SELECT_MEMBERS).bind(id).fetch_all(&mut *conn).await?;
            let members = members.iter().map(|m| self.member_view(m, today)).collect::<Result<Vec<_>>>()?;
            let holdings: Vec<(i64, Option<i64>, String, NaiveDate, Option<NaiveDate>)> =
                sqlx::query_as($crate::registry::SELECT_HOLDINGS).bind(id).fetch_all(&mut *conn).await?;
            Ok(Some(HouseholdDetail {
                id,
                number: r.try_get("number")?,
                community: r.try_get("community")?,
                community_name: r.try_get("community_name")?,
                address: r.try_get("address")?,
                phone_masked: r.try_get("phone_masked")?,
                registration: r.try_get("registration")?,
                tenure: r.try_get("tenure")?,
                housing_condition: r.try_get("housing_condition")?,
                dangerous_housing: r.try_get("dangerous_housing")?,
                assets_fen: r.try_get("assets_fen")?,
                income_items: IncomeItem::decode(r.try_get("income_items")?)
                    .ok_or_else(|| $crate::StoreError::Corrupt(format!("household {id}: income items")))?,
                income_unrecorded: r.try_get("income_unrecorded")?,
                assets_unrecorded: r.try_get("assets_unrecorded")?,
                tags: $crate::registry::split_list(r.try_get("tags")?),
                version: r.try_get("version")?,
                created_audit: r.try_get("created_audit")?,
                members,
                holdings: holdings
                    .into_iter()
                    .map(|(id, person_id, category, start_date, end_date)| HoldingView {
                        id,
                        person_id,
                        category,
                        start_date,
                        end_date,
                    })
                    .collect(),
            }))
        }
        }
    };
}
pub(crate) use registry_store;
