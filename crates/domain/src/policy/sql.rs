//! A compiled rule written as SQL, for the baseline a peer would build: the
//! registry in two tables (`hh` and `p`, one column per field, the same
//! integer codes as the engine's columns) and one query per policy.

use super::compile::{AggOp, ArOp, CmpOp, Ex, ExKind, Ty};
use super::fields::{Col, Level};

/// The table column of a field.
pub fn column(col: Col) -> &'static str {
    match col {
        Col::Age => "age",
        Col::Sex => "sex",
        Col::Relation => "relation",
        Col::Marital => "marital",
        Col::Illness => "illness",
        Col::DisabilityType => "dtype",
        Col::DisabilityGrade => "dgrade",
        Col::WorkAbility => "work",
        Col::Employment => "employment",
        Col::Schooling => "schooling",
        Col::Income => "income",
        Col::Categories => "cats",
        Col::Size => "size",
        Col::TotalIncome => "total_income",
        Col::PerCapitaIncome => "per_capita",
        Col::Assets => "assets",
        Col::Housing => "housing",
        Col::DangerousHousing => "dangerous",
        Col::Registration => "registration",
        Col::Tags => "tags",
        Col::HouseholdCategories => "hcats",
    }
}

/// `ex` as a SQL expression over `p` (the person), `h` (their household)
/// and, inside an aggregate, `m` (a member). `None` for what SQL lacks here
/// (`size()` of a set).
pub fn expression(ex: &Ex) -> Option<String> {
    let bin = |a: &Ex, op: &str, b: &Ex| Some(format!("({} {op} {})", expression(a)?, expression(b)?));
    Some(match &ex.kind {
        ExKind::Lit(v) if ex.ty == Ty::Bool => if *v != 0 { "TRUE" } else { "FALSE" }.to_owned(),
        ExKind::Lit(v) | ExKind::Code(v, _) | ExKind::Param { value: v, .. } => v.to_string(),
        ExKind::Field { col, var, .. } => {
            let table = match (var, ex.level) {
                (Some(_), _) => "m",
                (None, Level::Person) => "p",
                (None, Level::Household) => "h",
            };
            let name = format!("{table}.{}", column(*col));
            if ex.ty == Ty::Bool { format!("({name} <> 0)") } else { name }
        }
        ExKind::Not(a) => format!("(NOT {})", expression(a)?),
        ExKind::And(a, b) => return bin(a, "AND", b),
        ExKind::Or(a, b) => return bin(a, "OR", b),
        ExKind::Cond(c, a, b) => {
            format!("(CASE WHEN {} THEN {} ELSE {} END)", expression(c)?, expression(a)?, expression(b)?)
        }
        ExKind::Cmp(op, a, b) => {
            let op = match op {
                CmpOp::Eq => "=",
                CmpOp::Ne => "<>",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            return bin(a, op, b);
        }
        ExKind::Arith(op, a, b) => {
            let op = match op {
                ArOp::Add => "+",
                ArOp::Sub => "-",
                ArOp::Mul => "*",
                ArOp::Div => "/",
                ArOp::Rem => "%",
            };
            return bin(a, op, b);
        }
        ExKind::Neg(a) => format!("(-{})", expression(a)?),
        ExKind::InList(a, mask, _) => {
            let codes: Vec<String> = (0..64).filter(|i| (mask >> i) & 1 == 1).map(|i: i64| i.to_string()).collect();
            format!("({} IN ({}))", expression(a)?, codes.join(", "))
        }
        ExKind::Has(set, bit, _) => format!("((({} >> {bit}) & 1) = 1)", expression(set)?),
        ExKind::Size(_) => return None,
        ExKind::Agg(op, _, pred) => {
            let from = "FROM p m WHERE m.hh = h.id AND m.alive = 1";
            let pred = expression(pred)?;
            match op {
                AggOp::Exists => format!("EXISTS (SELECT 1 {from} AND {pred})"),
                AggOp::All => format!("NOT EXISTS (SELECT 1 {from} AND NOT {pred})"),
                AggOp::Count => format!("(SELECT COUNT(*) {from} AND {pred})"),
                AggOp::ExistsOne => format!("((SELECT COUNT(*) {from} AND {pred}) = 1)"),
            }
        }
    })
}

/// One query counting a policy's 应享未享 and 应退未退 rows.
pub fn count_query(level: Level, condition: &Ex, records: u8) -> Option<String> {
    let cond = expression(condition)?;
    Some(match level {
        Level::Household => {
            let rec = format!("(((h.hcats >> {records}) & 1) = 1)");
            format!(
                "SELECT COALESCE(SUM(CASE WHEN h.size > 0 AND {cond} AND NOT {rec} THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN {rec} AND (h.size = 0 OR NOT {cond}) THEN 1 ELSE 0 END), 0) FROM hh h"
            )
        }
        Level::Person => {
            let rec = format!("(((p.cats >> {records}) & 1) = 1)");
            format!(
                "SELECT COALESCE(SUM(CASE WHEN p.alive = 1 AND {cond} AND NOT {rec} THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN {rec} AND (p.alive = 0 OR NOT {cond}) THEN 1 ELSE 0 END), 0) \
                 FROM p JOIN hh h ON h.id = p.hh"
            )
        }
    })
}
