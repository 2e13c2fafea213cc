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
    /// Where what was asked for is now (a merged household's new number).
    pub see: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { status, code, field: None, see: None, message_zh: zh.into(), message_en: en.into() }
    }

    /// A 400 for a domain rejection of one field.
    pub fn invalid(field: &'static str, e: &impl UserError) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: e.code(),
            field: Some(Cow::Borrowed(field)),
            see: None,
            message_zh: e.message_zh(),
            message_en: e.message_en(),
        }
    }

    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(Cow::Borrowed(field));
        self
    }

    pub fn with_see(mut self, see: String) -> Self {
        self.see = Some(see);
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
    pub request_id: String,
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
    let is_upload = req.uri().path().contains("import");
    let mut res = next.run(req).await;
    let error = match res.extensions_mut().remove::<ApiError>() {
        Some(e) => e,
        // A handler's own JSON answer (e.g. 412 with the current record) passes as it is.
        None if is_json(&res) => return res,
        None if is_api && (res.status().is_client_error() || res.status().is_server_error()) => {
            let status = res.status();
            let text = axum::body::to_bytes(std::mem::take(res.body_mut()), 4096).await.unwrap_or_default();
            match status {
                // A ledger over the upload limit: say it is the file.
                StatusCode::PAYLOAD_TOO_LARGE if is_upload => ApiError::new(
                    status,
                    "file_too_large",
                    "文件超过上传大小上限：请分成几个文件导入，或请管理员调高上限",
                    "the file is over the upload size limit: import it in parts, or ask an administrator to raise the limit",
                )
                .with_field("file"),
                _ => body_error(status, &String::from_utf8_lossy(&text)).unwrap_or_else(|| framework_error(status)),
            }
        }
        None => return res,
    };
    let body = ErrorBody {
        code: error.code,
        message: if lang == Lang::En { error.message_en } else { error.message_zh },
        field: error.field,
        see: error.see,
        request_id,
    };
    let mut out = (error.status, Json(body)).into_response();
    out.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

fn is_json(res: &Response) -> bool {
    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

/// A JSON body that does not fit the request type: axum names the path of
/// the bad value (`definition.level: unknown variant …`); the error names it too.
fn body_error(status: StatusCode, text: &str) -> Option<ApiError> {
    let detail = text.strip_prefix("Failed to deserialize the JSON body into the target type: ")?;
    let detail = detail.rsplit_once(" at line ").map_or(detail, |(d, _)| d);
    let (path, reason) = match detail.split_once(": ") {
        Some((path, reason)) if !path.contains(' ') => (Some(path), reason),
        _ => (None, detail),
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
        (Some(f), None) => (format!("字段 {f} 的值不正确：{}", reason_zh(reason)), format!("{f}: {reason}")),
        (None, _) => (format!("请求内容不正确：{}", reason_zh(reason)), reason.to_owned()),
    };
    let mut e = ApiError::new(status, "invalid_body", zh, en);
    e.field = field.map(Cow::Owned);
    Some(e)
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
    if let Some(rest) = reason.strip_prefix("unknown variant `") {
        let (value, allowed) = rest.split_once("`, expected ").unwrap_or((rest.trim_end_matches('`'), ""));
        let allowed = allowed.trim_start_matches("one of ").replace('`', "").replace(", ", "、").replace(" or ", "、");
        return format!("“{value}”不是可选值（可选：{allowed}）");
    }
    if let Some(rest) = reason.strip_prefix("unknown field `") {
        let field = rest.split_once('`').map_or(rest, |(f, _)| f);
        return format!("没有字段 {field}");
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
    }
}
