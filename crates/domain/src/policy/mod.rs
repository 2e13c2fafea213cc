//! The policy catalogue (政策找人): policies with conditions in CEL, the
//! district's dated parameters, and the engine that sweeps the registry for
//! who qualifies but receives nothing (应享未享) and who receives but no
//! longer qualifies (应退未退).

mod bits;
mod columns;
mod compile;
mod engine;
mod fields;
mod interp;
pub mod sql;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use columns::{Columns, HouseholdFacts, PersonFacts, Unrecorded, category_bits};
pub use compile::{Ex, RuleError, RuleErrorKind, Vocabulary, Want};
pub use engine::{ConditionOutcome, Engine, Finding, FindingKind, Findings, Rule, RulePlan};
pub use fields::{Col, Field, FieldType, Level, code_label_zh, fields, readable_zh};
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

/// A policy as written by policy staff. A field it does not have is refused,
/// not ignored: a misspelt `taper_month` would otherwise save a policy without
/// its gradual-exit period, and the editor would believe it saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(deserialize_with = "crate::day::required")]
    pub effective_from: NaiveDate,
    #[serde(default, deserialize_with = "crate::day::optional")]
    pub effective_to: Option<NaiveDate>,
    #[serde(default)]
    pub benefit: Option<String>,
    pub condition: String,
    /// The gradual-exit period (渐退期) in months: a household that no longer
    /// qualifies may keep the benefit this long once a worker starts it, and
    /// is not 应退未退 until it ends. None: no such period.
    #[serde(default)]
    pub taper_months: Option<u32>,
}

