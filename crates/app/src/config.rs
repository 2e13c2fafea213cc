//! Configuration: defaults, then an optional `zhongfu.toml`, then `ZHONGFU_*`
//! environment variables (and `DATABASE_URL`), then command-line flags.
//! Every bad value stops start-up with one line that says what to change.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zhongfu_domain::DivisionCode;
use zhongfu_domain::password::PasswordPolicy;

/// Settings as read; [`Config::validate`] turns them into [`Settings`].
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://path` (default, created on first run) or `postgres://…`.
    pub database_url: String,
    /// The district this deployment serves (12-digit code).
    pub district: String,
    /// 64 hex characters; when empty the key is read from (or first
    /// written to) `pii_key_file`.
    pub pii_key: String,
    pub pii_key_file: PathBuf,
    /// Further encryption keys for personal data, `id:64-hex` separated by commas
    /// (ids 2 to 255; key 1 comes from `pii_key`, which also keys the blind indexes).
    pub pii_encryption_keys: String,
    /// The encryption key new values are written with; `zhongfu admin rotate-pii-key`
    /// re-encrypts the stored ones with it.
    pub pii_key_id: u8,
    /// `text` or `json`.
    pub log_format: String,
    /// Demo mode (`make run`): demo accounts keep their printed passwords.
    /// Never on a real deployment.
    pub demo_mode: bool,
    /// For automated browser tests only, and only in demo mode: every
    /// captcha also accepts this answer.
    pub captcha_test_answer: String,
    /// Administrators, payment approvers and exporters must enrol a second
    /// factor (TOTP) before anything else. Not enforced in demo mode.
    pub require_second_factor: bool,
    /// Password policy: length, character classes (of lower, upper, digit,
    /// symbol) and how many previous passwords may not be reused.
    pub password_min_length: usize,
    pub password_min_classes: usize,
    pub password_history: usize,
    /// Largest ledger file an import accepts, in MB.
    pub import_max_mb: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/zhongfu.db".into(),
            district: "430602000000".into(),
            pii_key: String::new(),
            pii_key_file: "data/pii.key".into(),
            pii_encryption_keys: String::new(),
            pii_key_id: 1,
            log_format: "text".into(),
            demo_mode: false,
            captcha_test_answer: String::new(),
            require_second_factor: true,
            password_min_length: 8,
            password_min_classes: 3,
            password_history: 5,
            import_max_mb: 50,
        }
    }
}

/// A configuration problem, told in one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("{setting} = \"{value}\" is not valid: {reason}")]
    Value { setting: &'static str, value: String, reason: String },
    #[error("cannot use the personal-data key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}

fn flag(setting: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        other => Err(bad(setting, other, "expected true or false")),
    }
}

fn bad(setting: &'static str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Value { setting, value: value.to_owned(), reason: reason.into() }
}

/// Validated settings, ready to use.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub district: DivisionCode,
    pub pii_secret: [u8; 32],
    /// Encryption keys beside key 1, by id.
    pub pii_encryption_keys: Vec<(u8, [u8; 32])>,
    pub pii_key_id: u8,
    pub json_logs: bool,
    pub demo_mode: bool,
    pub captcha_test_answer: Option<String>,
    pub require_second_factor: bool,
    pub password_policy: PasswordPolicy,
    /// Largest ledger file an import accepts, in bytes.
    pub import_limit: usize,
}

impl Config {
    /// Reads `file` if given (it must exist), else `zhongfu.toml` in the
    /// working directory if present, then applies the environment.
    pub fn load(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new("zhongfu.toml").exists() => Self::from_file(Path::new("zhongfu.toml"))?,
            None => Self::default(),
        };
        let vars: [(&str, &mut String); 7] = [
            ("ZHONGFU_PII_ENCRYPTION_KEYS", &mut config.pii_encryption_keys),
            ("ZHONGFU_LISTEN", &mut config.listen),
            ("ZHONGFU_DISTRICT", &mut config.district),
            ("ZHONGFU_PII_KEY", &mut config.pii_key),
            ("ZHONGFU_LOG_FORMAT", &mut config.log_format),
            ("ZHONGFU_CAPTCHA_TEST_ANSWER", &mut config.captcha_test_answer),
            ("DATABASE_URL", &mut config.database_url),
        ];
        for (name, slot) in vars {
            if let Some(v) = env(name).filter(|v| !v.is_empty()) {
                *slot = v;
            }
        }
        if let Some(v) = env("ZHONGFU_DEMO_MODE").filter(|v| !v.is_empty()) {
            config.demo_mode = flag("demo_mode (ZHONGFU_DEMO_MODE)", &v)?;
        }
        if let Some(v) = env("ZHONGFU_REQUIRE_SECOND_FACTOR").filter(|v| !v.is_empty()) {
            config.require_second_factor = flag("require_second_factor (ZHONGFU_REQUIRE_SECOND_FACTOR)", &v)?;
        }
        if let Some(v) = env("ZHONGFU_PII_KEY_ID").filter(|v| !v.is_empty()) {
            config.pii_key_id =
                v.trim().parse().map_err(|_| bad("pii_key_id (ZHONGFU_PII_KEY_ID)", &v, "expected 1 to 255"))?;
        }
        if let Some(v) = env("ZHONGFU_PII_KEY_FILE").filter(|v| !v.is_empty()) {
            config.pii_key_file = v.into();
        }
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let file_error = |reason: String| ConfigError::File { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        toml::from_str(&text).map_err(|e| {
            // toml's own rendering spans several lines; say it in one.
            let line = e.span().map_or(1, |s| text[..s.start].matches('\n').count() + 1);
            file_error(format!("line {line}: {}", e.message().trim()))
        })
    }

