//! One error shape for the whole API: `{code, message, field?, request_id}`,
//! the message in zh-CN, or English when the request asks for it.
//!
//! Handlers return [`ApiError`]; it travels in the response's extensions and
//! [`render_errors`] writes the body, because only the middleware sees the
//! request's language and id.

use std::borrow::Cow;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use zhongfu_domain::UserError;
use zhongfu_store::StoreError;

/// An error a handler returns: what to tell the user, in both languages.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<Cow<'static, str>>,
    pub message_zh: String,
    pub message_en: String,
    /// Seldom used, so boxed: it keeps every `Result<_, ApiError>` small.
    pub more: Option<Box<More>>,
}

#[derive(Clone, Debug, Default)]
pub struct More {
    /// Where what was asked for is now (a merged household's new number).
    pub see: Option<String>,
    /// The other fields of the same form that failed too, so one answer names them all.
    pub others: Vec<ApiError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        let (message_zh, message_en) = (bounded(zh.into()), bounded(en.into()));
        Self { status, code, field: None, message_zh, message_en, more: None }
    }

    /// A form's checks, in the order of its fields: `Ok` when all passed, else the
    /// first failure carrying every other one (a check that already carries others
    /// gives them in its place). A check that failed on our side (a 5xx, e.g. the
    /// database) is the answer alone: it is not the user's to fix.
    pub fn first_of<'a>(checks: impl IntoIterator<Item = Option<&'a ApiError>>) -> Result<(), ApiError> {
        let checks: Vec<&ApiError> = checks.into_iter().flatten().collect();
        if let Some(ours) = checks.iter().find(|e| e.status.is_server_error()) {
            return Err((*ours).clone());
        }
        let mut failed = checks.into_iter().flat_map(|e| {
            let alone = ApiError { more: None, ..e.clone() };
            std::iter::once(alone).chain(e.others().iter().cloned())
        });
        match failed.next() {
            None => Ok(()),
            Some(first) => {
                let others: Vec<ApiError> = failed.collect();
                let more = (!others.is_empty()).then(|| Box::new(More { see: None, others }));
                Err(ApiError { more, ..first })
            }
        }
    }

    /// A 400 for a domain rejection of one field.
    pub fn invalid(field: &'static str, e: &impl UserError) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: e.code(),
            field: Some(Cow::Borrowed(field)),
            message_zh: bounded(e.message_zh()),
            message_en: bounded(e.message_en()),
            more: None,
        }
    }

    fn others(&self) -> &[ApiError] {
        self.more.as_ref().map_or(&[], |m| &m.others)
    }

    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(Cow::Borrowed(field));
        self
    }

    pub fn with_see(mut self, see: String) -> Self {
        self.more.get_or_insert_default().see = Some(see);
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "未找到，或不在您的管辖范围内",
            "not found, or outside your jurisdiction",
        )
    }

    /// Something broke on our side; details go to the log, not the user.
    pub fn internal(e: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error_chain(e), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请把请求编号告诉管理员",
            "internal error; please give the request id to your administrator",
        )
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::internal(&e)
    }
}

/// Characters of a message said back: one that quotes what was sent (an unknown
/// role of 100,000 characters) says its start.
const MESSAGE_CHARS: usize = 400;

