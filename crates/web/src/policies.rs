//! The policy catalogue and the sweep's results: policies with conditions in
//! CEL, drafted by one account and published by another; a sweep over the
//! registry; lists of 应享未享 and 应退未退 with the condition that decides
//! each row, marks, and export.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zhongfu_domain::identity::Role;
use zhongfu_domain::policy::{
    Checked, FindingKind, Level, PolicyDef, PolicyError, Vocabulary, check, fields, vocabulary,
};
use zhongfu_store::AuditEvent;
use zhongfu_store::policy::{MemberLabel, ParamChange, ParamDecision, PolicyVersion, PublishOutcome, SweepMark};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::households::{bad, today};
use crate::sweep::{Counts, ListedKind, Snapshot, SweepStatus, Tally};

/// A policy with its active version and open draft.
#[derive(Serialize)]
pub struct PolicyEntry {
    pub policy_id: i64,
    pub active: Option<PolicyVersion>,
    pub draft: Option<PolicyVersion>,
    pub versions: usize,
}

async fn entries(state: &AppState) -> Result<Vec<PolicyEntry>, ApiError> {
    let mut by_policy: Vec<PolicyEntry> = Vec::new();
    for v in state.store.policy_versions().await? {
        if by_policy.last().is_none_or(|e| e.policy_id != v.policy_id) {
            by_policy.push(PolicyEntry { policy_id: v.policy_id, active: None, draft: None, versions: 0 });
        }
        if let Some(e) = by_policy.last_mut() {
            e.versions += 1;
            match v.status.as_str() {
                "active" => e.active = Some(v),
                "draft" => e.draft = Some(v),
                _ => {}
            }
        }
    }
    Ok(by_policy)
}

/// The department whose policies alone a department handler sees.
async fn department_of(state: &AppState, p: &Principal) -> Result<Option<String>, ApiError> {
    let wide = p.roles.as_slice().iter().any(|r| matches!(r, Role::District | Role::Street | Role::Community));
    if wide {
        return Ok(None);
    }
    let units = state.store.units_within(&p.scope()).await?;
    let name = p.account.unit_id.and_then(|id| units.into_iter().find(|u| u.id == id)).map(|u| u.name);
    // A department account without a unit sees no policy's rows.
    Ok(Some(name.unwrap_or_default()))
}

#[utoipa::path(get, path = "/api/v1/policies", tag = "policies", responses((status = 200, body = Object)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!({ "items": entries(&state).await? })))
}

#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "policies",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn detail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<serde_json::Value>, ApiError> {
    let versions: Vec<PolicyVersion> =
        state.store.policy_versions().await?.into_iter().filter(|v| v.policy_id == id).collect();
    if versions.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Json(serde_json::json!({ "policy_id": id, "versions": versions })))
}

/// The fields and parameters rules may name, for the editor.
#[utoipa::path(get, path = "/api/v1/policies/fields", tag = "policies", responses((status = 200, body = Object)))]
pub async fn vocabulary_list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let params = state.store.policy_params().await?;
    let date = today();
    let params: Vec<serde_json::Value> = params
        .iter()
        .map(|p| {
            serde_json::json!({ "name": p.name, "label": p.label, "label_en": p.label_en, "unit": p.unit,
                                      "value": p.on(date), "values": p.values })
        })
        .collect();
    Ok(Json(serde_json::json!({ "fields": fields(), "params": params })))
}

/// The longest gradual-exit period (渐退期) a policy may declare.
const MAX_TAPER_MONTHS: u32 = 24;

/// A rule's problem, where it is.
#[derive(Serialize, ToSchema)]
pub struct RuleProblem {
    /// `code`, `name`, `department`, `condition`, `benefit`, `records` or `taper_months`.
    pub field: &'static str,
    pub line: u32,
    pub column: u32,
    pub message_zh: String,
    pub message_en: String,
}

impl RuleProblem {
    fn into_error(self) -> ApiError {
        let (label_zh, label_en) = field_label(self.field);
        let (zh, en) = if matches!(self.field, "condition" | "benefit") {
            (
                format!("{label_zh}第 {} 行第 {} 列：{}", self.line, self.column, self.message_zh),
                format!("{label_en}, line {}, column {}: {}", self.line, self.column, self.message_en),
            )
        } else {
            (format!("{label_zh}：{}", self.message_zh), format!("{label_en}: {}", self.message_en))
        };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_rule", zh, en).with_field(self.field)
    }
}

/// A policy's field as the editor labels it.
fn field_label(field: &str) -> (&'static str, &'static str) {
    match field {
        "code" => ("政策编码", "code"),
        "name" => ("政策名称", "name"),
        "name_en" => ("英文名称", "English name"),
        "department" => ("主管部门", "department"),
        "basis" => ("政策依据", "legal basis"),
        "records" => ("记录为救助类别", "recorded as"),
        "effective_to" => ("失效日期", "end date"),
        "taper_months" => ("渐退期", "gradual-exit period"),
        "benefit" => ("金额", "benefit"),
        _ => ("条件", "condition"),
    }
}

fn problem(field: &'static str, zh: String, en: String) -> RuleProblem {
    RuleProblem { field, line: 1, column: 1, message_zh: zh, message_en: en }
}

/// What the editor sends to check or save.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyForm {
    /// The policy: `code`, `name`, `name_en`, `department`, `level`, `kind`,
    /// `records`, `basis`, `effective_from`, `effective_to`, `benefit`,
    /// `condition`, and `taper_months` (the gradual-exit period, 渐退期, 1 to
    /// 24 months; none when absent).
    #[schema(value_type = Object)]
    pub definition: PolicyDef,
}

/// A definition as checked against the fields and params of today.
struct Verdict {
    vocab: Vocabulary,
    /// Why the rule runs in the interpreter, if it does (zh, en).
    interpreted: Option<(String, String)>,
    /// Every problem, one per field in the form's order, each naming its field
    /// and, in a rule, the position; none when the definition may be saved.
    problems: Vec<RuleProblem>,
}

async fn checked(state: &AppState, def: &PolicyDef) -> Result<Verdict, ApiError> {
    let mut problems = form_problems(def);
    let params = state.store.policy_params().await?;
    let vocab = vocabulary(&params, today());
    // A rule over the length allowed is not compiled as well.
    let too_long = problems.iter().any(|p| matches!(p.field, "condition" | "benefit"));
    let interpreted = match (!too_long).then(|| check(def, &vocab)) {
        None | Some(Ok(Checked::Compiled(_))) => None,
        Some(Ok(Checked::Interpreted(why))) => Some((why.message_zh, why.message_en)),
        Some(Err(PolicyError::Rule { field, error })) => {
            let (line, column) = (error.line, error.column);
            problems.push(RuleProblem {
                field,
                line,
                column,
                message_zh: error.message_zh,
                message_en: error.message_en,
            });
            None
        }
        Some(Err(e)) => {
            let field = if matches!(e, PolicyError::Records(_)) { "records" } else { "condition" };
            problems.push(problem(field, e.message_zh(), e.to_string()));
            None
        }
    };
    // In the form's order, a field's first problem only: a rule too long is not also
    // reported as not parsing.
    problems.sort_by_key(|p| FORM_ORDER.iter().position(|&f| f == p.field).unwrap_or(usize::MAX));
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.field));
    Ok(Verdict { vocab, interpreted, problems })
}

