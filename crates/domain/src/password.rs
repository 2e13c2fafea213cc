//! Passwords: the policy a new password must meet, and argon2id hashing.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

use crate::UserError;

/// The password policy; the defaults follow 等保 2.0 level 3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// Of lowercase, uppercase, digits and symbols.
    pub min_classes: usize,
    /// A new password may not repeat one of this many previous ones.
    pub history: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 8, min_classes: 3, history: 5 }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password needs at least {0} characters")]
    TooShort(usize),
    #[error("the password is too long")]
    TooLong,
    #[error("the password needs {0} of: lowercase, uppercase, digits, symbols")]
    TooSimple(usize),
    #[error("the password may not contain the account name")]
    ContainsUsername,
    #[error("the password was used recently")]
    Reused(usize),
}

/// Longer inputs are refused before hashing, so nobody can make us hash megabytes.
const MAX_LENGTH: usize = 128;

impl PasswordPolicy {
    /// Checks a new password against everything but the history.
    pub fn check(&self, password: &str, username: &str) -> Result<(), PasswordError> {
        let length = password.chars().count();
        if length < self.min_length {
            return Err(PasswordError::TooShort(self.min_length));
        }
        if length > MAX_LENGTH {
            return Err(PasswordError::TooLong);
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|&&c| c).count() < self.min_classes {
            return Err(PasswordError::TooSimple(self.min_classes));
        }
        let name = username.trim().to_lowercase();
        if !name.is_empty() && password.to_lowercase().contains(&name) {
            return Err(PasswordError::ContainsUsername);
        }
        Ok(())
    }

    /// Checks a new password against the hashes of the previous ones (newest first).
    pub fn check_history<'a>(
        &self,
        password: &str,
        previous: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), PasswordError> {
        if previous.into_iter().take(self.history).any(|hash| verify(password, hash)) {
            return Err(PasswordError::Reused(self.history));
        }
        Ok(())
    }
}

impl UserError for PasswordError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort(_) | Self::TooLong | Self::TooSimple(_) => "password_weak",
            Self::ContainsUsername => "password_contains_username",
            Self::Reused(_) => "password_reused",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::TooShort(n) => format!("密码至少需要{n}个字符"),
            Self::TooLong => format!("密码最多{MAX_LENGTH}个字符"),
            Self::TooSimple(n) => format!("密码需包含小写字母、大写字母、数字、符号中的至少{n}类"),
            Self::ContainsUsername => "密码不能包含账号名".into(),
            Self::Reused(n) => format!("不能使用最近{n}次用过的密码"),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Reused(n) => format!("the password may not repeat one of the last {n}"),
            other => other.to_string(),
        }
    }
}

/// A one-time password of 16 characters from all four classes, without
/// look-alikes (0/O, 1/l/I); its holder changes it at the first sign-in.
pub fn generate() -> String {
    use rand::Rng;
    const SETS: [&[u8]; 4] = [b"abcdefghijkmnpqrstuvwxyz", b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"23456789", b"-_.!@#%+="];
    let mut rng = rand::rng();
    let all: Vec<u8> = SETS.concat();
    let mut out: Vec<u8> = SETS.iter().map(|set| set[rng.random_range(0..set.len())]).collect();
    out.extend((0..12).map(|_| all[rng.random_range(0..all.len())]));
    // The four guaranteed classes should not always lead.
    for i in (1..out.len()).rev() {
        out.swap(i, rng.random_range(0..=i));
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Hashes with argon2id and a random salt, in the PHC string format.
pub fn hash(password: &str) -> String {
    // Hashing can only fail on absurd parameters; ours are the crate's defaults.
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).unwrap_or_default()
}

/// Whether `password` matches a stored PHC hash; a malformed hash matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_what_is_missing() {
        let p = PasswordPolicy::default();
        assert_eq!(p.check("Ab1!", "wang"), Err(PasswordError::TooShort(8)));
        assert_eq!(p.check("abcdefgh1", "wang"), Err(PasswordError::TooSimple(3)));
        assert_eq!(p.check("Wang2026!x", "wang"), Err(PasswordError::ContainsUsername));
        assert_eq!(p.check(&"Aa1!".repeat(40), "wang"), Err(PasswordError::TooLong));
        assert_eq!(p.check("Tree-House-42", "wang"), Ok(()));
        assert!(PasswordError::TooSimple(3).message_zh().contains("3类"));
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        let policy = PasswordPolicy::default();
        for _ in 0..50 {
            let p = generate();
            assert_eq!(p.chars().count(), 16);
            assert_eq!(policy.check(&p, "zhongfu-admin"), Ok(()), "{p}");
        }
        assert_ne!(generate(), generate());
    }

    #[test]
    fn hashes_verify_and_repeat_is_refused() {
        let h = hash("Tree-House-42");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Tree-House-42", &h));
        assert!(!verify("Tree-House-43", &h));
        assert!(!verify("Tree-House-42", "not a hash"));
        let p = PasswordPolicy::default();
        assert_eq!(p.check_history("Tree-House-42", [h.as_str()]), Err(PasswordError::Reused(5)));
        assert_eq!(p.check_history("Other-Pass-1", [h.as_str()]), Ok(()));
    }
}
