//! Personal information at rest: encrypted values, blind indexes, masks.
//!
//! ID numbers and phones are stored as AES-256-GCM ciphertext prefixed with
//! the key id (so keys can rotate), next to an HMAC-SHA256 blind index that
//! allows exact lookups without decrypting, and a masked form for lists.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const NONCE_LEN: usize = 12;
/// Blind indexes are truncated: 128 bits keep collisions out of reach.
const INDEX_LEN: usize = 16;

/// Why a stored value could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiError {
    #[error("encrypted value was made with key {0}, which is not configured")]
    UnknownKey(u8),
    #[error("encrypted value is damaged or was made with another key")]
    Damaged,
}

/// What a blind index is for: the same text indexes differently per kind.
#[derive(Clone, Copy, Debug)]
pub enum IndexKind {
    IdNumber,
    Phone,
    /// A digest of a whole record, to tell changed records from unchanged ones.
    Record,
}

/// The keys for personal data. The master secret gives the blind-index key
/// and encryption key 1; further encryption keys can be added by id, and the
/// current one encrypts new values. Rotating to a new encryption key leaves
/// blind indexes (and what is derived from them) as they are; old values are
/// decrypted by the id written in front of them until they are re-encrypted.
pub struct PiiKeys {
    key_id: u8,
    ciphers: Vec<(u8, Aes256Gcm)>,
    index_key: [u8; 32],
}

impl std::fmt::Debug for PiiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PiiKeys(key {})", self.key_id)
    }
}

fn cipher_of(secret: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&derive(secret, b"zhongfu pii encryption v1")))
}

fn derive(secret: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl PiiKeys {
    /// Derives the encryption and index keys from a secret; `key_id` is
    /// written in front of every ciphertext.
    pub fn new(key_id: u8, secret: &[u8; 32]) -> Self {
        Self {
            key_id,
            ciphers: vec![(key_id, cipher_of(secret))],
            index_key: derive(secret, b"zhongfu pii blind index v1"),
        }
    }

    /// Adds encryption key `key_id` (replacing one of that id).
    pub fn with_encryption_key(mut self, key_id: u8, secret: &[u8; 32]) -> Self {
        self.ciphers.retain(|(id, _)| *id != key_id);
        self.ciphers.push((key_id, cipher_of(secret)));
        self
    }

    /// Encrypts new values with key `key_id`; `None` when no such key was given.
    pub fn encrypting_with(mut self, key_id: u8) -> Option<Self> {
        self.ciphers.iter().any(|(id, _)| *id == key_id).then(|| {
            self.key_id = key_id;
            self
        })
    }

    /// The key new values are encrypted with.
    pub fn key_id(&self) -> u8 {
        self.key_id
    }

    /// Whether a stored value is under the current key (a rotation rewrites the others).
    pub fn is_current(&self, blob: &[u8]) -> bool {
        blob.first() == Some(&self.key_id)
    }

    fn cipher(&self, key_id: u8) -> Option<&Aes256Gcm> {
        self.ciphers.iter().find(|(id, _)| *id == key_id).map(|(_, c)| c)
    }

    /// `key id ‖ nonce ‖ ciphertext+tag`, with a fresh random nonce.
    pub fn encrypt(&self, plain: &str) -> Vec<u8> {
        // A random nonce from the thread's CSPRNG (seeded from the OS and
        // reseeded): no system call per value on bulk imports.
        let mut bytes = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let nonce = Nonce::from_slice(&bytes);
        // Encryption of an in-memory buffer cannot fail for our sizes.
        let cipher = self.cipher(self.key_id).unwrap_or_else(|| unreachable!("the current key is one of the keys"));
        let sealed = cipher.encrypt(nonce, plain.as_bytes()).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(self.key_id);
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, blob: &[u8]) -> Result<String, PiiError> {
        let (&key_id, rest) = blob.split_first().ok_or(PiiError::Damaged)?;
        let cipher = self.cipher(key_id).ok_or(PiiError::UnknownKey(key_id))?;
        if rest.len() < NONCE_LEN {
            return Err(PiiError::Damaged);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let plain = cipher.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| PiiError::Damaged)?;
        String::from_utf8(plain).map_err(|_| PiiError::Damaged)
    }

    /// A keyed hash for exact lookups; equal inputs give equal indexes.
    pub fn blind_index(&self, kind: IndexKind, plain: &str) -> Vec<u8> {
        self.blind_index_bytes(kind, plain.as_bytes())
    }

    /// [`Self::blind_index`] of any bytes.
    pub fn blind_index_bytes(&self, kind: IndexKind, plain: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).unwrap_or_else(|_| unreachable!());
        mac.update(match kind {
            IndexKind::IdNumber => b"id\0",
            IndexKind::Phone => b"ph\0",
            IndexKind::Record => b"rec\0",
        });
        mac.update(plain);
        mac.finalize().into_bytes()[..INDEX_LEN].to_vec()
    }
}

/// An ID number as typed, masked like a valid one (`430602********0071`)
/// even when it does not parse; shorter text is kept.
pub fn mask_id_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 15 {
        return text.to_owned();
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}********{tail}")
}

