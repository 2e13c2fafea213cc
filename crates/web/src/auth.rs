//! Sign-in, sessions and access control.
//!
//! Every API route is listed in [`ROUTES`] with who may call it; the [`guard`]
//! middleware refuses anything not listed (deny by default), resolves the
//! session cookie into a [`Principal`], checks the CSRF token on changes and
//! the route's permission, and hands the principal to the handler.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use zhongfu_domain::Scope;
use zhongfu_domain::identity::{Permission, Roles};
use zhongfu_domain::password::{self, PasswordPolicy};
use zhongfu_domain::signin::{LockoutPolicy, LoginName, SessionPolicy};
use zhongfu_domain::totp;
use zhongfu_store::identity::{Account, NewSession, SignInFailure};
use zhongfu_store::{Actor, Store};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// The session cookie: a random token; the database keeps only its hash.
pub const SESSION_COOKIE: &str = "zf_session";
/// The header that must repeat the session's CSRF token on every change.
pub const CSRF_HEADER: &str = "x-csrf-token";
const CAPTCHA_LIFETIME: chrono::Duration = chrono::Duration::minutes(2);
/// Failed sign-ins from one address within the window before it is slowed down.
const THROTTLE_LIMIT: i64 = 20;
const THROTTLE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
const MAX_LOGIN_CHARS: usize = 100;

