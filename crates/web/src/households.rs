//! The household registry (一户一表): search, the household page, edits that
//! carry the version they were made against, the audited ID reveal, and
//! export to Excel. Searches travel in POST bodies so that names, ID numbers
//! and phones never appear in a URL or an access log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zhongfu_domain::policy::{Col, code_label_zh};
use zhongfu_domain::registry::{
    Category, DisabilityKind, Employment, Health, HousingCondition, IncomeItem, IncomeKind, Marital, Person,
    Registration, Relation, Schooling, Tag, Tenure, WorkAbility,
};
use zhongfu_domain::{Fen, IdNumber};
use zhongfu_store::AuditEvent;
use zhongfu_store::identity::{AuditFilter, AuditRecord};
use zhongfu_store::registry::{
    EditOutcome, HoldingEdit, HouseholdDetail, HouseholdEdit, HouseholdFacets, HouseholdFilter, HouseholdPage,
    HouseholdSort, MemberEdit, PhoneOf,
};

use crate::AppState;
use crate::accounts::{optional, text};
use crate::auth::Principal;
use crate::divisions::parse_code;
use crate::error::{ApiError, ErrorBody};

const PAGE_LIMIT: i64 = 100;
/// At most this many households go into one export; narrow the filter for more.
pub const EXPORT_LIMIT: i64 = 200_000;

pub(crate) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

pub(crate) fn bad(field: &'static str, zh: &str, en: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_value", zh, en).with_field(field)
}

/// Parses an optional coded value by its code or Chinese label.
fn coded<T>(field: &'static str, value: &Option<String>, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    match optional(value.as_deref()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| bad(field, "取值不在可选范围内", "not one of the allowed values")),
    }
}

/// A coded value with its labels.
#[derive(Serialize, ToSchema)]
pub struct Code {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// Every coded list of the registry, for filters, forms and labels.
#[derive(Serialize, ToSchema)]
pub struct Codes {
    pub category: Vec<Code>,
    pub tag: Vec<Code>,
    pub relation: Vec<Code>,
    pub registration: Vec<Code>,
    pub tenure: Vec<Code>,
    pub housing_condition: Vec<Code>,
    pub income_kind: Vec<Code>,
    pub marital: Vec<Code>,
    pub health: Vec<Code>,
    pub disability_kind: Vec<Code>,
    pub work_ability: Vec<Code>,
    pub employment: Vec<Code>,
    pub schooling: Vec<Code>,
}

macro_rules! codes {
    ($t:ty) => {
        <$t>::ALL.iter().map(|v| Code { code: v.code(), zh: v.label_zh(), en: v.label_en() }).collect()
    };
}

#[utoipa::path(get, path = "/api/v1/households/codes", tag = "households", responses((status = 200, body = Codes)))]
pub async fn codes() -> Json<Codes> {
    Json(Codes {
        category: codes!(Category),
        tag: codes!(Tag),
        relation: codes!(Relation),
        registration: codes!(Registration),
        tenure: codes!(Tenure),
        housing_condition: codes!(HousingCondition),
        income_kind: codes!(IncomeKind),
        marital: codes!(Marital),
        health: codes!(Health),
        disability_kind: codes!(DisabilityKind),
        work_ability: codes!(WorkAbility),
        employment: codes!(Employment),
        schooling: codes!(Schooling),
    })
}

/// A registry search, as the console's filter panel sends it. A field it does not
/// know is refused, not ignored: a misspelt filter would otherwise list everyone.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// A street or community code (12 digits) within your jurisdiction.
    pub division: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    /// 户编号, or its start.
    pub number: Option<String>,
    /// Part of a member's name.
    pub name: Option<String>,
    /// A full ID number (found through the blind index).
    pub id_number: Option<String>,
    /// A full phone number.
    pub phone: Option<String>,
    pub age_min: Option<u32>,
    pub age_max: Option<u32>,
    pub disability_kind: Option<String>,
    pub disability_grade: Option<u8>,
    pub work_ability: Option<String>,
    /// Monthly income per living member, in fen.
    pub income_min: Option<i64>,
    pub income_max: Option<i64>,
    /// community (the default: community, then 户编号), number, members or income.
    pub sort: Option<String>,
    pub descending: Option<bool>,
    /// From 1.
    pub page: Option<i64>,
    /// At most 100.
    pub per_page: Option<i64>,
    /// Whether to count the matches per street or community, category and tag (default true).
    pub facets: Option<bool>,
}

impl Search {
    pub fn filter(&self, p: &Principal) -> Result<HouseholdFilter, ApiError> {
        let mut f = HouseholdFilter::new(today());
        if let Some(d) = optional(self.division.as_deref()) {
            let code = parse_code("division", d)?;
            if !p.scope().covers(&code) && !code.contains(p.scope().jurisdiction()) {
                return Err(bad("division", "该区划不在您的管辖范围内", "this division is outside your jurisdiction"));
            }
            f.division = Some(code);
        }
        f.category = coded("category", &self.category, Category::parse)?;
        f.tag = coded("tag", &self.tag, Tag::parse)?;
        // As long as a household number may be (40).
        f.number = optional(self.number.as_deref()).map(|n| text("number", n, 40)).transpose()?;
        if let Some(name) = optional(self.name.as_deref()) {
            f.name = Some(text("name", name, 30)?);
        }
        if let Some(id) = optional(self.id_number.as_deref()) {
            f.id_number = Some(IdNumber::parse(id).map_err(|e| ApiError::invalid("id_number", &e))?);
        }
        if let Some(phone) = optional(self.phone.as_deref()) {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            if !(7..=12).contains(&digits.len()) {
                return Err(bad("phone", "电话号码应为7–12位数字", "a phone number has 7 to 12 digits"));
            }
            f.phone = Some(digits);
        }
        if self.age_min.is_some_and(|a| a > 150) {
            return Err(bad("age_min", "年龄应在0到150岁之间", "an age is 0 to 150"));
        }
        if self.age_min.zip(self.age_max).is_some_and(|(a, b)| a > b) || self.age_max.is_some_and(|a| a > 150) {
            return Err(bad("age_max", "年龄范围不正确", "the age range is not valid"));
        }
        f.age_min = self.age_min;
        f.age_max = self.age_max;
        f.disability_kind = coded("disability_kind", &self.disability_kind, DisabilityKind::parse)?;
        if self.disability_grade.is_some_and(|g| !(1..=4).contains(&g)) {
            return Err(bad("disability_grade", "残疾等级为1–4级", "a disability grade is 1 to 4"));
        }
        f.disability_grade = self.disability_grade;
        f.work_ability = coded("work_ability", &self.work_ability, WorkAbility::parse)?;
        f.income_min = self.income_min.map(|v| amount("income_min", v)).transpose()?;
        f.income_max = self.income_max.map(|v| amount("income_max", v)).transpose()?;
        if f.income_min.zip(f.income_max).is_some_and(|(a, b)| a > b) {
            return Err(bad("income_max", "收入范围不正确", "the income range is not valid"));
        }
        f.sort = match optional(self.sort.as_deref()) {
            Some("number") => HouseholdSort::Number,
            None | Some("community") => HouseholdSort::Community,
            Some("members") => HouseholdSort::Members,
            Some("income") => HouseholdSort::Income,
            Some(_) => return Err(bad("sort", "排序字段不正确", "sort by number, community, members or income")),
        };
        f.descending = self.descending.unwrap_or(false);
        if self.page.is_some_and(|p| p < 1) {
            return Err(bad("page", "页码从 1 开始", "pages are counted from 1"));
        }
        if self.per_page.is_some_and(|n| n < 1) {
            return Err(bad("per_page", "每页至少 1 条", "a page holds at least 1 row"));
        }
        // More than a page holds is cut to the most it holds.
        f.limit = self.per_page.unwrap_or(20).min(PAGE_LIMIT);
        f.offset = (self.page.unwrap_or(1) - 1).saturating_mul(f.limit);
        Ok(f)
    }