/// The fields of the policy editor, top to bottom.
const FORM_ORDER: [&str; 13] = [
    "code",
    "name",
    "name_en",
    "department",
    "level",
    "kind",
    "records",
    "effective_from",
    "effective_to",
    "taper_months",
    "basis",
    "condition",
    "benefit",
];

/// The problems of a definition's plain fields.
fn form_problems(def: &PolicyDef) -> Vec<RuleProblem> {
    let mut problems = Vec::new();
    let required =
        [("code", &def.code), ("name", &def.name), ("department", &def.department), ("records", &def.records)];
    for (field, value) in required {
        if value.trim().is_empty() {
            problems.push(problem(field, "必填".into(), "required".into()));
        }
    }
    // As long as the editor lets them be.
    let texts = [("code", &def.code, 40), ("name", &def.name, 60), ("name_en", &def.name_en, 120)];
    // A rule of the catalogue is a few hundred characters: far longer is a mistake (and an
    // Excel cell of its reasons holds 32,767).
    let benefit = def.benefit.clone().unwrap_or_default();
    let rules = [("condition", &def.condition, 4000), ("benefit", &benefit, 4000)];
    let texts = texts.into_iter().chain([("department", &def.department, 60), ("basis", &def.basis, 500)]).chain(rules);
    for (field, value, most) in texts {
        if value.chars().count() > most {
            problems.push(problem(field, format!("不能超过 {most} 个字"), format!("at most {most} characters")));
        }
    }
    // The rules are checked before the category (`check`), so an unknown one is said here too.
    if !def.records.trim().is_empty() && def.records_bit().is_none() {
        let unknown = PolicyError::Records(def.records.clone());
        problems.push(problem("records", unknown.message_zh(), unknown.to_string()));
    }
    if !def.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        problems.push(problem(
            "code",
            "只能由英文字母、数字、下划线和连字符组成，如 dibao_edge".into(),
            "only letters, digits, _ and -, e.g. dibao_edge".into(),
        ));
    }
    let dates = [("effective_from", Some(def.effective_from)), ("effective_to", def.effective_to)];
    for (field, _) in dates.iter().filter(|(_, d)| d.is_some_and(|d| !(1900..=2100).contains(&d.year()))) {
        problems.push(problem(field, "日期应在1900年至2100年之间".into(), "a date is between 1900 and 2100".into()));
    }
    if def.effective_to.is_some_and(|to| to < def.effective_from) {
        problems.push(problem(
            "effective_to",
            "失效日期不能早于生效日期".into(),
            "the end date cannot be before the start date".into(),
        ));
    }
    if def.taper_months.is_some_and(|m| !(1..=MAX_TAPER_MONTHS).contains(&m)) {
        problems.push(problem(
            "taper_months",
            format!("渐退期须为 1 到 {MAX_TAPER_MONTHS} 个月，或不设"),
            format!("the gradual-exit period must be 1 to {MAX_TAPER_MONTHS} months, or none"),
        ));
    }
    problems
}

/// The category a policy records says who receives it: another policy in force
/// at the same time may not record it too (each would list the other's
/// recipients as 应退未退). 400 naming the policy that records it.
fn records_free(versions: &[PolicyVersion], id: Option<i64>, def: &PolicyDef) -> Result<(), ApiError> {
    let taken = versions.iter().find(|v| {
        v.status == "active"
            && Some(v.policy_id) != id
            && v.definition.records == def.records
            && v.definition.overlaps(def)
    });
    match taken {
        Some(v) => Err(bad(
            "records",
            &format!("该救助类别已由“{}”记录：同一时期每个类别只能由一项政策记录", v.definition.name),
            &format!("{} already records this category: one policy per category at a time", v.definition.code),
        )),
        None => Ok(()),
    }
}

/// As `checked`, the problems refusing the request with 400: the first, carrying the others.
async fn valid(state: &AppState, def: &PolicyDef) -> Result<Vocabulary, ApiError> {
    let Verdict { vocab, problems, .. } = checked(state, def).await?;
    let errors: Vec<ApiError> = problems.into_iter().map(RuleProblem::into_error).collect();
    ApiError::first_of(errors.iter().map(Some))?;
    Ok(vocab)
}

/// Checks a rule while it is typed: 200 with every problem (`problems`, one per field, each
/// with its position; the first also as `problem`), if any.
#[utoipa::path(post, path = "/api/v1/policies/check", tag = "policies", request_body = PolicyForm,
    responses((status = 200, body = Object)))]
pub async fn check_rule(
    State(state): State<AppState>,
    Json(form): Json<PolicyForm>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Verdict { interpreted, problems, .. } = checked(&state, &form.definition).await?;
    Ok(Json(if problems.is_empty() {
        let (zh, en) = interpreted.unzip();
        serde_json::json!({ "ok": true, "interpreted": zh, "interpreted_en": en })
    } else {
        // `problem` is the first, as the console read it before `problems`.
        serde_json::json!({ "ok": false, "problem": problems.first(), "problems": problems })
    }))
}

#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", request_body = PolicyForm,
    responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<PolicyForm>,
) -> Result<(StatusCode, Json<PolicyVersion>), ApiError> {
    valid(&state, &form.definition).await?;
    records_free(&state.store.policy_versions().await?, None, &form.definition)?;
    match state.store.draft_policy(&p.actor(), None, &form.definition).await {
        Ok(Some(v)) => Ok((StatusCode::CREATED, Json(v))),
        Ok(None) => Err(ApiError::not_found()),
        Err(zhongfu_store::StoreError::Duplicate(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "duplicate",
            "已有同一编码的政策",
            "a policy with this code exists",
        )
        .with_field("code")),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(put, path = "/api/v1/policies/{id}/draft", tag = "policies", request_body = PolicyForm,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn draft(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<PolicyForm>,
) -> Result<Json<PolicyVersion>, ApiError> {
    let versions = state.store.policy_versions().await?;
    let current = versions.iter().find(|v| v.policy_id == id).ok_or_else(ApiError::not_found)?;
    if current.definition.code != form.definition.code {
        return Err(bad("code", "政策编码不能修改", "a policy's code cannot change"));
    }
    valid(&state, &form.definition).await?;
    records_free(&versions, Some(id), &form.definition)?;
    // Nothing changed: the draft waiting for review stays as it is, and no draft is made of
    // the version in force (a checker would review a copy).
    let of_policy = |status: &str| versions.iter().find(|v| v.policy_id == id && v.status == status);
    match (of_policy("draft"), of_policy("active")) {
        (Some(d), _) if d.definition == form.definition => return Ok(Json(d.clone())),
        (None, Some(a)) if a.definition == form.definition => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "unchanged",
                "没有修改：与现行版本相同，无需保存草稿",
                "nothing changed: this is the version in force, no draft is needed",
            ));
        }
        _ => {}
    }
    let v = state.store.draft_policy(&p.actor(), Some(id), &form.definition).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(v))
}

#[utoipa::path(post, path = "/api/v1/policy-versions/{id}/publish", tag = "policies",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<PolicyVersion>, ApiError> {
    match state.store.publish_policy(&p.actor(), id).await? {
        PublishOutcome::Published(v) => {
            // The lists follow the version now in force, on the date they are on.
            state.sweeper.start(state.store.clone(), state.district.prefix().to_owned(), state.sweeper.lists_date());
            Ok(Json(*v))
        }
        PublishOutcome::NotFound => Err(ApiError::not_found()),
        PublishOutcome::NotDraft => Err(not_draft(&state, id).await?),
        PublishOutcome::OwnDraft => Err(ApiError::new(
            StatusCode::CONFLICT,
            "maker_checker",
            "不能发布自己起草的版本，须由另一位有发布权限的人员审核",
            "you drafted this version: another account with the publish permission must approve it",
        )),
    }
}