/// Sign-in and password rules of this deployment.
#[derive(Clone, Debug, Default)]
pub struct AuthConfig {
    /// Demo mode only: every captcha also accepts this answer (browser tests).
    pub captcha_test_answer: Option<String>,
    /// Whether roles that need a second factor must enrol before anything else.
    pub require_second_factor: bool,
    pub password: PasswordPolicy,
    pub lockout: LockoutPolicy,
    pub session: SessionPolicy,
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account, even one that must change its password first.
    Account,
    /// A signed-in account holding this permission.
    Permission(Permission),
    /// A signed-in account holding any of these permissions.
    AnyOf(&'static [Permission]),
}

/// Every API route and who may call it. A route missing here is refused.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/api/v1/divisions", Access::Public),
    ("GET", "/api/v1/divisions/{code}", Access::Public),
    ("GET", "/api/v1/dashboard", Access::Permission(Permission::StatsRead)),
    ("GET", "/api/v1/auth/captcha", Access::Public),
    ("POST", "/api/v1/auth/sign-in", Access::Public),
    ("POST", "/api/v1/auth/sign-out", Access::Account),
    ("GET", "/api/v1/auth/me", Access::Account),
    ("POST", "/api/v1/auth/password", Access::Account),
    ("POST", "/api/v1/auth/totp/setup", Access::Account),
    ("POST", "/api/v1/auth/totp/enable", Access::Account),
    ("POST", "/api/v1/auth/totp/verify", Access::Account),
    ("GET", "/api/v1/units", Access::AnyOf(&[Permission::UnitsManage, Permission::AccountsManage])),
    ("POST", "/api/v1/units", Access::Permission(Permission::UnitsManage)),
    (
        "GET",
        "/api/v1/accounts",
        Access::AnyOf(&[Permission::AccountsManage, Permission::RolesManage, Permission::AccountsUnlock]),
    ),
    ("POST", "/api/v1/accounts", Access::Permission(Permission::AccountsManage)),
    ("PUT", "/api/v1/accounts/{id}", Access::Permission(Permission::AccountsManage)),
    ("PUT", "/api/v1/accounts/{id}/roles", Access::Permission(Permission::RolesManage)),
    ("GET", "/api/v1/roles", Access::AnyOf(&[Permission::RolesManage, Permission::AccountsManage])),
    ("POST", "/api/v1/accounts/{id}/unlock", Access::Permission(Permission::AccountsUnlock)),
    ("POST", "/api/v1/accounts/{id}/reset-password", Access::Permission(Permission::AccountsManage)),
    ("POST", "/api/v1/accounts/{id}/disabled", Access::Permission(Permission::AccountsManage)),
    ("GET", "/api/v1/audit", Access::Permission(Permission::AuditRead)),
    ("GET", "/api/v1/audit/export", Access::Permission(Permission::AuditExport)),
    ("GET", "/api/v1/site", Access::Public),
    ("GET", "/api/v1/households/codes", Access::Account),
    ("GET", "/api/v1/import-mappings", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/import-mappings", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/import-jobs", Access::Permission(Permission::RegistryWrite)),
    ("GET", "/api/v1/import-jobs/{id}", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/import-jobs/{id}/cancel", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/households/search", Access::Permission(Permission::RegistryRead)),
    ("POST", "/api/v1/households/facets", Access::Permission(Permission::RegistryRead)),
    ("POST", "/api/v1/households/export", Access::Permission(Permission::RegistryExport)),
    ("GET", "/api/v1/households/template", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/households/import", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/households/import/errors", Access::Permission(Permission::RegistryWrite)),
    ("GET", "/api/v1/households/{id}", Access::Permission(Permission::RegistryRead)),
    ("PUT", "/api/v1/households/{id}", Access::Permission(Permission::RegistryWrite)),
    ("GET", "/api/v1/households/{id}/history", Access::Permission(Permission::RegistryRead)),
    ("POST", "/api/v1/households/{id}/split", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/households/{id}/merge", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/households/{id}/members", Access::Permission(Permission::RegistryWrite)),
    ("PUT", "/api/v1/households/{id}/members/{person}", Access::Permission(Permission::RegistryWrite)),
    ("DELETE", "/api/v1/households/{id}/members/{person}", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/households/{id}/members/{person}/move", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/households/{id}/holdings", Access::Permission(Permission::RegistryWrite)),
    ("PUT", "/api/v1/households/{id}/holdings/{holding}", Access::Permission(Permission::RegistryWrite)),
    ("DELETE", "/api/v1/households/{id}/holdings/{holding}", Access::Permission(Permission::RegistryWrite)),
    ("POST", "/api/v1/persons/{id}/reveal", Access::Permission(Permission::PiiReveal)),
    ("POST", "/api/v1/persons/{id}/reveal-phone", Access::Permission(Permission::PiiReveal)),
    ("POST", "/api/v1/households/{id}/reveal-phone", Access::Permission(Permission::PiiReveal)),
    ("GET", "/api/v1/policies", Access::Permission(Permission::PolicyRead)),
    ("POST", "/api/v1/policies", Access::Permission(Permission::PolicyWrite)),
    ("GET", "/api/v1/policies/fields", Access::Permission(Permission::PolicyRead)),
    ("POST", "/api/v1/policies/check", Access::Permission(Permission::PolicyWrite)),
    ("GET", "/api/v1/policies/{id}", Access::Permission(Permission::PolicyRead)),
    ("PUT", "/api/v1/policies/{id}/draft", Access::Permission(Permission::PolicyWrite)),
    ("POST", "/api/v1/policies/{id}/test", Access::Permission(Permission::PolicyWrite)),
    ("POST", "/api/v1/policy-versions/{id}/publish", Access::Permission(Permission::PolicyPublish)),
    ("POST", "/api/v1/policy-versions/{id}/discard", Access::Permission(Permission::PolicyWrite)),
    // A parameter's new value is proposed by one account and applied by another (maker ≠ checker).
    ("PUT", "/api/v1/policy-params/{name}", Access::Permission(Permission::PolicyWrite)),
    ("GET", "/api/v1/param-changes", Access::Permission(Permission::PolicyRead)),
    ("POST", "/api/v1/param-changes/{id}/apply", Access::Permission(Permission::PolicyPublish)),
    ("POST", "/api/v1/param-changes/{id}/discard", Access::Permission(Permission::PolicyWrite)),
    ("GET", "/api/v1/sweep", Access::Permission(Permission::PolicyRead)),
    ("POST", "/api/v1/sweep", Access::Permission(Permission::SweepRun)),
    ("POST", "/api/v1/sweep/results", Access::Permission(Permission::PolicyRead)),
    ("POST", "/api/v1/sweep/export", Access::Permission(Permission::SweepExport)),
    ("POST", "/api/v1/sweep/marks", Access::Permission(Permission::SweepRun)),
    // Starting a 渐退期 is a decision on a row, like a dismissal.
    ("POST", "/api/v1/sweep/tapers", Access::Permission(Permission::SweepRun)),
    ("POST", "/api/v1/sweep/tapers/end", Access::Permission(Permission::SweepRun)),
    ("POST", "/api/v1/volunteers/register", Access::Public),
    ("GET", "/api/v1/volunteers", Access::Permission(Permission::VolunteersApprove)),
    ("POST", "/api/v1/volunteers/{id}/approve", Access::Permission(Permission::VolunteersApprove)),
    ("POST", "/api/v1/volunteers/{id}/reject", Access::Permission(Permission::VolunteersApprove)),
];