    /// The filter in words, for the export's header; the division by its name when known.
    fn describe(&self, division_name: Option<&str>) -> String {
        let mut parts = Vec::new();
        let mut put = |label: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
                parts.push(format!("{label}={v}"));
            }
        };
        let division = self.division.as_deref().map(str::trim).filter(|d| !d.is_empty());
        put("区划", division.map(|d| division_name.map_or_else(|| d.to_owned(), |n| format!("{n}（{d}）"))));
        // Codes as their Chinese names, money in yuan: the header is read by people.
        let named = |code: &Option<String>, name: fn(&str) -> Option<&'static str>| {
            code.as_deref().map(|c| name(c).map_or_else(|| c.to_owned(), str::to_owned))
        };
        let yuan = |fen: Option<i64>| fen.map(|v| Fen(v).grouped());
        put("类别", named(&self.category, |c| Category::parse(c).map(Category::label_zh)));
        put("标签", named(&self.tag, |c| Tag::parse(c).map(Tag::label_zh)));
        put("户编号", self.number.clone());
        put("姓名含", self.name.clone());
        put("身份证号", self.id_number.as_deref().and_then(|i| IdNumber::parse(i).ok()).map(|i| i.masked()));
        put("电话", self.phone.as_deref().map(zhongfu_domain::pii::mask_phone));
        put("最小年龄", self.age_min.map(|a| a.to_string()));
        put("最大年龄", self.age_max.map(|a| a.to_string()));
        put("残疾类别", named(&self.disability_kind, |c| DisabilityKind::parse(c).map(DisabilityKind::label_zh)));
        put("残疾等级", self.disability_grade.map(|g| g.to_string()));
        put("劳动能力", named(&self.work_ability, |c| WorkAbility::parse(c).map(WorkAbility::label_zh)));
        put("人均月收入下限(元)", yuan(self.income_min));
        put("人均月收入上限(元)", yuan(self.income_max));
        if parts.is_empty() { "全部".to_owned() } else { parts.join("；") }
    }
}

/// A page of the registry list with the counts beside each filter option.
#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<zhongfu_store::registry::HouseholdSummary>,
    /// Matching households per street (or community, when the list is already one
    /// street's), per category and per tag; a category's or tag's count leaves out
    /// the filter's own category or tag. Absent when `facets` was false.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub facets: Option<HouseholdFacets>,
}

#[utoipa::path(post, path = "/api/v1/households/search", tag = "households", request_body = Search,
    responses((status = 200, body = SearchResult), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(search): Json<Search>,
) -> Result<Json<SearchResult>, ApiError> {
    let scope = p.scope();
    let filter = search.filter(&p)?;
    let page = state.store.households(&scope, &filter).await?;
    let facets = match search.facets {
        Some(false) => None,
        _ => Some(state.store.household_facets(&scope, &filter).await?),
    };
    Ok(Json(SearchResult { total: page.total, items: page.items, facets }))
}

/// The counts beside each filter option alone: the console asks for them beside
/// the page, so a list of millions shows its first page before they are counted.
/// Paging and sorting in the body are ignored.
#[utoipa::path(post, path = "/api/v1/households/facets", tag = "households", request_body = Search,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
pub async fn facets(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(search): Json<Search>,
) -> Result<Json<HouseholdFacets>, ApiError> {
    let filter = search.filter(&p)?;
    Ok(Json(state.store.household_facets(&p.scope(), &filter).await?))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let Some(household) = state.store.household(&p.scope(), id, today()).await? else {
        return Err(merged_away(&state, &p, id).await?.unwrap_or_else(ApiError::not_found));
    };
    let version = household.version;
    let mut res = Json(household).into_response();
    res.headers_mut().insert(header::ETAG, etag(version));
    Ok(res)
}

/// For a household merged into another the caller sees: 404 saying into which
/// (`merged`, its number as `see`, so the console can open it) and when.
async fn merged_away(state: &AppState, p: &Principal, id: i64) -> Result<Option<ApiError>, ApiError> {
    let filter = AuditFilter {
        action: Some("household.merged_away".into()),
        entity: Some("household".into()),
        entity_id: Some(id.to_string()),
        limit: 1,
        ..Default::default()
    };
    let Some(record) = state.store.audit_page(&filter).await?.records.into_iter().next() else { return Ok(None) };
    let diff: serde_json::Value = serde_json::from_str(&record.diff).unwrap_or_default();
    let Some(number) = diff["merged_into"][1].as_str() else { return Ok(None) };
    // Only a household the caller may open is named.
    // Numbers are matched by their start: sorted by number, the exact one comes first.
    let search = Search { number: Some(number.to_owned()), sort: Some("number".into()), ..Default::default() };
    let page = state.store.households(&p.scope(), &search.filter(p)?).await?;
    if !page.items.iter().any(|h| h.number == number) {
        return Ok(None);
    }
    // The record's time is UTC; the day is the district's.
    let day = chrono::DateTime::parse_from_rfc3339(&record.at)
        .map(|t| t.with_timezone(&chrono::Local).date_naive().to_string())
        .unwrap_or_else(|_| record.at.chars().take(10).collect());
    let error = ApiError::new(
        StatusCode::NOT_FOUND,
        "merged",
        format!("该户已于 {day} 并入户 {number}"),
        format!("this household was merged into household {number} on {day}"),
    );
    Ok(Some(error.with_see(number.to_owned())))
}