impl PolicyDef {
    pub fn in_force(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|to| date <= to)
    }

    /// Whether both are in force on some day.
    pub fn overlaps(&self, other: &Self) -> bool {
        let ends = |d: &Self| d.effective_to.unwrap_or(NaiveDate::MAX);
        self.effective_from <= ends(other) && other.effective_from <= ends(self)
    }

    /// Whether it stopped before `date`.
    /// The benefit's formula, if one is written (a blank one is none).
    pub fn benefit(&self) -> Option<&str> {
        self.benefit.as_deref().filter(|b| !b.trim().is_empty())
    }

    pub fn ended(&self, date: NaiveDate) -> bool {
        self.effective_to.is_some_and(|to| to < date)
    }

    /// The rule a sweep runs for it once it has ended: nobody qualifies.
    pub fn ended_rule(&self) -> Self {
        Self { condition: "false".into(), benefit: None, ..self.clone() }
    }

    /// The last day of a gradual-exit period started on `date`: `date` plus
    /// `taper_months` calendar months (clamped to the month's last day, so
    /// 31 August + 6 months is 28 or 29 February). None without a period.
    pub fn taper_end(&self, date: NaiveDate) -> Option<NaiveDate> {
        let months = self.taper_months.filter(|m| *m > 0)?;
        date.checked_add_months(chrono::Months::new(months))
    }

    /// The bit of its records category.
    pub fn records_bit(&self) -> Option<u8> {
        Category::ALL.iter().position(|c| c.code() == self.records).map(|i| i as u8)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamValue {
    #[serde(deserialize_with = "crate::day::required")]
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
    /// The values a parameter of its unit can take, and the message of a value outside
    /// them (zh, en): a share is 0–100%, an age 0–150 years, a count of months at most 120.
    pub fn bounds(&self) -> (std::ops::RangeInclusive<i64>, &'static str, &'static str) {
        match self.unit.as_str() {
            "percent" => {
                (0..=100, "比例应为0到100之间的整数（百分比）", "a share is a whole number from 0 to 100 (percent)")
            }
            "years" => (0..=150, "年龄应为0到150之间的整数（周岁）", "an age is a whole number of years from 0 to 150"),
            "count" => (0..=120, "次数或月数应为0到120之间的整数", "a count is a whole number from 0 to 120"),
            _ => (
                0..=1_000_000_000_000,
                "金额应为不小于0的整数（以分计）",
                "an amount is a whole number of fen, 0 or more",
            ),
        }
    }

    /// Sets its value from `from` on (replacing one set for that very day).
    pub fn set(&mut self, from: NaiveDate, value: i64) {
        self.values.retain(|v| v.from != from);
        self.values.push(ParamValue { from, value });
        self.values.sort_by_key(|v| v.from);
    }

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

/// A policy checked against the vocabulary.
#[derive(Debug)]
pub enum Checked {
    /// The engine runs it.
    Compiled(RulePlan),
    /// Valid CEL the engine can't compile (why): it runs in the interpreter.
    Interpreted(RuleError),
}

/// Which of the active definitions a sweep on `date` runs: every one in force,
/// and, for a category that no policy in force records any more, the one that
/// ended last: whoever still receives it no longer qualifies (应退未退).
pub fn swept_on(defs: &[&PolicyDef], date: NaiveDate) -> Vec<usize> {
    let recorded: std::collections::HashSet<&str> =
        defs.iter().filter(|d| d.in_force(date)).map(|d| d.records.as_str()).collect();
    let mut last_ended: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, d) in defs.iter().enumerate().filter(|(_, d)| d.ended(date) && !recorded.contains(d.records.as_str())) {
        let slot = last_ended.entry(d.records.as_str()).or_insert(i);
        if defs[*slot].effective_to < d.effective_to {
            *slot = i;
        }
    }
    let mut chosen: Vec<usize> = (0..defs.len()).filter(|&i| defs[i].in_force(date)).collect();
    chosen.extend(last_ended.into_values());
    chosen.sort_unstable();
    chosen
}

/// Checks a policy's condition and benefit. Errors other than `Unsupported`
/// refuse the policy: unknown fields, wrong types, bad syntax, an unknown
/// records category (checked last: the rules' problems do not wait for a category).
pub fn check(policy: &PolicyDef, vocab: &Vocabulary) -> Result<Checked, PolicyError> {
    let compile = |source: &str, want, field| match vocab.compile(source, policy.level, want) {
        Err(e) if e.kind != RuleErrorKind::Unsupported => Err(PolicyError::Rule { field, error: e }),
        other => Ok(other),
    };
    let condition = compile(&policy.condition, Want::Bool, "condition")?;
    let benefit = match policy.benefit() {
        Some(b) => Some(compile(b, Want::Int, "benefit")?),
        None => None,
    };
    let records = policy.records_bit().ok_or_else(|| PolicyError::Records(policy.records.clone()))?;
    Ok(match (condition, benefit.transpose()) {
        (Ok(condition), Ok(benefit)) => {
            Checked::Compiled(RulePlan { level: policy.level, condition, benefit, records })
        }
        (Err(why), _) | (_, Err(why)) => {
            // What the engine can't compile must still run in the interpreter.
            Interpreted::new(policy.level, &policy.condition, policy.benefit(), Arc::default())
                .map_err(PolicyError::Interpreter)?;
            Checked::Interpreted(why)
        }
    })
}

/// Why a policy can't be saved or run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{field}: {error}")]
    Rule { field: &'static str, error: RuleError },
    #[error("records: unknown category {0}")]
    Records(String),
    #[error("the interpreter refused the rule: {0}")]
    Interpreter(String),
}

impl PolicyError {
    /// The error in Chinese, with the position for a rule (`Display` is English).
    pub fn message_zh(&self) -> String {
        match self {
            Self::Rule { field, error } => {
                let part = if *field == "benefit" { "金额" } else { "条件" };
                format!("{part}第{}行第{}列：{}", error.line, error.column, error.message_zh)
            }
            Self::Records(code) => format!("未知的救助类别 {code}"),
            Self::Interpreter(e) => format!("条件无法解释执行：{e}"),
        }
    }
}

/// Compiles the policies into one engine, in the order given. Policies that
/// fail `check` are switched off (they find nothing) and returned with their error.
pub fn build_engine(policies: &[&PolicyDef], vocab: &Vocabulary) -> (Engine, Vec<(usize, PolicyError)>) {
    let params: Arc<BTreeMap<String, i64>> = Arc::new(vocab.params().clone());
    let money: Arc<[String]> = vocab.money_params().into();
    let mut rules = Vec::new();
    let mut refused = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        let rule = check(p, vocab).and_then(|c| match c {
            Checked::Compiled(plan) => Ok(Rule::Compiled(plan)),
            Checked::Interpreted(_) => {
                let records = p.records_bit().unwrap_or_default();
                Interpreted::new(p.level, &p.condition, p.benefit(), Arc::clone(&params))
                    .map(|rule| rule.with_money_params(Arc::clone(&money)))
                    .map(|rule| Rule::Interpreted { level: p.level, records, rule: Box::new(rule) })
                    .map_err(PolicyError::Interpreter)
            }
        });
        rules.push(rule.unwrap_or_else(|e| {
            refused.push((i, e));
            Rule::Off
        }));
    }
    (Engine::new(rules), refused)
}

#[cfg(test)]
mod tests;
