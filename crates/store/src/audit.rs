//! The audit trail in the database: records appended in the transaction of
//! the change they record, chained by hash (see `zhongfu_domain::audit`).

use serde::Serialize;
use zhongfu_domain::audit::ChainError;

/// Who made a change and from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The account, or none for the system and for anonymous callers.
    pub id: Option<i64>,
    pub name: String,
    pub ip: String,
}

impl Actor {
    /// A command run on the server itself, e.g. `zhongfu demo`.
    pub fn system(command: &str) -> Self {
        Self { id: None, name: command.to_owned(), ip: "local".to_owned() }
    }
}

/// What happened: the action on an entity, and a before/after diff with
/// personal fields already masked (JSON object `{field: [before, after]}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub diff: String,
}

/// The outcome of walking the whole chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditVerifyReport {
    pub records: u64,
    pub last_seq: i64,
    /// The first broken record, if any.
    #[serde(skip)]
    pub broken: Option<ChainError>,
}

/// Records read per round trip while verifying.
pub(crate) const VERIFY_PAGE: i64 = 5000;

pub(crate) const BUMP_HEAD: &str = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
pub(crate) const SET_HEAD_HASH: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";
pub(crate) const HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
pub(crate) const INSERT: &str = "
    INSERT INTO audit_log (seq, at, actor_id, actor_name, ip, action, entity, entity_id, diff, prev_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
pub(crate) const PAGE: &str = "
    SELECT seq, at, actor_id, actor_name, ip, action, entity, entity_id, diff, prev_hash, hash
      FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";

/// A row of `PAGE`.
pub(crate) type Row = (i64, String, Option<i64>, String, String, String, String, String, String, String, String);

pub(crate) fn stored(row: Row) -> zhongfu_domain::audit::StoredAudit {
    let (seq, at, actor, actor_name, ip, action, entity, entity_id, diff, prev_hash, hash) = row;
    zhongfu_domain::audit::StoredAudit {
        entry: zhongfu_domain::audit::AuditEntry { seq, at, actor, actor_name, ip, action, entity, entity_id, diff },
        prev_hash,
        hash,
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Appends `$event` by `$actor` inside the open transaction `$tx`: bumps the
/// head (which locks it until commit), hashes, inserts, stores the new head.
/// A macro because the SQLite and PostgreSQL transactions are different types.
macro_rules! append_audit {
    ($tx:expr, $actor:expr, $event:expr) => {{
        let (seq, prev): (i64, String) = sqlx::query_as($crate::audit::BUMP_HEAD).fetch_one(&mut *$tx).await?;
        let (actor, event) = ($actor, $event);
        let entry = zhongfu_domain::audit::AuditEntry {
            seq,
            at: $crate::audit::now(),
            actor: actor.id,
            actor_name: actor.name.clone(),
            ip: actor.ip.clone(),
            action: event.action.clone(),
            entity: event.entity.clone(),
            entity_id: event.entity_id.clone(),
            diff: event.diff.clone(),
        };
        let hash = entry.chain_hash(&prev);
        sqlx::query($crate::audit::INSERT)
            .bind(seq)
            .bind(&entry.at)
            .bind(entry.actor)
            .bind(&entry.actor_name)
            .bind(&entry.ip)
            .bind(&entry.action)
            .bind(&entry.entity)
            .bind(&entry.entity_id)
            .bind(&entry.diff)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *$tx)
            .await?;
        sqlx::query($crate::audit::SET_HEAD_HASH).bind(&hash).execute(&mut *$tx).await?;
        seq
    }};
}

/// Walks the chain page by page and checks the head against the last record.
macro_rules! verify_audit {
    ($pool:expr) => {{
        let mut prev = zhongfu_domain::audit::GENESIS.to_owned();
        let (mut last_seq, mut records) = (0i64, 0u64);
        let mut broken = None;
        loop {
            let rows: Vec<$crate::audit::Row> = sqlx::query_as($crate::audit::PAGE)
                .bind(last_seq)
                .bind($crate::audit::VERIFY_PAGE)
                .fetch_all($pool)
                .await?;
            let Some(last) = rows.last() else { break };
            let next_seq = last.0;
            let page: Vec<_> = rows.into_iter().map($crate::audit::stored).collect();
            // Sequence numbers start at 1 and have no gaps.
            if let Some(first) = page.first().filter(|f| f.entry.seq != last_seq + 1) {
                broken = Some(zhongfu_domain::audit::ChainError::Broken { seq: first.entry.seq });
                break;
            }
            match zhongfu_domain::audit::verify(&prev, &page) {
                Ok(hash) => prev = hash,
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            }
            records += page.len() as u64;
            last_seq = next_seq;
        }
        if broken.is_none() {
            let (head_seq, head_hash): (i64, String) = sqlx::query_as($crate::audit::HEAD).fetch_one($pool).await?;
            if head_seq != last_seq || head_hash != prev {
                // The newest records were removed.
                broken = Some(zhongfu_domain::audit::ChainError::Broken { seq: last_seq + 1 });
            }
        }
        $crate::audit::AuditVerifyReport { records, last_seq, broken }
    }};
}

pub(crate) use {append_audit, verify_audit};

/// Every column holding encrypted personal data, by table (each table keyed by `id`).
pub(crate) const ENCRYPTED_COLUMNS: [(&str, &str); 8] = [
    ("household", "phone_cipher"),
    ("person", "id_cipher"),
    ("person", "phone_cipher"),
    ("person", "disability_cert"),
    ("account", "phone_cipher"),
    ("account", "totp_cipher"),
    ("volunteer_application", "phone_cipher"),
    ("volunteer_application", "id_cipher"),
];

/// Rows read and rewritten per transaction by a key rotation.
pub(crate) const ROTATE_PAGE: i64 = 1000;

/// What a rotation of the personal-data encryption key did, column by column.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PiiRotation {
    /// The key every value is now encrypted with.
    pub key_id: u8,
    pub columns: Vec<RotatedColumn>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RotatedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// Values read (not empty).
    pub checked: u64,
    /// Values re-encrypted with the current key.
    pub rewritten: u64,
    /// Values no configured key decrypts (left as they are).
    pub unreadable: u64,
    /// Values not under the current key once the pass is over, counted afresh (those
    /// unreadable, and any written meanwhile by a server still on the old key).
    pub remaining: u64,
}

impl PiiRotation {
    pub fn rewritten(&self) -> u64 {
        self.columns.iter().map(|c| c.rewritten).sum()
    }

    pub fn unreadable(&self) -> u64 {
        self.columns.iter().map(|c| c.unreadable).sum()
    }

    pub fn remaining(&self) -> u64 {
        self.columns.iter().map(|c| c.remaining).sum()
    }
}