#[derive(Serialize, ToSchema)]
pub struct History {
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<AuditRecord>,
    /// Each acting account's display name, by account id (the records name the login).
    pub actors: std::collections::BTreeMap<i64, String>,
}

/// The household's changes, newest first, from the audit trail.
#[utoipa::path(get, path = "/api/v1/households/{id}/history", tag = "households",
    responses((status = 200, body = History), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<History>, ApiError> {
    let household = state.store.household(&p.scope(), id, today()).await?.ok_or_else(ApiError::not_found)?;
    let filter = AuditFilter {
        entity: Some("household".into()),
        entity_id: Some(id.to_string()),
        // How it arrived: the import (or generator) batch that registered it.
        or_seq: household.created_audit,
        or_persons: household.members.iter().map(|m| m.id).collect(),
        limit: 200,
        ..AuditFilter::default()
    };
    let mut records = state.store.audit_page(&filter).await?.records;
    // The batch's record names its first and last household, maybe of other streets: not shown here.
    let own = id.to_string();
    for r in records.iter_mut().filter(|r| r.entity_id != own) {
        r.entity_id.clear();
    }
    let mut actors = std::collections::BTreeMap::new();
    for id in records.iter().filter_map(|r| r.actor_id) {
        if !actors.contains_key(&id)
            && let Some(account) = state.store.account(id).await?
        {
            actors.insert(id, account.display_name);
        }
    }
    Ok(Json(History { records, actors }))
}

#[derive(Serialize, ToSchema)]
pub struct Revealed {
    pub id_number: String,
}

/// A member's full ID number. Every reveal is written to the audit trail.
#[utoipa::path(post, path = "/api/v1/persons/{id}/reveal", tag = "households",
    responses((status = 200, body = Revealed), (status = 404, body = ErrorBody)))]
pub async fn reveal(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Revealed>, ApiError> {
    let id_number = state.store.reveal_id_number(&p.actor(), &p.scope(), id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(Revealed { id_number }))
}

#[derive(Serialize, ToSchema)]
pub struct RevealedPhone {
    /// None when no phone is registered.
    pub phone: Option<String>,
}

/// A member's full phone number. Every reveal is written to the audit trail.
#[utoipa::path(post, path = "/api/v1/persons/{id}/reveal-phone", tag = "households",
    responses((status = 200, body = RevealedPhone), (status = 404, body = ErrorBody)))]
pub async fn reveal_member_phone(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<RevealedPhone>, ApiError> {
    reveal_phone(&state, &p, PhoneOf::Person(id)).await
}

/// A household's full phone number. Every reveal is written to the audit trail.
#[utoipa::path(post, path = "/api/v1/households/{id}/reveal-phone", tag = "households",
    responses((status = 200, body = RevealedPhone), (status = 404, body = ErrorBody)))]
pub async fn reveal_household_phone(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<RevealedPhone>, ApiError> {
    reveal_phone(&state, &p, PhoneOf::Household(id)).await
}

async fn reveal_phone(state: &AppState, p: &Principal, of: PhoneOf) -> Result<Json<RevealedPhone>, ApiError> {
    let phone = state.store.reveal_phone(&p.actor(), &p.scope(), of).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(RevealedPhone { phone }))
}

/// The version an edit was made against, from `If-Match: "7"`.
fn if_match(headers: &HeaderMap) -> Result<i64, ApiError> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().trim_start_matches("W/").trim_matches('"').parse().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "version_required",
                "修改须带上所依据的版本（If-Match）",
                "an edit must say which version it was made against (If-Match)",
            )
        })
}

/// Someone saved first: 412 with the household as it is now, so the console
/// can show what changed meanwhile.
#[derive(Serialize, ToSchema)]
pub struct Stale {
    pub code: &'static str,
    pub message: String,
    #[schema(value_type = Object)]
    pub current: HouseholdDetail,
}

#[derive(Serialize, ToSchema)]
pub struct Saved {
    pub version: i64,
}

/// Re-evaluates changed households for the sweep's lists, in the request.
async fn touch(state: &AppState, ids: &[i64], result: &EditOutcome) {
    if matches!(result, EditOutcome::Saved(_)) {
        for &id in ids {
            state.sweeper.refresh(state.store.as_ref(), id).await;
        }
    }
}

