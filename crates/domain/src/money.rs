//! Money as integer fen (分); yuan appear only at the edges.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// An amount of money in fen. Negative amounts are allowed (ledger reversals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    pub const ZERO: Self = Self(0);
    /// The largest amount a person may enter (1,000,000,000 yuan): far above any real
    /// income or asset, far below where sums of them could overflow.
    pub const MAX_AMOUNT: Self = Self(100_000_000_000);

    pub fn from_yuan(yuan: i64) -> Self {
        Self(yuan * 100)
    }
}

impl Add for Fen {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl Sub for Fen {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0 - rhs.0)
    }
}

impl Sum for Fen {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        Self(iter.map(|f| f.0).sum())
    }
}

/// Yuan with two decimals, e.g. `1,320.50` is written `1320.50`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Fen {
    /// As yuan with thousands grouped: `1,320.50`.
    pub fn grouped(self) -> String {
        let plain = self.to_string();
        let (sign, rest) = plain.split_at(usize::from(self.0 < 0));
        let (yuan, cents) = rest.split_at(rest.len() - 3);
        let mut out = String::from(sign);
        for (i, ch) in yuan.chars().enumerate() {
            if i > 0 && (yuan.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        out + cents
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(Fen(132_050).grouped(), "1,320.50");
        assert_eq!(Fen(-123_456_789).grouped(), "-1,234,567.89");
        assert_eq!(Fen(5).grouped(), "0.05");
        assert_eq!(Fen(99_999).grouped(), "999.99");
    }

    #[test]
    fn displays_as_yuan() {
        assert_eq!(Fen(132_050).to_string(), "1320.50");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen::from_yuan(700).to_string(), "700.00");
        assert_eq!([Fen(1), Fen(2)].into_iter().sum::<Fen>(), Fen(3));
    }
}
