//! Accounts made from the command line: the demo district's sign-ins (one per
//! role) and the first system administrator of a real deployment.

use serde::Serialize;
use zhongfu_domain::demo::Community;
use zhongfu_domain::identity::{Role, Roles};
use zhongfu_domain::password;
use zhongfu_domain::{DivisionCode, Scope};
use zhongfu_store::identity::{NewAccount, NewUnit, UnitKind};
use zhongfu_store::{Actor, Store, StoreError};

/// The password every demo account gets. Outside demo mode it must be
/// changed at the first sign-in.
pub const DEMO_PASSWORD: &str = "Zhongfu-Demo-2026";

/// One demo sign-in, as printed for people trying the console.
#[derive(Clone, Debug, Serialize)]
pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    pub role_zh: &'static str,
    pub jurisdiction: String,
}

/// Creates the demo units and one account per role, unless accounts exist.
/// `communities` are the district's, in code order.
pub async fn create_demo_accounts(
    store: &dyn Store,
    district: &DivisionCode,
    communities: &[Community],
    demo_mode: bool,
) -> Result<Vec<DemoLogin>, StoreError> {
    // Communities are listed in code order; the demo workers serve the first.
    if !store.accounts().await?.is_empty() {
        return Ok(Vec::new());
    }
    let actor = Actor::system("zhongfu demo");
    let community = communities.first().map_or(*district, |c| c.code);
    let street = DivisionCode::from_prefix(&community.as_str()[..9]).unwrap_or(*district);
    let mut names = std::collections::HashMap::new();
    for code in [*district, street, community] {
        let name = store.division(&code).await?.map_or_else(|| code.to_string(), |d| d.name);
        names.insert(code, name);
    }
    let name_of = |code: &DivisionCode| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let unit = |name: String, kind: UnitKind, division: DivisionCode| NewUnit { name, kind, division };
    let civil = store.create_unit(&actor, &unit("区民政局".into(), UnitKind::CivilAffairs, *district)).await?;
    let office = store.create_unit(&actor, &unit("街道办事处".into(), UnitKind::StreetOffice, street)).await?;
    let neighbourhood = store.create_unit(&actor, &unit(name_of(&community), UnitKind::Community, community)).await?;
    let federation = store.create_unit(&actor, &unit("区残疾人联合会".into(), UnitKind::Department, *district)).await?;
    let social = store.create_unit(&actor, &unit("社会工作服务站".into(), UnitKind::SocialWork, street)).await?;
    let helping =
        store.create_unit(&actor, &unit("区人民医院（帮扶单位）".into(), UnitKind::HelpingUnit, *district)).await?;
    let plan = [
        ("sysadmin", Role::SystemAdmin, civil.id, *district),
        ("secadmin", Role::SecurityAdmin, civil.id, *district),
        ("auditadmin", Role::AuditAdmin, civil.id, *district),
        ("district", Role::District, civil.id, *district),
        // A second officer: policy drafts need another account to publish them.
        ("district2", Role::District, civil.id, *district),
        ("street", Role::Street, office.id, street),
        ("community", Role::Community, neighbourhood.id, community),
        ("department", Role::Department, federation.id, *district),
        ("socialworker", Role::SocialWorker, social.id, street),
        ("helper", Role::Helper, helping.id, community),
        ("volunteer", Role::Volunteer, neighbourhood.id, community),
        ("leader", Role::Leader, civil.id, *district),
        ("auditor", Role::Auditor, civil.id, *district),
    ];
    let hash = password::hash(DEMO_PASSWORD);
    let mut logins = Vec::with_capacity(plan.len());
    for (username, role, unit_id, jurisdiction) in plan {
        let roles = Roles::parse(vec![role]).map_err(|e| StoreError::Duplicate(e.to_string()))?;
        let account = NewAccount {
            username: username.to_owned(),
            display_name: format!("演示{}", role.label_zh()),
            email: None,
            phone: None,
            volunteer_number: (role == Role::Volunteer).then(|| "ZY2026000001".to_owned()),
            unit_id: Some(unit_id),
            jurisdiction,
            roles,
            password_hash: hash.clone(),
            must_change_password: !demo_mode,
        };
        store.create_account(&actor, &account).await?;
        logins.push(DemoLogin {
            username: username.to_owned(),
            role,
            role_zh: role.label_zh(),
            jurisdiction: name_of(&jurisdiction),
        });
    }
    Ok(logins)
}

/// Why `zhongfu admin create` refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("a system administrator already exists; sign in as them to add accounts")]
    Exists,
    #[error("the username must be 3–32 letters, digits, '.', '_' or '-'")]
    Username,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes the first system administrator with a random password, which they
/// must change at the first sign-in. Returns the password to hand over.
pub async fn create_first_admin(
    store: &dyn Store,
    username: &str,
    district: &DivisionCode,
) -> Result<String, AdminError> {
    let username = username.trim().to_lowercase();
    let valid = (3..=32).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(AdminError::Username);
    }
    if store.accounts().await?.iter().any(|a| a.roles.contains(&Role::SystemAdmin)) {
        return Err(AdminError::Exists);
    }
    let secret = password::generate();
    let account = NewAccount {
        username: username.clone(),
        display_name: "系统管理员".into(),
        email: None,
        phone: None,
        volunteer_number: None,
        unit_id: None,
        jurisdiction: *district,
        roles: Roles::parse(vec![Role::SystemAdmin]).map_err(|e| StoreError::Duplicate(e.to_string()))?,
        password_hash: password::hash(&secret),
        must_change_password: true,
    };
    store.create_account(&Actor::system("zhongfu admin create"), &account).await?;
    Ok(secret)
}

/// Pairs the demo social worker and helper with a few households of their
/// jurisdiction, so they have someone to see (they see only pairings).
pub async fn pair_demo_accounts(store: &dyn Store) -> Result<(), StoreError> {
    let today = chrono::Local::now().date_naive();
    for (username, households) in [("socialworker", 12), ("helper", 6)] {
        let Some(account) = store.accounts().await?.into_iter().find(|a| a.username == username) else {
            continue;
        };
        let scope = Scope::new(account.jurisdiction);
        let mut filter = zhongfu_store::registry::HouseholdFilter::new(today);
        filter.limit = households;
        for h in store.households(&scope, &filter).await?.items {
            store.pair(&Actor::system("zhongfu demo"), &scope, h.id, account.id, today).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_password_meets_the_policy() {
        assert_eq!(password::PasswordPolicy::default().check(DEMO_PASSWORD, "district"), Ok(()));
    }
}
