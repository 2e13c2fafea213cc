//! The `zhongfu` program: configuration, start-up and the commands.
//! `main.rs` only parses arguments; everything here is callable from tests.

use std::net::SocketAddr;
use std::sync::Arc;

use zhongfu_domain::pii::PiiKeys;
use zhongfu_store::{MigrateReport, OpenError, Store, StoreError};
use zhongfu_web::auth::AuthConfig;
use zhongfu_web::{AppState, BindError, Metrics, Server};

pub mod accounts;
pub mod bench;
pub mod config;
pub mod demo;
pub mod imports;
pub mod sweep;

pub use config::{Config, ConfigError, Settings};

/// Why start-up failed; each variant prints as one actionable line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("database migration failed: {0}")]
    Migrate(#[from] StoreError),
    #[error(transparent)]
    Bind(#[from] BindError),
}

/// The personal-data keys of the settings: key 1 from the master secret, the
/// further encryption keys, the configured one current (validated to exist).
pub fn pii_keys(settings: &Settings) -> PiiKeys {
    let keys = (settings.pii_encryption_keys.iter())
        .fold(PiiKeys::new(1, &settings.pii_secret), |keys, (id, secret)| keys.with_encryption_key(*id, secret));
    // `Config::validate` refuses a current key that is not among them.
    keys.encrypting_with(settings.pii_key_id).unwrap_or_else(|| unreachable!("pii_key_id names a configured key"))
}

/// Opens the store named in the settings, with the personal-data keys.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, OpenError> {
    let keys = Arc::new(pii_keys(settings));
    zhongfu_store::open(&settings.database_url, keys).await
}

/// Opens and migrates the store.
pub async fn open_migrated(settings: &Settings) -> Result<(Arc<dyn Store>, MigrateReport), StartError> {
    let store = open_store(settings).await?;
    let report = store.migrate().await?;
    Ok((store, report))
}

/// The server, built and bound, ready to run. Tests build it on port 0.
pub struct Application {
    server: Server,
    store: Arc<dyn Store>,
}

impl Application {
    /// Opens the store, applies migrations and binds the listen address.
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        let (store, report) = open_migrated(settings).await?;
        if !report.applied.is_empty() || report.divisions_loaded > 0 {
            tracing::info!(applied = ?report.applied, divisions = report.divisions_loaded, "database migrated");
        }
        let state = AppState {
            store: store.clone(),
            metrics: Arc::new(Metrics::default()),
            district: settings.district,
            import_limit: settings.import_limit,
            import_jobs: Arc::default(),
            sweeper: Arc::default(),
            auth: Arc::new(AuthConfig {
                captcha_test_answer: settings.captcha_test_answer.clone(),
                require_second_factor: settings.require_second_factor,
                password: settings.password_policy.clone(),
                ..AuthConfig::default()
            }),
        };
        zhongfu_web::sweep::seed(store.as_ref()).await?;
        // The first sweep runs in the background; lists fill when it is done.
        state.sweeper.start(store.clone(), settings.district.prefix().to_owned(), chrono::Local::now().date_naive());
        tokio::spawn(zhongfu_web::sweep::nightly(
            state.sweeper.clone(),
            store.clone(),
            settings.district.prefix().to_owned(),
        ));
        let server = Server::bind(&settings.listen, state).await?;
        Ok(Self { server, store })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.server.local_addr()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.run(zhongfu_web::shutdown_signal()).await
    }

    /// Serves until `shutdown` completes (tests).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.server.run(shutdown).await
    }
}