fn bounded(message: String) -> String {
    match message.char_indices().nth(MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_division_code`.
    pub code: &'static str,
    /// Human-readable message in the requested language.
    pub message: String,
    /// The request field the error concerns, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub field: Option<Cow<'static, str>>,
    /// Where what was asked for is now, if it moved (a merged household's new number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub see: Option<String>,
    /// Every field that failed, this one first, when a form had more than one wrong.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldMessage>,
    pub request_id: String,
}

/// One field's failure among several.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldMessage {
    #[schema(value_type = Option<String>)]
    pub field: Option<Cow<'static, str>>,
    pub code: &'static str,
    pub message: String,
}

/// The language the caller reads: English when `Accept-Language` prefers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        // The first listed language decides; zh-CN is the default.
        match accept.split(',').next().map(|l| l.trim().to_ascii_lowercase()) {
            Some(l) if l.starts_with("en") => Self::En,
            _ => Self::Zh,
        }
    }
}

/// Middleware: turns an [`ApiError`] (or a bare 4xx/5xx from axum itself,
/// such as a bad query string) into the JSON error body.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let lang = Lang::from_headers(req.headers());
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let is_api = req.uri().path().starts_with("/api/v1/");
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
    let mut res = next.run(req).await;
    let error = match res.extensions_mut().remove::<ApiError>() {
        Some(e) => e,
        // A handler's own JSON answer (e.g. 412 with the current record) passes as it is.
        None if is_json(&res) => return res,
        None if is_api && (res.status().is_client_error() || res.status().is_server_error()) => {
            let status = res.status();
            // serde quotes the bad value, which can be long: read enough to keep the field.
            let text = axum::body::to_bytes(std::mem::take(res.body_mut()), 1 << 20).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            body_error(status, &text)
                .or_else(|| url_error(status, &text, route.as_deref()))
                .unwrap_or_else(|| framework_error(status))
        }
        None => return res,
    };
    let say = |e: &ApiError| if lang == Lang::En { e.message_en.clone() } else { e.message_zh.clone() };
    let errors = if error.others().is_empty() {
        Vec::new()
    } else {
        std::iter::once(&error)
            .chain(error.others())
            .map(|e| FieldMessage { field: e.field.clone(), code: e.code, message: say(e) })
            .collect()
    };
    let body = ErrorBody {
        code: error.code,
        message: say(&error),
        field: error.field,
        see: error.more.and_then(|m| m.see),
        errors,
        request_id,
    };
    let mut out = (error.status, Json(body)).into_response();
    out.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// The largest JSON body a form sends (axum's own default limit for one).
const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// Whether a content type is one axum's `Json` reads: `application/json` or any
/// `application/…+json`, in any case, with or without parameters.
fn json_media_type(value: &axum::http::HeaderValue) -> bool {
    let Ok(text) = value.to_str() else { return false };
    let essence = text.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Text holding control characters (NUL and the like, which JSON carries as `\u0000`) is
/// refused before a handler reads it, naming the field: no name, address or reason holds
/// them, and PostgreSQL cannot store a NUL. Tabs and line breaks pass.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    if !req.headers().get(header::CONTENT_TYPE).is_some_and(json_media_type) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, JSON_LIMIT).await else {
        return framework_error(StatusCode::PAYLOAD_TOO_LARGE).into_response();
    };
    // Only a body with an escape that can stand for one is read twice.
    let escaped = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle));
    if (escaped(b"\\u00") || escaped(b"\\b") || escaped(b"\\f"))
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && let Some(field) = control_character_at(&value, String::new())
    {
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "control_character",
            format!("字段 {field} 含有不可见的控制字符（如 NUL），请删去后重新输入"),
            format!("{field} holds a control character (such as NUL): remove it and type the text again"),
        );
        e.field = Some(Cow::Owned(field));
        return e.into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// The path (`members[0].name`) of the first text or key holding a control character.
fn control_character_at(value: &serde_json::Value, path: String) -> Option<String> {
    let bad = |s: &str| s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    // A key with one is named by the object that holds it.
    let here = || if path.is_empty() { "body".to_owned() } else { path.clone() };
    match value {
        serde_json::Value::String(s) if bad(s) => Some(here()),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| control_character_at(v, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| match bad(k) {
            true => Some(here()),
            false => control_character_at(v, if path.is_empty() { k.clone() } else { format!("{path}.{k}") }),
        }),
        _ => None,
    }
}

fn is_json(res: &Response) -> bool {
    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

/// A JSON body that does not fit the request type: axum names the path of
/// the bad value (`definition.level: unknown variant …`); the error names it too.
fn body_error(status: StatusCode, text: &str) -> Option<ApiError> {
    // serde_json takes a value where a choice's name belongs (`"kind": 123`) for a syntax
    // error, so axum says "parse"; that one is read too when it names a field.
    let (detail, syntax) = match text.strip_prefix("Failed to deserialize the JSON body into the target type: ") {
        Some(d) => (d, false),
        None => (text.strip_prefix("Failed to parse the request body as JSON: ")?, true),
    };
    let detail = detail.rsplit_once(" at line ").map_or(detail, |(d, _)| d);
    // The value serde quotes is not said back whole.
    let detail = match detail.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &detail[..cut]),
        None => detail.to_owned(),
    };
    let (path, reason) = match detail.split_once(": ") {
        Some((path, reason)) if !path.contains(' ') => (Some(path), reason),
        _ if syntax => return None,
        _ => (None, detail.as_str()),
    };
    // `missing field `name``: the field is the missing one.
    let missing = reason.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`'));
    let field = match (path, missing) {
        (Some(p), Some(m)) => Some(format!("{p}.{m}")),
        (None, Some(m)) => Some(m.to_owned()),
        (p, None) => p.map(str::to_owned),
    };
    let unknown = reason.starts_with("unknown field `");
    let (zh, en) = match (&field, missing) {
        (Some(f), Some(_)) => (format!("缺少字段 {f}"), format!("{f}: required")),
        // A field the request should not have has no value to be wrong: it is named alone.
        (Some(_), None) if unknown => {
            (reason_zh(reason), reason.split(", expected").next().unwrap_or(reason).to_owned())
        }
        (Some(f), None) => {
            (format!("字段 {f} 的值不正确：{}", reason_zh(reason)), format!("{f}: {}", reason_en(reason)))
        }
        (None, _) => (format!("请求内容不正确：{}", reason_zh(reason)), reason_en(reason).into_owned()),
    };
    let mut e = ApiError::new(status, "invalid_body", zh, en);
    e.field = field.map(Cow::Owned);
    Some(e)
}

/// A path or query string that does not fit: the parameter is named. axum names a
/// query's field, but a path's parameter only by its place in the route.
fn url_error(status: StatusCode, text: &str, route: Option<&str>) -> Option<ApiError> {
    let (field, zh, en) = if let Some(rest) = text.strip_prefix("Failed to deserialize query string: ") {
        // A parameter the route does not read (every query is `deny_unknown_fields`): named alone.
        let unknown = rest.split_once("unknown field `").and_then(|(_, r)| r.split_once('`')).map(|(name, _)| name);
        if let Some(name) = unknown {
            let name: String = name.chars().take(40).collect();
            let mut e = ApiError::new(
                status,
                "invalid_parameter",
                format!("没有参数 {name}"),
                format!("no such parameter: {name}"),
            );
            e.field = Some(Cow::Owned(name));
            return Some(e);
        }
        let (field, reason) = rest.split_once(": ").filter(|(f, _)| !f.contains(' '))?;
        (field.to_owned(), format!("参数 {field} 的值不正确：{}", reason_zh(reason)), format!("{field}: {reason}"))
    } else {
        let rest = text.strip_prefix("Invalid URL: Cannot parse ")?;
        let params: Vec<&str> =
            route?.split('/').filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))).collect();
        let index = match rest.strip_prefix("value at index ") {
            Some(at) => at.split(' ').next()?.parse::<usize>().ok()?,
            None => 0,
        };
        let field = (*params.get(index)?).to_owned();
        let expected = rest.rsplit_once(" to a `").map_or("", |(_, t)| t.trim_end_matches('`'));
        let integer = expected.starts_with('i') || expected.starts_with('u');
        let (zh, en) = if integer {
            (format!("路径中的 {field} 应为编号（整数）"), format!("{field} in the path must be a whole number"))
        } else {
            (format!("路径中的 {field} 不正确"), format!("{field} in the path is not valid"))
        };
        (field, zh, en)
    };
    let mut e = ApiError::new(status, "invalid_parameter", zh, en);
    e.field = Some(Cow::Owned(field));
    Some(e)
}