/// 409 for a version that is no longer a draft, saying what became of it: the
/// checker may have reviewed a draft that its maker has since replaced.
async fn not_draft(state: &AppState, id: i64) -> Result<ApiError, ApiError> {
    let versions = state.store.policy_versions().await?;
    let this = versions.iter().find(|v| v.id == id);
    let newer = this.and_then(|t| {
        versions.iter().rfind(|v| v.policy_id == t.policy_id && v.version > t.version && v.status == "draft")
    });
    let (zh, en) = match (this.map(|v| v.status.as_str()), newer) {
        (Some("discarded"), Some(n)) => (
            format!("这一稿已被第 {} 版草稿取代，请审阅新的草稿", n.version),
            format!("this draft was replaced by draft version {}: review that one", n.version),
        ),
        (Some("active"), _) => ("该版本已发布生效".into(), "this version is already published".into()),
        (Some("superseded"), _) => ("该版本已被更新的版本取代".into(), "a later version has replaced this one".into()),
        (Some("discarded"), _) => ("这一稿已被退回或放弃".into(), "this draft was turned down or withdrawn".into()),
        _ => ("只有草稿可以发布".into(), "only a draft can be published".into()),
    };
    Ok(ApiError::new(StatusCode::CONFLICT, "not_draft", zh, en))
}

/// A district parameter's value from a day on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamValueForm {
    #[schema(value_type = String)]
    #[serde(deserialize_with = "zhongfu_domain::day::required")]
    pub from: NaiveDate,
    /// In the parameter's unit (fen for money).
    pub value: i64,
}

/// Proposes a value for a district parameter (`params.dibao_line`…) from a day
/// on, e.g. next year's 低保 line. Nothing changes until another account with the
/// publish permission applies it (`POST /param-changes/{id}/apply`). Audited.
#[utoipa::path(put, path = "/api/v1/policy-params/{name}", tag = "policies", request_body = ParamValueForm,
    responses((status = 202, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_param(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(name): Path<String>,
    Json(form): Json<ParamValueForm>,
) -> Result<(StatusCode, Json<ParamChange>), ApiError> {
    crate::households::plausible("from", form.from)?;
    let params = state.store.policy_params().await?;
    let param = params.iter().find(|d| d.name == name).ok_or_else(ApiError::not_found)?;
    let (range, zh, en) = param.bounds();
    if !range.contains(&form.value) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_value", zh, en).with_field("value"));
    }
    let change = state
        .store
        .propose_param_value(&p.actor(), &name, form.from, form.value)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::ACCEPTED, Json(change)))
}

/// Proposed parameter values waiting for a second account, oldest first.
#[utoipa::path(get, path = "/api/v1/param-changes", tag = "policies", responses((status = 200, body = Object)))]
pub async fn param_changes(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!({ "items": state.store.open_param_changes().await? })))
}

/// Applies a proposed parameter value; its proposer may not (maker ≠ checker).
/// The lists are swept again on their date.
#[utoipa::path(post, path = "/api/v1/param-changes/{id}/apply", tag = "policies",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn apply_param(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    match state.store.apply_param_change(&p.actor(), id).await? {
        ParamDecision::Applied(def) => {
            state.sweeper.start(state.store.clone(), state.district.prefix().to_owned(), state.sweeper.lists_date());
            Ok(Json(serde_json::to_value(def).unwrap_or_default()))
        }
        ParamDecision::NotFound => Err(ApiError::not_found()),
        ParamDecision::NotOpen => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_open",
            "该取值已执行或已作废",
            "this value has already been applied or discarded",
        )),
        ParamDecision::OwnProposal => Err(ApiError::new(
            StatusCode::CONFLICT,
            "maker_checker",
            "不能执行自己提出的参数取值，须由另一位有发布权限的人员审核",
            "you proposed this value: another account with the publish permission must approve it",
        )),
    }
}

/// Discards a proposed parameter value, saying why (its proposer withdrawing it, or a checker turning it down).
#[utoipa::path(post, path = "/api/v1/param-changes/{id}/discard", tag = "policies", request_body = DiscardForm,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn discard_param(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<DiscardForm>,
) -> Result<StatusCode, ApiError> {
    let reason = discard_reason(&form)?;
    discarded(state.store.discard_param_change(&p.actor(), id, reason).await?)
}

/// Why a draft is discarded.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardForm {
    pub reason: String,
}

/// Discards a draft: its author withdraws it, or a checker turns it down, saying why.
#[utoipa::path(post, path = "/api/v1/policy-versions/{id}/discard", tag = "policies", request_body = DiscardForm,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn discard(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<DiscardForm>,
) -> Result<StatusCode, ApiError> {
    let reason = discard_reason(&form)?;
    discarded(state.store.discard_draft(&p.actor(), id, reason).await?)
}

/// 204 when something was discarded, 404 when there was nothing open to discard.
fn discarded(found: bool) -> Result<StatusCode, ApiError> {
    if found { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::not_found()) }
}

/// The reason for discarding, trimmed: 1 to 200 characters.
fn discard_reason(form: &DiscardForm) -> Result<&str, ApiError> {
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            "请填写作废原因（不超过200字）",
            "give the reason for discarding (at most 200 characters)",
        )
        .with_field("reason"));
    }
    Ok(reason)
}

/// Which household to test a policy against.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestForm {
    pub household_id: i64,
    /// A definition being edited; the active version if absent.
    #[schema(value_type = Object)]
    pub definition: Option<PolicyDef>,
}

#[utoipa::path(post, path = "/api/v1/policies/{id}/test", tag = "policies", request_body = TestForm,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<TestForm>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // The household must be within the caller's scope.
    state.store.household(&p.scope(), form.household_id, today()).await?.ok_or_else(ApiError::not_found)?;
    let def = match form.definition {
        Some(d) => d,
        None => {
            let entries = entries(&state).await?;
            let e = entries.into_iter().find(|e| e.policy_id == id).ok_or_else(ApiError::not_found)?;
            e.draft.or(e.active).ok_or_else(ApiError::not_found)?.definition
        }
    };
    let vocab = valid(&state, &def).await?;
    let date = today();
    let facts = state.store.registry_facts(p.scope().prefix(), Some(form.household_id), None).await?;
    let columns = zhongfu_domain::policy::Columns::build(date, facts);
    let (engine, _) = zhongfu_domain::policy::build_engine(&[&def], &vocab);
    let Some(row) = columns.row_of(form.household_id) else { return Err(ApiError::not_found()) };
    let labels = state.store.finding_labels(&p.scope(), &[form.household_id]).await?;
    let rows: Vec<serde_json::Value> = match def.level {
        Level::Household => {
            vec![serde_json::json!({ "person": null, "conditions": engine.explain(&columns, 0, row, None),
                                                       "qualifies": engine.qualifies(&columns, 0, row, None) })]
        }
        Level::Person => columns
            .persons(row)
            .map(|r| {
                let pid = columns.person_id(r);
                let label = labels.iter().find(|l| l.person_id == pid);
                serde_json::json!({ "person": label.map(|l| &l.name), "id_masked": label.map(|l| &l.id_masked),
                                    "conditions": engine.explain(&columns, 0, row, Some(r)),
                                    "qualifies": engine.qualifies(&columns, 0, row, Some(r)) })
            })
            .collect(),
    };
    Ok(Json(serde_json::json!({ "level": def.level, "rows": rows, "params": vocab.params() })))
}