    pub fn validate(&self) -> Result<Settings, ConfigError> {
        if self.listen.parse::<SocketAddr>().is_err() {
            return Err(bad(
                "listen (ZHONGFU_LISTEN, --listen)",
                &self.listen,
                "expected an address and port such as 127.0.0.1:8080",
            ));
        }
        let url = &self.database_url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Err(bad(
                "database_url (DATABASE_URL)",
                url,
                "expected sqlite://path/to/file.db or postgres://user@host/db",
            ));
        }
        let district = DivisionCode::parse(&self.district)
            .map_err(|e| bad("district (ZHONGFU_DISTRICT)", &self.district, e.to_string()))?;
        let format = self.log_format.as_str();
        if !matches!(format, "text" | "json") {
            return Err(bad("log_format (ZHONGFU_LOG_FORMAT)", format, "expected text or json"));
        }
        let pii_secret = if self.pii_key.is_empty() {
            read_or_create_key(&self.pii_key_file)?
        } else {
            parse_key(&self.pii_key).map_err(|reason| bad("pii_key (ZHONGFU_PII_KEY)", "…", reason))?
        };
        let mut pii_encryption_keys: Vec<(u8, [u8; 32])> = Vec::new();
        let setting = "pii_encryption_keys (ZHONGFU_PII_ENCRYPTION_KEYS)";
        for entry in self.pii_encryption_keys.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, key) =
                entry.split_once(':').ok_or_else(|| bad(setting, "…", "expected id:key, e.g. 2:<64 hex>"))?;
            // The value is never repeated in a message: a key typed in the wrong place would be.
            let id: u8 = id.trim().parse().ok().filter(|&id| id >= 2).ok_or_else(|| {
                bad(setting, "…", "each entry is id:key with an id of 2 to 255 (key 1 is the one pii_key gives)")
            })?;
            let key = parse_key(key.trim()).map_err(|reason| bad(setting, "…", reason))?;
            if pii_encryption_keys.iter().any(|(seen, _)| *seen == id) {
                return Err(bad(setting, &id.to_string(), "each key id once"));
            }
            if key == pii_secret || pii_encryption_keys.iter().any(|(_, seen)| *seen == key) {
                return Err(bad(setting, &id.to_string(), "each key differs from pii_key and from the others"));
            }
            pii_encryption_keys.push((id, key));
        }
        if self.pii_key_id == 0
            || (self.pii_key_id != 1 && !pii_encryption_keys.iter().any(|(id, _)| *id == self.pii_key_id))
        {
            return Err(bad(
                "pii_key_id (ZHONGFU_PII_KEY_ID)",
                &self.pii_key_id.to_string(),
                "expected 1 or the id of a key in pii_encryption_keys",
            ));
        }
        let policy = PasswordPolicy {
            min_length: self.password_min_length,
            min_classes: self.password_min_classes,
            history: self.password_history,
        };
        if !(8..=64).contains(&policy.min_length) {
            return Err(bad("password_min_length", &policy.min_length.to_string(), "expected 8 to 64"));
        }
        if !(1..=4).contains(&policy.min_classes) {
            return Err(bad("password_min_classes", &policy.min_classes.to_string(), "expected 1 to 4"));
        }
        if policy.history > 24 {
            return Err(bad("password_history", &policy.history.to_string(), "expected 0 to 24"));
        }
        if !(1..=1024).contains(&self.import_max_mb) {
            return Err(bad("import_max_mb", &self.import_max_mb.to_string(), "expected 1 to 1024"));
        }
        if !self.captcha_test_answer.is_empty() && !self.demo_mode {
            return Err(bad(
                "captcha_test_answer (ZHONGFU_CAPTCHA_TEST_ANSWER)",
                "…",
                "allowed only in demo mode (ZHONGFU_DEMO_MODE=true), for automated tests",
            ));
        }
        Ok(Settings {
            listen: self.listen.clone(),
            database_url: url.clone(),
            district,
            pii_secret,
            pii_encryption_keys,
            pii_key_id: self.pii_key_id,
            json_logs: format == "json",
            demo_mode: self.demo_mode,
            captcha_test_answer: Some(self.captcha_test_answer.trim().to_uppercase()).filter(|a| !a.is_empty()),
            require_second_factor: self.require_second_factor && !self.demo_mode,
            import_limit: self.import_max_mb * 1024 * 1024,
            password_policy: policy,
        })
    }
}