pub fn access_for(method: &str, path: &str) -> Option<Access> {
    ROUTES.iter().find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path).map(|(_, _, a)| *a)
}

/// The signed-in caller, as the guard found them.
#[derive(Clone, Debug)]
pub struct Principal {
    pub account: Account,
    pub roles: Roles,
    pub csrf_token: String,
    pub ip: String,
    /// Signed in with the password; the TOTP code is still to come.
    pub second_factor_pending: bool,
    token_hash: String,
}

impl Principal {
    /// The jurisdiction every query about people is filtered by.
    pub fn scope(&self) -> Scope {
        Scope::for_account(self.account.id, self.account.jurisdiction, self.roles.as_slice(), self.account.unit_id)
    }

    pub fn actor(&self) -> Actor {
        Actor { id: Some(self.account.id), name: self.account.username.clone(), ip: self.ip.clone() }
    }
}

fn sign_in_required() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "sign_in_required", "请先登录", "please sign in")
}

fn forbidden() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", "您的角色无权进行此操作", "your roles do not allow this")
}

/// The access check in front of every API route.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let Some(path) = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        return forbidden().into_response();
    };
    let Some(access) = access_for(method.as_str(), &path) else {
        // Another method of a declared route is 405; the handler is never reached.
        if ROUTES.iter().any(|(_, p, _)| *p == path) {
            return crate::error::framework_error(StatusCode::METHOD_NOT_ALLOWED).into_response();
        }
        tracing::warn!(route = %path, "route without declared access refused");
        return forbidden().into_response();
    };
    let ip = client_ip(req.extensions());
    let principal = match principal(&state, req.headers(), ip).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let require_second_factor = state.auth.require_second_factor;
    if let Err(e) = check(access, &method, &path, principal.as_ref(), req.headers(), require_second_factor) {
        return e.into_response();
    }
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

/// What a session waiting for its second factor may still do.
const SECOND_FACTOR_ROUTES: [&str; 3] = ["/api/v1/auth/me", "/api/v1/auth/totp/verify", "/api/v1/auth/sign-out"];

fn check(
    access: Access,
    method: &Method,
    path: &str,
    principal: Option<&Principal>,
    headers: &HeaderMap,
    require_second_factor: bool,
) -> Result<(), ApiError> {
    if access == Access::Public {
        return Ok(());
    }
    let p = principal.ok_or_else(sign_in_required)?;
    if p.second_factor_pending && !SECOND_FACTOR_ROUTES.contains(&path) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "second_factor_required",
            "请输入身份验证器中的动态码",
            "enter the code from your authenticator app",
        ));
    }
    let changes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes && headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) != Some(p.csrf_token.as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "页面已过期，请刷新后重试",
            "the page is out of date; reload and try again",
        ));
    }
    if require_second_factor && p.roles.requires_totp() && !p.account.totp_enabled && access != Access::Account {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "second_factor_enrolment_required",
            "您的角色须启用双因素认证，请先绑定身份验证器",
            "your roles need a second factor: set up an authenticator app first",
        ));
    }
    if p.account.must_change_password && access != Access::Account {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "请先修改密码",
            "please change your password first",
        ));
    }
    let allowed = match access {
        Access::Permission(perm) => p.roles.allows(perm),
        Access::AnyOf(perms) => perms.iter().any(|&perm| p.roles.allows(perm)),
        Access::Public | Access::Account => true,
    };
    if !allowed {
        tracing::info!(route = path, account = p.account.id, "permission refused");
        return Err(forbidden());
    }
    Ok(())
}

