//! Volunteers register themselves on a public page; a community or street
//! worker approves (which makes their account and volunteer number) or
//! rejects with a reason.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhongfu_domain::signin::{Email, Phone};
use zhongfu_domain::{DivisionCode, DivisionLevel, IdNumber};
use zhongfu_store::volunteers::{Decision, DecisionOutcome, NewVolunteer, VolunteerApplication};
use zhongfu_store::{Actor, StoreError};

use crate::AppState;
use crate::accounts::{optional, text};
use crate::auth::{ClientIp, Principal, check_captcha};
use crate::divisions::{PathItem, parse_code};
use crate::error::{ApiError, ErrorBody};

/// What a visitor needs to know about this deployment.
#[derive(Serialize, ToSchema)]
pub struct Site {
    pub district: PathItem,
}

#[utoipa::path(get, path = "/api/v1/site", tag = "volunteers", responses((status = 200, body = Site)))]
pub async fn site(State(state): State<AppState>) -> Result<Json<Site>, ApiError> {
    let district = state.store.division(&state.district).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(Site { district: PathItem { code: district.code.to_string(), name: district.name } }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub name: String,
    pub phone: String,
    pub email: Option<String>,
    pub id_number: String,
    /// 12-digit code of the community (village) within the district.
    pub community: String,
    pub skills: String,
    pub availability: String,
    pub password: String,
    pub captcha_id: String,
    pub captcha_answer: String,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    pub id: i64,
    pub status: String,
}

#[utoipa::path(post, path = "/api/v1/volunteers/register", tag = "volunteers", request_body = Registration,
    responses((status = 201, body = Registered), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(form): Json<Registration>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    check_captcha(&state, &form.captcha_id, &form.captcha_answer).await?;
    // Every wrong field is named in the one answer, in the form's order.
    let name = crate::accounts::person_name("name", &form.name, 30);
    let phone = Phone::parse(&form.phone).map_err(|e| ApiError::invalid("phone", &e));
    let email =
        optional(form.email.as_deref()).map(Email::parse).transpose().map_err(|e| ApiError::invalid("email", &e));
    let id_number = IdNumber::parse(&form.id_number).map_err(|e| ApiError::invalid("id_number", &e));
    let community = district_community(&state, &form.community).await;
    let skills = text("skills", &form.skills, 200);
    let availability = text("availability", &form.availability, 200);
    let typed_phone = phone.as_ref().map_or(form.phone.trim(), |p| p.as_str());
    let password_ok =
        state.auth.password.check(&form.password, typed_phone).map_err(|e| ApiError::invalid("password", &e));
    ApiError::first_of([
        name.as_ref().err(),
        phone.as_ref().err(),
        email.as_ref().err(),
        id_number.as_ref().err(),
        community.as_ref().err(),
        skills.as_ref().err(),
        availability.as_ref().err(),
        password_ok.as_ref().err(),
    ])?;
    let (name, phone, email, id_number, community) = (name?, phone?, email?, id_number?, community?);
    let (skills, availability) = (skills?, availability?);
    let password = form.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || zhongfu_domain::password::hash(&password))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let volunteer = NewVolunteer { name, phone, email, id_number, community, skills, availability, password_hash };
    let actor = Actor { id: None, name: volunteer.name.clone(), ip };
    let id = state.store.register_volunteer(&actor, &volunteer).await.map_err(|e| match e {
        StoreError::Duplicate(what) if what == "id_number" => ApiError::new(
            StatusCode::CONFLICT,
            "id_taken",
            "该身份证号已登记为志愿者（或正在审核）",
            "this ID number is already registered as a volunteer (or waiting for approval)",
        )
        .with_field("id_number"),
        StoreError::Duplicate(_) => ApiError::new(
            StatusCode::CONFLICT,
            "phone_taken",
            "该手机号已登记或已有账号",
            "this mobile number is already registered or has an account",
        )
        .with_field("phone"),
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, Json(Registered { id, status: "pending".into() })))
}

/// The typed code if it is a community or village of this district; none chosen
/// is asked for as such (the form picks it from a list, nobody types 12 digits).
async fn district_community(state: &AppState, typed: &str) -> Result<DivisionCode, ApiError> {
    let choose = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_community",
            "请选择本区的一个社区或村",
            "choose a community or village of this district",
        )
        .with_field("community")
    };
    if typed.trim().is_empty() {
        return Err(choose());
    }
    let code = parse_code("community", typed.trim())?;
    let known = state.store.division(&code).await?.is_some();
    if known && code.level() == DivisionLevel::Village && state.district.contains(&code) {
        return Ok(code);
    }
    Err(choose())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// pending, approved or rejected; all when absent.
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<VolunteerApplication>,
}

#[utoipa::path(get, path = "/api/v1/volunteers", tag = "volunteers", params(ListQuery),
    responses((status = 200, body = ApplicationList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ApplicationList>, ApiError> {
    let status = query.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if status.is_some_and(|s| !matches!(s, "pending" | "approved" | "rejected")) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_status",
            "状态应为 pending、approved 或 rejected",
            "status is pending, approved or rejected",
        )
        .with_field("status"));
    }
    Ok(Json(ApplicationList { items: state.store.volunteer_applications(&p.scope(), status).await? }))
}

#[derive(Serialize, ToSchema)]
pub struct Approved {
    pub volunteer_number: String,
}

#[utoipa::path(post, path = "/api/v1/volunteers/{id}/approve", tag = "volunteers",
    responses((status = 200, body = Approved), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Approved>, ApiError> {
    match decide(&state, &p, id, &Decision::Approve).await? {
        DecisionOutcome::Approved { volunteer_number, .. } => Ok(Json(Approved { volunteer_number })),
        _ => Err(ApiError::not_found()),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/volunteers/{id}/reject", tag = "volunteers", request_body = Rejection,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<Rejection>,
) -> Result<StatusCode, ApiError> {
    let reason = text("reason", &form.reason, 200)?;
    decide(&state, &p, id, &Decision::Reject { reason }).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn decide(state: &AppState, p: &Principal, id: i64, decision: &Decision) -> Result<DecisionOutcome, ApiError> {
    match state.store.decide_volunteer(&p.actor(), &p.scope(), id, decision).await {
        Ok(DecisionOutcome::NotFound) => Err(ApiError::not_found()),
        Ok(DecisionOutcome::AlreadyDecided) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_decided",
            "该登记已处理",
            "this registration has already been decided",
        )),
        Ok(DecisionOutcome::OwnRegistration) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "own_registration",
            "不能审核自己的登记",
            "you cannot decide your own registration",
        )),
        Ok(outcome) => Ok(outcome),
        Err(StoreError::Duplicate(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "phone_taken",
            "该手机号已有账号",
            "this mobile number already has an account",
        )),
        Err(e) => Err(e.into()),
    }
}