/// How far from today a sweep's date may be: back five years (an audit of what
/// the lists said then), ahead one (a change that comes in next year).
pub const SWEEP_DAYS_BACK: u64 = 1827;
pub const SWEEP_DAYS_AHEAD: u64 = 366;

/// What a sweep judges the registry on.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StartSweep {
    /// The day (`YYYY-MM-DD`): ages, dated parameters and the categories
    /// held are taken as on that day. Today when left out.
    #[serde(default, deserialize_with = "zhongfu_domain::day::optional")]
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// Whether `p` sees the whole district's sweep: an account of the district's
/// jurisdiction that is not a department's.
async fn whole_district(state: &AppState, p: &Principal) -> Result<bool, ApiError> {
    Ok(covers_district(state, p, &department_of(state, p).await?))
}

fn covers_district(state: &AppState, p: &Principal, department: &Option<String>) -> bool {
    p.scope().prefix() == state.district.prefix() && department.is_none()
}

/// The sweep's status as `p` may see it, naming a department account's unit.
async fn status_for(state: &AppState, p: &Principal) -> Result<SweepStatus, ApiError> {
    let department = department_of(state, p).await?;
    let whole = covers_district(state, p, &department);
    Ok(SweepStatus { department, ..state.sweeper.status().seen_by(whole) })
}

/// Starts a sweep. The lists are the district's, shared by every street: a street
/// sweeps them again as of the date they are on; only a district account sets the date.
#[utoipa::path(post, path = "/api/v1/sweep", tag = "policies", request_body = StartSweep,
    responses((status = 202, body = SweepStatus), (status = 400, body = ErrorBody)))]
pub async fn start_sweep(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(body): Json<StartSweep>,
) -> Result<(StatusCode, Json<SweepStatus>), ApiError> {
    let (whole, current) = (whole_district(&state, &p).await?, state.sweeper.lists_date());
    let today = today();
    let (from, to) = (today - chrono::Days::new(SWEEP_DAYS_BACK), today + chrono::Days::new(SWEEP_DAYS_AHEAD));
    let date = match body.date {
        Some(d) if d != current && !whole => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "sweep_date_district_only",
                "只有区级账号可以改变核查日期（各街道共用同一份名单）",
                "only a district account can change the sweep's date (every street shares the lists)",
            )
            .with_field("date"));
        }
        // The registry is as it is now: a day far from today would judge it on ages and
        // parameters it never had, for every street's lists.
        Some(d) if !(from..=to).contains(&d) => {
            return Err(bad(
                "date",
                &format!("核查日期须在五年前至一年后之间（{from} 至 {to}）"),
                &format!("the sweep's date must be from five years ago to a year ahead ({from} to {to})"),
            ));
        }
        Some(d) => d,
        None if whole => today,
        None => current,
    };
    let district = state.district.prefix().to_owned();
    if state.sweeper.start(state.store.clone(), district, date) {
        let event = AuditEvent {
            action: "sweep.start".into(),
            entity: "sweep".into(),
            entity_id: String::new(),
            diff: serde_json::json!({ "as_of": [current.to_string(), date.to_string()] }).to_string(),
        };
        state.store.record_audit(&p.actor(), &event).await?;
    }
    Ok((StatusCode::ACCEPTED, Json(state.sweeper.status().seen_by(whole))))
}

/// Filters of the result lists.
#[derive(Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ResultFilter {
    pub policy_id: Option<i64>,
    /// `missing` (应享未享), `stale` (应退未退), `taper` (渐退期: 应退未退
    /// whose gradual-exit period runs on the sweep's date) or `unknown`.
    pub kind: Option<String>,
    /// A street or community code within the caller's jurisdiction.
    pub area: Option<String>,
    #[serde(default)]
    pub offset: usize,
    pub limit: Option<usize>,
    /// Show dismissed rows too.
    #[serde(default)]
    pub include_dismissed: bool,
}

/// One row of a result list.
#[derive(Serialize, ToSchema)]
pub struct ResultRow {
    pub policy_id: i64,
    pub policy_code: String,
    pub policy_name: String,
    /// `missing`, `stale`, `taper` or `unknown`.
    pub kind: String,
    pub household_id: i64,
    pub household_number: String,
    pub community: String,
    pub community_name: String,
    pub person_id: Option<i64>,
    pub name: String,
    pub id_masked: String,
    /// What qualifying would bring, fen (never below zero); none on a row that no longer qualifies.
    pub benefit_fen: Option<i64>,
    /// The condition that decides it, with its values.
    pub reason: String,
    #[schema(value_type = Object)]
    pub conditions: Vec<zhongfu_domain::policy::ConditionOutcome>,
    /// `proposed`, `dismissed` or none.
    pub mark: Option<String>,
    pub mark_reason: Option<String>,
    /// The last day of the gradual-exit period: on a `taper` row, while it
    /// runs; on a `stale` row, one that has ended.
    #[schema(value_type = Option<String>, format = Date)]
    pub taper_ends: Option<NaiveDate>,
}

struct Listed {
    rows: Vec<ResultRow>,
    total: usize,
    by_policy: Vec<serde_json::Value>,
    by_street: Vec<serde_json::Value>,
    /// The chosen policy's counts per community.
    by_community: Vec<serde_json::Value>,
}

fn kind_code(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Missing => "missing",
        FindingKind::Stale => "stale",
        FindingKind::Unknown => "unknown",
    }
}

/// The deciding condition: the first that fails for 应退未退, all for 应享未享.
fn reason(kind: FindingKind, conditions: &[zhongfu_domain::policy::ConditionOutcome]) -> String {
    match kind {
        FindingKind::Stale => {
            conditions.iter().find(|c| c.holds != Some(true)).map(|c| c.detail.clone()).unwrap_or_default()
        }
        FindingKind::Missing => conditions.iter().map(|c| c.detail.as_str()).collect::<Vec<_>>().join("；"),
        FindingKind::Unknown => {
            conditions.iter().find(|c| c.holds.is_none()).map(|c| c.detail.clone()).unwrap_or_default()
        }
    }
}

async fn listed(state: &AppState, p: &Principal, filter: &ResultFilter, limit: usize) -> Result<Listed, ApiError> {
    let scope = p.scope();
    let area = match filter.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => {
            let code = crate::divisions::parse_code("area", a)?;
            if !scope.covers(&code) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "out_of_scope",
                    "该区域不在您的管辖范围内",
                    "this area is outside your jurisdiction",
                )
                .with_field("area"));
            }
            code.prefix().to_owned()
        }
        None => scope.prefix().to_owned(),
    };
    let kind = match filter.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(ListedKind::parse(k).ok_or_else(|| {
            bad("kind", "类型须为 missing、stale、taper 或 unknown", "kind must be missing, stale, taper or unknown")
        })?),
    };
    let unknown_policy = filter
        .policy_id
        .is_some_and(|id| state.sweeper.read(|s| s.policies.iter().all(|a| a.policy_id != id)).unwrap_or(false));
    if unknown_policy {
        return Err(bad("policy_id", "该政策不在本次核查之中", "that policy is not among those the sweep ran"));
    }
    let department = department_of(state, p).await?;
    let marks: HashMap<MarkKey, SweepMark> = state
        .store
        .sweep_marks(&area)
        .await?
        .into_iter()
        .filter_map(|m| Some(((m.policy_id, m.household_id, m.person_id, mark_kind(&m.kind)?), m)))
        .collect();
    // Pick the rows under the snapshot's lock; explain them a chunk at a time, letting go
    // of the lock between chunks so an edit's re-evaluation is not kept waiting behind a
    // long export; label them after. A full sweep installed meanwhile starts it again.
    for _ in 0..3 {
        let Some(listed) = pick(state, filter, (&area, kind), department.as_deref(), &marks, limit).await else {
            continue;
        };
        return label(state, &scope, &marks, listed).await;
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "lists_changed",
        "名单正在更新，请稍后重试",
        "the lists are being updated: try again shortly",
    ))
}

