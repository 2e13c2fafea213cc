//! The `cel` crate's own interpreter over one row: the fallback for rules the
//! engine can't compile, and the reference the engine is tested against.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{CallExpr, ComprehensionExpr, Expr, LiteralValue, operators};
use cel::parser::Macro;
use cel::{Context, Env, Program, Value};

use super::columns::{Columns, Unrecorded};
use super::fields::{Field, FieldType, Level, MEMBERS, PARAMS, fields, member_field};

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
    /// The parameters counted in fen (shown in yuan).
    money: Arc<[String]>,
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
        Ok(Self {
            source: condition.to_owned(),
            level,
            condition: condition_program,
            benefit,
            params,
            money: Arc::new([]),
        })
    }

    pub fn with_money_params(self, money: Arc<[String]>) -> Self {
        Self { money, ..self }
    }

    /// Each top-level condition on one row: its text, whether it holds (or why
    /// it could not be run), and the fields and parameters it read, shown.
    pub fn explain(
        &self,
        cols: &Columns,
        household: usize,
        person: Option<usize>,
    ) -> Vec<(String, Result<bool, String>, Vec<String>)> {
        let env = env();
        conjunct_texts(&self.source)
            .into_iter()
            .map(|text| {
                let holds = env.compile(text).map_err(|e| e.to_string()).and_then(|p| {
                    match run(&p, cols, self.level, household, person, &self.params)? {
                        Value::Bool(b) => Ok(b),
                        other => Err(format!("not true or false: {other:?}")),
                    }
                });
                (text.to_owned(), holds, self.reads(text, cols, household, person))
            })
            .collect()
    }

    /// The row's fields and the parameters a condition names, each once, with
    /// its value (money in yuan, codes quoted).
    fn reads(&self, text: &str, cols: &Columns, household: usize, person: Option<usize>) -> Vec<String> {
        let mut shown = Vec::new();
        for name in names(text) {
            let value = if let Some(param) = name.strip_prefix("params.") {
                let Some(&v) = self.params.get(param) else { continue };
                if self.money.iter().any(|m| m == param) { crate::Fen(v).grouped() } else { v.to_string() }
            } else {
                let Some(f) = FIELDS.iter().find(|f| f.name == name) else { continue };
                let row = match (f.level, person) {
                    (Level::Household, _) => household,
                    (Level::Person, Some(row)) if self.level == Level::Person => row,
                    _ => continue,
                };
                if !recorded(cols, f, household) {
                    shown.push(format!("{name} {}", Unrecorded::name(Unrecorded::read_by(f.col).unwrap_or(0)).0));
                    continue;
                }
                match (f.ty, value(cols, f, row)) {
                    (FieldType::Money, Value::Int(fen)) => crate::Fen(fen).grouped(),
                    (_, v) => show(&v),
                }
            };
            let item = format!("{name} {value}");
            if !shown.contains(&item) {
                shown.push(item);
            }
        }
        shown
    }

    /// The fact not recorded for `household` (`Unrecorded` bits) that a condition reads, if any.
    pub fn unrecorded_read(text: &str, cols: &Columns, household: usize) -> Option<u8> {
        let missing = cols.unrecorded(household as u32);
        if missing == 0 {
            return None;
        }
        names(text).into_iter().find_map(|name| {
            let f = FIELDS.iter().find(|f| f.name == member_field(name))?;
            Unrecorded::read_by(f.col).filter(|fact| fact & missing != 0)
        })
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

/// The parts of a top-level `a && b && …` in a rule's text, each a condition
/// of its own; the whole text when `||` or `?:` sits at the top (they bind
/// looser than `&&`). Brackets and quoted text are stepped over.
pub fn conjunct_texts(source: &str) -> Vec<&str> {
    let text = source.trim();
    let (mut depth, mut quoted) = (0i32, Quoted::default());
    let (mut cuts, mut looser) = (Vec::new(), false);
    let mut closes_at_end = None;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        if quoted.step(c) {
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 && closes_at_end.is_none() {
                    closes_at_end = Some(i);
                }
            }
            '&' if depth == 0 && bytes.get(i + 1) == Some(&b'&') => cuts.push(i),
            '|' if depth == 0 && bytes.get(i + 1) == Some(&b'|') => looser = true,
            '?' if depth == 0 => looser = true,
            _ => {}
        }
    }
    // `(a && b)`: the brackets around the whole rule say nothing.
    if text.starts_with('(') && closes_at_end == Some(text.len() - 1) {
        return conjunct_texts(&text[1..text.len() - 1]);
    }
    if looser || cuts.is_empty() {
        return vec![text];
    }
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        parts.push(text[start..cut].trim());
        start = cut + 2;
    }
    parts.push(text[start..].trim());
    parts
}

/// The dotted names in a condition outside quotes (`per_capita_income`,
/// `params.dibao_line`, `m.age`), in order, without method calls' names.
fn names(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut start) = (Quoted::default(), None::<usize>);
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if quoted.step(c) {
            continue;
        }
        match (start, word(c)) {
            (None, true) if !c.is_ascii_digit() && c != '.' => start = Some(i),
            (Some(s), false) => {
                // A name followed by `(` is a function or a method, not a value.
                if c != '(' {
                    out.push(text[s..i].trim_end_matches('.'));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Steps over the quoted text of a rule, one character at a time.
#[derive(Default)]
struct Quoted {
    quote: Option<char>,
    escaped: bool,
}

impl Quoted {
    /// Whether `c` belongs to quoted text (its quotes included).
    fn step(&mut self, c: char) -> bool {
        match self.quote {
            Some(_) if self.escaped => self.escaped = false,
            Some(_) if c == '\\' => self.escaped = true,
            Some(q) if c == q => self.quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => self.quote = Some(c),
            None => return false,
        }
        true
    }
}

/// A CEL value as a person reads it: codes quoted, lists in brackets.
fn show(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::List(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        other => format!("{other:?}"),
    }
}

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

/// Whether a household row has field `f` recorded: a fact not recorded is left
/// out of the variables, so a rule that reads it errs (the row is unknown).
fn recorded(cols: &Columns, f: &Field, household: usize) -> bool {
    Unrecorded::read_by(f.col).is_none_or(|fact| cols.unrecorded(household as u32) & fact == 0)
}

/// A person's fields as a CEL map (`disability` nested).
fn person_map(cols: &Columns, row: usize) -> HashMap<String, Value> {
    let mut m = HashMap::new();
    let mut disability = HashMap::new();
    let household = cols.person(row).0 as usize;
    for f in FIELDS.iter().filter(|f| f.level == Level::Person && recorded(cols, f, household)) {
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
    for f in FIELDS.iter().filter(|f| f.level == Level::Household && recorded(cols, f, household)) {
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
