//! The home dashboard: households and persons per area one level below the
//! account's jurisdiction (the district's streets, or a street's communities).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Principal;
use crate::divisions::PathItem;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct Totals {
    pub households: i64,
    pub persons: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AreaRow {
    pub code: String,
    pub name: String,
    pub households: i64,
    pub persons: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    pub district: PathItem,
    pub totals: Totals,
    /// What the areas are: `street` (a district's streets) or `community`.
    pub level: &'static str,
    pub areas: Vec<AreaRow>,
}

/// Household and person counts per area below the account's jurisdiction.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "dashboard",
    responses((status = 200, body = Dashboard), (status = 404, body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    axum::Extension(principal): axum::Extension<Principal>,
) -> Result<Json<Dashboard>, ApiError> {
    let district = state.store.division(&state.district).await?.ok_or_else(ApiError::not_found)?;
    let scope = principal.scope();
    let areas: Vec<AreaRow> = state
        .store
        .area_counts(&scope, &state.district)
        .await?
        .into_iter()
        .map(|a| AreaRow { code: a.code.to_string(), name: a.name, households: a.households, persons: a.persons })
        .collect();
    let totals =
        Totals { households: areas.iter().map(|a| a.households).sum(), persons: areas.iter().map(|a| a.persons).sum() };
    let level = if scope.prefix().len() >= 9 { "community" } else { "street" };
    let district = PathItem { code: district.code.to_string(), name: district.name };
    Ok(Json(Dashboard { district, totals, level, areas }))
}