/// Rows of one listing: page rows with their explanations (conditions, benefit), the
/// total and the counts per policy, street and community.
/// (policy id, code, name, (finding, listed kind, taper end), household id, person id, household version).
type PageRow =
    (i64, String, String, (zhongfu_domain::policy::Finding, ListedKind, Option<NaiveDate>), i64, Option<i64>, i64);
type Picked = (Vec<PageRow>, usize, Vec<serde_json::Value>, Vec<serde_json::Value>, Vec<serde_json::Value>);
type Explained = Vec<(Vec<zhongfu_domain::policy::ConditionOutcome>, Option<i64>)>;

/// Rows explained per hold of the snapshot's lock.
const EXPLAIN_CHUNK: usize = 256;

/// The listing as of one full sweep (empty before the first); `None` when another was
/// installed before it was explained.
async fn pick(
    state: &AppState,
    filter: &ResultFilter,
    (area, kind): (&str, Option<ListedKind>),
    department: Option<&str>,
    marks: &HashMap<MarkKey, SweepMark>,
    limit: usize,
) -> Option<(Picked, Explained)> {
    let picked = state.sweeper.read(|s| {
        let cols = &s.columns;
        // What the filter asks, per community slot and per policy, worked out once: the
        // loop below reads every finding of the district.
        let in_area: Vec<bool> = cols.communities().iter().map(|c| c.as_str().starts_with(area)).collect();
        let of_department: Vec<bool> =
            s.policies.iter().map(|p| department.is_none_or(|d| p.definition.department == d)).collect();
        let of_policy: Vec<bool> =
            s.policies.iter().map(|p| filter.policy_id.is_none_or(|id| p.policy_id == id)).collect();
        // Households with a mark: only their findings are looked up among the marks.
        let mut marked = vec![false; cols.household_rows()];
        for (_, household, _, _) in marks.keys() {
            if let Some(row) = cols.row_of(*household) {
                marked[row as usize] = true;
            }
        }
        let dismissed = |f: &zhongfu_domain::policy::Finding| {
            !filter.include_dismissed
                && marks.get(&key(s, f)).is_some_and(|m| {
                    m.status == "dismissed" && m.household_version == cols.household_version(f.household(cols))
                })
        };
        // Counts per policy show every policy (to choose one); per street, the chosen policy's.
        let mut tally = Tally::new(s);
        let mut chosen = Vec::new();
        for f in s.findings() {
            let (row, policy) = (f.household(cols), f.policy as usize);
            let slot = cols.community_slot(row);
            if !in_area[slot] || !of_department[policy] || (marked[row as usize] && dismissed(f)) {
                continue;
            }
            let (f, listed, taper_ends) =
                if marked[row as usize] { listed_kind(s, f, marks) } else { (f, ListedKind::of(f.kind), None) };
            tally.by_policy[policy].add(listed);
            if of_policy[policy] {
                tally.by_community[slot].add(listed);
                if kind.is_none_or(|want| listed == want) {
                    chosen.push((*f, listed, taper_ends));
                }
            }
        }
        // The page only is put in order: the rows before it are set apart, not sorted.
        let total = chosen.len();
        let order = |(f, _, _): &(zhongfu_domain::policy::Finding, ListedKind, Option<NaiveDate>)| {
            (f.policy, cols.household_id(f.household(cols)), f.person().map(|r| cols.person_id(r)))
        };
        let from = filter.offset.min(total);
        let to = from.saturating_add(limit).min(total);
        if to < total {
            chosen.select_nth_unstable_by_key(to, order);
            chosen.truncate(to);
        }
        if from > 0 && from < to {
            chosen.select_nth_unstable_by_key(from, order);
        }
        let mut page_rows = chosen.split_off(from);
        page_rows.sort_unstable_by_key(order);
        let page: Vec<_> = page_rows
            .into_iter()
            .map(|(f, listed, taper_ends)| {
                let policy = &s.policies[f.policy as usize];
                (
                    policy.policy_id,
                    policy.definition.code.clone(),
                    policy.definition.name.clone(),
                    (f, listed, taper_ends),
                    cols.household_id(f.household(cols)),
                    f.person().map(|r| cols.person_id(r)),
                    cols.household_version(f.household(cols)),
                )
            })
            .collect();
        let by_policy: Vec<serde_json::Value> = (s.policies.iter().zip(&tally.by_policy))
            .filter(|(_, c)| !c.is_empty())
            .map(|(p, c)| {
                serde_json::json!({ "policy_id": p.policy_id, "code": p.definition.code, "name": p.definition.name,
                                    "department": p.definition.department, "missing": c.missing, "stale": c.stale,
                                    "taper": c.taper, "unknown": c.unknown })
            })
            .collect();
        let by_area = |counts: BTreeMap<String, Counts>| -> Vec<serde_json::Value> {
            counts
                .into_iter()
                .map(|(code, c)| {
                    serde_json::json!({ "code": code, "missing": c.missing, "stale": c.stale, "taper": c.taper,
                                        "unknown": c.unknown })
                })
                .collect()
        };
        let (streets, communities) = tally.areas(s);
        let (by_street, by_community) = (by_area(streets), by_area(communities));
        (s.generation, (page, total, by_policy, by_street, by_community))
    });
    let Some((generation, picked)) = picked else {
        return Some(((Vec::new(), 0, Vec::new(), Vec::new(), Vec::new()), Vec::new()));
    };
    let mut explained: Explained = Vec::with_capacity(picked.0.len());
    for chunk in picked.0.chunks(EXPLAIN_CHUNK) {
        let done = state.sweeper.read(|s| {
            (s.generation == generation).then(|| chunk.iter().map(|row| s.explain(&row.3.0)).collect::<Explained>())
        });
        explained.extend(done.flatten()?);
        tokio::task::yield_now().await;
    }
    Some((picked, explained))
}

