//! Embedded migrations: numbered, never edited once landed (a test pins
//! their checksums), applied in order, each in its own transaction.

use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

/// One schema change, as SQL for one backend.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        format!("{:x}", Sha256::digest(self.sql.as_bytes()))
    }
}

/// `migrations!("sqlite": 1 "0001_foundation", …)` embeds `migrations/sqlite/0001_foundation.sql`.
macro_rules! migrations {
    ($backend:literal: $($version:literal $file:literal),+ $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $file,
            sql: include_str!(concat!("../migrations/", $backend, "/", $file, ".sql")),
        }),+]
    };
}

pub const MIGRATIONS_SQLITE: &[Migration] = migrations!("sqlite": 1 "0001_foundation", 2 "0002_audit", 3 "0003_identity", 4 "0004_volunteers_totp", 5 "0005_registry_work", 6 "0006_policies", 7 "0007_person_indexes", 8 "0008_holding_community", 9 "0009_sweep_taper", 10 "0010_household_order", 11 "0011_sweep_taper_end", 12 "0012_codes_byte_order", 13 "0013_param_change", 14 "0014_housing_condition", 15 "0015_household_created_audit", 16 "0016_income_items", 17 "0017_household_ids_kept", 18 "0018_volunteer_id_once", 19 "0019_unrecorded_facts", 20 "0020_member_facts_unrecorded", 21 "0021_holding_community_given", 22 "0022_deferred_member_keys", 23 "0023_death_kept_ends", 24 "0024_person_digest");
pub const MIGRATIONS_POSTGRES: &[Migration] = migrations!("postgres": 1 "0001_foundation", 2 "0002_audit", 3 "0003_identity", 4 "0004_volunteers_totp", 5 "0005_registry_work", 6 "0006_policies", 7 "0007_person_indexes", 8 "0008_holding_community", 9 "0009_sweep_taper", 10 "0010_household_order", 11 "0011_sweep_taper_end", 12 "0012_codes_byte_order", 13 "0013_param_change", 14 "0014_housing_condition", 15 "0015_household_created_audit", 16 "0016_income_items", 17 "0017_household_ids_kept", 18 "0018_volunteer_id_once", 19 "0019_unrecorded_facts", 20 "0020_member_facts_unrecorded", 21 "0021_holding_community_given", 22 "0022_deferred_member_keys", 23 "0023_death_kept_ends", 24 "0024_person_digest");

/// The migrations still to apply, given those recorded as applied
/// (version, checksum). Refuses a changed or unknown applied migration.
pub(crate) fn pending<'a>(applied: &[(i64, String)], known: &'a [Migration]) -> Result<Vec<&'a Migration>> {
    for (version, checksum) in applied {
        let m = known.iter().find(|m| m.version == *version).ok_or(StoreError::MigrationUnknown(*version))?;
        if m.checksum() != *checksum {
            return Err(StoreError::MigrationChanged { version: m.version, name: m.name.to_owned() });
        }
    }
    Ok(known.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)).collect())
}

/// The first line of a migration that must run with foreign keys off (SQLite: one that
/// rebuilds a table others refer to); they are checked before it commits.
pub(crate) const FOREIGN_KEYS_OFF: &str = "-- foreign keys off";

/// The table that records applied migrations; the same SQL on both backends.
pub(crate) const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS schema_migration (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

#[cfg(test)]
mod tests {
    use super::*;

    /// Landed migrations are history: if this fails, add a new migration
    /// instead of editing an old one.
    #[test]
    fn landed_migrations_are_unchanged() {
        let pinned: &[(&str, i64, &str)] = &[
            ("sqlite", 1, "13b0ffe246b8af6bd95e531f6cd3fc7b3218e7551e6241a1a7448a26573bf0ee"),
            ("postgres", 1, "92155ee9effbeaedaabbc7f433e9b5acef707f7c7aba4f5f2ffca20c17390296"),
            ("sqlite", 2, "18eb4282312448810de5a68666b9a8cea2875c63385b7ea7c5ca28cb1df8f530"),
            ("postgres", 2, "7f1f2da8a6ee6b003af7b7d95daab92f812281d6f1554314c3b702c7e19493f2"),
            ("sqlite", 3, "ec1a18ee1d454c8c1574479cc400af31fae7dfd5cae973662a1f37e0c3a45ebe"),
            ("postgres", 3, "3e6b302d9ff7920f4c2dc30f076b9cac8bb80a2743213636b19d6127fd0df1bb"),
            ("sqlite", 4, "d48168742ff2da0ad31e59334284e26d35d7f34935f11456a52ae2124144657e"),
            ("postgres", 4, "dcfafe234926397f66007bf6b92d8540f92f2432c750c135f80d23ce6aa593d9"),
            ("sqlite", 5, "2dd250d851df549311222c5057610703a1889cbf920884b701cf77f6acecdf84"),
            ("postgres", 5, "6ea26ca3a3bad61c32de8ec5d76baea95374fa33dee5cb5635823d63167a2dae"),
            ("sqlite", 6, "cfd319b1499cae352a5cea2e9417eb9b9593b81ea77f38ff4826d9e0687104df"),
            ("postgres", 6, "d0b9aabc362785ab24942f57189c8c706400c6878633413bd636aa257808eb2f"),
            ("sqlite", 7, "92d2af41595c4235b798de5bc5251d47afa39f989edb862f60583fee95bc1f33"),
            ("postgres", 7, "92d2af41595c4235b798de5bc5251d47afa39f989edb862f60583fee95bc1f33"),
            ("sqlite", 8, "c3d484de95807545246cacfedc077ce606c14b3215be2210f84ec5c09556e0be"),
            ("postgres", 8, "c047da357858bc0e5ec0f3594f7bae8b192c102817be4ce27943e4d33e454a5e"),
            ("sqlite", 9, "9ca56876585f7b64ed25bc3c67d47a9ecb446d9189a2811e70cbd60c667db818"),
            ("postgres", 9, "a4e8fce96e17a82917dd614abf67c36bb00bda7f3712e30991bf7b76884af41f"),
            ("sqlite", 10, "9edacab40e4f11d0704cf3756a88de067aa8108e0bc63b58b118d40bbc1345c3"),
            ("postgres", 10, "e7b8472381b4db9b08f78c9d094474de3730e1019e77b8f0d2af7a179941e1f4"),
        ];
        for (backend, version, checksum) in pinned {
            let list = if *backend == "sqlite" { MIGRATIONS_SQLITE } else { MIGRATIONS_POSTGRES };
            let m = list.iter().find(|m| m.version == *version).unwrap();
            assert_eq!(m.checksum(), *checksum, "{backend} migration {} was edited", m.name);
        }
        assert_eq!(MIGRATIONS_SQLITE.len(), MIGRATIONS_POSTGRES.len(), "every migration exists for both backends");
    }

    #[test]
    fn pending_skips_applied_and_refuses_changes() {
        let known = MIGRATIONS_SQLITE;
        assert_eq!(pending(&[], known).unwrap().len(), known.len());
        let applied = vec![(1, known[0].checksum())];
        assert_eq!(pending(&applied, known).unwrap().len(), known.len() - 1);
        assert!(matches!(pending(&[(1, "x".into())], known), Err(StoreError::MigrationChanged { .. })));
        assert!(matches!(pending(&[(999, "x".into())], known), Err(StoreError::MigrationUnknown(999))));
    }
}
