//! The test harness: `TestApp::spawn()` starts the application on port 0 on
//! a fresh database of the backend under test.

use std::sync::Arc;

use zhongfu::{Application, Config, Settings};
use zhongfu_domain::DivisionCode;
use zhongfu_domain::demo::{Community, DemoConfig, DemoGenerator};
use zhongfu_domain::identity::{Role, Roles};
use zhongfu_domain::registry::Household;
use zhongfu_store::identity::NewAccount;
use zhongfu_store::{Actor, Store};

pub const DISTRICT: &str = "430602000000";

/// Which database the suite runs on this time.
pub fn backend() -> &'static str {
    match std::env::var("ZHONGFU_TEST_DB").as_deref() {
        Ok("postgres") => "postgres",
        _ => "sqlite",
    }
}

/// A fresh, empty database for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema { admin_url: String, schema: String },
    Database { admin_url: String, database: String },
}

pub fn postgres_admin_url() -> String {
    std::env::var("ZHONGFU_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn postgres_admin(admin_url: &str) -> sqlx::PgConnection {
    <sqlx::PgConnection as sqlx::Connection>::connect(admin_url)
        .await
        .expect("PostgreSQL for tests (set ZHONGFU_TEST_POSTGRES_URL)")
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        if backend() == "postgres" {
            let admin_url = postgres_admin_url();
            let mut conn = postgres_admin(&admin_url).await;
            sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).await.unwrap();
            let sep = if admin_url.contains('?') { '&' } else { '?' };
            let url = format!("{admin_url}{sep}options=-c%20search_path%3D{name}");
            Self { url, cleanup: Some(Cleanup::Schema { admin_url, schema: name }) }
        } else {
            let path = std::env::temp_dir().join(format!("zhongfu-{name}.db"));
            Self { url: format!("sqlite://{}", path.display()), cleanup: Some(Cleanup::File(path)) }
        }
    }
}

impl TestDb {
    /// On PostgreSQL, a database of its own whose default collation sorts text
    /// as Chinese does (ICU `zh`: punctuation before digits), as a province's
    /// server may be set up. SQLite has only its byte order: a fresh file.
    pub async fn sorting_as_chinese() -> Self {
        if backend() != "postgres" {
            return Self::new().await;
        }
        let admin_url = postgres_admin_url();
        let database = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = postgres_admin(&admin_url).await;
        let create = format!(
            "CREATE DATABASE {database} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'zh' LOCALE 'C.UTF-8'"
        );
        sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(create)).await.expect("a database sorting as Chinese");
        let (base, query) = admin_url.split_once('?').map_or((admin_url.as_str(), None), |(b, q)| (b, Some(q)));
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let url = match query {
            Some(q) => format!("{server}/{database}?{q}"),
            None => format!("{server}/{database}"),
        };
        Self { url, cleanup: Some(Cleanup::Database { admin_url, database }) }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.cleanup.take() {
            Some(Cleanup::File(path)) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Some(Cleanup::Schema { admin_url, schema }) => {
                drop_on_postgres(admin_url, format!("DROP SCHEMA {schema} CASCADE"))
            }
            Some(Cleanup::Database { admin_url, database }) => {
                drop_on_postgres(admin_url, format!("DROP DATABASE {database} WITH (FORCE)"))
            }
            None => {}
        }
    }
}

/// Runs `sql` (a `DROP`) on the admin connection. Drop runs outside any
/// runtime we may block on: a thread of its own.
fn drop_on_postgres(admin_url: String, sql: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        rt.block_on(async {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await.ok()?;
            sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(sql)).await.ok()
        })
    })
    .join();
}

/// Settings for a test: a fixed personal-data key, port 0.
pub fn settings(db: &TestDb) -> Settings {
    config(db).validate().expect("test settings")
}

pub fn config(db: &TestDb) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        database_url: db.url.clone(),
        pii_key: "5a".repeat(32),
        // Most tests sign in as roles that need TOTP; tests/totp.rs turns it on.
        require_second_factor: false,
        ..Config::default()
    }
}

/// A running application on a fresh database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    _db: TestDb,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the application with a changed configuration.
    pub async fn spawn_with(change: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(TestDb::new().await, change).await
    }

    /// Starts the application on the given database.
    pub async fn spawn_on(db: TestDb, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = config(&db);
        change(&mut config);
        let app = Application::build(&config.validate().expect("test settings")).await.expect("application starts");
        let address = format!("http://{}", app.local_addr().unwrap());
        let store = app.store();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Self { address, client: reqwest::Client::new(), store, _db: db, _stop: stop }
    }

    /// Seeds `n` demo households (seeded, deterministic) in the demo district.
    pub async fn seed_demo(&self, n: u64, seed: u64) -> Vec<Household> {
        let households = demo_households(n, seed);
        self.store.insert_households(&Actor::system("test"), &households).await.expect("seed demo households");
        households
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("request")
    }

    pub async fn get_en(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("accept-language", "en-US,en;q=0.9")
            .send()
            .await
            .expect("request")
    }
}

pub fn district() -> DivisionCode {
    DivisionCode::parse(DISTRICT).unwrap()
}

pub fn demo_households(n: u64, seed: u64) -> Vec<Household> {
    let communities: Vec<Community> = zhongfu::demo::communities(&district()).unwrap();
    let today = chrono::Local::now().date_naive();
    DemoGenerator::new(DemoConfig { households: n, seed, today }, communities).unwrap().collect()
}

/// A signed-in user's cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub account_id: i64,
}

/// The password every test account gets.
pub const PASSWORD: &str = "Test-Pass-2026";