/// The picked rows with their households' labels and marks.
async fn label(
    state: &AppState,
    scope: &zhongfu_domain::Scope,
    marks: &HashMap<MarkKey, SweepMark>,
    ((page, total, mut by_policy, by_street, by_community), explained): (Picked, Explained),
) -> Result<Listed, ApiError> {
    by_policy.sort_by_key(|v| v["policy_id"].as_i64());
    let mut ids: Vec<i64> = page.iter().map(|r| r.4).collect();
    ids.sort_unstable();
    ids.dedup();
    let labels = state.store.finding_labels(scope, &ids).await?;
    // Looked up per row: by person, and per household its head (or, lacking one, any member).
    let by_person: HashMap<i64, &MemberLabel> = labels.iter().map(|l| (l.person_id, l)).collect();
    let mut by_household: HashMap<i64, &MemberLabel> = HashMap::new();
    for l in &labels {
        let slot = by_household.entry(l.household_id).or_insert(l);
        if l.relation == "head" {
            *slot = l;
        }
    }
    let rows = page
        .into_iter()
        .zip(explained)
        .map(
            |(
                (policy_id, code, name, (f, listed, taper_ends), household_id, person_id, version),
                (conditions, benefit_fen),
            )| {
                let any = by_household.get(&household_id).copied();
                let person = match person_id {
                    Some(pid) => by_person.get(&pid).copied(),
                    None => any.filter(|l| l.relation == "head"),
                };
                // A dismissal holds until the household changes; a proposal stays.
                let mark = marks
                    .get(&(policy_id, household_id, person_id.unwrap_or(0), kind_code(f.kind)))
                    .filter(|m| m.status != "dismissed" || m.household_version == version);
                ResultRow {
                    policy_id,
                    policy_code: code,
                    policy_name: name,
                    kind: listed.code().into(),
                    household_id,
                    household_number: any.map(|l| l.household_number.clone()).unwrap_or_default(),
                    community: any.map(|l| l.community.clone()).unwrap_or_default(),
                    community_name: any.map(|l| l.community_name.clone()).unwrap_or_default(),
                    person_id,
                    name: person.map(|l| l.name.clone()).unwrap_or_default(),
                    id_masked: person.map(|l| l.id_masked.clone()).unwrap_or_default(),
                    // What qualifying would bring, never below nothing; a row that no longer
                    // qualifies brings nothing new (its formula would read negative).
                    benefit_fen: match f.kind {
                        FindingKind::Stale => None,
                        _ => benefit_fen.map(|b| b.max(0)),
                    },
                    reason: reason(f.kind, &conditions),
                    conditions,
                    mark: mark.map(|m| m.status.clone()),
                    mark_reason: mark.and_then(|m| m.reason.clone()),
                    taper_ends,
                }
            },
        )
        .collect();
    Ok(Listed { rows, total, by_policy, by_street, by_community })
}

/// A mark's row: policy, household, person (0 for the household) and kind. Looked up for
/// every finding of a listing, under the snapshot's lock, so it holds no allocation.
type MarkKey = (i64, i64, i64, &'static str);

/// A stored mark's kind as the one the listing looks up; none for a kind it never asks for.
fn mark_kind(kind: &str) -> Option<&'static str> {
    ["missing", "stale", "unknown", "taper"].into_iter().find(|k| *k == kind)
}

fn key(s: &crate::sweep::Snapshot, f: &zhongfu_domain::policy::Finding) -> MarkKey {
    mark_key(s, f, kind_code(f.kind))
}

fn mark_key(s: &crate::sweep::Snapshot, f: &zhongfu_domain::policy::Finding, kind: &'static str) -> MarkKey {
    (
        s.policies[f.policy as usize].policy_id,
        s.columns.household_id(f.household(&s.columns)),
        f.person().map_or(0, |r| s.columns.person_id(r)),
        kind,
    )
}

/// How a finding is listed on the snapshot's date, with its taper's end: an
/// 应退未退 with a taper running is 渐退期; one whose taper has ended is
/// 应退未退 again (the end is shown). The taper holds whatever the
/// household's version, and does nothing on a row that is not 应退未退.
fn listed_kind<'a>(
    s: &crate::sweep::Snapshot,
    f: &'a zhongfu_domain::policy::Finding,
    marks: &HashMap<MarkKey, SweepMark>,
) -> (&'a zhongfu_domain::policy::Finding, ListedKind, Option<NaiveDate>) {
    let listed = ListedKind::of(f.kind);
    if f.kind != FindingKind::Stale {
        return (f, listed, None);
    }
    match marks.get(&mark_key(s, f, "taper")) {
        Some(m) if m.tapers_on(s.date) => (f, ListedKind::Taper, m.ends_on),
        Some(m) => (f, listed, m.ends_on),
        None => (f, listed, None),
    }
}

#[utoipa::path(get, path = "/api/v1/sweep", tag = "policies", responses((status = 200, body = SweepStatus)))]
pub async fn sweep_status(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Result<Json<SweepStatus>, ApiError> {
    Ok(Json(status_for(&state, &p).await?))
}

#[utoipa::path(post, path = "/api/v1/sweep/results", tag = "policies", request_body = ResultFilter,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(filter): Json<ResultFilter>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = filter.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(bad("limit", "每页条数须为 1 到 200", "a page holds 1 to 200 rows"));
    }
    let l = listed(&state, &p, &filter, limit).await?;
    Ok(Json(
        serde_json::json!({ "total": l.total, "items": l.rows, "by_policy": l.by_policy, "by_street": l.by_street, "by_community": l.by_community,
                                "status": status_for(&state, &p).await? }),
    ))
}