/// Text that has the shape of an ID number (15 or 18 characters, digits but for a
/// final X) or of a mobile phone (11 digits from 1), masked as lists mask them, and
/// so is each such run of digits within other text (a row of a file that is not
/// split into columns); any other text as it is. For cells whose column is not
/// known to hold either: an unmapped column of a ledger, a note.
pub fn mask_if_personal(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '\u{3000}')).collect();
    let n = compact.chars().count();
    let digits = compact.chars().filter(char::is_ascii_digit).count();
    let id_shaped =
        (n == 15 && digits == 15) || (n == 18 && (digits == 18 || (digits == 17 && compact.ends_with(['X', 'x']))));
    if id_shaped {
        return mask_id_text(&compact);
    }
    if n == 11 && digits == 11 && compact.starts_with('1') {
        return mask_phone(&compact);
    }
    mask_runs(text)
}

/// Each run of 15 or 18 digits (the last may be X) or of 11 digits from 1 in
/// `text`, masked; the rest as it is.
fn mask_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let mut end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if end == 17 && rest[end..].starts_with(['X', 'x']) {
            end += 1;
        }
        let run = &rest[..end];
        match end {
            15 | 18 => out.push_str(&mask_id_text(run)),
            11 if run.starts_with('1') => out.push_str(&mask_phone(run)),
            _ => out.push_str(run),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `138****5678` for an 11-digit mobile; other numbers keep only their last 4.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() == 11 {
        format!("{}****{}", chars[..3].iter().collect::<String>(), chars[7..].iter().collect::<String>())
    } else {
        let tail: String = chars.iter().skip(chars.len().saturating_sub(4)).collect();
        format!("****{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> PiiKeys {
        PiiKeys::new(1, &[7u8; 32])
    }

    #[test]
    fn text_shaped_like_an_id_or_a_mobile_is_masked_wherever_it_is() {
        assert_eq!(mask_if_personal("110107196609090011"), "110107********0011");
        assert_eq!(mask_if_personal("43060219910101007x"), "430602********007x");
        assert_eq!(mask_if_personal("139-1009-1001"), "139****1001");
        assert_eq!(mask_if_personal("洞庭路 1 号"), "洞庭路 1 号");
        // Within a row that was not split into columns (a tab-separated file read as one).
        assert_eq!(
            mask_if_personal("王五\t43060219910101007x\t13910091001\t1200"),
            "王五\t430602********007x\t139****1001\t1200"
        );
        assert_eq!(mask_if_personal("户编号43060200100100001"), "户编号43060200100100001");
        assert_eq!(mask_if_personal("1200.00"), "1200.00");
        assert_eq!(mask_if_personal("43060200100100001"), "43060200100100001", "a household number (17 digits) stays");
    }

    #[test]
    fn round_trips_and_never_repeats_ciphertext() {
        let k = keys();
        let a = k.encrypt("430602199101010071");
        let b = k.encrypt("430602199101010071");
        assert_ne!(a, b, "a fresh nonce each time");
        assert_eq!(k.decrypt(&a).unwrap(), "430602199101010071");
        assert!(!String::from_utf8_lossy(&a).contains("4306021991"));
    }

    #[test]
    fn tampering_and_wrong_keys_are_caught() {
        let k = keys();
        let mut blob = k.encrypt("13812345678");
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert_eq!(k.decrypt(&blob), Err(PiiError::Damaged));
        let other = PiiKeys::new(2, &[7u8; 32]);
        assert_eq!(other.decrypt(&k.encrypt("x")), Err(PiiError::UnknownKey(1)));
        assert_eq!(PiiKeys::new(1, &[8u8; 32]).decrypt(&k.encrypt("x")), Err(PiiError::Damaged));
    }

    #[test]
    fn a_new_encryption_key_encrypts_and_the_old_one_still_decrypts() {
        let old = keys();
        let before = old.encrypt("430602199101010071");
        let rotated = keys().with_encryption_key(2, &[9u8; 32]).encrypting_with(2).unwrap();
        let after = rotated.encrypt("430602199101010071");
        assert_eq!((before[0], after[0]), (1, 2), "the key id leads the value");
        assert!(old.is_current(&before) && !rotated.is_current(&before) && rotated.is_current(&after));
        assert_eq!(rotated.decrypt(&before).unwrap(), "430602199101010071");
        assert_eq!(rotated.decrypt(&after).unwrap(), "430602199101010071");
        assert_eq!(old.decrypt(&after), Err(PiiError::UnknownKey(2)));
        // Blind indexes come from the master secret: lookups are unchanged by the rotation.
        let index = |k: &PiiKeys| k.blind_index(IndexKind::IdNumber, "430602199101010071");
        assert_eq!(index(&old), index(&rotated));
        assert!(keys().encrypting_with(3).is_none(), "no key 3 was given");
    }

    #[test]
    fn blind_index_is_stable_and_kind_specific() {
        let k = keys();
        let id = k.blind_index(IndexKind::IdNumber, "13812345678");
        assert_eq!(id, k.blind_index(IndexKind::IdNumber, "13812345678"));
        assert_ne!(id, k.blind_index(IndexKind::Phone, "13812345678"));
        assert_ne!(id, PiiKeys::new(1, &[8u8; 32]).blind_index(IndexKind::IdNumber, "13812345678"));
        assert_eq!(id.len(), 16);
    }

    #[test]
    fn masks_phones() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0730-8221234"), "****1234");
    }
}
