//! Zhongfu's HTTP layer: one module per area, one error shape, OpenAPI.
//!
//! [`router`] assembles the API, the probes, Swagger UI and the console;
//! [`Server`] binds it (port 0 works, for tests) and serves until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::middleware;
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;
use zhongfu_domain::DivisionCode;
use zhongfu_store::Store;

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod console;
pub mod dashboard;
pub mod divisions;
pub mod error;
pub mod health;
pub mod households;
pub mod imports;
pub mod metrics;
pub mod policies;
pub mod sheets;
pub mod sweep;
pub mod volunteers;

pub use metrics::Metrics;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// The district this deployment serves (the dashboard's subject).
    pub district: DivisionCode,
    pub auth: Arc<auth::AuthConfig>,
    /// Largest ledger an import accepts, in bytes.
    pub import_limit: usize,
    pub import_jobs: Arc<imports::ImportJobs>,
    /// The registry in columns and the latest sweep's results.
    pub sweeper: Arc<sweep::Sweeper>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Zhongfu 众扶 API", description = "Social assistance registry, policies and payments."),
    paths(divisions::list, divisions::detail, dashboard::dashboard, auth::captcha, auth::sign_in, auth::sign_out,
        auth::current, auth::change_password, auth::totp_setup, auth::totp_enable, auth::totp_verify, accounts::units, accounts::create_unit, accounts::accounts,
        accounts::create_account, accounts::update_account, accounts::role_list, accounts::set_roles, accounts::unlock, accounts::reset_password,
        accounts::set_disabled, audit::list, audit::export, volunteers::site, volunteers::register,
        volunteers::list, volunteers::approve, volunteers::reject, households::codes, households::search, households::facets, households::detail,
        households::history, households::reveal, households::reveal_member_phone, households::reveal_household_phone, households::update, households::update_member, households::add_member,
        households::remove_member, households::move_member, households::add_holding, households::update_holding, households::remove_holding, households::split, households::merge, households::export, imports::import, imports::error_report, imports::template, imports::mappings, imports::save_mapping, imports::start_job, imports::job_status, imports::cancel_job,
        policies::list, policies::detail, policies::vocabulary_list, policies::check_rule, policies::create, policies::draft,
        policies::publish, policies::discard, policies::set_param, policies::param_changes, policies::apply_param, policies::discard_param, policies::test, policies::start_sweep, policies::sweep_status, policies::results, policies::export,
        policies::mark, policies::start_taper, policies::end_taper),
    tags(
        (name = "divisions", description = "行政区划 Administrative divisions"),
        (name = "dashboard", description = "首页 Dashboard"),
    )
)]
pub struct ApiDoc;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/divisions", get(divisions::list))
        .route("/divisions/{code}", get(divisions::detail))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/auth/captcha", get(auth::captcha))
        .route("/auth/sign-in", post(auth::sign_in))
        .route("/auth/sign-out", post(auth::sign_out))
        .route("/auth/me", get(auth::current))
        .route("/auth/password", post(auth::change_password))
        .route("/auth/totp/setup", post(auth::totp_setup))
        .route("/auth/totp/enable", post(auth::totp_enable))
        .route("/auth/totp/verify", post(auth::totp_verify))
        .route("/units", get(accounts::units).post(accounts::create_unit))
        .route("/accounts", get(accounts::accounts).post(accounts::create_account))
        .route("/accounts/{id}", put(accounts::update_account))
        .route("/accounts/{id}/roles", put(accounts::set_roles))
        .route("/roles", get(accounts::role_list))
        .route("/accounts/{id}/unlock", post(accounts::unlock))
        .route("/accounts/{id}/reset-password", post(accounts::reset_password))
        .route("/accounts/{id}/disabled", post(accounts::set_disabled))
        .route("/audit", get(audit::list))
        .route("/audit/export", get(audit::export))
        .route("/site", get(volunteers::site))
        .route("/volunteers/register", post(volunteers::register))
        .route("/volunteers", get(volunteers::list))
        .route("/volunteers/{id}/approve", post(volunteers::approve))
        .route("/volunteers/{id}/reject", post(volunteers::reject))
        .route("/households/search", post(households::search))
        .route("/households/facets", post(households::facets))
        .route("/households/export", post(households::export))
        .route("/households/template", get(imports::template))
        .route("/households/codes", get(households::codes))
        .route("/import-mappings", get(imports::mappings).post(imports::save_mapping))
        .route("/import-jobs", upload(post(imports::start_job), state.import_limit))
        .route("/import-jobs/{id}", get(imports::job_status))
        .route("/import-jobs/{id}/cancel", post(imports::cancel_job))
        .route("/households/import", upload(post(imports::import), state.import_limit))
        .route("/households/import/errors", upload(post(imports::error_report), state.import_limit))
        .route("/households/{id}", get(households::detail).put(households::update))
        .route("/households/{id}/history", get(households::history))
        .route("/households/{id}/split", post(households::split))
        .route("/households/{id}/merge", post(households::merge))
        .route("/households/{id}/members", post(households::add_member))
        .route("/households/{id}/members/{person}", put(households::update_member).delete(households::remove_member))
        .route("/households/{id}/members/{person}/move", post(households::move_member))
        .route("/households/{id}/holdings", post(households::add_holding))
        .route(
            "/households/{id}/holdings/{holding}",
            put(households::update_holding).delete(households::remove_holding),
        )
        .route("/persons/{id}/reveal", post(households::reveal))
        .route("/persons/{id}/reveal-phone", post(households::reveal_member_phone))
        .route("/households/{id}/reveal-phone", post(households::reveal_household_phone))
        .route("/policies", get(policies::list).post(policies::create))
        .route("/policies/fields", get(policies::vocabulary_list))
        .route("/policies/check", post(policies::check_rule))
        .route("/policies/{id}", get(policies::detail))
        .route("/policies/{id}/draft", put(policies::draft))
        .route("/policies/{id}/test", post(policies::test))
        .route("/policy-versions/{id}/publish", post(policies::publish))
        .route("/policy-versions/{id}/discard", post(policies::discard))
        .route("/policy-params/{name}", put(policies::set_param))
        .route("/param-changes", get(policies::param_changes))
        .route("/param-changes/{id}/apply", post(policies::apply_param))
        .route("/param-changes/{id}/discard", post(policies::discard_param))
        .route("/sweep", get(policies::sweep_status).post(policies::start_sweep))
        .route("/sweep/results", post(policies::results))
        .route("/sweep/export", post(policies::export))
        .route("/sweep/marks", post(policies::mark))
        .route("/sweep/tapers", post(policies::start_taper))
        .route("/sweep/tapers/end", post(policies::end_taper))
        .route_layer(middleware::from_fn(error::refuse_control_characters))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));

    Router::new()
        .nest("/api/v1", api)
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .fallback(console::serve)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    // The route template, never the concrete path (it may hold identifiers).
                    let route = req
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), route, request_id = id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // Outside the error rendering, which reads the bodies of axum's own errors.
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn_with_state(state.clone(), metrics::record))
                .layer(middleware::from_fn(error::render_errors)),
        )
        .with_state(state)
}

/// A ledger upload's route: bodies up to `limit` bytes, and a file over it told so, with the limit.
fn upload(route: axum::routing::MethodRouter<AppState>, limit: usize) -> axum::routing::MethodRouter<AppState> {
    route
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(limit, imports::over_limit))
}

/// Why the server could not start listening.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "cannot listen on {addr}: the port is already in use; stop the other program or choose another --listen address"
    )]
    InUse { addr: String },
    #[error("cannot listen on {addr}: {source}")]
    Other { addr: String, source: std::io::Error },
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    router: Router,
}

impl Server {
    /// Binds `addr` (`127.0.0.1:0` picks a free port).
    pub async fn bind(addr: &str, state: AppState) -> Result<Self, BindError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => BindError::InUse { addr: addr.to_owned() },
            _ => BindError::Other { addr: addr.to_owned(), source },
        })?;
        Ok(Self { listener, router: router(state) })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
    // Give load balancers a moment to notice before connections close.
    tokio::time::sleep(Duration::from_millis(10)).await;
}
