//! Units and accounts: the system administrator creates them, the security
//! administrator sets roles and unlocks. Both see only their jurisdiction.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zhongfu_domain::DivisionCode;
use zhongfu_domain::identity::{Permission, Role, Roles};
use zhongfu_domain::password;
use zhongfu_domain::signin::{Email, Phone};
use zhongfu_store::StoreError;
use zhongfu_store::identity::{Account, AccountUpdate, NewAccount, NewUnit, Unit, UnitKind};

use crate::AppState;
use crate::auth::Principal;
use crate::divisions::parse_code;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct UnitList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Unit>,
}

#[utoipa::path(get, path = "/api/v1/units", tag = "accounts", responses((status = 200, body = UnitList)))]
pub async fn units(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Result<Json<UnitList>, ApiError> {
    Ok(Json(UnitList { items: state.store.units_within(&p.scope()).await? }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitForm {
    pub name: String,
    /// civil_affairs, street_office, community, department, social_work or helping_unit.
    pub kind: String,
    /// 12-digit division code within your jurisdiction.
    pub division: String,
}

#[utoipa::path(post, path = "/api/v1/units", tag = "accounts", request_body = UnitForm,
    responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_unit(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<UnitForm>,
) -> Result<(StatusCode, Json<Unit>), ApiError> {
    let name = text("name", &form.name, 50);
    let kind = UnitKind::parse(form.kind.trim()).ok_or_else(|| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_unit_kind", "单位类型不正确", "unknown kind of unit")
            .with_field("kind")
    });
    let division = division_within(&state, &p, "division", &form.division).await;
    ApiError::first_of([name.as_ref().err(), kind.as_ref().err(), division.as_ref().err()])?;
    let (name, kind, division) = (name?, kind?, division?);
    let unit = NewUnit { name, kind, division };
    let created = state.store.create_unit(&p.actor(), &unit).await.map_err(|e| conflict(e, "name"))?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Serialize, ToSchema)]
pub struct AccountList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Account>,
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", responses((status = 200, body = AccountList)))]
pub async fn accounts(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Result<Json<AccountList>, ApiError> {
    Ok(Json(AccountList { items: state.store.accounts_within(&p.scope()).await? }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountForm {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_id: Option<i64>,
    pub jurisdiction: String,
    pub roles: Vec<String>,
}

/// A new account and the one-time password to hand over.
#[derive(Serialize, ToSchema)]
pub struct CreatedAccount {
    #[schema(value_type = Object)]
    pub account: Account,
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = AccountForm,
    responses((status = 201, body = CreatedAccount), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_account(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<AccountForm>,
) -> Result<(StatusCode, Json<CreatedAccount>), ApiError> {
    // Every field checked, each wrong one named in the one answer.
    let username = username(&form.username);
    let display_name = text("display_name", &form.display_name, 50);
    let email =
        optional(form.email.as_deref()).map(Email::parse).transpose().map_err(|e| ApiError::invalid("email", &e));
    let phone =
        optional(form.phone.as_deref()).map(Phone::parse).transpose().map_err(|e| ApiError::invalid("phone", &e));
    let jurisdiction = division_within(&state, &p, "jurisdiction", &form.jurisdiction).await;
    let roles = roles(&form.roles);
    let unit = check_unit(&state, &p, form.unit_id).await;
    ApiError::first_of([
        username.as_ref().err(),
        display_name.as_ref().err(),
        email.as_ref().err(),
        phone.as_ref().err(),
        unit.as_ref().err(),
        jurisdiction.as_ref().err(),
        roles.as_ref().err(),
    ])?;
    let (username, display_name, email, phone, jurisdiction, roles) =
        (username?, display_name?, email?, phone?, jurisdiction?, roles?);
    let secret = password::generate();
    let hash = hash(secret.clone()).await?;
    let account = NewAccount {
        username,
        display_name,
        email,
        phone,
        volunteer_number: None,
        unit_id: form.unit_id,
        jurisdiction,
        roles,
        password_hash: hash,
        must_change_password: true,
    };
    let created = state.store.create_account(&p.actor(), &account).await.map_err(|e| conflict(e, "username"))?;
    Ok((StatusCode::CREATED, Json(CreatedAccount { account: created, password: secret })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileForm {
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit_id: Option<i64>,
    pub jurisdiction: String,
}

/// Changes an account's profile; moving it to another jurisdiction ends its sessions.
#[utoipa::path(put, path = "/api/v1/accounts/{id}", tag = "accounts", request_body = ProfileForm,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_account(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<ProfileForm>,
) -> Result<StatusCode, ApiError> {
    let account = within(&state, &p, id).await?;
    // Every field checked, each wrong one named in the one answer.
    let display_name = text("display_name", &form.display_name, 50);
    let email =
        optional(form.email.as_deref()).map(Email::parse).transpose().map_err(|e| ApiError::invalid("email", &e));
    let phone =
        optional(form.phone.as_deref()).map(Phone::parse).transpose().map_err(|e| ApiError::invalid("phone", &e));
    let jurisdiction = division_within(&state, &p, "jurisdiction", &form.jurisdiction).await;
    let unit = check_unit(&state, &p, form.unit_id).await;
    ApiError::first_of([
        display_name.as_ref().err(),
        email.as_ref().err(),
        phone.as_ref().err(),
        unit.as_ref().err(),
        jurisdiction.as_ref().err(),
    ])?;
    let (display_name, email, phone, jurisdiction) = (display_name?, email?, phone?, jurisdiction?);
    let update = AccountUpdate { display_name, email, phone, unit_id: form.unit_id, jurisdiction };
    state.store.update_account(&p.actor(), account.id, &update).await.map_err(|e| conflict(e, "phone"))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn check_unit(state: &AppState, p: &Principal, unit: Option<i64>) -> Result<(), ApiError> {
    let Some(unit) = unit else { return Ok(()) };
    if state.store.units_within(&p.scope()).await?.iter().any(|u| u.id == unit) {
        Ok(())
    } else {
        Err(ApiError::not_found().with_field("unit_id"))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesForm {
    pub roles: Vec<String>,
}

/// Replaces an account's roles; its sessions end.
/// A built-in role and the permissions it grants.
#[derive(Serialize, ToSchema)]
pub struct RoleView {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// One of the three administrator roles (三员分立: no account holds two).
    pub administrator: bool,
    #[schema(value_type = Vec<String>)]
    pub permissions: &'static [Permission],
}

#[derive(Serialize, ToSchema)]
pub struct RoleList {
    pub items: Vec<RoleView>,
}

/// The built-in roles with their permissions (deny by default: what is not listed is refused).
#[utoipa::path(get, path = "/api/v1/roles", tag = "accounts", responses((status = 200, body = RoleList)))]
pub async fn role_list() -> Json<RoleList> {
    let items = Role::ALL
        .iter()
        .map(|r| RoleView {
            code: r.code(),
            zh: r.label_zh(),
            en: r.label_en(),
            administrator: r.is_administrator(),
            permissions: r.permissions(),
        })
        .collect();
    Json(RoleList { items })
}

#[utoipa::path(put, path = "/api/v1/accounts/{id}/roles", tag = "accounts", request_body = RolesForm,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_roles(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<RolesForm>,
) -> Result<StatusCode, ApiError> {
    let account = within(&state, &p, id).await?;
    if account.id == p.account.id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "own_roles",
            "不能修改自己的角色，请由另一位安全管理员操作",
            "you cannot change your own roles: another security administrator must",
        ));
    }
    let roles = roles(&form.roles)?;
    state.store.set_roles(&p.actor(), account.id, &roles).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/unlock", tag = "accounts",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let account = within(&state, &p, id).await?;
    state.store.unlock(&p.actor(), account.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the account a new one-time password; its sessions end.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/reset-password", tag = "accounts",
    responses((status = 200, body = CreatedAccount), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<CreatedAccount>, ApiError> {
    let account = within(&state, &p, id).await?;
    let secret = password::generate();
    let hash = hash(secret.clone()).await?;
    state.store.set_password(&p.actor(), account.id, &hash, true, None).await?;
    let account = within(&state, &p, id).await?;
    Ok(Json(CreatedAccount { account, password: secret }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableForm {
    pub disabled: bool,
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/disabled", tag = "accounts", request_body = DisableForm,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn set_disabled(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Path(id): Path<i64>,
    Json(form): Json<DisableForm>,
) -> Result<StatusCode, ApiError> {
    let account = within(&state, &p, id).await?;
    if account.id == p.account.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "self_disable",
            "不能停用自己的账号",
            "you cannot disable your own account",
        ));
    }
    state.store.set_disabled(&p.actor(), account.id, form.disabled).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account, if it lies within the caller's jurisdiction; else 404.
async fn within(state: &AppState, p: &Principal, id: i64) -> Result<Account, ApiError> {
    state.store.account(id).await?.filter(|a| p.scope().covers(&a.jurisdiction)).ok_or_else(ApiError::not_found)
}

async fn division_within(
    state: &AppState,
    p: &Principal,
    field: &'static str,
    code: &str,
) -> Result<DivisionCode, ApiError> {
    let code = parse_code(field, code.trim())?;
    if !p.scope().covers(&code) || state.store.division(&code).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "outside_jurisdiction",
            "该区划不存在或不在您的管辖范围内",
            "no such division within your jurisdiction",
        )
        .with_field(field));
    }
    Ok(code)
}

fn roles(codes: &[String]) -> Result<Roles, ApiError> {
    let mut roles = Vec::with_capacity(codes.len());
    for code in codes {
        let role = Role::parse(code.trim()).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_role",
                format!("未知角色：{code}"),
                format!("unknown role: {code}"),
            )
            .with_field("roles")
        })?;
        roles.push(role);
    }
    Roles::parse(roles).map_err(|e| {
        let mut err = ApiError::invalid("roles", &e);
        err.status = StatusCode::CONFLICT;
        err
    })
}

fn username(input: &str) -> Result<String, ApiError> {
    let name = input.trim().to_lowercase();
    let valid = (3..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.starts_with("zy")
        // Digits alone are how a phone number signs in.
        && !name.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(name)
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_username",
            "用户名应为3–32位字母、数字或 . _ -，不全是数字（手机号用于登录），且不以ZY开头（志愿者编号专用）",
            "a username has 3–32 letters, digits, '.', '_' or '-', is not digits alone (phone numbers sign in) and does not start with ZY (volunteer numbers)",
        )
        .with_field("username"))
    }
}

/// A required text of at most `max` characters, trimmed; a 400 naming the field otherwise.
pub(crate) fn text(field: &'static str, input: &str, max: usize) -> Result<String, ApiError> {
    let value = input.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_text",
            format!("请填写，最多{max}个字"),
            format!("required, at most {max} characters"),
        )
        .with_field(field));
    }
    Ok(value.to_owned())
}

/// A person's name: a required text of at most `max` characters that is not a number (an
/// ID number or a phone typed into it would be shown whole wherever names are).
pub(crate) fn person_name(field: &'static str, input: &str, max: usize) -> Result<String, ApiError> {
    let name = text(field, input, max)?;
    if zhongfu_domain::registry::number_as_name(&name) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "number_as_name",
            "姓名不能是号码（身份证号或电话）：请填姓名",
            "a name cannot be a number (an ID or a phone): give the name",
        )
        .with_field(field));
    }
    Ok(name)
}

/// An optional text: blank counts as absent.
pub(crate) fn optional(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A uniqueness violation becomes a 409 naming the field it concerns.
fn conflict(e: StoreError, default_field: &'static str) -> ApiError {
    let StoreError::Duplicate(constraint) = &e else { return e.into() };
    // SQLite names the column (account.email), PostgreSQL the constraint (account_email_key).
    let field = ["email", "phone", "username"].into_iter().find(|f| constraint.contains(f)).unwrap_or(default_field);
    ApiError::new(StatusCode::CONFLICT, "duplicate", "已被使用", "already in use").with_field(field)
}

async fn hash(secret: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password::hash(&secret)).await.map_err(|e| ApiError::internal(&e))
}