#[utoipa::path(post, path = "/api/v1/sweep/export", tag = "policies", request_body = ResultFilter,
    responses((status = 200, description = "The list as .xlsx"), (status = 400, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(mut filter): Json<ResultFilter>,
) -> Result<Response, ApiError> {
    filter.offset = 0;
    let l = listed(&state, &p, &filter, crate::households::EXPORT_LIMIT as usize).await?;
    let described = serde_json::json!({ "policy_id": filter.policy_id, "kind": filter.kind, "area": filter.area,
        "include_dismissed": filter.include_dismissed });
    let event = AuditEvent {
        action: "sweep.export".into(),
        entity: "sweep".into(),
        entity_id: String::new(),
        diff: serde_json::json!({ "filter": described, "rows": [null, l.rows.len()] }).to_string(),
    };
    state.store.record_audit(&p.actor(), &event).await?;
    let who = format!("{}（{}）", p.account.display_name, p.account.username);
    let words = in_words(&state, &p, &filter).await?;
    let params: Vec<(String, String)> =
        state.store.policy_params().await?.into_iter().map(|d| (d.name, d.label)).collect();
    let bytes = tokio::task::spawn_blocking(move || workbook(&l.rows, l.total, &who, &words, &params))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    let day = crate::households::today();
    Ok(crate::sheets::attachment(bytes, &format!("sweep-{day}.xlsx"), &format!("政策找人名单-{day}.xlsx")))
}

/// The filter in words, for the export's header: policy, list, area, dismissed rows.
async fn in_words(state: &AppState, p: &Principal, filter: &ResultFilter) -> Result<String, ApiError> {
    let policy = filter.policy_id.and_then(|id| {
        state
            .sweeper
            .read(|s| s.policies.iter().find(|a| a.policy_id == id).map(|a| a.definition.name.clone()))
            .flatten()
    });
    let kind = match filter.kind.as_deref().and_then(ListedKind::parse) {
        Some(ListedKind::Missing) => "应享未享",
        Some(ListedKind::Stale) => "应退未退",
        Some(ListedKind::Taper) => "渐退期",
        Some(ListedKind::Unknown) => "无法判定",
        None => "全部",
    };
    let scope = p.scope();
    let code = filter.area.as_deref().map(str::trim).filter(|a| !a.is_empty()).unwrap_or(scope.prefix());
    let code = zhongfu_domain::DivisionCode::parse(&format!("{code:0<12}")).ok();
    let area = match &code {
        Some(code) => state.store.division(code).await?.map(|d| d.name),
        None => None,
    };
    let dismissed = if filter.include_dismissed { "含已排除" } else { "不含已排除" };
    Ok(format!(
        "政策={}；名单={kind}；区域={}；{dismissed}",
        policy.as_deref().unwrap_or("全部"),
        area.as_deref().unwrap_or("本辖区")
    ))
}

fn workbook(
    rows: &[ResultRow],
    total: usize,
    who: &str,
    filter: &str,
    params: &[(String, String)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("政策找人名单")?;
    let bold = Format::new().set_bold().set_background_color("#EEF2F7");
    let text = Format::new().set_num_format("@");
    sheet.write_string_with_format(
        0,
        0,
        "政策找人名单（应享未享 / 应退未退 / 渐退期）",
        &Format::new().set_bold().set_font_size(14),
    )?;
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M");
    let cut =
        if total > rows.len() { format!("；共{total}条，仅导出前{}条", rows.len()) } else { String::new() };
    sheet.write_string(
        1,
        0,
        crate::sheets::fits(&format!("导出人：{who}；导出时间：{now}；筛选条件：{filter}{cut}")),
    )?;
    let headers = ["政策", "类型", "户编号", "社区", "姓名", "身份证号", "可享金额(元)", "判定依据", "标记"];
    for (col, h) in (0u16..).zip(headers) {
        sheet.write_string_with_format(3, col, h, &bold)?;
    }
    for (r, row) in (4u32..).zip(rows) {
        let kind = match row.kind.as_str() {
            "missing" => "应享未享",
            "stale" => "应退未退",
            "taper" => "渐退期",
            _ => "无法判定",
        };
        sheet.write_string(r, 0, &row.policy_name)?;
        sheet.write_string(r, 1, kind)?;
        sheet.write_string_with_format(r, 2, &row.household_number, &text)?;
        sheet.write_string(r, 3, &row.community_name)?;
        sheet.write_string(r, 4, &row.name)?;
        sheet.write_string_with_format(r, 5, &row.id_masked, &text)?;
        if let Some(b) = row.benefit_fen {
            sheet.write_number(r, 6, b as f64 / 100.0)?;
        }
        // A long rule's reason is cut to what a cell holds, not the export failed.
        sheet.write_string(r, 7, crate::sheets::fits(&zhongfu_domain::policy::readable_zh(&row.reason, params)))?;
        let mark = match (row.kind.as_str(), row.taper_ends) {
            ("taper", Some(end)) => format!("渐退期至 {end}"),
            (_, Some(end)) => format!("渐退期已于 {end} 结束"),
            _ => match (row.mark.as_deref(), row.mark_reason.as_deref()) {
                (Some("proposed"), _) => "拟纳入".to_owned(),
                (Some("dismissed"), Some(why)) => format!("已排除：{why}"),
                (Some("dismissed"), None) => "已排除".to_owned(),
                (other, _) => other.unwrap_or_default().to_owned(),
            },
        };
        sheet.write_string(r, 8, &mark)?;
    }
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(5, 22)?;
    sheet.set_column_width(7, 60)?;
    book.save_to_buffer()
}

/// A mark on one result row.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkForm {
    pub policy_id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    /// `missing` or `stale`.
    pub kind: String,
    /// `proposed`, `dismissed`, or `withdrawn` to take a proposal back.
    pub status: String,
    /// Required when dismissing.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/sweep/marks", tag = "policies", request_body = MarkForm,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mark(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<MarkForm>,
) -> Result<StatusCode, ApiError> {
    if !matches!(form.kind.as_str(), "missing" | "stale") {
        return Err(bad("kind", "类型须为 missing 或 stale", "kind must be missing or stale"));
    }
    if !matches!(form.status.as_str(), "proposed" | "dismissed" | "withdrawn") {
        return Err(bad(
            "status",
            "标记须为 proposed、dismissed 或 withdrawn",
            "status must be proposed, dismissed or withdrawn",
        ));
    }
    let reason = checked_reason(form.reason.as_deref())?;
    if form.status == "dismissed" && reason.is_none() {
        return Err(bad("reason", "排除须说明理由", "a dismissal needs a reason"));
    }
    // Only a row on the lists as they are now can be marked, as the kind it is listed as.
    let scope = p.scope();
    let row = state.sweeper.read(|s| on_list(s, scope.prefix(), form.policy_id, form.household_id, form.person_id));
    match row {
        None => return Err(no_sweep()),
        Some(OnList::NotFound) => return Err(ApiError::not_found()),
        Some(OnList::Row { wrong_level: Some(per_person), .. }) => return Err(wrong_level(per_person)),
        Some(OnList::Row { kind, .. }) if kind.map(|k| ListedKind::of(k).code()) != Some(form.kind.as_str()) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_listed",
                "该对象不在这份名单上（名单可能已随家庭变化更新），请刷新后再试",
                "this row is not on that list (it may have changed with the household): reload and try again",
            )
            .with_field("kind"));
        }
        Some(OnList::Row { .. }) => {}
    }
    let mark = SweepMark {
        policy_id: form.policy_id,
        household_id: form.household_id,
        person_id: form.person_id.unwrap_or(0),
        kind: form.kind,
        status: form.status,
        reason,
        household_version: 0,
        marked_by: p.account.id,
        marked_at: String::new(),
        ends_on: None,
    };
    match state.store.mark_finding(&p.actor(), &scope, &mark).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        // No such household in scope, or no such policy.
        Ok(false) | Err(zhongfu_store::StoreError::MissingReference(_)) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// A mark's reason, trimmed; none if blank. At most 200 characters.
fn checked_reason(reason: Option<&str>) -> Result<Option<String>, ApiError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 200) {
        return Err(bad("reason", "理由不超过 200 字", "at most 200 characters"));
    }
    Ok(reason.map(str::to_owned))
}

/// The gradual-exit period running on `as_of` for one row
/// (policy, household, person or 0), read from its community's marks.
async fn running_taper(
    state: &AppState,
    community: &str,
    row: (i64, i64, i64),
    as_of: NaiveDate,
) -> Result<Option<SweepMark>, ApiError> {
    let marks = state.store.sweep_marks(community).await?;
    Ok(marks.into_iter().find(|m| (m.policy_id, m.household_id, m.person_id) == row && m.tapers_on(as_of)))
}

/// The 应退未退 row whose gradual-exit period (渐退期) to start.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaperForm {
    pub policy_id: i64,
    pub household_id: i64,
    /// For a person-level policy, the member.
    pub person_id: Option<i64>,
}

/// A gradual-exit period started.
#[derive(Serialize, ToSchema)]
pub struct TaperStarted {
    pub policy_id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    /// The sweep's date it starts from.
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
    pub months: u32,
    /// Its last day: `as_of` plus `months` calendar months.
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
}

/// What the snapshot says of a taper asked for.
/// A result row as the current lists have it.
enum OnList {
    /// No such household within the caller's scope, no such member of it, or no such policy.
    NotFound,
    Row {
        index: usize,
        /// A member named, or not, against the policy's level: whether it is decided per person.
        wrong_level: Option<bool>,
        /// As the engine found it; none when the row is not on a list.
        kind: Option<FindingKind>,
        community: String,
    },
}

/// Where the row (policy, household, member) stands in `s`, seen from `prefix`.
fn on_list(s: &Snapshot, prefix: &str, policy_id: i64, household_id: i64, person_id: Option<i64>) -> OnList {
    // Scope first: a row outside it is not found, whatever it is.
    let Some(row) = s.columns.row_of(household_id) else { return OnList::NotFound };
    let community = s.columns.community(row);
    if !community.as_str().starts_with(prefix) {
        return OnList::NotFound;
    }
    let Some(index) = s.policies.iter().position(|a| a.policy_id == policy_id) else { return OnList::NotFound };
    let per_person = s.policies[index].definition.level == Level::Person;
    let wrong_level = (per_person != person_id.is_some()).then_some(per_person);
    if let Some(id) = person_id.filter(|_| wrong_level.is_none())
        && !s.columns.persons(row).any(|r| s.columns.person_id(r) == id)
    {
        return OnList::NotFound;
    }
    let kind = s
        .findings()
        .find(|f| {
            f.household(&s.columns) == row
                && f.policy as usize == index
                && f.person().map(|r| s.columns.person_id(r)) == person_id
        })
        .map(|f| f.kind);
    OnList::Row { index, wrong_level, kind, community: community.as_str().to_owned() }
}