fn parse_key(hex_text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_text.trim()).map_err(|_| "expected 64 hexadecimal characters".to_owned())?;
    bytes.try_into().map_err(|_| "expected 64 hexadecimal characters (32 bytes)".to_owned())
}

/// Reads the key file, or creates it with a fresh random key (mode 0600).
fn read_or_create_key(path: &Path) -> Result<[u8; 32], ConfigError> {
    let key_error = |reason: String| ConfigError::KeyFile { path: path.display().to_string(), reason };
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key(&text).map_err(key_error),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut key).map_err(|e| key_error(e.to_string()))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| key_error(e.to_string()))?;
            }
            write_private(path, &hex::encode(key)).map_err(|e| key_error(e.to_string()))?;
            tracing::warn!(path = %path.display(), "generated a new personal-data key: back it up, encrypted ID numbers cannot be read without it");
            Ok(key)
        }
        Err(e) => Err(key_error(e.to_string())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    fn with_key(mut c: Config) -> Config {
        c.pii_key = "11".repeat(32);
        c
    }

    #[test]
    fn environment_overrides_defaults() {
        let c = Config::load(None, env(&[("ZHONGFU_LISTEN", "0.0.0.0:9000"), ("DATABASE_URL", "postgres://x@y/z")]))
            .unwrap();
        let s = with_key(c).validate().unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.database_url, "postgres://x@y/z");
        assert_eq!(s.district.as_str(), "430602000000");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = |vars: &[(&str, &str)]| {
            with_key(Config::load(None, env(vars)).unwrap()).validate().unwrap_err().to_string()
        };
        assert!(err(&[("DATABASE_URL", "mysql://root@db/x")]).contains("DATABASE_URL"));
        assert!(err(&[("ZHONGFU_LISTEN", "localhost")]).contains("ZHONGFU_LISTEN"));
        assert!(err(&[("ZHONGFU_DISTRICT", "4306")]).contains("ZHONGFU_DISTRICT"));
        let weak = Config { password_min_length: 6, ..with_key(Config::default()) };
        assert!(weak.validate().unwrap_err().to_string().contains("password_min_length"));
        let c = Config { pii_key: "xyz".into(), ..Config::default() };
        assert!(c.validate().unwrap_err().to_string().contains("ZHONGFU_PII_KEY"));
    }

    #[test]
    fn encryption_keys_are_read_by_id_and_the_current_one_must_be_given() {
        let key = "ab".repeat(32);
        let load = |vars: &[(&str, &str)]| with_key(Config::load(None, env(vars)).unwrap()).validate();
        let ok = load(&[
            ("ZHONGFU_PII_ENCRYPTION_KEYS", &format!(" 2:{key}, 7:{}", "ef".repeat(32))),
            ("ZHONGFU_PII_KEY_ID", "7"),
        ]);
        let ok = ok.unwrap();
        assert_eq!(ok.pii_encryption_keys.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [2, 7]);
        assert_eq!(ok.pii_key_id, 7);
        let err = |vars: &[(&str, &str)]| load(vars).unwrap_err().to_string();
        assert!(err(&[("ZHONGFU_PII_KEY_ID", "3")]).contains("ZHONGFU_PII_KEY_ID"), "no key 3 was given");
        let unparsed = Config::load(None, env(&[("ZHONGFU_PII_KEY_ID", "x")])).unwrap_err().to_string();
        assert!(unparsed.contains("ZHONGFU_PII_KEY_ID"), "{unparsed}");
        let (other, master) = ("cd".repeat(32), "11".repeat(32));
        for bad in [
            format!("1:{key}"),
            format!("2:{key},2:{other}"),
            format!("2:{key},3:{key}"),
            format!("2:{master}"),
            format!("{key}:2"),
            "2:abc".into(),
            key.clone(),
        ] {
            let message = err(&[("ZHONGFU_PII_ENCRYPTION_KEYS", &bad)]);
            assert!(message.contains("ZHONGFU_PII_ENCRYPTION_KEYS") && !message.contains(&key[..8]), "{message}");
        }
    }

    #[test]
    fn file_errors_are_one_line() {
        let dir = std::env::temp_dir().join(format!("zhongfu-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("zhongfu.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\nunknown_setting = 1\n").unwrap();
        let e = Config::load(Some(&path), |_| None).unwrap_err().to_string();
        assert!(e.contains("unknown_setting") && !e.contains('\n'), "{e}");
        let e = Config::load(Some(&dir.join("missing.toml")), |_| None).unwrap_err().to_string();
        assert!(e.contains("missing.toml"), "{e}");
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("zhongfu-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("pii.key");
        let first = read_or_create_key(&path).unwrap();
        assert_eq!(read_or_create_key(&path).unwrap(), first);
        std::fs::write(&path, "not hex").unwrap();
        assert!(read_or_create_key(&path).is_err());
    }
}