fn outcome(outcome: EditOutcome, headers: &HeaderMap) -> Result<Response, ApiError> {
    match outcome {
        EditOutcome::Saved(version) => {
            let mut res = Json(Saved { version }).into_response();
            res.headers_mut().insert(header::ETAG, etag(version));
            Ok(res)
        }
        EditOutcome::NotFound => Err(ApiError::not_found()),
        EditOutcome::Stale(current) => {
            let en = crate::error::Lang::from_headers(headers) == crate::error::Lang::En;
            let message = if en {
                "someone else saved this household meanwhile; here it is as it is now"
            } else {
                "该户已被他人修改，以下是最新内容"
            };
            let mut res = (
                StatusCode::PRECONDITION_FAILED,
                Json(Stale { code: "stale_version", message: message.into(), current: *current }),
            )
                .into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        EditOutcome::Conflict(code) => {
            let (zh, en, field) = match code {
                "person_elsewhere" => {
                    ("此人已登记在另一户", "this person is registered in another household", "id_number")
                }
                "remove_head" => (
                    "不能移除户主，请先更换户主",
                    "the head cannot be removed; make another member head first",
                    "relation",
                ),
                "move_head" => (
                    "该成员是户主且户内还有其他成员，不能迁出；请先更换户主",
                    "this member heads a household with other members and cannot be moved; make another member head first",
                    "person",
                ),
                "holding_overlap" => (
                    "该对象在这段时间已享有此类别，请修改原记录的日期",
                    "this category is already held for part of that period; change the dates of that record instead",
                    "start_date",
                ),
                "move_last" => (
                    "该成员是本户唯一成员，迁出会留下空户；请改用“合并”把两户合为一户",
                    "this is the household's only member, and moving them out would leave it empty: merge the two households instead",
                    "person",
                ),
                "move_deceased" => (
                    "该成员已去世，不能迁往另一户",
                    "this member has died and cannot move to another household",
                    "person",
                ),
                "move_self" => {
                    ("迁入户不能是本户", "the household to move to must be another household", "to_household")
                }
                "keep_head" => (
                    "户主不能改为其他关系：请把另一位成员设为户主（原户主将改为“其他”）",
                    "the head's relation cannot change by itself: make another member head (the former head becomes other)",
                    "relation",
                ),
                "number_taken" => {
                    ("该户编号已被另一户使用", "this household number is already used by another household", "number")
                }
                "split_members" => (
                    "请选择本户的成员分出，并从中指定新户的户主",
                    "choose members of this household to split off, and one of them to head the new household",
                    "members",
                ),
                "merge_self" => (
                    "不能与本户合并，请选择另一户",
                    "a household cannot be merged with itself; choose another",
                    "other",
                ),
                _ => ("每户只能有一位户主", "a household has exactly one head", "relation"),
            };
            Err(ApiError::new(StatusCode::CONFLICT, code, zh, en).with_field(field))
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdForm {
    /// 户编号; absent keeps it. Unique in the district.
    pub number: Option<String>,
    pub community: String,
    pub address: String,
    /// Absent keeps the phone; an empty string clears it.
    pub phone: Option<String>,
    pub registration: String,
    pub tenure: String,
    /// `good`, `fair` or `poor` (住房条件). Absent keeps it; an empty string clears it.
    pub housing_condition: Option<String>,
    pub dangerous_housing: bool,
    pub assets_fen: i64,
    /// The household's own monthly income by kind (`business`, `property`,
    /// `transfer`, `other`). Absent keeps them; a list replaces them.
    pub income_items: Option<Vec<IncomeItemForm>>,
    /// Whether the income (members' and the household's own) is still not
    /// recorded: the sweep cannot decide rules that read it. Absent keeps it.
    pub income_unrecorded: Option<bool>,
    /// Whether the assets are still not recorded, likewise.
    pub assets_unrecorded: Option<bool>,
    pub tags: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomeItemForm {
    pub kind: String,
    pub monthly_fen: i64,
}

/// Income items as the household page sends them: each kind once, amounts not
/// negative; an item of 0 is left out.
fn income_items(form: &[IncomeItemForm]) -> Result<Vec<IncomeItem>, ApiError> {
    let mut items: Vec<IncomeItem> = Vec::new();
    for item in form {
        let kind = required("income_items", item.kind.trim(), IncomeKind::parse)?;
        let monthly = amount("income_items", item.monthly_fen)?;
        if items.iter().any(|i| i.kind == kind) {
            return Err(bad("income_items", "每种收入只能填写一次", "each kind of income is given once"));
        }
        if monthly > Fen::ZERO {
            items.push(IncomeItem { kind, monthly });
        }
    }
    items.sort_by_key(|i| i.kind);
    Ok(items)
}

/// An amount a person typed: 0 to 1,000,000,000 yuan (`Fen::MAX_AMOUNT`), as a sheet's cell.
fn amount(field: &'static str, fen: i64) -> Result<Fen, ApiError> {
    if (0..=Fen::MAX_AMOUNT.0).contains(&fen) {
        Ok(Fen(fen))
    } else {
        Err(bad(field, "金额应在0至10亿元之间", "an amount is between 0 and 1,000,000,000 yuan"))
    }
}

fn phone_edit(field: &'static str, phone: &Option<String>) -> Result<Option<Option<String>>, ApiError> {
    match phone.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(p) => zhongfu_domain::ledger::parse_phone(&zhongfu_domain::ledger::Cell::Text(p.to_owned()))
            .map(|p| Some(Some(p)))
            .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, r.code, r.zh, r.en).with_field(field)),
    }
}

/// A day a form gives as text: `YYYY-MM-DD`, a day that exists, and [`plausible`].
pub(crate) fn day_field(field: &'static str, text: &str) -> Result<NaiveDate, ApiError> {
    let invalid = |zh: &str, en: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_date", zh, en).with_field(field);
    match zhongfu_domain::day::checked(text) {
        Ok(d) => plausible(field, d),
        Err(zhongfu_domain::day::NO_SUCH_DAY) => {
            Err(invalid(&format!("没有这一天：{text}"), &format!("there is no such day: {text}")))
        }
        Err(_) => Err(invalid("日期格式应为 YYYY-MM-DD", "dates look like YYYY-MM-DD")),
    }
}

/// A date of this registry's world: 1900 to 2100 (a typo like 20255 or -2025 is refused,
/// not handed to a database that cannot store it).
pub(crate) fn plausible(field: &'static str, d: NaiveDate) -> Result<NaiveDate, ApiError> {
    if (1900..=2100).contains(&d.year()) {
        Ok(d)
    } else {
        Err(bad(field, "日期应在1900年至2100年之间", "a date is between 1900 and 2100"))
    }
}

fn required<T>(field: &'static str, value: &str, parse: fn(&str) -> Option<T>) -> Result<T, ApiError> {
    parse(value).ok_or_else(|| bad(field, "取值不在可选范围内", "not one of the allowed values"))
}

#[utoipa::path(put, path = "/api/v1/households/{id}", tag = "households", request_body = HouseholdForm,
    params(("If-Match" = String, Header, description = "The version the edit was made against")),
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = Stale), (status = 428, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(form): Json<HouseholdForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    // Out of scope is 404 whatever the form says.
    state.store.household(&p.scope(), id, today()).await?.ok_or_else(ApiError::not_found)?;
    let community = parse_code("community", form.community.trim())?;
    if !p.scope().covers(&community) || state.store.division(&community).await?.is_none() {
        return Err(bad("community", "该社区不在您的管辖范围内", "this community is outside your jurisdiction"));
    }
    // A household lives in a community (village): a street's or the district's code would
    // take it off every community's list.
    if community.level() != zhongfu_domain::division::DivisionLevel::Village {
        return Err(bad(
            "community",
            "须选择一个社区（村），不能是街道或区",
            "choose a community (village), not a street or district",
        ));
    }
    // Every field is checked, so one answer names all that are wrong.
    let number = form.number.as_deref().map(|n| text("number", n, 40)).transpose();
    let address = if form.address.trim().is_empty() { Ok(String::new()) } else { text("address", &form.address, 100) };
    let phone = phone_edit("phone", &form.phone);
    let registration = required("registration", &form.registration, Registration::parse);
    let tenure = required("tenure", &form.tenure, Tenure::parse);
    let housing_condition = match form.housing_condition.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(c) => required("housing_condition", c, HousingCondition::parse).map(|c| Some(Some(c))),
    };
    let assets = amount("assets_fen", form.assets_fen);
    let items = form.income_items.as_deref().map(income_items).transpose();
    // Each tag once, however often it was sent.
    let tags = form.tags.iter().map(|t| required("tags", t, Tag::parse)).collect::<Result<Vec<_>, _>>().map(|mut v| {
        let mut seen = Vec::new();
        v.retain(|t| {
            !seen.contains(t) && {
                seen.push(*t);
                true
            }
        });
        v
    });
    ApiError::first_of([
        number.as_ref().err(),
        address.as_ref().err(),
        phone.as_ref().err(),
        registration.as_ref().err(),
        tenure.as_ref().err(),
        housing_condition.as_ref().err(),
        assets.as_ref().err(),
        items.as_ref().err(),
        tags.as_ref().err(),
    ])?;
    let edit = HouseholdEdit {
        number: number?,
        community,
        // A ledger may leave the address blank: the household stays editable without one.
        address: address?,
        phone: phone?,
        registration: registration?,
        tenure: tenure?,
        housing_condition: housing_condition?,
        dangerous_housing: form.dangerous_housing,
        assets: assets?,
        income_items: items?,
        income_unrecorded: form.income_unrecorded,
        assets_unrecorded: form.assets_unrecorded,
        tags: tags?,
    };
    let result = state.store.update_household(&p.actor(), &p.scope(), id, version, &edit, today()).await?;
    touch(&state, &[id], &result).await;
    outcome(result, &headers)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberForm {
    pub name: String,
    /// Only when adding a member; an existing member's ID does not change.
    pub id_number: Option<String>,
    pub relation: String,
    pub phone: Option<String>,
    pub marital: String,
    pub health: String,
    pub disability_kind: Option<String>,
    pub disability_grade: Option<u8>,
    /// The disability certificate number; absent keeps it, an empty string clears it.
    pub disability_cert: Option<String>,
    pub work_ability: String,
    pub employment: String,
    pub schooling: String,
    pub monthly_income_fen: i64,
    /// `YYYY-MM-DD`; records a death, which ends the member's categories from the next month.
    /// In an edit, absent keeps the recorded one; null or an empty string clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub death_date: Option<Option<String>>,
}

impl MemberForm {
    /// The member as edited; every field is checked, so one answer names all that are wrong.
    fn edit(&self) -> Result<MemberEdit, ApiError> {
        let disability = match (optional(self.disability_kind.as_deref()), self.disability_grade) {
            (Some(kind), Some(grade)) if (1..=4).contains(&grade) => {
                required("disability_kind", kind, DisabilityKind::parse).map(|kind| Some((kind, grade)))
            }
            (None, None) => Ok(None),
            (Some(_), _) => Err(bad("disability_grade", "残疾等级为1–4级", "a disability grade is 1 to 4")),
            (None, Some(_)) => Err(bad("disability_kind", "请填写残疾类别", "give the disability type")),
        };
        let certificate = match self.disability_cert.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            // A certificate without a disability would be dropped unseen.
            Some(_) if optional(self.disability_kind.as_deref()).is_none() => Err(bad(
                "disability_cert",
                "未填残疾类别时不能填残疾证号",
                "a disability certificate needs a disability type",
            )),
            Some(c) => zhongfu_domain::ledger::parse_certificate(c)
                .map(|c| Some(Some(c)))
                .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, r.code, r.zh, r.en).with_field("disability_cert")),
        };
        let death_date = match optional(self.death_date.as_ref().and_then(Option::as_deref)) {
            None => Ok(None),
            Some(d) => day_field("death_date", d).and_then(|date| match date > today() {
                true => Err(bad("death_date", "死亡日期不能晚于今天", "the date of death cannot be in the future")),
                false => Ok(Some(date)),
            }),
        };
        let name = crate::accounts::person_name("name", &self.name, 30);
        let relation = required("relation", &self.relation, Relation::parse);
        let phone = phone_edit("phone", &self.phone);
        let marital = required("marital", &self.marital, Marital::parse);
        let health = required("health", &self.health, Health::parse);
        let work_ability = required("work_ability", &self.work_ability, WorkAbility::parse);
        let employment = required("employment", &self.employment, Employment::parse);
        let schooling = required("schooling", &self.schooling, Schooling::parse);
        let monthly_income = amount("monthly_income_fen", self.monthly_income_fen);
        // In the order of the console's form.
        ApiError::first_of([
            name.as_ref().err(),
            relation.as_ref().err(),
            phone.as_ref().err(),
            marital.as_ref().err(),
            health.as_ref().err(),
            disability.as_ref().err(),
            certificate.as_ref().err(),
            work_ability.as_ref().err(),
            employment.as_ref().err(),
            schooling.as_ref().err(),
            monthly_income.as_ref().err(),
            death_date.as_ref().err(),
        ])?;
        Ok(MemberEdit {
            name: name?,
            relation: relation?,
            phone: phone?,
            marital: marital?,
            health: health?,
            disability: disability?,
            certificate: certificate?,
            work_ability: work_ability?,
            employment: employment?,
            schooling: schooling?,
            monthly_income: monthly_income?,
            death_date: death_date?,
        })
    }
}