/// The session named by the cookie, if it is live and its account enabled.
async fn principal(state: &AppState, headers: &HeaderMap, ip: String) -> Result<Option<Principal>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let token_hash = sha256_hex(token);
    let Some((session, account)) = state.store.session(&token_hash).await? else { return Ok(None) };
    let now = Utc::now();
    let live = state.auth.session.is_live(session.created_at, session.last_seen, now);
    if !live || account.disabled {
        state.store.end_session(&Actor::system("session expiry"), &token_hash, false).await?;
        return Ok(None);
    }
    if now - session.last_seen >= TOUCH_EVERY {
        state.store.touch_session(&token_hash, now).await?;
    }
    // A damaged role set (two administrator roles) grants nothing.
    let roles = Roles::parse(account.roles.clone()).unwrap_or_else(|_| Roles::none());
    let pending = session.second_factor_pending;
    Ok(Some(Principal {
        account,
        roles,
        csrf_token: session.csrf_token,
        ip,
        second_factor_pending: pending,
        token_hash,
    }))
}

/// The caller's address, for the audit trail and the sign-in throttle.
pub struct ClientIp(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(&parts.extensions)))
    }
}

fn client_ip(extensions: &axum::http::Extensions) -> String {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// How a captcha answer is stored: hashed with its id, case-insensitive.
pub fn captcha_hash(id: &str, answer: &str) -> String {
    sha256_hex(&format!("{id}:{}", answer.trim().to_uppercase()))
}

fn session_cookie(headers: &HeaderMap, value: &str, max_age: i64) -> HeaderValue {
    // Behind a TLS-terminating proxy the cookie is only ever sent over TLS.
    let secure = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let text = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("zf_session=; Path=/; Max-Age=0"))
}

/// A fresh image captcha; its answer is good for one sign-in within two minutes.
#[derive(Serialize, ToSchema)]
pub struct CaptchaView {
    pub id: String,
    /// `data:image/png;base64,…`
    pub image: String,
    pub expires_in: i64,
}

