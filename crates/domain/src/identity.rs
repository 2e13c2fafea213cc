//! Accounts, roles and permissions: who may do what (deny by default).
//!
//! Every route names the `Permission` it needs; a role is a fixed set of
//! permissions. The three administrator roles are kept apart (三员分立):
//! no account holds two of them.

use serde::{Deserialize, Serialize};

use crate::UserError;

/// A named permission a route requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Aggregates and charts, no personal data.
    StatsRead,
    RegistryRead,
    RegistryWrite,
    RegistryExport,
    /// See a full ID number (audited).
    PiiReveal,
    VolunteersApprove,
    PaymentsApprove,
    /// Tasks dispatched to one's department, or given to one as a volunteer.
    TasksRead,
    UnitsManage,
    AccountsManage,
    RolesManage,
    AccountsUnlock,
    SessionsManage,
    AuditRead,
    AuditExport,
    /// The policy catalogue and, within scope, the sweep's results.
    PolicyRead,
    /// Draft policies and their new versions.
    PolicyWrite,
    /// Publish another account's draft (maker ≠ checker).
    PolicyPublish,
    /// Start a sweep and mark its results.
    SweepRun,
    /// Download the sweep's lists as Excel (personal data, masked; audited).
    SweepExport,
}

macro_rules! roles {
    ($($variant:ident = $code:literal, $zh:literal, $en:literal, [$($perm:ident),*];)+) => {
        /// Built-in roles.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Role {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl Role {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$variant => $zh,)+ }
            }

            pub fn label_en(self) -> &'static str {
                match self { $(Self::$variant => $en,)+ }
            }

            pub fn permissions(self) -> &'static [Permission] {
                match self { $(Self::$variant => &[$(Permission::$perm),*],)+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|r| r.code() == s)
            }
        }
    };
}

roles! {
    SystemAdmin = "system_admin", "系统管理员", "system administrator", [UnitsManage, AccountsManage];
    SecurityAdmin = "security_admin", "安全管理员", "security administrator", [RolesManage, AccountsUnlock, SessionsManage];
    AuditAdmin = "audit_admin", "审计管理员", "audit administrator", [AuditRead, AuditExport];
    District = "district", "区级民政", "district civil affairs",
        [StatsRead, RegistryRead, RegistryWrite, RegistryExport, PiiReveal, VolunteersApprove, PaymentsApprove,
         PolicyRead, PolicyWrite, PolicyPublish, SweepRun, SweepExport];
    Street = "street", "街道经办", "street window", [StatsRead, RegistryRead, RegistryWrite, RegistryExport, PiiReveal, VolunteersApprove, PolicyRead, SweepRun, SweepExport];
    Community = "community", "社区工作者", "community worker", [StatsRead, RegistryRead, RegistryWrite, VolunteersApprove, PolicyRead];
    Department = "department", "部门经办", "department handler", [TasksRead, PolicyRead, SweepExport];
    SocialWorker = "social_worker", "社工", "social worker", [RegistryRead];
    Helper = "helper", "结对干部", "paired helper", [RegistryRead];
    Volunteer = "volunteer", "志愿者", "volunteer", [TasksRead];
    Leader = "leader", "领导", "leader", [StatsRead];
    Auditor = "auditor", "审计", "auditor", [StatsRead, RegistryRead];
}

impl Role {
    /// The three administrator roles (三员分立).
    pub fn is_administrator(self) -> bool {
        matches!(self, Self::SystemAdmin | Self::SecurityAdmin | Self::AuditAdmin)
    }

    /// Roles that see only households paired with them.
    pub fn sees_only_pairings(self) -> bool {
        matches!(self, Self::SocialWorker | Self::Helper)
    }
}

/// Why a set of roles cannot be given to one account.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    #[error("an account needs at least one role")]
    Empty,
    #[error("{0:?} and {1:?} are both administrator roles")]
    TwoAdministrators(Role, Role),
    /// An administrator role held with a business role: the administrator would
    /// then see personal data, or grant it to itself.
    #[error("{0:?} cannot be held with {1:?}")]
    AdministratorWithOthers(Role, Role),
}