#[utoipa::path(put, path = "/api/v1/households/{id}/members/{person}", tag = "households", request_body = MemberForm,
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = Stale)))]
pub async fn update_member(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path((id, person)): Path<(i64, i64)>,
    headers: HeaderMap,
    Json(form): Json<MemberForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    // Out of scope is 404 whatever the form says.
    state.store.household(&p.scope(), id, today()).await?.ok_or_else(ApiError::not_found)?;
    let edit = form.edit();
    // A registered member's ID number is not changed by an edit (it would be dropped unseen).
    let id_number = match optional(form.id_number.as_deref()) {
        Some(_) => Err(bad(
            "id_number",
            "已登记成员的身份证号不能在此修改：如有错误，请移除该成员后重新添加",
            "a registered member's ID number is not changed here: remove the member and add them again",
        )),
        None => Ok(()),
    };
    ApiError::first_of([id_number.as_ref().err(), edit.as_ref().err()])?;
    let mut edit = edit?;
    // A client that leaves the date out keeps the death recorded (the version the
    // edit carries guards against a death recorded or cleared meanwhile); the member
    // is read only then, or to check a date given against the birth.
    let keep_death = form.death_date.is_none();
    if (keep_death || edit.death_date.is_some())
        && let Some((born, died)) = member_dates(&state, &p, id, person).await?
    {
        if keep_death {
            edit.death_date = died;
        }
        if let Some(died) = edit.death_date {
            after_birth("death_date", born, died)?;
        }
    }
    let result = state.store.update_member(&p.actor(), &p.scope(), id, version, person, &edit, today()).await?;
    touch(&state, &[id], &result).await;
    outcome(result, &headers)
}

