//! The audit trail for the audit administrator: filter, page, export to Excel.
//! An export is itself recorded.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use zhongfu_store::AuditEvent;
use zhongfu_store::identity::{AuditFilter, AuditPage};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};

/// At most this many rows go into one export; narrow the filter for more.
const EXPORT_LIMIT: i64 = 100_000;
const PAGE_LIMIT: i64 = 200;

#[derive(Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Part of the actor's name.
    pub actor: Option<String>,
    /// An action (`account.locked`) or its area (`account`).
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Records by accounts of this unit (its number).
    pub unit: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// From 1.
    pub page: Option<i64>,
    /// At most 200.
    pub per_page: Option<i64>,
}

impl AuditQuery {
    /// The filter, narrowed to the records an audit administrator below the
    /// district may read: those by accounts within their jurisdiction.
    fn filter(&self, state: &AppState, p: &Principal, limit: i64) -> Result<AuditFilter, ApiError> {
        let mut filter = self.parsed(limit)?;
        let jurisdiction = p.scope().jurisdiction().to_owned();
        if !jurisdiction.contains(&state.district) {
            filter.within = Some(jurisdiction.prefix().to_owned());
        }
        Ok(filter)
    }

    fn parsed(&self, limit: i64) -> Result<AuditFilter, ApiError> {
        let clean = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        for (field, value) in
            [("actor", &self.actor), ("action", &self.action), ("entity", &self.entity), ("entity_id", &self.entity_id)]
        {
            if value.as_deref().is_some_and(|v| v.chars().count() > 100) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "too_long",
                    "最多100个字",
                    "at most 100 characters",
                )
                .with_field(field));
            }
        }
        let unit = match clean(&self.unit) {
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_unit", "单位编号应为数字", "a unit number is digits")
                    .with_field("unit")
            })?),
            None => None,
        };
        let from = day("from", &self.from)?;
        let last = day("to", &self.to)?;
        if let (Some(from), Some(last)) = (from, last)
            && last < from
        {
            return Err(crate::households::bad(
                "to",
                "结束日期不能早于开始日期",
                "the last day cannot be before the first",
            ));
        }
        // The last day is inclusive: stop before the next one.
        let to = last.map(|d| d + chrono::Days::new(1));
        let per_page = self.per_page.unwrap_or(50).clamp(1, limit);
        let page = self.page.unwrap_or(1);
        if page < 1 {
            return Err(crate::households::bad("page", "页码从 1 开始", "pages are counted from 1"));
        }
        Ok(AuditFilter {
            actor: clean(&self.actor),
            action: clean(&self.action),
            entity: clean(&self.entity),
            entity_id: clean(&self.entity_id),
            or_seq: None,
            or_persons: Vec::new(),
            unit_id: unit,
            within: None,
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
            offset: (page - 1).saturating_mul(per_page),
            limit: per_page,
        })
    }
}

fn day(field: &'static str, value: &Option<String>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    let Some(text) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    crate::households::day_field(field, text).map(Some)
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    Ok(Json(state.store.audit_page(&query.filter(&state, &p, PAGE_LIMIT)?).await?))
}

/// The filtered trail as an Excel workbook (at most 100,000 records).
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    axum::Extension(p): axum::Extension<Principal>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let mut filter = query.filter(&state, &p, EXPORT_LIMIT)?;
    filter.limit = EXPORT_LIMIT;
    filter.offset = 0;
    let page = state.store.audit_page(&filter).await?;
    let event = AuditEvent {
        action: "audit.export".into(),
        entity: "audit_log".into(),
        entity_id: String::new(),
        diff: serde_json::json!({"records": [null, page.records.len()]}).to_string(),
    };
    state.store.record_audit(&p.actor(), &event).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook(&page))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    let day = crate::households::today();
    Ok(crate::sheets::attachment(bytes, &format!("audit-{day}.xlsx"), &format!("审计日志-{day}.xlsx")))
}

fn workbook(page: &AuditPage) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("审计日志")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let headers = ["序号", "时间", "操作人ID", "操作人", "来源地址", "操作", "对象", "对象ID", "变更内容"];
    for (col, title) in (0u16..).zip(headers) {
        sheet.write_string_with_format(0, col, title, &bold)?;
    }
    for (row, r) in (1u32..).zip(&page.records) {
        sheet.write_number(row, 0, r.seq as f64)?;
        // Everything else as text: ids and times must not turn into numbers or dates.
        let actor = r.actor_id.map(|a| a.to_string()).unwrap_or_default();
        for (col, value) in
            (1u16..).zip([&r.at, &actor, &r.actor_name, &r.ip, &r.action, &r.entity, &r.entity_id, &r.diff])
        {
            // A record longer than a cell holds (a long rule's) is cut, not the export failed.
            sheet.write_string(row, col, crate::sheets::fits(value))?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, page.records.len() as u32, 8)?;
    for (col, width) in (0u16..).zip([8.0, 28.0, 10.0, 16.0, 16.0, 24.0, 12.0, 24.0, 60.0]) {
        sheet.set_column_width(col, width)?;
    }
    book.save_to_buffer()
}