impl UserError for RolesError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "roles_empty",
            Self::TwoAdministrators(..) | Self::AdministratorWithOthers(..) => "separation_of_duties",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Empty => "账号至少需要一个角色".into(),
            Self::TwoAdministrators(a, b) => {
                format!("三员分立：{}与{}不能由同一账号担任", a.label_zh(), b.label_zh())
            }
            Self::AdministratorWithOthers(a, b) => {
                format!("三员分立：{}不能兼任{}等业务角色", a.label_zh(), b.label_zh())
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Empty => "an account needs at least one role".into(),
            Self::TwoAdministrators(a, b) => {
                format!("separation of duties: one account cannot be both {} and {}", a.label_en(), b.label_en())
            }
            Self::AdministratorWithOthers(a, b) => {
                format!("separation of duties: a {} holds no business role such as {}", a.label_en(), b.label_en())
            }
        }
    }
}

/// A valid set of roles: not empty, an administrator role alone (三员分立), sorted, no repeats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn parse(mut roles: Vec<Role>) -> Result<Self, RolesError> {
        roles.sort();
        roles.dedup();
        let mut admins = roles.iter().copied().filter(|r| r.is_administrator());
        if let (Some(a), Some(b)) = (admins.next(), admins.next()) {
            return Err(RolesError::TwoAdministrators(a, b));
        }
        let admin = roles.iter().copied().find(|r| r.is_administrator());
        if let (Some(a), Some(other)) = (admin, roles.iter().copied().find(|r| !r.is_administrator())) {
            return Err(RolesError::AdministratorWithOthers(a, other));
        }
        if roles.is_empty() {
            return Err(RolesError::Empty);
        }
        Ok(Self(roles))
    }

    /// No role at all: grants nothing (what a damaged role set falls back to).
    pub fn none() -> Self {
        Self(Vec::new())
    }

    pub fn as_slice(&self) -> &[Role] {
        &self.0
    }

    pub fn allows(&self, permission: Permission) -> bool {
        self.0.iter().any(|r| r.permissions().contains(&permission))
    }

    /// Administrators, payment approvers and those who export personal data
    /// must sign in with a second factor.
    pub fn requires_totp(&self) -> bool {
        self.0.iter().any(|r| r.is_administrator())
            || self.allows(Permission::PaymentsApprove)
            || self.allows(Permission::RegistryExport)
            || self.allows(Permission::SweepExport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_account_never_holds_two_administrator_roles() {
        let err = Roles::parse(vec![Role::AuditAdmin, Role::Street, Role::SystemAdmin]).unwrap_err();
        assert_eq!(err, RolesError::TwoAdministrators(Role::SystemAdmin, Role::AuditAdmin));
        assert!(err.message_zh().contains("三员分立"));
        // Nor an administrator role with a business one: a security administrator who
        // is also a district officer would reveal ID numbers.
        let err = Roles::parse(vec![Role::District, Role::SecurityAdmin]).unwrap_err();
        assert_eq!(err, RolesError::AdministratorWithOthers(Role::SecurityAdmin, Role::District));
        assert!(err.message_zh().contains("三员分立"));
        assert!(Roles::parse(vec![Role::SystemAdmin, Role::Leader]).is_err());
        assert!(Roles::parse(vec![Role::SystemAdmin]).is_ok());
        assert!(Roles::parse(vec![Role::Street, Role::Leader]).is_ok());
        assert_eq!(Roles::parse(vec![]).unwrap_err(), RolesError::Empty);
    }

    #[test]
    fn administrators_see_no_personal_data() {
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin, Role::Leader] {
            assert!(!role.permissions().contains(&Permission::RegistryRead), "{role:?}");
            assert!(!role.permissions().contains(&Permission::PiiReveal), "{role:?}");
        }
    }

    #[test]
    fn second_factor_for_administrators_approvers_and_exporters() {
        let roles = |r: &[Role]| Roles::parse(r.to_vec()).unwrap();
        assert!(roles(&[Role::AuditAdmin]).requires_totp());
        assert!(roles(&[Role::District]).requires_totp());
        assert!(roles(&[Role::Street]).requires_totp());
        assert!(roles(&[Role::Department]).requires_totp(), "it exports the sweep's lists");
        assert!(!roles(&[Role::Community]).requires_totp());
        assert!(!roles(&[Role::Volunteer]).requires_totp());
    }

    #[test]
    fn codes_round_trip() {
        for &role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
