//! Start-up failures are one clear line, never a panic.

use zhongfu::{Application, Config, StartError};

use crate::helpers::{TestDb, settings};

#[tokio::test]
async fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let db = TestDb::new().await;
    let mut s = settings(&db);
    s.listen = addr.clone();
    let err = Application::build(&s).await.err().expect("bind fails");
    assert!(matches!(err, StartError::Bind(_)));
    let line = err.to_string();
    assert!(line.contains(&addr) && line.contains("already in use") && !line.contains('\n'), "{line}");
}

#[tokio::test]
async fn an_unopenable_sqlite_path_is_named() {
    let config = Config {
        database_url: "sqlite:///proc/zhongfu-cannot-be-here/x.db".into(),
        pii_key: "5a".repeat(32),
        listen: "127.0.0.1:0".into(),
        ..Config::default()
    };
    let err = Application::build(&config.validate().unwrap()).await.err().expect("open fails");
    let line = err.to_string();
    assert!(line.contains("/proc/zhongfu-cannot-be-here"), "{line}");
}

#[tokio::test]
async fn an_unknown_scheme_is_refused_before_anything_opens() {
    let config =
        Config { database_url: "mysql://root@localhost/x".into(), pii_key: "5a".repeat(32), ..Config::default() };
    let line = config.validate().unwrap_err().to_string();
    assert!(line.contains("DATABASE_URL") && line.contains("sqlite://"), "{line}");
}