#[utoipa::path(get, path = "/api/v1/auth/captcha", tag = "auth", responses((status = 200, body = CaptchaView)))]
pub async fn captcha(State(state): State<AppState>) -> Result<Json<CaptchaView>, ApiError> {
    let (answer, png) = tokio::task::spawn_blocking(|| {
        let mut c = captcha::Captcha::new();
        c.add_chars(4)
            .apply_filter(captcha::filters::Noise::new(0.2))
            .apply_filter(captcha::filters::Wave::new(2.0, 12.0))
            .view(160, 60);
        (c.chars_as_string(), c.as_base64().unwrap_or_default())
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let id = uuid::Uuid::new_v4().to_string();
    state.store.put_captcha(&id, &captcha_hash(&id, &answer), Utc::now() + CAPTCHA_LIFETIME).await?;
    Ok(Json(CaptchaView {
        id,
        image: format!("data:image/png;base64,{png}"),
        expires_in: CAPTCHA_LIFETIME.num_seconds(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Username, e-mail, mobile number or volunteer number.
    pub login: String,
    pub password: String,
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// The signed-in account, what it may do, and the token to send back on changes.
#[derive(Serialize, ToSchema)]
pub struct Me {
    #[schema(value_type = Object)]
    pub account: Account,
    #[schema(value_type = Vec<String>)]
    pub permissions: Vec<Permission>,
    pub csrf_token: String,
    /// The TOTP code is still to come (POST /api/v1/auth/totp/verify).
    pub second_factor_pending: bool,
    /// The roles need a second factor here (enrol before anything else).
    pub second_factor_required: bool,
}

fn me(p: &Principal, auth: &AuthConfig) -> Me {
    let mut permissions: Vec<Permission> =
        p.roles.as_slice().iter().flat_map(|r| r.permissions().iter().copied()).collect();
    permissions.sort();
    permissions.dedup();
    Me {
        account: p.account.clone(),
        permissions,
        csrf_token: p.csrf_token.clone(),
        second_factor_pending: p.second_factor_pending,
        second_factor_required: auth.require_second_factor && p.roles.requires_totp(),
    }
}

fn sign_in_failed() -> ApiError {
    // The same answer whichever part was wrong, so nobody learns which accounts exist.
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "sign_in_failed",
        "账号或密码错误，或账号已被临时锁定",
        "wrong account or password, or the account is locked for a while",
    )
}

#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "auth", request_body = SignIn,
    responses((status = 200, body = Me), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(form): Json<SignIn>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let store = &state.store;
    if store.recent_failures(&ip, now - THROTTLE_WINDOW).await? >= THROTTLE_LIMIT {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "登录失败次数过多，请15分钟后再试",
            "too many failed sign-ins; try again in 15 minutes",
        ));
    }
    check_captcha(&state, &form.captcha_id, &form.captcha_answer).await?;
    if form.login.chars().count() > MAX_LOGIN_CHARS || form.password.chars().count() > 128 {
        return Err(sign_in_failed());
    }
    let login = LoginName::parse(&form.login);
    let found = store.account_for_sign_in(&login).await?;
    let actor = Actor {
        id: found.as_ref().map(|(a, _)| a.id), // A phone or ID number typed as the login is kept masked, as lists mask them.
        name: zhongfu_domain::pii::mask_if_personal(form.login.trim()),
        ip: ip.clone(),
    };
    let hash = found.as_ref().map(|(_, h)| h.clone());
    let password = form.password.clone();
    // Unknown accounts cost a hash too, so timing does not tell them apart.
    let matches = tokio::task::spawn_blocking(move || match hash {
        Some(h) => password::verify(&password, &h),
        None => {
            password::verify(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let mut failure = SignInFailure { account: actor.id, failures: None, at: now, window_start: now - THROTTLE_WINDOW };
    let Some((account, _)) = found else {
        store.record_sign_in_failure(&actor, &failure).await?;
        return Err(sign_in_failed());
    };
    let lockout = &state.auth.lockout;
    let locked = lockout.is_locked(&account.failures, now);
    if locked || account.disabled || !matches {
        // A locked or disabled account's count stays as it is.
        failure.failures = (!locked && !account.disabled).then(|| lockout.after_failure(&account.failures, now));
        store.record_sign_in_failure(&actor, &failure).await?;
        return Err(sign_in_failed());
    }
    let token = random_token();
    let session = NewSession {
        token_hash: sha256_hex(&token),
        csrf_token: random_token(),
        at: now,
        second_factor_pending: account.totp_enabled,
    };
    let actor = Actor { id: Some(account.id), name: account.username.clone(), ip: ip.clone() };
    store.start_session(&actor, &session).await?;
    let roles = Roles::parse(account.roles.clone()).unwrap_or_else(|_| Roles::none());
    let principal = Principal {
        account,
        roles,
        csrf_token: session.csrf_token,
        ip,
        second_factor_pending: session.second_factor_pending,
        token_hash: session.token_hash,
    };
    let max_age = state.auth.session.absolute.num_seconds();
    let mut res = Json(me(&principal, &state.auth)).into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(&headers, &token, max_age));
    Ok(res)
}

/// A real hash of a random text, verified against for unknown accounts.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| password::hash(&random_token()));

/// Takes the captcha and checks the answer: a 400 naming `captcha_answer` if wrong or expired.
pub(crate) async fn check_captcha(state: &AppState, id: &str, answer: &str) -> Result<(), ApiError> {
    let wrong = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "captcha_invalid",
            "验证码错误或已过期，请刷新验证码后重试",
            "the captcha is wrong or has expired; get a new one and try again",
        )
        .with_field("captcha_answer")
    };
    if id.len() > 64 {
        return Err(wrong());
    }
    // Taken even when wrong: each captcha gets one try.
    let Some((hash, expires)) = state.store.take_captcha(id).await? else { return Err(wrong()) };
    let answer = answer.trim().to_uppercase();
    let test_answer = state.auth.captcha_test_answer.as_deref().is_some_and(|t| t == answer);
    if Utc::now() > expires || !(hash == captcha_hash(id, &answer) || test_answer) {
        return Err(wrong());
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn current(State(state): State<AppState>, axum::Extension(p): axum::Extension<Principal>) -> Json<Me> {
    Json(me(&p, &state.auth))
}

#[utoipa::path(post, path = "/api/v1/auth/sign-out", tag = "auth", responses((status = 204)))]
pub async fn sign_out(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.store.end_session(&p.actor(), &p.token_hash, true).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie(&headers, "", 0));
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes one's own password; other sessions of the account end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let store = &state.store;
    let policy = state.auth.password.clone();
    policy.check(&form.new_password, &p.account.username).map_err(|e| ApiError::invalid("new_password", &e))?;
    let Some((_, current_hash)) = store.account_for_sign_in(&LoginName::Username(p.account.username.clone())).await?
    else {
        return Err(sign_in_required());
    };
    let history = store.password_history(p.account.id, policy.history).await?;
    let (current, new) = (form.current_password, form.new_password);
    let outcome = tokio::task::spawn_blocking(move || {
        if !password::verify(&current, &current_hash) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "password_wrong",
                "当前密码不正确",
                "the current password is wrong",
            )
            .with_field("current_password"));
        }
        policy
            .check_history(&new, history.iter().map(String::as_str))
            .map_err(|e| ApiError::invalid("new_password", &e))?;
        Ok(password::hash(&new))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let hash = outcome?;
    store.set_password(&p.actor(), p.account.id, &hash, false, Some(&p.token_hash)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new authenticator secret, to be confirmed by `enable`.
#[derive(Serialize, ToSchema)]
pub struct TotpSetup {
    /// Base32, for typing into the app by hand.
    pub secret: String,
    pub otpauth_url: String,
    /// The address as a QR code, an SVG image.
    pub qr_svg: String,
}

#[utoipa::path(post, path = "/api/v1/auth/totp/setup", tag = "auth", responses((status = 200, body = TotpSetup)))]
pub async fn totp_setup(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Result<Json<TotpSetup>, ApiError> {
    if p.second_factor_pending {
        return Err(forbidden());
    }
    let secret = totp::generate_secret();
    state.store.set_totp_secret(&p.actor(), p.account.id, &secret).await?;
    let url = totp::otpauth_url(&secret, &p.account.username);
    Ok(Json(TotpSetup { secret: totp::secret_base32(&secret), qr_svg: totp::qr_svg(&url), otpauth_url: url }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// Six digits from the app, or (for verify) a recovery code.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Shown once: each signs in once without the app.
    pub recovery_codes: Vec<String>,
}

fn wrong_code() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "code_invalid", "动态码不正确或已使用", "the code is wrong or was used")
        .with_field("code")
}

/// Checks a six-digit code against the stored secret, each time step once.
async fn accept_code(state: &AppState, account_id: i64, code: &str) -> Result<bool, ApiError> {
    let Some(secret) = state.store.totp_secret(account_id).await? else { return Ok(false) };
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or_default();
    match totp::check(&secret, code, now) {
        Some(step) => Ok(state.store.accept_totp_step(account_id, i64::try_from(step).unwrap_or(i64::MAX)).await?),
        None => Ok(false),
    }
}

#[utoipa::path(post, path = "/api/v1/auth/totp/enable", tag = "auth", request_body = TotpCode,
    responses((status = 200, body = RecoveryCodes), (status = 400, body = ErrorBody)))]
pub async fn totp_enable(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Json(form): Json<TotpCode>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    if p.second_factor_pending || !accept_code(&state, p.account.id, &form.code).await? {
        return Err(wrong_code());
    }
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| sha256_hex(c)).collect();
    state.store.enable_totp(&p.actor(), p.account.id, &hashes).await?;
    Ok(Json(RecoveryCodes { recovery_codes: codes }))
}

/// The second step of signing in: a code from the app, or a recovery code.
#[utoipa::path(post, path = "/api/v1/auth/totp/verify", tag = "auth", request_body = TotpCode,
    responses((status = 200, body = Me), (status = 400, body = ErrorBody)))]
pub async fn totp_verify(
    State(state): State<AppState>,
    axum::Extension(mut p): axum::Extension<Principal>,
    Json(form): Json<TotpCode>,
) -> Result<Json<Me>, ApiError> {
    if !p.second_factor_pending {
        return Ok(Json(me(&p, &state.auth)));
    }
    let recovery = totp::normalise_recovery_code(&form.code);
    let accepted = accept_code(&state, p.account.id, &form.code).await?
        || (recovery.len() == 9
            && state.store.use_recovery_code(&p.actor(), p.account.id, &sha256_hex(&recovery)).await?);
    if !accepted {
        let now = Utc::now();
        let after = state.auth.lockout.after_failure(&p.account.failures, now);
        let failure = SignInFailure {
            account: Some(p.account.id),
            failures: Some(after),
            at: now,
            window_start: now - THROTTLE_WINDOW,
        };
        state.store.record_sign_in_failure(&p.actor(), &failure).await?;
        if state.auth.lockout.is_locked(&after, now) {
            state.store.end_session(&p.actor(), &p.token_hash, false).await?;
        }
        return Err(wrong_code());
    }
    state.store.complete_second_factor(&p.actor(), &p.token_hash).await?;
    p.second_factor_pending = false;
    Ok(Json(me(&p, &state.auth)))
}

/// Used by tests and tools that must start a sign-in without reading an image.
pub async fn put_known_captcha(store: &dyn Store, answer: &str) -> Result<String, zhongfu_store::StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    store.put_captcha(&id, &captcha_hash(&id, answer), Utc::now() + CAPTCHA_LIFETIME).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::*;

    /// Every documented operation, as (method, path).
    fn documented() -> Vec<(&'static str, String)> {
        let doc = crate::ApiDoc::openapi();
        let mut out = Vec::new();
        for (path, item) in doc.paths.paths {
            let ops = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            out.extend(ops.into_iter().filter(|(_, present)| *present).map(|(m, _)| (m, path.clone())));
        }
        out
    }

    #[test]
    fn every_documented_route_declares_who_may_call_it() {
        let documented = documented();
        assert!(documented.len() >= ROUTES.len());
        for (method, path) in &documented {
            assert!(access_for(method, path).is_some(), "{method} {path} has no declared access");
        }
        for (method, path, _) in ROUTES {
            assert!(documented.iter().any(|(m, p)| m == method && p == path), "{method} {path} is not documented");
        }
    }

    #[test]
    fn only_sign_in_registration_and_public_reference_data_are_open() {
        let public: Vec<&str> = ROUTES.iter().filter(|(_, _, a)| *a == Access::Public).map(|(_, p, _)| *p).collect();
        assert_eq!(
            public,
            [
                "/api/v1/divisions",
                "/api/v1/divisions/{code}",
                "/api/v1/auth/captcha",
                "/api/v1/auth/sign-in",
                "/api/v1/site",
                "/api/v1/volunteers/register"
            ]
        );
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; zf_session=abc; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "zf"), None);
    }
}
