//! Sign-in rules: what people type to sign in, lockout after failures, and
//! how long a session lives. Pure: the clock is passed in.

use chrono::{DateTime, Duration, Utc};

use crate::UserError;

/// A mainland mobile number: 11 digits starting with 1 and 3–9.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

/// A mailbox, lowercased. Only the shape is checked; delivery proves the rest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("a mobile number has 11 digits and starts with 13–19")]
    Phone,
    #[error("an e-mail address looks like name@example.com")]
    Email,
}

impl UserError for ContactError {
    fn code(&self) -> &'static str {
        match self {
            Self::Phone => "invalid_phone",
            Self::Email => "invalid_email",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Phone => "手机号码应为以13–19开头的11位数字".into(),
            Self::Email => "电子邮箱格式应如 name@example.com".into(),
        }
    }
}

impl Phone {
    /// Accepts spaces and dashes between digits and a leading +86.
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").unwrap_or(&digits);
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && b.iter().all(u8::is_ascii_digit) {
            Ok(Self(digits.to_owned()))
        } else {
            Err(ContactError::Phone)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let s = input.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
                    && !domain.contains('@')
            });
        if valid { Ok(Self(s)) } else { Err(ContactError::Email) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What someone typed in the account box, told apart by its shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginName {
    Phone(Phone),
    Email(Email),
    /// A volunteer number such as `ZY2026000123`.
    VolunteerNumber(String),
    Username(String),
}

impl LoginName {
    pub fn parse(input: &str) -> Self {
        let s = input.trim();
        if let Ok(p) = Phone::parse(s) {
            return Self::Phone(p);
        }
        if s.contains('@')
            && let Ok(e) = Email::parse(s)
        {
            return Self::Email(e);
        }
        let upper = s.to_uppercase();
        if upper.starts_with("ZY") && upper.len() > 2 && upper[2..].bytes().all(|b| b.is_ascii_digit()) {
            return Self::VolunteerNumber(upper);
        }
        Self::Username(s.to_lowercase())
    }
}

/// Lockout after repeated failures (等保: five tries, then fifteen minutes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self { max_failures: 5, lock_for: Duration::minutes(15) }
    }
}

/// An account's failure count and lock, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureState {
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockoutPolicy {
    pub fn is_locked(&self, state: &FailureState, now: DateTime<Utc>) -> bool {
        state.locked_until.is_some_and(|until| now < until)
    }

    /// The state after a wrong password; the lock starts at the last allowed failure.
    pub fn after_failure(&self, state: &FailureState, now: DateTime<Utc>) -> FailureState {
        // A lock that has run out starts the count afresh.
        let failures = if state.locked_until.is_some_and(|u| now >= u) { 1 } else { state.failures + 1 };
        if failures >= self.max_failures {
            FailureState { failures, locked_until: Some(now + self.lock_for) }
        } else {
            FailureState { failures, locked_until: None }
        }
    }
}

/// How long a session lives: 30 minutes idle, 12 hours at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle: Duration::minutes(30), absolute: Duration::hours(12) }
    }
}

impl SessionPolicy {
    pub fn is_live(&self, created: DateTime<Utc>, last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - last_seen < self.idle && now - created < self.absolute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + minute * 60, 0).unwrap()
    }

    #[test]
    fn login_names_are_told_apart_by_shape() {
        assert_eq!(LoginName::parse(" 138-1234-5678 "), LoginName::Phone(Phone::parse("13812345678").unwrap()));
        assert_eq!(LoginName::parse("Wang@Example.com"), LoginName::Email(Email::parse("wang@example.com").unwrap()));
        assert_eq!(LoginName::parse("zy2026000123"), LoginName::VolunteerNumber("ZY2026000123".into()));
        assert_eq!(LoginName::parse("WangFang"), LoginName::Username("wangfang".into()));
        assert_eq!(LoginName::parse("12812345678"), LoginName::Username("12812345678".into()));
    }

    #[test]
    fn bad_contacts_are_refused() {
        assert_eq!(Phone::parse("1381234567"), Err(ContactError::Phone));
        assert_eq!(Phone::parse("23812345678"), Err(ContactError::Phone));
        assert_eq!(Phone::parse("+86 138 1234 5678").unwrap().as_str(), "13812345678");
        for bad in ["wang", "wang@", "@example.com", "wang@example", "wang@.com", "wa ng@example.com"] {
            assert_eq!(Email::parse(bad), Err(ContactError::Email), "{bad}");
        }
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes() {
        let policy = LockoutPolicy::default();
        let mut state = FailureState::default();
        for minute in 0..4 {
            state = policy.after_failure(&state, at(minute));
            assert!(!policy.is_locked(&state, at(minute)));
        }
        state = policy.after_failure(&state, at(4));
        assert!(policy.is_locked(&state, at(4)));
        assert!(policy.is_locked(&state, at(18)));
        assert!(!policy.is_locked(&state, at(19)));
        // After the lock, one more failure does not lock again at once.
        let state = policy.after_failure(&state, at(20));
        assert_eq!(state, FailureState { failures: 1, locked_until: None });
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let policy = SessionPolicy::default();
        assert!(policy.is_live(at(0), at(0), at(29)));
        assert!(!policy.is_live(at(0), at(0), at(30)));
        assert!(policy.is_live(at(0), at(700), at(719)));
        assert!(!policy.is_live(at(0), at(715), at(720)));
    }
}