#[utoipa::path(post, path = "/api/v1/households/{id}/members", tag = "households", request_body = MemberForm,
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = Stale)))]
pub async fn add_member(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(form): Json<MemberForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let edit = form.edit();
    let id_number =
        IdNumber::parse(form.id_number.as_deref().unwrap_or_default()).map_err(|e| ApiError::invalid("id_number", &e));
    ApiError::first_of([id_number.as_ref().err(), edit.as_ref().err()])?;
    let (edit, id_number) = (edit?, id_number?);
    if let Some(died) = edit.death_date {
        after_birth("death_date", id_number.birth_date(), died)?;
    }
    let person = Person {
        name: edit.name,
        id_number,
        relation: edit.relation,
        phone: edit.phone.flatten(),
        marital: edit.marital,
        health: edit.health,
        disability: edit.disability.map(|(kind, grade)| zhongfu_domain::registry::Disability {
            kind,
            grade,
            certificate: edit.certificate.clone().flatten().unwrap_or_default(),
        }),
        work_ability: edit.work_ability,
        employment: edit.employment,
        schooling: edit.schooling,
        monthly_income: edit.monthly_income,
        categories: Vec::new(),
        death_date: edit.death_date,
        unrecorded: 0,
    };
    let result = state.store.add_member(&p.actor(), &p.scope(), id, version, &person, today()).await?;
    touch(&state, &[id], &result).await;
    outcome(result, &headers)
}

#[utoipa::path(delete, path = "/api/v1/households/{id}/members/{person}", tag = "households",
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 200, body = Saved), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = Stale)))]
pub async fn remove_member(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path((id, person)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let result = state.store.remove_member(&p.actor(), &p.scope(), id, version, person, today()).await?;
    touch(&state, &[id], &result).await;
    outcome(result, &headers)
}

/// A category held by the household or a member: who holds it (absent: the
/// household) and its dates. Editing one takes only the dates.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldingForm {
    /// A member of the household; absent, the household holds it. Only when adding.
    pub person_id: Option<i64>,
    /// The category's code (`dibao`…) or Chinese name; only when adding.
    pub category: Option<String>,
    /// `YYYY-MM-DD`
    pub start_date: String,
    /// `YYYY-MM-DD`; absent or empty while it runs.
    pub end_date: Option<String>,
}

impl HoldingForm {
    fn dates(&self) -> Result<(NaiveDate, Option<NaiveDate>), ApiError> {
        let date = |field: &'static str, d: &str| day_field(field, d.trim());
        let start = date("start_date", &self.start_date);
        let end = optional(self.end_date.as_deref()).map(|d| date("end_date", d)).transpose();
        // Both dates wrong: both are named.
        ApiError::first_of([start.as_ref().err(), end.as_ref().err()])?;
        let (start, end) = (start?, end?);
        if end.is_some_and(|e| e < start) {
            return Err(bad("end_date", "结束日期不能早于开始日期", "the end date cannot be before the start date"));
        }
        Ok((start, end))
    }
}

#[utoipa::path(post, path = "/api/v1/households/{id}/holdings", tag = "households", request_body = HoldingForm,
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = Stale)))]
pub async fn add_holding(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(form): Json<HoldingForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let category = required("category", form.category.as_deref().unwrap_or_default(), Category::parse);
    let dates = form.dates();
    ApiError::first_of([category.as_ref().err(), dates.as_ref().err()])?;
    let (category, (start, end)) = (category?, dates?);
    // A member's category runs within their life.
    if let Some(person) = form.person_id
        && let Some((born, died)) = member_dates(&state, &p, id, person).await?
    {
        after_birth("start_date", born, start)?;
        if let Some(died) = died.filter(|d| start > *d) {
            return Err(bad(
                "start_date",
                &format!("该成员已于{died}去世，开始日期不能晚于去世日期"),
                &format!("the member died on {died}: the start date cannot be after it"),
            ));
        }
    }
    let edit = HoldingEdit::Add { person_id: form.person_id, category, start, end };
    holding_edit(&state, &p, id, version, &edit, &headers).await
}

#[utoipa::path(put, path = "/api/v1/households/{id}/holdings/{holding}", tag = "households", request_body = HoldingForm,
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = Stale)))]
pub async fn update_holding(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path((id, holding)): Path<(i64, i64)>,
    headers: HeaderMap,
    Json(form): Json<HoldingForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    // Who holds it and what it is are fixed once added: an edit changes the dates only.
    // (Out of scope is 404 whatever the form says.)
    if let Some(field) = [("category", form.category.is_some()), ("person_id", form.person_id.is_some())]
        .into_iter()
        .find_map(|(f, given)| given.then_some(f))
    {
        state.store.household(&p.scope(), id, today()).await?.ok_or_else(ApiError::not_found)?;
        return Err(bad(
            field,
            "编辑只能修改起止日期；类别或享受人有误时，请删除后重新添加",
            "an edit changes the dates only: remove the category and add it again to change what it is or who holds it",
        ));
    }
    let (start, end) = form.dates()?;
    holding_edit(&state, &p, id, version, &HoldingEdit::Dates { id: holding, start, end }, &headers).await
}

