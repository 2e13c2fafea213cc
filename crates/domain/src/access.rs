//! Who may see what: the caller's scope, handed to every store call that
//! reads or writes people.

use crate::DivisionCode;
use crate::identity::Role;

/// Who a request acts for and where: the account, its roles and unit, and the
/// jurisdiction (a division code prefix). Store functions that touch people
/// take a `Scope` and put its filter in the SQL; outside it is not found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    jurisdiction: DivisionCode,
    account: Option<i64>,
    roles: Vec<Role>,
    unit: Option<i64>,
}

impl Scope {
    /// The server's own scope over a jurisdiction (commands such as `demo`).
    pub fn new(jurisdiction: DivisionCode) -> Self {
        Self { jurisdiction, account: None, roles: Vec::new(), unit: None }
    }

    /// A signed-in account's scope.
    pub fn for_account(account: i64, jurisdiction: DivisionCode, roles: &[Role], unit: Option<i64>) -> Self {
        Self { jurisdiction, account: Some(account), roles: roles.to_vec(), unit }
    }

    pub fn account(&self) -> Option<i64> {
        self.account
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn unit(&self) -> Option<i64> {
        self.unit
    }

    /// Social workers and paired helpers see only the households paired with
    /// them: registry queries add the pairing to their filter.
    pub fn paired_only(&self) -> bool {
        !self.roles.is_empty() && self.roles.iter().all(|r| r.sees_only_pairings())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_covers_its_prefix_only() {
        let street = DivisionCode::parse("430602001000").unwrap();
        let scope = Scope::for_account(7, street, &[Role::Street], Some(3));
        assert!(scope.covers(&DivisionCode::parse("430602001001").unwrap()));
        assert!(!scope.covers(&DivisionCode::parse("430602002001").unwrap()));
        assert_eq!((scope.account(), scope.unit(), scope.prefix()), (Some(7), Some(3), "430602001"));
        assert!(!scope.paired_only());
        assert!(Scope::for_account(8, street, &[Role::Helper, Role::SocialWorker], None).paired_only());
        assert!(!Scope::for_account(9, street, &[Role::Helper, Role::Community], None).paired_only());
    }
}
