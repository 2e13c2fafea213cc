//! The second factor: time-based one-time codes (RFC 6238, as authenticator
//! apps use them), their enrolment QR code, and single-use recovery codes.

use rand::Rng;
use totp_rs::{Builder, Totp};

const ISSUER: &str = "Zhongfu";
/// Recovery codes given at enrolment.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret: &[u8], account: &str) -> Option<Totp> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// A fresh 160-bit secret.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill(&mut secret[..]);
    secret
}

/// The secret in base32, for typing into an authenticator app by hand.
pub fn secret_base32(secret: &[u8]) -> String {
    totp_rs::Secret::from(secret.to_vec()).to_base32()
}

/// The `otpauth://` address an authenticator app scans.
pub fn otpauth_url(secret: &[u8], account: &str) -> String {
    totp(secret, account).and_then(|t| t.to_url().ok()).unwrap_or_default()
}

/// The time step a code is valid for (one step either side allowed), if any.
/// A step must be accepted once only; the caller remembers the last one.
pub fn check(secret: &[u8], code: &str, unix_time: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, "check")?.check(&code, unix_time)
}

/// The code for a moment, as the authenticator app shows it.
pub fn code_at(secret: &[u8], unix_time: u64) -> String {
    totp(secret, "code").map(|t| t.generate(unix_time).to_string()).unwrap_or_default()
}

/// Recovery codes like `k7m2-9pqx`, from letters and digits that cannot be confused.
pub fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut code: String = (0..8).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
            code.insert(4, '-');
            code
        })
        .collect()
}

/// A recovery code as typed: lowercase, the dash optional.
pub fn normalise_recovery_code(input: &str) -> String {
    let mut code: String = input.trim().to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if code.len() == 8 {
        code.insert(4, '-');
    }
    code
}

/// The QR code of `text` as an SVG image (black modules on white, with a quiet zone).
pub fn qr_svg(text: &str) -> String {
    let Ok(qr) = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium) else { return String::new() };
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_check_within_one_step_either_side() {
        let secret = generate_secret();
        let now = 1_795_000_000;
        let code = code_at(&secret, now);
        assert_eq!(code.len(), 6);
        let step = check(&secret, &code, now).unwrap();
        assert_eq!(step, now / 30);
        assert!(check(&secret, &code, now + 30).is_some());
        assert!(check(&secret, &code, now + 90).is_none());
        assert!(check(&secret, "12345", now).is_none());
    }

    #[test]
    fn the_enrolment_address_names_the_issuer_and_account() {
        let url = otpauth_url(&generate_secret(), "wang");
        assert!(url.starts_with("otpauth://totp/Zhongfu:wang?"), "{url}");
        assert!(url.contains("secret="));
        let svg = qr_svg(&url);
        assert!(svg.starts_with("<svg") && svg.contains("<path d=\"M"));
        assert_eq!(secret_base32(b"foobar"), "MZXW6YTBOI", "RFC 4648, without padding");
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_back_as_typed() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        let typed = codes[0].replace('-', "").to_uppercase();
        assert_eq!(normalise_recovery_code(&format!(" {typed} ")), codes[0]);
    }
}