/// Removes a category entered by mistake (one that ended is ended by its end date, not removed).
#[utoipa::path(delete, path = "/api/v1/households/{id}/holdings/{holding}", tag = "households",
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 200, body = Saved), (status = 404, body = ErrorBody), (status = 412, body = Stale)))]
pub async fn remove_holding(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path((id, holding)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    holding_edit(&state, &p, id, version, &HoldingEdit::Remove { id: holding }, &headers).await
}

/// A field that may be null, told apart from one left out (`None`, with `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A member's birth and death, read within the scope; None when the household or
/// the member is not there (the edit itself then answers 404).
async fn member_dates(
    state: &AppState,
    p: &Principal,
    household: i64,
    person: i64,
) -> Result<Option<(NaiveDate, Option<NaiveDate>)>, ApiError> {
    let detail = state.store.household(&p.scope(), household, today()).await?;
    Ok(detail.and_then(|h| h.members.into_iter().find(|m| m.id == person)).map(|m| (m.birth_date, m.death_date)))
}

/// 400 on `field` when `date` is before the birth (the birth itself is not said: with
/// the masked ID number it would give the whole number away).
fn after_birth(field: &'static str, born: NaiveDate, date: NaiveDate) -> Result<(), ApiError> {
    if date < born {
        return Err(bad(
            field,
            "日期不能早于该成员的出生日期（见身份证号）",
            "the date cannot be before the member's birth (see the ID number)",
        ));
    }
    Ok(())
}

async fn holding_edit(
    state: &AppState,
    p: &Principal,
    id: i64,
    version: i64,
    edit: &HoldingEdit,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let result = state.store.edit_holding(&p.actor(), &p.scope(), id, version, edit, today()).await?;
    touch(state, &[id], &result).await;
    outcome(result, headers)
}

/// The filtered registry as an Excel workbook: IDs and phones masked, a
/// header saying who exported it, when and under which filter. Audited.
#[utoipa::path(post, path = "/api/v1/households/export", tag = "households", request_body = Search,
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(search): Json<Search>,
) -> Result<Response, ApiError> {
    let mut filter = search.filter(&p)?;
    filter.offset = 0;
    filter.limit = EXPORT_LIMIT;
    let page = state.store.households(&p.scope(), &filter).await?;
    let division = match filter.division.as_ref() {
        Some(code) => state.store.division(code).await?.map(|d| d.name),
        None => None,
    };
    let described = search.describe(division.as_deref());
    // The members of the households listed, as many households' as the member sheet holds.
    let (mut listed, mut persons) = (Vec::new(), 0);
    for h in &page.items {
        persons += h.members.max(1);
        if persons > MEMBER_EXPORT_LIMIT {
            break;
        }
        listed.push(h.id);
    }
    let members = state.store.members_of(&p.scope(), &listed, today()).await?;
    let event = AuditEvent {
        action: "household.export".into(),
        entity: "household".into(),
        entity_id: String::new(),
        diff: serde_json::json!({
            "filter": described, "households": [null, page.items.len()], "persons": [null, members.len()],
        })
        .to_string(),
    };
    state.store.record_audit(&p.actor(), &event).await?;
    let who = format!("{}（{}）", p.account.display_name, p.account.username);
    let members = Members { rows: members, households: listed.len() };
    let bytes = tokio::task::spawn_blocking(move || export_workbook(&page, &members, &who, &described))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    Ok(crate::sheets::attachment(
        bytes,
        &format!("households-{}.xlsx", today()),
        &format!("困难家庭名册-{}.xlsx", today()),
    ))
}

/// Living members an export's member sheet lists, household by household (those who
/// died are listed beside them); the households' sheet lists up to [`EXPORT_LIMIT`].
const MEMBER_EXPORT_LIMIT: i64 = 100_000;

/// The member sheet's rows: the members of the first `households` of the list.
struct Members {
    rows: Vec<(i64, zhongfu_store::registry::MemberView)>,
    households: usize,
}

fn export_workbook(
    page: &HouseholdPage,
    members: &Members,
    who: &str,
    filter: &str,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let formats = ExportFormats::new();
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M");
    let stamp = format!("导出人：{who}；导出时间：{now}；筛选条件：{filter}");
    let cut = if page.total > page.items.len() as i64 {
        format!("；共{}户，仅导出前{}户，请缩小筛选范围", page.total, page.items.len())
    } else {
        String::new()
    };
    households_sheet(&mut book, &formats, &format!("{stamp}{cut}"), &page.items)?;
    let cut = if members.households < page.items.len() {
        format!("；仅列出前{}户的成员，请缩小筛选范围", members.households)
    } else {
        String::new()
    };
    members_sheet(&mut book, &formats, &format!("{stamp}{cut}"), &page.items, &members.rows)?;
    book.save_to_buffer()
}

/// The cell formats of the registry's export.
struct ExportFormats {
    title: rust_xlsxwriter::Format,
    header: rust_xlsxwriter::Format,
    text: rust_xlsxwriter::Format,
    money: rust_xlsxwriter::Format,
}

impl ExportFormats {
    fn new() -> Self {
        use rust_xlsxwriter::Format;
        Self {
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new().set_bold().set_background_color("#EEF2F7"),
            text: Format::new().set_num_format("@"),
            money: Format::new().set_num_format("#,##0.00"),
        }
    }
}

/// Rows of an export sheet start here, below its title, its stamp and its header.
const FIRST_ROW: u32 = 4;

/// A sheet of the export (`names`: the tab's and the title's): its title, the line
/// saying who exported it, when and under which filter, and its column headers (kept
/// in sight) with their widths.
fn ledger_sheet<'a>(
    book: &'a mut rust_xlsxwriter::Workbook,
    formats: &ExportFormats,
    (name, title): (&str, &str),
    stamp: &str,
    columns: &[(&str, f64)],
) -> Result<&'a mut rust_xlsxwriter::Worksheet, rust_xlsxwriter::XlsxError> {
    let sheet = book.add_worksheet();
    sheet.set_name(name)?;
    sheet.write_string_with_format(0, 0, title, &formats.title)?;
    sheet.write_string(1, 0, crate::sheets::fits(stamp))?;
    for (col, (header, width)) in (0u16..).zip(columns) {
        sheet.write_string_with_format(FIRST_ROW - 1, col, *header, &formats.header)?;
        sheet.set_column_width(col, *width)?;
    }
    sheet.set_freeze_panes(FIRST_ROW, 0)?;
    Ok(sheet)
}

/// Text cells from column `first` on: numbers-looking text (codes, IDs) stays text.
fn write_texts<S: AsRef<str>>(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    first: u16,
    values: &[S],
    text: &rust_xlsxwriter::Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (col, v) in (first..).zip(values) {
        sheet.write_string_with_format(row, col, crate::sheets::fits(v.as_ref()), text)?;
    }
    Ok(())
}

/// Codes in Chinese, joined as a ledger writes a list (`低保、特困`).
fn labels_zh(col: Col, codes: &[String]) -> String {
    codes.iter().map(|c| code_label_zh(col, c).unwrap_or(c)).collect::<Vec<_>>().join("、")
}

fn households_sheet(
    book: &mut rust_xlsxwriter::Workbook,
    formats: &ExportFormats,
    stamp: &str,
    households: &[zhongfu_store::registry::HouseholdSummary],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let columns = [
        ("户编号", 14.0),
        ("社区代码", 14.0),
        ("社区", 18.0),
        ("家庭住址", 30.0),
        ("户主", 10.0),
        ("户主身份证号", 22.0),
        ("家庭电话", 14.0),
        ("在世人数", 8.0),
        ("家庭月收入(元)", 14.0),
        ("人均月收入(元)", 14.0),
        ("救助类别", 24.0),
        ("家庭标签", 20.0),
    ];
    let sheet = ledger_sheet(book, formats, ("困难家庭名册", "困难家庭名册"), stamp, &columns)?;
    for (row, h) in (FIRST_ROW..).zip(households) {
        let phone = h.phone_masked.as_deref().unwrap_or_default();
        let values = [&h.number, &h.community, &h.community_name, &h.address, &h.head_name, &h.head_id_masked, phone];
        write_texts(sheet, row, 0, &values, &formats.text)?;
        sheet.write_number(row, 7, h.members as f64)?;
        // Amounts are numbers, in yuan, so they can be summed; an income not recorded says so.
        if h.income_unrecorded {
            sheet.write_string(row, 8, "未登记")?;
            sheet.write_string(row, 9, "未登记")?;
        } else {
            sheet.write_number_with_format(row, 8, h.monthly_income_fen as f64 / 100.0, &formats.money)?;
            sheet.write_number_with_format(row, 9, h.per_capita_income_fen as f64 / 100.0, &formats.money)?;
        }
        sheet.write_string(row, 10, labels_zh(Col::Categories, &h.categories))?;
        sheet.write_string(row, 11, labels_zh(Col::Tags, &h.tags))?;
    }
    Ok(())
}