impl TestApp {
    /// Creates an account (no forced password change) and returns its id.
    pub async fn account(&self, username: &str, roles: &[Role], jurisdiction: &str) -> i64 {
        self.account_of_unit(username, roles, jurisdiction, None).await
    }

    /// As `account`, in a unit.
    pub async fn account_of_unit(&self, username: &str, roles: &[Role], jurisdiction: &str, unit: Option<i64>) -> i64 {
        let account = NewAccount {
            username: username.into(),
            display_name: username.into(),
            email: None,
            phone: None,
            volunteer_number: None,
            unit_id: unit,
            jurisdiction: DivisionCode::parse(jurisdiction).unwrap(),
            roles: Roles::parse(roles.to_vec()).unwrap(),
            password_hash: zhongfu_domain::password::hash(PASSWORD),
            must_change_password: false,
        };
        self.store.create_account(&Actor::system("test"), &account).await.unwrap().id
    }

    /// Signs in through the API with a captcha whose answer the test knows.
    pub async fn try_sign_in(&self, login: &str, password: &str) -> reqwest::Response {
        let captcha = zhongfu_web::auth::put_known_captcha(self.store.as_ref(), "AB12").await.unwrap();
        let body =
            serde_json::json!({"login": login, "password": password, "captcha_id": captcha, "captcha_answer": "ab12"});
        self.client.post(format!("{}/api/v1/auth/sign-in", self.address)).json(&body).send().await.expect("request")
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Session {
        let res = self.try_sign_in(login, password).await;
        assert_eq!(res.status(), 200, "sign-in of {login}");
        let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let body: serde_json::Value = res.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        Session { cookie, csrf, account_id: body["account"]["id"].as_i64().unwrap() }
    }

    /// An account with these roles in this jurisdiction, signed in.
    pub async fn signed_in(&self, username: &str, roles: &[Role], jurisdiction: &str) -> Session {
        self.account(username, roles, jurisdiction).await;
        self.sign_in(username, PASSWORD).await
    }

    pub async fn get_as(&self, session: &Session, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("cookie", &session.cookie)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_as(&self, session: &Session, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Runs a full sweep as `session` and waits for it (after any sweep already running).
    pub async fn sweep(&self, session: &Session) -> serde_json::Value {
        self.sweep_with(session, serde_json::json!({})).await
    }

    /// A full sweep asked for with `body` (e.g. a date), once any running one is done.
    pub async fn sweep_with(&self, session: &Session, body: serde_json::Value) -> serde_json::Value {
        let wait = || async {
            for _ in 0..600 {
                let status: serde_json::Value = self.get_as(session, "/api/v1/sweep").await.json().await.expect("json");
                if status["running"] == false {
                    return status;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the sweep did not finish");
        };
        wait().await;
        let res = self.post_as(session, "/api/v1/sweep", body).await;
        assert_eq!(res.status(), 202);
        let status = wait().await;
        assert_eq!(status["phase"], "done", "{status}");
        status
    }

    pub fn db_url(&self) -> String {
        self._db.url.clone()
    }
}

/// Renders every value of every row as text.
macro_rules! rows_as_text {
    ($rows:expr) => {{
        use sqlx::{Column, Row};
        let mut out = String::new();
        for row in $rows {
            for (i, col) in row.columns().iter().enumerate() {
                let text: Option<String> = row.try_get(i).ok().flatten();
                let bytes: Option<Vec<u8>> = row.try_get(i).ok().flatten();
                let bytes = bytes.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
                out.push_str(&format!("{}={:?}{} ", col.name(), text, bytes));
            }
        }
        out
    }};
}

/// Every value of every row a query returns, as text, for "is it in
/// there at all" checks that bypass the store.
pub async fn raw_text(url: &str, sql: &'static str) -> String {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        rows_as_text!(sqlx::query(sql).fetch_all(&pool).await.unwrap())
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        rows_as_text!(sqlx::query(sql).fetch_all(&pool).await.unwrap())
    }
}

/// Runs statements behind the store's back, as someone with database access could.
pub async fn raw_execute(url: &str, sql: String) -> Result<(), sqlx::Error> {
    // Test-only: the statements are the tests' own text.
    let sql = sqlx::AssertSqlSafe(sql);
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::raw_sql(sql).execute(&pool).await.map(drop)
    } else {
        let pool = sqlx::SqlitePool::connect(url).await?;
        sqlx::raw_sql(sql).execute(&pool).await.map(drop)
    }
}

/// A request as `who`, with `If-Match` when a version is given.
pub async fn send(
    app: &TestApp,
    who: &Session,
    method: reqwest::Method,
    path: &str,
    version: Option<i64>,
    body: serde_json::Value,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.address))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .json(&body);
    if let Some(v) = version {
        req = req.header("if-match", format!("\"{v}\""));
    }
    req.send().await.unwrap()
}

/// The member form with a member as the household page shows them (death date included).
pub fn member_form(member: &serde_json::Value) -> serde_json::Value {
    let keep = [
        "name",
        "relation",
        "marital",
        "health",
        "disability_kind",
        "disability_grade",
        "work_ability",
        "employment",
        "schooling",
        "monthly_income_fen",
        "death_date",
    ];
    keep.iter().map(|&k| (k.to_owned(), member[k].clone())).collect::<serde_json::Map<_, _>>().into()
}

/// A valid ID number of the district, born on 5 May of `year`, with sequence `seq` (odd: a man).
pub fn id_number(year: i32, seq: u16) -> String {
    let born = chrono::NaiveDate::from_ymd_opt(year, 5, 5).unwrap();
    zhongfu_domain::IdNumber::from_parts("430602", born, seq).unwrap().to_string()
}
