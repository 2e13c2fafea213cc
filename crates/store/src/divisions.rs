//! The bundled NBS division data (`data/divisions.tsv.gz`: `CODE\tNAME` lines).

use std::collections::HashSet;
use std::io::Read;

use sha2::{Digest, Sha256};
use zhongfu_domain::DivisionCode;

use crate::{Result, StoreError, parse_code};

/// Gzipped `CODE\tNAME\n` lines sorted by code; see `scripts/divisions/`.
pub const BUNDLED: &[u8] = include_bytes!("../../../data/divisions.tsv.gz");

/// One division ready to be written.
#[derive(Clone, Debug)]
pub struct DivisionRow {
    pub code: DivisionCode,
    pub name: String,
    pub parent: Option<DivisionCode>,
    pub has_children: bool,
}

/// The checksum stored in `meta` so a new build reloads changed data.
pub fn bundled_checksum() -> String {
    format!("{:x}", Sha256::digest(BUNDLED))
}

/// Decodes the bundled data. Every line must hold a valid code.
pub fn bundled_rows() -> Result<Vec<DivisionRow>> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(BUNDLED)
        .read_to_string(&mut text)
        .map_err(|e| StoreError::DivisionData(e.to_string()))?;
    let mut rows = Vec::with_capacity(text.len() / 30);
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (code, name) =
            line.split_once('\t').ok_or_else(|| StoreError::DivisionData(format!("no tab in line {line:?}")))?;
        let code = parse_code(code)?;
        rows.push(DivisionRow { parent: code.parent(), code, name: name.to_owned(), has_children: false });
    }
    let parents: HashSet<DivisionCode> = rows.iter().filter_map(|r| r.parent).collect();
    for row in &mut rows {
        row.has_children = parents.contains(&row.code);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_data_covers_the_demo_district() {
        let rows = bundled_rows().unwrap();
        let find = |c: &str| rows.iter().find(|r| r.code.as_str() == c);
        assert_eq!(find("430602000000").map(|r| r.name.as_str()), Some("岳阳楼区"));
        let streets = rows.iter().filter(|r| r.parent.map(|p| p.as_str() == "430602000000").unwrap_or(false));
        assert!(streets.count() >= 10);
        let communities = rows.iter().filter(|r| {
            r.code.as_str().starts_with("430602") && r.code.level() == zhongfu_domain::DivisionLevel::Village
        });
        assert!(communities.count() >= 50);
        // Provinces of the whole country, townships everywhere.
        assert!(rows.iter().filter(|r| r.parent.is_none()).count() >= 31);
        assert!(find("110101001000").is_some(), "a Beijing township");
    }
}