/// One row per member, as a ledger (花名册) has them, under their households' numbers.
fn members_sheet(
    book: &mut rust_xlsxwriter::Workbook,
    formats: &ExportFormats,
    stamp: &str,
    households: &[zhongfu_store::registry::HouseholdSummary],
    members: &[(i64, zhongfu_store::registry::MemberView)],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let columns = [
        ("户编号", 14.0),
        ("社区", 18.0),
        ("姓名", 10.0),
        ("与户主关系", 10.0),
        ("身份证号", 22.0),
        ("性别", 6.0),
        ("年龄", 6.0),
        ("联系电话", 14.0),
        ("婚姻状况", 10.0),
        ("健康状况", 10.0),
        ("残疾类别", 10.0),
        ("残疾等级", 8.0),
        ("劳动能力", 10.0),
        ("就业状况", 10.0),
        ("在校情况", 10.0),
        ("月收入(元)", 12.0),
        ("死亡日期", 12.0),
    ];
    let sheet = ledger_sheet(book, formats, ("家庭成员", "困难家庭成员名册"), stamp, &columns)?;
    let by_id: std::collections::HashMap<i64, &zhongfu_store::registry::HouseholdSummary> =
        households.iter().map(|h| (h.id, h)).collect();
    let label = |col: Col, code: &str| code_label_zh(col, code).unwrap_or(code).to_owned();
    for (row, (household, m)) in (FIRST_ROW..).zip(members) {
        let Some(h) = by_id.get(household) else { continue };
        let who = [
            &h.number,
            &h.community_name,
            &m.name,
            &label(Col::Relation, &m.relation),
            &m.id_masked,
            &label(Col::Sex, &m.sex),
        ];
        write_texts(sheet, row, 0, &who, &formats.text)?;
        sheet.write_number(row, 6, f64::from(m.age))?;
        let facts = [
            m.phone_masked.clone().unwrap_or_default(),
            label(Col::Marital, &m.marital),
            label(Col::Illness, &m.health),
            m.disability_kind.as_deref().map(|k| label(Col::DisabilityType, k)).unwrap_or_default(),
            m.disability_grade.map(|g| format!("{g}级")).unwrap_or_default(),
            label(Col::WorkAbility, &m.work_ability),
            label(Col::Employment, &m.employment),
            label(Col::Schooling, &m.schooling),
        ];
        write_texts(sheet, row, 7, &facts, &formats.text)?;
        sheet.write_number_with_format(row, 15, m.monthly_income_fen as f64 / 100.0, &formats.money)?;
        sheet.write_string(row, 16, m.death_date.map(|d| d.to_string()).unwrap_or_default())?;
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitForm {
    /// The new household's number (户编号).
    pub number: String,
    /// Members (person ids) who leave for the new household; not the head.
    pub members: Vec<i64>,
    /// Which of them heads the new household; the others become 其他 there.
    pub head: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Split {
    /// The new household.
    pub id: i64,
}

/// Splits members off into a new household of the same community and address.
#[utoipa::path(post, path = "/api/v1/households/{id}/split", tag = "households", request_body = SplitForm,
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 201, body = Split), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = Stale)))]
pub async fn split(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(form): Json<SplitForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let number = text("number", &form.number, 40)?;
    let result = state
        .store
        .split_household(&p.actor(), &p.scope(), id, version, &form.members, form.head, &number, today())
        .await?;
    if let EditOutcome::Saved(new_id) = result {
        touch(&state, &[id, new_id], &result).await;
    }
    match result {
        EditOutcome::Saved(new_id) => Ok((StatusCode::CREATED, Json(Split { id: new_id })).into_response()),
        other => outcome(other, &headers),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeForm {
    /// The household merged into this one (it is removed).
    pub other: i64,
    /// The version of that household the merge was decided on.
    pub other_version: i64,
}

/// Merges another household of your jurisdiction into this one.
#[utoipa::path(post, path = "/api/v1/households/{id}/merge", tag = "households", request_body = MergeForm,
    params(("If-Match" = String, Header, description = "The household version the edit was made against")),
    responses((status = 200, body = Saved), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = Stale)))]
pub async fn merge(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(form): Json<MergeForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let result = state
        .store
        .merge_households(&p.actor(), &p.scope(), id, version, form.other, form.other_version, today())
        .await?;
    touch(&state, &[id, form.other], &result).await;
    outcome(result, &headers)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveForm {
    /// The household the member moves to (within your jurisdiction).
    pub to_household: i64,
    /// The version of the household moved to (this household's is `If-Match`).
    pub to_version: i64,
    /// The member's relation to the new household's head (code or Chinese label).
    pub relation: String,
}

#[derive(Serialize, ToSchema)]
pub struct Moved {
    /// This household's new version.
    pub version: i64,
    /// The new version of the household moved to.
    pub to_version: i64,
}

/// Moves one member, with their own categories, to another household of your
/// jurisdiction in one step. Both households' versions must hold (this one's
/// in `If-Match`, the other's in the body); the head of a
/// household with other members cannot move. Audited on both households.
#[utoipa::path(post, path = "/api/v1/households/{id}/members/{person}/move", tag = "households",
    request_body = MoveForm,
    params(("If-Match" = String, Header, description = "This household's version the move was decided on")),
    responses((status = 200, body = Moved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = Stale)))]
pub async fn move_member(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path((id, person)): Path<(i64, i64)>,
    headers: HeaderMap,
    Json(form): Json<MoveForm>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let relation = required("relation", &form.relation, Relation::parse)?;
    let result = state
        .store
        .move_member(&p.actor(), &p.scope(), id, version, person, form.to_household, form.to_version, relation, today())
        .await?;
    touch(&state, &[id, form.to_household], &result).await;
    match result {
        EditOutcome::Saved(version) => {
            let mut res = Json(Moved { version, to_version: form.to_version + 1 }).into_response();
            res.headers_mut().insert(header::ETAG, etag(version));
            Ok(res)
        }
        other => outcome(other, &headers),
    }
}
