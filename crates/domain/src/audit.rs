//! The audit trail's hash chain: each record carries the hash of the one
//! before it, so editing or deleting a stored record breaks every hash after it.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash the first record chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one audit record says, in the form that is hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339, UTC, as stored.
    pub at: String,
    /// Account id, or none for anonymous actions (failed sign-ins, registrations).
    pub actor: Option<i64>,
    /// Username or other login name as typed, for failures; never a password.
    pub actor_name: String,
    pub ip: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// JSON object `{field: [before, after]}`, personal fields already masked.
    pub diff: String,
}

impl AuditEntry {
    /// SHA-256 over the previous hash and every field, each length-prefixed so
    /// no two different records hash the same text.
    pub fn chain_hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        let seq = self.seq.to_string();
        let actor = self.actor.map(|a| a.to_string()).unwrap_or_default();
        for part in [
            prev_hash,
            &seq,
            &self.at,
            &actor,
            &self.actor_name,
            &self.ip,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.diff,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        format!("{:x}", h.finalize())
    }
}

/// A stored record: the entry, the hash it claims to follow and its own hash.
#[derive(Clone, Debug)]
pub struct StoredAudit {
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// Why the chain does not hold, naming the first broken record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("audit record {seq} was altered: its hash does not match its content")]
    Altered { seq: i64 },
    #[error("audit record {seq} does not follow the record before it (one was removed or reordered)")]
    Broken { seq: i64 },
}

/// Walks records in order, starting after `prev` (the hash of the last record
/// already checked, or `GENESIS`). Returns the last hash.
pub fn verify<'a>(prev: &str, records: impl IntoIterator<Item = &'a StoredAudit>) -> Result<String, ChainError> {
    let mut prev = prev.to_owned();
    let mut expected_seq = None;
    for r in records {
        if r.prev_hash != prev || expected_seq.is_some_and(|s| s != r.entry.seq) {
            return Err(ChainError::Broken { seq: r.entry.seq });
        }
        if r.entry.chain_hash(&r.prev_hash) != r.hash {
            return Err(ChainError::Altered { seq: r.entry.seq });
        }
        expected_seq = Some(r.entry.seq + 1);
        prev.clone_from(&r.hash);
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredAudit> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry {
                    seq,
                    at: format!("2026-11-24T10:00:{seq:02}Z"),
                    actor: Some(7),
                    actor_name: "wang".into(),
                    ip: "10.0.0.1".into(),
                    action: "update".into(),
                    entity: "household".into(),
                    entity_id: seq.to_string(),
                    diff: r#"{"address":["a","b"]}"#.into(),
                };
                let hash = entry.chain_hash(&prev);
                let r = StoredAudit { entry, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                r
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        assert_eq!(verify(GENESIS, &records), Ok(records[4].hash.clone()));
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut records = chain(5);
        records[2].entry.diff = r#"{"address":["a","c"]}"#.into();
        assert_eq!(verify(GENESIS, &records), Err(ChainError::Altered { seq: 3 }));
    }

    #[test]
    fn a_removed_record_breaks_the_next() {
        let mut records = chain(5);
        records.remove(1);
        assert_eq!(verify(GENESIS, &records), Err(ChainError::Broken { seq: 3 }));
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let a = &chain(1)[0].entry;
        let mut b = a.clone();
        b.entity = format!("{}{}", a.entity, a.entity_id);
        b.entity_id = String::new();
        assert_ne!(a.chain_hash(GENESIS), b.chain_hash(GENESIS));
    }
}