/// 409 when no sweep has made the lists yet.
fn no_sweep() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "no_sweep",
        "尚未运行政策找人，还没有名单",
        "no sweep has run yet, so there are no lists",
    )
}

/// 400 for a member named (or not) against the policy's level.
fn wrong_level(per_person: bool) -> ApiError {
    let (zh, en) = if per_person {
        ("该政策按人判定，须指明成员", "this policy is decided per person: name the member")
    } else {
        ("该政策按户判定，不指明成员", "this policy is decided per household: name no member")
    };
    bad("person_id", zh, en)
}

enum TaperCase {
    /// The household is not in the sweep within the caller's scope, or the policy is not in it.
    NotFound,
    WrongLevel(bool),
    NoTaper,
    NotStale,
    Stale {
        as_of: NaiveDate,
        months: u32,
        ends_on: NaiveDate,
        community: String,
    },
}

/// Starts the gradual-exit period of an 应退未退 row of a policy with
/// `taper_months`: until the sweep's date plus that many months the row is
/// listed as 渐退期, not 应退未退. A household change does not end it.
#[utoipa::path(post, path = "/api/v1/sweep/tapers", tag = "policies", request_body = TaperForm,
    responses((status = 200, body = TaperStarted), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn start_taper(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<TaperForm>,
) -> Result<Json<TaperStarted>, ApiError> {
    let scope = p.scope();
    let case = state.sweeper.read(|s| {
        let (index, wrong_level, kind, community) =
            match on_list(s, scope.prefix(), form.policy_id, form.household_id, form.person_id) {
                OnList::NotFound => return TaperCase::NotFound,
                OnList::Row { index, wrong_level, kind, community } => (index, wrong_level, kind, community),
            };
        let def = &s.policies[index].definition;
        let (Some(months), Some(ends_on)) = (def.taper_months, def.taper_end(s.date)) else {
            return TaperCase::NoTaper;
        };
        if let Some(per_person) = wrong_level {
            return TaperCase::WrongLevel(per_person);
        }
        if kind != Some(FindingKind::Stale) {
            return TaperCase::NotStale;
        }
        TaperCase::Stale { as_of: s.date, months, ends_on, community }
    });
    let row_field = if form.person_id.is_some() { "person_id" } else { "household_id" };
    let (as_of, months, ends_on, community) = match case {
        None => return Err(no_sweep()),
        Some(TaperCase::NotFound) => return Err(ApiError::not_found()),
        Some(TaperCase::WrongLevel(per_person)) => return Err(wrong_level(per_person)),
        Some(TaperCase::NoTaper) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "no_taper",
                "该政策未设渐退期（taper_months），不能启动渐退",
                "this policy has no gradual-exit period (taper_months), so no gradual exit can start",
            )
            .with_field("policy_id"));
        }
        Some(TaperCase::NotStale) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "not_stale",
                "该对象不在此政策的应退未退名单中，不能启动渐退期",
                "this row is not 应退未退 (receives but no longer qualifies) for this policy, so no gradual exit can start",
            )
            .with_field(row_field));
        }
        Some(TaperCase::Stale { as_of, months, ends_on, community }) => (as_of, months, ends_on, community),
    };
    let person_id = form.person_id.unwrap_or(0);
    let running = running_taper(&state, &community, (form.policy_id, form.household_id, person_id), as_of).await?;
    if let Some(end) = running.and_then(|m| m.ends_on) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "taper_running",
            format!("渐退期已在进行，至 {end} 结束"),
            format!("a gradual-exit period is already running, until {end}"),
        )
        .with_field(row_field));
    }
    let mark = SweepMark {
        policy_id: form.policy_id,
        household_id: form.household_id,
        person_id,
        kind: "taper".into(),
        status: "started".into(),
        reason: None,
        household_version: 0,
        marked_by: p.account.id,
        marked_at: String::new(),
        ends_on: Some(ends_on),
    };
    match state.store.mark_finding(&p.actor(), &scope, &mark).await {
        Ok(true) => Ok(Json(TaperStarted {
            policy_id: form.policy_id,
            household_id: form.household_id,
            person_id: form.person_id,
            as_of,
            months,
            ends_on,
        })),
        Ok(false) | Err(zhongfu_store::StoreError::MissingReference(_)) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The running gradual-exit period (渐退期) to end early, and why.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndTaperForm {
    pub policy_id: i64,
    pub household_id: i64,
    /// For a person-level policy, the member.
    pub person_id: Option<i64>,
    /// Why it ends early (required, at most 200 characters), e.g. started by mistake.
    pub reason: String,
}

/// A gradual-exit period ended early.
#[derive(Serialize, ToSchema)]
pub struct TaperEnded {
    pub policy_id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    /// Its last day now: the day before the sweep's date, so the row is 应退未退 again.
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
}

/// Ends a running gradual-exit period early (started by mistake, or no
/// longer wanted): its last day becomes the day before the sweep's date, so
/// the row is listed as 应退未退 again, showing when the period ended. The
/// reason is kept and audited; a new period can be started afterwards.
#[utoipa::path(post, path = "/api/v1/sweep/tapers/end", tag = "policies", request_body = EndTaperForm,
    responses((status = 200, body = TaperEnded), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn end_taper(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<EndTaperForm>,
) -> Result<Json<TaperEnded>, ApiError> {
    let Some(reason) = checked_reason(Some(&form.reason))? else {
        return Err(bad("reason", "提前结束渐退期须说明理由", "ending a gradual exit early needs a reason"));
    };
    let scope = p.scope();
    // Scope first: a household outside it is not found.
    let found = state.sweeper.read(|s| {
        let row = s.columns.row_of(form.household_id)?;
        let community = s.columns.community(row).as_str().to_owned();
        community.starts_with(scope.prefix()).then_some((s.date, community))
    });
    let Some(found) = found else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_sweep",
            "尚未运行政策找人，没有渐退期可结束",
            "no sweep has run yet, so there is no gradual exit to end",
        ));
    };
    let Some((as_of, community)) = found else { return Err(ApiError::not_found()) };
    let row = (form.policy_id, form.household_id, form.person_id.unwrap_or(0));
    let Some(mut mark) = running_taper(&state, &community, row, as_of).await? else {
        let field = if form.person_id.is_some() { "person_id" } else { "household_id" };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_taper_running",
            "该对象没有进行中的渐退期",
            "no gradual-exit period is running for this row",
        )
        .with_field(field));
    };
    let ends_on = as_of.pred_opt().unwrap_or(as_of);
    mark.status = "ended".into();
    mark.reason = Some(reason);
    mark.marked_by = p.account.id;
    mark.ends_on = Some(ends_on);
    match state.store.mark_finding(&p.actor(), &scope, &mark).await {
        Ok(true) => Ok(Json(TaperEnded {
            policy_id: form.policy_id,
            household_id: form.household_id,
            person_id: form.person_id,
            ends_on,
        })),
        Ok(false) | Err(zhongfu_store::StoreError::MissingReference(_)) => Err(ApiError::not_found()),
        Err(e) => Err(e.into()),
    }
}
