//! Administrative divisions: browse children, look up a code, search by name.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhongfu_domain::DivisionCode;
use zhongfu_store::Division;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct DivisionView {
    /// 12-digit code, e.g. `430602000000`.
    pub code: String,
    pub name: String,
    /// province, city, county, township or village.
    pub level: String,
    pub has_children: bool,
}

impl From<Division> for DivisionView {
    fn from(d: Division) -> Self {
        Self {
            code: d.code.to_string(),
            name: d.name,
            level: d.level.as_str().to_owned(),
            has_children: d.has_children,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DivisionList {
    pub items: Vec<DivisionView>,
}

#[derive(Serialize, ToSchema)]
pub struct PathItem {
    pub code: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct DivisionDetail {
    #[serde(flatten)]
    pub division: DivisionView,
    /// From the province down to this division.
    pub path: Vec<PathItem>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DivisionQuery {
    /// List the children of this 12-digit code (provinces when absent).
    pub parent: Option<String>,
    /// Search by name instead (at most 50 results).
    pub q: Option<String>,
}

const SEARCH_LIMIT: u32 = 50;
const QUERY_MAX_CHARS: usize = 50;

pub(crate) fn parse_code(field: &'static str, s: &str) -> Result<DivisionCode, ApiError> {
    DivisionCode::parse(s).map_err(|e| ApiError::invalid(field, &e))
}

/// List provinces, the children of a division, or search by name.
#[utoipa::path(get, path = "/api/v1/divisions", tag = "divisions", params(DivisionQuery),
    responses((status = 200, body = DivisionList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<DivisionQuery>,
) -> Result<Json<DivisionList>, ApiError> {
    let items = match (query.q.as_deref().map(str::trim), query.parent.as_deref()) {
        (Some(q), _) if q.chars().count() > QUERY_MAX_CHARS => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "too_long",
                format!("搜索词最多{QUERY_MAX_CHARS}个字"),
                format!("the search text has at most {QUERY_MAX_CHARS} characters"),
            )
            .with_field("q"));
        }
        (Some(q), _) if !q.is_empty() => state.store.search_divisions(q, SEARCH_LIMIT).await?,
        (_, Some(parent)) => {
            let parent = parse_code("parent", parent)?;
            if state.store.division(&parent).await?.is_none() {
                return Err(ApiError::not_found().with_field("parent"));
            }
            state.store.division_children(Some(&parent)).await?
        }
        _ => state.store.division_children(None).await?,
    };
    Ok(Json(DivisionList { items: items.into_iter().map(DivisionView::from).collect() }))
}

/// Look up one division with its path from the province.
#[utoipa::path(get, path = "/api/v1/divisions/{code}", tag = "divisions",
    params(("code" = String, Path, description = "12-digit division code")),
    responses((status = 200, body = DivisionDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn detail(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<DivisionDetail>, ApiError> {
    let code = parse_code("code", &code)?;
    let division = state.store.division(&code).await?.ok_or_else(|| ApiError::not_found().with_field("code"))?;
    let mut path = vec![PathItem { code: division.code.to_string(), name: division.name.clone() }];
    let mut next = division.code.parent();
    while let Some(c) = next {
        if let Some(d) = state.store.division(&c).await? {
            path.push(PathItem { code: d.code.to_string(), name: d.name });
        }
        next = c.parent();
    }
    path.reverse();
    Ok(Json(DivisionDetail { division: division.into(), path }))
}