/// A list sent where an object belongs: serde says so by the Rust type's name
/// (`invalid length 0, expected struct SignIn with 4 elements`).
fn list_for_object(reason: &str) -> bool {
    reason.starts_with("invalid length ") && reason.contains(", expected struct ")
}

/// serde's reason in English, without the names of our types.
fn reason_en(reason: &str) -> Cow<'_, str> {
    if list_for_object(reason) {
        return Cow::Borrowed("expected an object ({…}), got a list");
    }
    // `invalid type: string "x", expected struct SignIn`: an object, whatever we call it.
    match reason.split_once(", expected struct ") {
        Some((head, _)) => Cow::Owned(format!("{head}, expected an object")),
        None => Cow::Borrowed(reason),
    }
}

/// serde's reason in Chinese, for the kinds a form or a script meets: a value of the
/// wrong type, not one of the allowed values, a field not known. Others are passed on.
fn reason_zh(reason: &str) -> String {
    let kind = |t: &str| -> &'static str {
        match t {
            "a string" | "string" | "a borrowed string" => "文本",
            "a boolean" | "boolean" => "真或假（true/false）",
            "a sequence" | "sequence" => "列表",
            "a map" | "map" => "对象",
            "null" | "unit value" => "空值（null）",
            "a formatted date string" | "a date" => "日期（YYYY-MM-DD）",
            "i8" | "i16" | "i32" | "i64" | "isize" | "u8" | "u16" | "u32" | "u64" | "usize" => "整数",
            t if t.contains("integer") => "整数",
            "f32" | "f64" => "数字",
            t if t.contains("floating") => "数字",
            t if t.starts_with("struct ") => "对象",
            _ => "其他类型",
        }
    };
    if let Some(rest) = reason.strip_prefix("invalid type: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let got = got.split_once(' ').map_or(got, |(t, _)| t);
        return format!("应为{}，收到的是{}", kind(expected), kind(got));
    }
    if list_for_object(reason) {
        return "应为对象（{…}），收到的是列表".into();
    }
    if let Some(rest) = reason.strip_prefix("unknown variant `") {
        let (value, allowed) = rest.split_once("`, expected ").unwrap_or((rest.trim_end_matches('`'), ""));
        let allowed = allowed.trim_start_matches("one of ").replace('`', "").replace(", ", "、").replace(" or ", "、");
        return format!("“{value}”不是可选值（可选：{allowed}）");
    }
    if let Some(rest) = reason.strip_prefix("unknown field `") {
        let field = rest.split_once('`').map_or(rest, |(f, _)| f);
        return format!("没有字段 {field}");
    }
    if reason.starts_with("invalid digit found")
        || reason.starts_with("number too large")
        || reason.starts_with("number too small")
        || reason.starts_with("cannot parse integer")
    {
        return "应为整数".into();
    }
    if reason.starts_with("expected ident") {
        return "应为可选值之一（文本）".into();
    }
    if reason.ends_with(zhongfu_domain::day::SHAPE) {
        return "日期应写作 YYYY-MM-DD（如 2026-01-05）".into();
    }
    if reason.ends_with(zhongfu_domain::day::NO_SUCH_DAY) {
        return "没有这一天（如 2026-13-01）".into();
    }
    if reason.starts_with("invalid value: ") {
        return "取值超出允许的范围".into();
    }
    if reason.contains("premature end of input") || reason.contains("input contains invalid characters") {
        return "日期应写作 YYYY-MM-DD".into();
    }
    if reason.contains("input is out of range") || reason.contains("input is not enough") {
        return "没有这一天（如 2026-13-01）".into();
    }
    reason.to_owned()
}

