//! The `cel` crate's own interpreter over one row: the fallback for rules the
//! engine can't compile, and the reference the engine is tested against.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{CallExpr, ComprehensionExpr, Expr, LiteralValue, operators};
use cel::parser::Macro;
use cel::{Context, Env, Program, Value};

use super::columns::Columns;
use super::fields::{Field, FieldType, Level, MEMBERS, PARAMS, fields};

/// `list.count(x, p)`: how many elements satisfy `p`.
fn count_macro() -> Macro {
    Macro::receiver("count", 2, |helper, target, args| {
        let pred = args.pop().unwrap_or_default();
        let var = args.pop().unwrap_or_default();
        let Expr::Ident(name) = var.expr else {
            return Err(helper.new_error(var.id, "count() needs a variable name"));
        };
        let accu = "@result".to_string();
        let ident = |h: &mut cel::parser::MacroExprHelper<'_>| h.next_expr(Expr::Ident(accu.clone()));
        let init = helper.next_expr(Expr::Literal(LiteralValue::Int(0.into())));
        let cond = helper.next_expr(Expr::Literal(LiteralValue::Boolean(true.into())));
        let one = helper.next_expr(Expr::Literal(LiteralValue::Int(1.into())));
        let a1 = ident(helper);
        let plus = helper.next_expr(Expr::Call(CallExpr {
            func_name: operators::ADD.into(),
            target: None,
            args: vec![a1, one],
        }));
        let a2 = ident(helper);
        let step = helper.next_expr(Expr::Call(CallExpr {
            func_name: operators::CONDITIONAL.into(),
            target: None,
            args: vec![pred, plus, a2],
        }));
        let result = ident(helper);
        let Some(range) = target.take() else {
            return Err(helper.new_error(0, "count() needs a list"));
        };
        Ok(Some(helper.next_expr(Expr::Comprehension(Box::new(ComprehensionExpr {
            iter_range: range,
            iter_var: name,
            iter_var2: None,
            accu_var: accu,
            accu_init: init,
            loop_cond: cond,
            loop_step: step,
            result,
        })))))
    })
}

/// The standard environment plus `count`.
pub fn env() -> Arc<Env> {
    static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
        let mut env = Env::stdlib();
        // Adding to a fresh stdlib cannot clash.
        let _ = env.add_macro(count_macro());
        Arc::new(env)
    });
    Arc::clone(&ENV)
}

/// A rule run row by row in the interpreter.
pub struct Interpreted {
    source: String,
    level: Level,
    condition: Program,
    benefit: Option<Program>,
    params: Arc<BTreeMap<String, i64>>,
}

impl fmt::Debug for Interpreted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interpreted").field("source", &self.source).finish()
    }
}

impl Interpreted {
    pub fn new(
        level: Level,
        condition: &str,
        benefit: Option<&str>,
        params: Arc<BTreeMap<String, i64>>,
    ) -> Result<Self, String> {
        let env = env();
        let condition_program = env.compile(condition).map_err(|e| e.to_string())?;
        let benefit = benefit.map(|b| env.compile(b)).transpose().map_err(|e| e.to_string())?;
        Ok(Self { source: condition.to_owned(), level, condition: condition_program, benefit, params })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn condition(&self, cols: &Columns, household: usize, person: Option<usize>) -> Result<bool, String> {
        match run(&self.condition, cols, self.level, household, person, &self.params)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!("not true or false: {other:?}")),
        }
    }

    pub fn benefit(&self, cols: &Columns, household: usize, person: Option<usize>) -> Option<i64> {
        let p = self.benefit.as_ref()?;
        match run(p, cols, self.level, household, person, &self.params) {
            Ok(Value::Int(i)) => Some(i),
            _ => None,
        }
    }
}

static FIELDS: LazyLock<Vec<Field>> = LazyLock::new(fields);

fn value(cols: &Columns, f: &Field, row: usize) -> Value {
    let mut v = Vec::with_capacity(1);
    cols.load(f.col, row..row + 1, &mut v);
    let x = v.first().copied().unwrap_or(0);
    match f.ty {
        FieldType::Bool => Value::Bool(x != 0),
        FieldType::Int | FieldType::Money => Value::Int(x),
        FieldType::Code => Value::from(f.values.get(x as usize).copied().unwrap_or("")),
        FieldType::Set => Value::from(
            f.values
                .iter()
                .enumerate()
                .filter(|(i, _)| (x as u64 >> i) & 1 == 1)
                .map(|(_, s)| Value::from(*s))
                .collect::<Vec<_>>(),
        ),
    }
}

/// A person's fields as a CEL map (`disability` nested).
fn person_map(cols: &Columns, row: usize) -> HashMap<String, Value> {
    let mut m = HashMap::new();
    let mut disability = HashMap::new();
    for f in FIELDS.iter().filter(|f| f.level == Level::Person) {
        let v = value(cols, f, row);
        match f.name.split_once('.') {
            Some((_, sub)) => {
                disability.insert(sub.to_owned(), v);
            }
            None => {
                m.insert(f.name.to_owned(), v);
            }
        }
    }
    m.insert("disability".into(), Value::from(disability));
    m
}

/// The variables of one row, as the engine's columns hold them.
pub fn row_variables(
    cols: &Columns,
    level: Level,
    household: usize,
    person: Option<usize>,
    params: &BTreeMap<String, i64>,
) -> HashMap<String, Value> {
    let mut vars = HashMap::new();
    for f in FIELDS.iter().filter(|f| f.level == Level::Household) {
        vars.insert(f.name.to_owned(), value(cols, f, household));
    }
    let members: Vec<Value> = cols
        .persons(household as u32)
        .map(|r| r as usize)
        .filter(|&r| cols.p_alive[r])
        .map(|r| Value::from(person_map(cols, r)))
        .collect();
    vars.insert(MEMBERS.into(), Value::from(members));
    vars.insert(
        PARAMS.into(),
        Value::from(params.iter().map(|(k, v)| (k.clone(), Value::Int(*v))).collect::<HashMap<_, _>>()),
    );
    if let (Level::Person, Some(row)) = (level, person) {
        vars.extend(person_map(cols, row));
    }
    vars
}

fn run(
    program: &Program,
    cols: &Columns,
    level: Level,
    household: usize,
    person: Option<usize>,
    params: &BTreeMap<String, i64>,
) -> Result<Value, String> {
    let mut ctx = Context::with_env(env());
    for (k, v) in row_variables(cols, level, household, person, params) {
        ctx.add_variable_from_value(k, v);
    }
    program.execute(&ctx).map_err(|e| e.to_string())
}
