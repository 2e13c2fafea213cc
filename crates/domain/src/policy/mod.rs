//! The policy catalogue (政策找人): policies with conditions in CEL, the
//! district's dated parameters, and the engine that sweeps the registry for
//! who qualifies but receives nothing (应享未享) and who receives but no
//! longer qualifies (应退未退).

mod columns;
mod compile;
mod engine;
mod fields;
mod interp;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use columns::{Columns, HouseholdFacts, PersonFacts, category_bits};
pub use compile::{Ex, RuleError, RuleErrorKind, Vocabulary, Want};
pub use engine::{ConditionOutcome, Engine, Finding, FindingKind, RulePlan};
pub use fields::{Field, FieldType, Level, fields};
pub use interp::{Interpreted, row_variables};

use crate::registry::Category;

/// How a policy helps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenefitKind {
    CashMonthly,
    CashOnce,
    InKind,
    Service,
    Insurance,
}

/// A policy as written by policy staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDef {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub department: String,
    pub level: Level,
    pub kind: BenefitKind,
    /// The category code that records it as received.
    pub records: String,
    #[serde(default)]
    pub basis: String,
    pub effective_from: NaiveDate,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    #[serde(default)]
    pub benefit: Option<String>,
    pub condition: String,
}

impl PolicyDef {
    pub fn in_force(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|to| date <= to)
    }

    /// The bit of its records category.
    pub fn records_bit(&self) -> Option<u8> {
        Category::ALL.iter().position(|c| c.code() == self.records).map(|i| i as u8)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamValue {
    pub from: NaiveDate,
    pub value: i64,
}

/// A district parameter that changes by date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamDef {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    /// `fen`, `years`, `count` or `percent`.
    pub unit: String,
    pub values: Vec<ParamValue>,
}

impl ParamDef {
    /// The value in force on `date`.
    pub fn on(&self, date: NaiveDate) -> Option<i64> {
        self.values.iter().filter(|v| v.from <= date).max_by_key(|v| v.from).map(|v| v.value)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct District {
    pub name: String,
    pub code: String,
}

/// A district's catalogue file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub district: District,
    #[serde(rename = "param", default)]
    pub params: Vec<ParamDef>,
    #[serde(rename = "policy", default)]
    pub policies: Vec<PolicyDef>,
}

impl Catalogue {
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The demo district's catalogue (岳阳楼区), shipped with the project.
    pub fn demo() -> Self {
        Self::parse(include_str!("../../catalogue/yueyanglou.toml")).unwrap_or_else(|e| {
            // The file is part of the source; its tests keep it valid.
            panic!("the shipped catalogue does not parse: {e}")
        })
    }

    /// What rules may name on `date`.
    pub fn vocabulary(&self, date: NaiveDate) -> Vocabulary {
        vocabulary(&self.params, date)
    }
}

/// The fields and the params' values on `date`.
pub fn vocabulary(params: &[ParamDef], date: NaiveDate) -> Vocabulary {
    Vocabulary::new(params.iter().filter_map(|p| p.on(date).map(|v| (p.name.clone(), v, p.unit == "fen"))))
}

/// A policy checked against the vocabulary: compiled, or to be interpreted.
#[derive(Debug)]
pub struct Checked {
    pub plan: RulePlan,
    /// Why the engine could not compile it, if it runs in the interpreter.
    pub interpreted: Option<RuleError>,
}

/// Checks a policy's condition and benefit. Errors other than `Unsupported`
/// refuse the policy: unknown fields, wrong types, bad syntax, an unknown
/// records category.
pub fn check(policy: &PolicyDef, vocab: &Vocabulary) -> Result<Checked, PolicyError> {
    let records = policy.records_bit().ok_or_else(|| PolicyError::Records(policy.records.clone()))?;
    let condition = vocab.compile(&policy.condition, policy.level, Want::Bool);
    let benefit =
        policy.benefit.as_deref().filter(|b| !b.trim().is_empty()).map(|b| vocab.compile(b, policy.level, Want::Int));
    let mut interpreted = None;
    let mut take = |r: Result<Ex, RuleError>, field: &'static str| match r {
        Ok(ex) => Ok(Some(ex)),
        Err(e) if e.kind == RuleErrorKind::Unsupported => {
            interpreted.get_or_insert(e);
            Ok(None)
        }
        Err(e) => Err(PolicyError::Rule { field, error: e }),
    };
    let condition = take(condition, "condition")?;
    let benefit = benefit.map(|b| take(b, "benefit")).transpose()?.flatten();
    let interpreted = interpreted.filter(|_| condition.is_none() || policy.benefit.is_some() && benefit.is_none());
    let plan = RulePlan { level: policy.level, condition: condition.unwrap_or_else(placeholder), benefit, records };
    Ok(Checked { plan, interpreted })
}

fn placeholder() -> Ex {
    Vocabulary::new([])
        .compile("true", Level::Household, Want::Bool)
        .unwrap_or_else(|_| unreachable!("`true` compiles"))
}

/// Why a policy can't be saved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{field}: {error}")]
    Rule { field: &'static str, error: RuleError },
    #[error("records: unknown category {0}")]
    Records(String),
}

/// Compiles the policies in force on the vocabulary's date into one engine.
/// Policies that fail `check` are left out and returned with their error.
pub fn build_engine(policies: &[&PolicyDef], vocab: &Vocabulary) -> (Engine, Vec<(usize, PolicyError)>) {
    let params: Arc<BTreeMap<String, i64>> = Arc::new(vocab.params().clone());
    let mut plans = Vec::new();
    let mut refused = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        match check(p, vocab) {
            Ok(c) => {
                let interpreted = match c.interpreted {
                    Some(_) => match Interpreted::new(p.level, &p.condition, p.benefit.as_deref(), Arc::clone(&params))
                    {
                        Ok(ip) => Some(Box::new(ip)),
                        Err(e) => {
                            refused.push((i, PolicyError::Records(e)));
                            None
                        }
                    },
                    None => None,
                };
                plans.push((c.plan, interpreted));
            }
            Err(e) => {
                refused.push((i, e));
                // Keep indices aligned: a rule that never matches and never runs.
                plans.push((RulePlan { level: p.level, condition: never(), benefit: None, records: 63 }, None));
            }
        }
    }
    (Engine::new(plans), refused)
}

fn never() -> Ex {
    Vocabulary::new([])
        .compile("false", Level::Household, Want::Bool)
        .unwrap_or_else(|_| unreachable!("`false` compiles"))
}

#[cfg(test)]
mod tests;