/// Errors axum produces before a handler runs (unknown route, wrong method,
/// unparsable query or body) get the same shape.
pub(crate) fn framework_error(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", "接口不存在", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "该接口不支持此请求方法",
            "method not allowed for this endpoint",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(status, "too_large", "请求内容过大", "request body too large"),
        s if s.is_client_error() => ApiError::new(status, "bad_request", "请求格式不正确", "malformed request"),
        _ => ApiError::new(status, "internal", "服务器内部错误", "internal error"),
    }
}

#[cfg(test)]
mod tests {
    use super::reason_zh;

    /// serde's own words for a body, read in Chinese.
    fn said<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        let e = serde_json::from_str::<T>(body).unwrap_err().to_string();
        let reason = e.rsplit_once(" at line ").map_or(e.as_str(), |(r, _)| r);
        reason_zh(reason)
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "read only by serde, for its error messages")]
    struct Form {
        kind: String,
        count: Option<u32>,
        level: Option<Level>,
        day: Option<chrono::NaiveDate>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Level {
        Person,
        Household,
    }

    /// A form's wrong fields are named together; a failure on our side is said alone.
    #[test]
    fn a_server_failure_among_a_forms_checks_is_the_answer_alone() {
        use super::{ApiError, StatusCode};
        let bad =
            |field: &'static str| ApiError::new(StatusCode::BAD_REQUEST, "invalid", "错", "wrong").with_field(field);
        let (name, email) = (bad("name"), bad("email"));
        let both = ApiError::first_of([Some(&name), None, Some(&email)]).unwrap_err();
        assert_eq!(
            (both.status, both.field.as_deref(), both.others().len()),
            (StatusCode::BAD_REQUEST, Some("name"), 1)
        );
        let store = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "服务器内部错误", "internal error");
        let answer = ApiError::first_of([Some(&name), Some(&store), Some(&email)]).unwrap_err();
        assert_eq!((answer.status, answer.others().len()), (StatusCode::INTERNAL_SERVER_ERROR, 0));
        assert!(ApiError::first_of([None, None]).is_ok());
    }

    #[test]
    fn a_message_quoting_a_long_value_says_its_start() {
        let role = "x".repeat(100_000);
        let e =
            super::ApiError::new(super::StatusCode::BAD_REQUEST, "invalid_role", format!("未知角色：{role}"), "short");
        assert_eq!(e.message_zh.chars().count(), super::MESSAGE_CHARS + 1);
        assert!(e.message_zh.starts_with("未知角色：xxx") && e.message_zh.ends_with('…'));
        assert_eq!(e.message_en, "short", "a message that fits is kept whole");
    }

    #[test]
    fn a_wrong_value_is_said_in_chinese() {
        assert_eq!(said::<Form>(r#"{"kind": 123}"#), "应为文本，收到的是整数");
        assert_eq!(said::<Form>(r#"{"kind": "a", "count": "x"}"#), "应为整数，收到的是文本");
        assert_eq!(said::<Form>(r#"{"kind": "a", "count": -1}"#), "取值超出允许的范围");
        assert_eq!(
            said::<Form>(r#"{"kind": "a", "level": "family"}"#),
            "“family”不是可选值（可选：person、household）"
        );
        assert_eq!(said::<Form>(r#"{"kind": "a", "bogus": 1}"#), "没有字段 bogus");
        assert_eq!(said::<Form>(r#"{"kind": "a", "day": "2026/1/5"}"#), "日期应写作 YYYY-MM-DD");
        assert_eq!(said::<Form>(r#"{"kind": "a", "day": "2026-13-01"}"#), "没有这一天（如 2026-13-01）");
        assert_eq!(said::<Form>(r#"{"kind": "a", "day": 5}"#), "应为日期（YYYY-MM-DD），收到的是整数");
        assert_eq!(said::<Form>("[]"), "应为对象（{…}），收到的是列表");
    }

    /// A list where the form belongs is said in both languages without our type's name.
    #[test]
    fn a_list_for_a_form_does_not_name_our_type() {
        let sent = "Failed to deserialize the JSON body into the target type: \
            invalid length 0, expected struct SignIn with 4 elements at line 1 column 2";
        let e = super::body_error(super::StatusCode::UNPROCESSABLE_ENTITY, sent).unwrap();
        assert_eq!(e.message_zh, "请求内容不正确：应为对象（{…}），收到的是列表");
        assert_eq!(e.message_en, "expected an object ({…}), got a list");
        assert!(e.field.is_none());
        let sent = "Failed to deserialize the JSON body into the target type: \
            invalid type: string \"x\", expected struct SignIn at line 1 column 3";
        let e = super::body_error(super::StatusCode::UNPROCESSABLE_ENTITY, sent).unwrap();
        assert_eq!(e.message_zh, "请求内容不正确：应为对象，收到的是文本");
        assert_eq!(e.message_en, "invalid type: string \"x\", expected an object");
    }

    /// A NUL or another control character in any text is refused, naming where it is;
    /// tabs and line breaks pass, as does a backslash written as text.
    #[tokio::test]
    async fn a_control_character_is_refused_naming_the_field() {
        use tower::ServiceExt;
        async fn echo(body: String) -> String {
            body
        }
        let app = axum::Router::new()
            .route("/api/v1/forms", axum::routing::post(echo))
            .route_layer(axum::middleware::from_fn(super::refuse_control_characters))
            .layer(axum::middleware::from_fn(super::render_errors));
        for (sent, field, media) in [
            (r#"{"name": "张\u0000三"}"#, Some("name"), "application/json"),
            // Any JSON media type axum's extractor reads is read here too.
            (r#"{"name": "张\u0000三"}"#, Some("name"), "Application/JSON; charset=utf-8"),
            (r#"{"name": "张\u0000三"}"#, Some("name"), "application/vnd.api+json"),
            (r#"{"members": [{"name": "a"}, {"name": "\u001B[31m"}]}"#, Some("members[1].name"), "application/json"),
            (r#"{"reason": "\b"}"#, Some("reason"), "application/json"),
            (r#"{"a\u0000": 1}"#, Some("body"), "application/json"),
            (r#"{"address": "一行\n二行\t", "note": "C:\\users\\bob"}"#, None, "application/json"),
        ] {
            let req = axum::http::Request::post("/api/v1/forms")
                .header("content-type", media)
                .body(axum::body::Body::from(sent))
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
            match field {
                Some(field) => {
                    assert_eq!(status, 400, "{sent}");
                    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(
                        (body["code"].as_str(), body["field"].as_str()),
                        (Some("control_character"), Some(field))
                    );
                }
                None => assert_eq!((status.as_u16(), &body[..]), (200, sent.as_bytes()), "the body passes whole"),
            }
        }
    }

    /// A path or query string axum cannot read is refused naming the parameter.
    #[tokio::test]
    async fn a_bad_path_or_query_parameter_is_named() {
        use axum::extract::{Path, Query};
        use tower::ServiceExt;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "read only by serde")]
        struct Paging {
            page: Option<u32>,
        }
        async fn one(Path(_id): Path<i64>, Query(_q): Query<Paging>) {}
        async fn two(Path((_id, _person)): Path<(i64, i64)>) {}
        let app = axum::Router::new()
            .route("/api/v1/things/{id}", axum::routing::get(one))
            .route("/api/v1/things/{id}/members/{person}", axum::routing::get(two))
            .layer(axum::middleware::from_fn(super::render_errors));
        for (uri, field) in [
            ("/api/v1/things/abc", "id"),
            ("/api/v1/things/99999999999999999999", "id"),
            ("/api/v1/things/1?page=abc", "page"),
            ("/api/v1/things/1?page=-1", "page"),
            ("/api/v1/things/1/members/x", "person"),
            // A misspelt parameter is refused by its name, not ignored.
            ("/api/v1/things/1?pgae=2", "pgae"),
        ] {
            let req = axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), 400, "{uri}");
            let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["field"], field, "{uri}: {body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(field) && !message.contains("invalid digit"), "{uri}: {body}");
        }
        // serde quotes a wrong value whole: a long one still leaves the field named.
        async fn form(axum::Json(_p): axum::Json<Paging>) {}
        let app = axum::Router::new()
            .route("/api/v1/things", axum::routing::post(form))
            .layer(axum::middleware::from_fn(super::render_errors));
        let long = serde_json::json!({ "page": "x".repeat(100_000) }).to_string();
        let req = axum::http::Request::post("/api/v1/things")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(long))
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), 422);
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["field"], "page", "{body}");
        assert!(body["message"].as_str().unwrap().len() < 1000, "{body}");
        // A number where a choice's name belongs reads to serde_json as a syntax error.
        async fn choose(axum::Json(_f): axum::Json<Form>) {}
        let app = axum::Router::new()
            .route("/api/v1/forms", axum::routing::post(choose))
            .layer(axum::middleware::from_fn(super::render_errors));
        for (sent, field) in [(r#"{"kind": "a", "level": 123}"#, Some("level")), ("{not json", None)] {
            let req = axum::http::Request::post("/api/v1/forms")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(sent))
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), 400, "{sent}");
            let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["field"].as_str(), field, "{sent}: {body}");
        }
    }
}
