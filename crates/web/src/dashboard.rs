//! The home dashboard: households and persons per street of the district.

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
pub struct StreetRow {
    pub code: String,
    pub name: String,
    pub households: i64,
    pub persons: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    pub district: PathItem,
    pub totals: Totals,
    pub streets: Vec<StreetRow>,
}

/// Household and person counts per street of the configured district.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "dashboard",
    responses((status = 200, body = Dashboard), (status = 404, body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    axum::Extension(principal): axum::Extension<Principal>,
) -> Result<Json<Dashboard>, ApiError> {
    let district = state.store.division(&state.district).await?.ok_or_else(ApiError::not_found)?;
    let scope = principal.scope();
    let streets: Vec<StreetRow> = state
        .store
        .street_counts(&scope, &state.district)
        .await?
        .into_iter()
        .map(|s| StreetRow { code: s.code.to_string(), name: s.name, households: s.households, persons: s.persons })
        .collect();
    let totals = Totals {
        households: streets.iter().map(|s| s.households).sum(),
        persons: streets.iter().map(|s| s.persons).sum(),
    };
    Ok(Json(Dashboard { district: PathItem { code: district.code.to_string(), name: district.name }, totals, streets }))
}
