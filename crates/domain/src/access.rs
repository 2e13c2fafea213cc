//! Who may see what: the caller's scope, handed to every store call that
//! reads or writes people.

use crate::DivisionCode;

/// The jurisdiction a request acts in. Store functions that touch people
/// take a `Scope` and put its filter in the SQL; outside it is not found.
///
/// Roles, the caller's unit and pairings join this as the identity work lands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    jurisdiction: DivisionCode,
}

impl Scope {
    pub fn new(jurisdiction: DivisionCode) -> Self {
        Self { jurisdiction }
    }

    pub fn jurisdiction(&self) -> &DivisionCode {
        &self.jurisdiction
    }

    /// The code prefix a row's division must start with.
    pub fn prefix(&self) -> &str {
        self.jurisdiction.prefix()
    }

    /// Whether a division lies within this scope.
    pub fn covers(&self, code: &DivisionCode) -> bool {
        self.jurisdiction.contains(code)
    }
}
