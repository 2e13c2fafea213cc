//! From CEL source to a typed rule tree the engine can run.
//!
//! The `cel` crate parses; this module resolves names against the field list,
//! checks types, resolves `params.*` for the sweep date and refuses what the
//! engine cannot run (reported as `Unsupported`, run by the interpreter).

use std::collections::BTreeMap;
use std::fmt;

use cel::common::ast::{CallExpr, Expr, LiteralValue, operators};
use cel::parser::Expression;

use super::fields::{Col, Field, FieldType, Level, MEMBERS, PARAMS, fields};

/// A compared pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn from_fn(name: &str) -> Option<Self> {
        Some(match name {
            operators::EQUALS => Self::Eq,
            operators::NOT_EQUALS => Self::Ne,
            operators::LESS => Self::Lt,
            operators::LESS_EQUALS => Self::Le,
            operators::GREATER => Self::Gt,
            operators::GREATER_EQUALS => Self::Ge,
            _ => return None,
        })
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// The comparison that holds when this one does not.
    pub fn negated(self) -> Self {
        match self {
            Self::Eq => Self::Ne,
            Self::Ne => Self::Eq,
            Self::Lt => Self::Ge,
            Self::Le => Self::Gt,
            Self::Gt => Self::Le,
            Self::Ge => Self::Lt,
        }
    }

    /// The comparison with its sides swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
            same => same,
        }
    }

    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Self::Eq => a == b,
            Self::Ne => a != b,
            Self::Lt => a < b,
            Self::Le => a <= b,
            Self::Gt => a > b,
            Self::Ge => a >= b,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArOp {
    fn from_fn(name: &str) -> Option<Self> {
        Some(match name {
            operators::ADD => Self::Add,
            operators::SUBSTRACT => Self::Sub,
            operators::MULTIPLY => Self::Mul,
            operators::DIVIDE => Self::Div,
            operators::MODULO => Self::Rem,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Rem => "%",
        }
    }

    /// CEL integer arithmetic: `None` on overflow or division by zero.
    pub fn apply(self, a: i64, b: i64) -> Option<i64> {
        match self {
            Self::Add => a.checked_add(b),
            Self::Sub => a.checked_sub(b),
            Self::Mul => a.checked_mul(b),
            Self::Div => a.checked_div(b),
            Self::Rem => a.checked_rem(b),
        }
    }
}

/// How the members' values fold into one per household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggOp {
    Exists,
    All,
    ExistsOne,
    Count,
}

impl AggOp {
    fn name(self) -> &'static str {
        match self {
            Self::Exists => "exists",
            Self::All => "all",
            Self::ExistsOne => "exists_one",
            Self::Count => "count",
        }
    }
}

/// A value's type in a compiled rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int {
        money: bool,
    },
    /// A code of the field's values (index into them).
    Code(Col),
    /// A bit set over the field's values.
    Set(Col),
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Int { .. } => "int",
            Self::Code(_) => "string",
            Self::Set(_) => "list",
        }
    }
}

/// A typed, resolved rule expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Ex {
    pub kind: ExKind,
    pub ty: Ty,
    /// Person if it varies per person, else household.
    pub level: Level,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExKind {
    /// An int, a bool (0/1), a code index or a bit set.
    Lit(i64),
    /// A string literal compared with a coded value: its index, as written.
    Code(i64, String),
    Param {
        name: String,
        value: i64,
    },
    /// A field; `var` is the member variable inside an aggregate.
    Field {
        col: Col,
        name: &'static str,
        var: Option<String>,
    },
    Not(Box<Ex>),
    And(Box<Ex>, Box<Ex>),
    Or(Box<Ex>, Box<Ex>),
    Cond(Box<Ex>, Box<Ex>, Box<Ex>),
    Cmp(CmpOp, Box<Ex>, Box<Ex>),
    Arith(ArOp, Box<Ex>, Box<Ex>),
    Neg(Box<Ex>),
    /// A code in a literal list: the list's codes as a bit mask.
    InList(Box<Ex>, u64, Vec<String>),
    /// A literal code in a set field.
    Has(Box<Ex>, u8, String),
    Size(Box<Ex>),
    Agg(AggOp, String, Box<Ex>),
}

/// Why a rule can't be used, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// `Unsupported` rules are valid CEL the engine can't compile: they run
    /// in the interpreter. Every other kind is refused.
    pub kind: RuleErrorKind,
    pub message_zh: String,
    pub message_en: String,
    /// 1-based line and column.
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleErrorKind {
    Syntax,
    UnknownField,
    Type,
    Unsupported,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message_en)
    }
}

/// What a rule may name: the fields, and the params as of the sweep date.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    fields: Vec<Field>,
    params: BTreeMap<String, i64>,
    money_params: Vec<String>,
}

impl Vocabulary {
    /// `params` gives each param's value on the date and whether it is money.
    pub fn new(params: impl IntoIterator<Item = (String, i64, bool)>) -> Self {
        let mut map = BTreeMap::new();
        let mut money = Vec::new();
        for (name, value, is_money) in params {
            if is_money {
                money.push(name.clone());
            }
            map.insert(name, value);
        }
        Self { fields: fields(), params: map, money_params: money }
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn params(&self) -> &BTreeMap<String, i64> {
        &self.params
    }

    /// The parameters counted in fen.
    pub fn money_params(&self) -> &[String] {
        &self.money_params
    }

    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Parses and compiles a condition (`want_bool`) or a benefit (int) for
    /// a rule evaluated per `level`.
    pub fn compile(&self, source: &str, level: Level, want: Want) -> Result<Ex, RuleError> {
        if source.trim().is_empty() {
            let (message_zh, message_en) = ("规则不能为空".into(), "the rule is empty".into());
            return Err(RuleError { kind: RuleErrorKind::Syntax, message_zh, message_en, line: 1, column: 1 });
        }
        let program = cel::Env::default().compile(source).map_err(|e| {
            let first = e.errors.first();
            // The parser counts lines and columns from 1, in characters.
            let (line, column) = first.map(|e| (e.pos.0.max(1) as u32, e.pos.1.max(1) as u32)).unwrap_or((1, 1));
            let (zh, en) = syntax_message(first.map_or("", |e| e.msg.as_str()));
            RuleError {
                kind: RuleErrorKind::Syntax,
                message_zh: format!("语法错误：{zh}"),
                message_en: format!("syntax error: {en}"),
                line,
                column,
            }
        })?;
        let info = program.source_info();
        let cx = Cx { vocab: self, level, var: None, source, info };
        let ex = cx.expr(program.expression()).map_err(|e| match e.kind {
            // The interpreter will run it, but every name in it must still be known.
            RuleErrorKind::Unsupported => cx.names(program.expression(), &mut Vec::new()).err().unwrap_or(e),
            _ => e,
        })?;
        let ok = match want {
            Want::Bool => ex.ty == Ty::Bool,
            Want::Int => matches!(ex.ty, Ty::Int { .. }),
        };
        if !ok {
            let (zh, en) = match want {
                Want::Bool => ("条件的结果必须是真或假", "a condition must be true or false"),
                Want::Int => ("金额必须是整数（分）", "an amount must be an integer (fen)"),
            };
            return Err(cx.error(program.expression(), RuleErrorKind::Type, zh.into(), en.into()));
        }
        Ok(ex)
    }
}

/// What a compiled expression must yield.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Bool,
    Int,
}

#[derive(Clone, Copy)]
struct Cx<'a> {
    vocab: &'a Vocabulary,
    level: Level,
    /// The member variable while inside an aggregate.
    var: Option<&'a str>,
    source: &'a str,
    info: &'a cel::common::ast::SourceInfo,
}

fn ex(kind: ExKind, ty: Ty, level: Level) -> Ex {
    Ex { kind, ty, level }
}

fn join(a: Level, b: Level) -> Level {
    if a == Level::Person || b == Level::Person { Level::Person } else { Level::Household }
}

/// `a.b.c` as its segments.
fn segments(e: &Expr) -> Option<Vec<&str>> {
    match e {
        Expr::Ident(name) => Some(vec![name.as_str()]),
        Expr::Select(s) if !s.test => {
            let mut v = segments(&s.operand.expr)?;
            v.push(s.field.as_str());
            Some(v)
        }
        _ => None,
    }
}

impl<'a> Cx<'a> {
    fn error(&self, at: &Expression, kind: RuleErrorKind, zh: String, en: String) -> RuleError {
        self.error_back(at, 0, kind, zh, en)
    }

    /// An error about a call, marked at the function's name (the parser places
    /// a call at its opening bracket).
    fn call_error(&self, at: &Expression, name: &str, kind: RuleErrorKind, zh: String, en: String) -> RuleError {
        self.error_back(at, name.len(), kind, zh, en)
    }

    /// An error marked `back` bytes before where the parser places `at`.
    fn error_back(&self, at: &Expression, back: usize, kind: RuleErrorKind, zh: String, en: String) -> RuleError {
        // The parser's offsets count bytes; a column counts characters.
        let offset = self.info.offset_for(at.id).map_or(0, |(s, _)| (s as usize).saturating_sub(back));
        let before = self.source.get(..offset).unwrap_or(self.source);
        let line = before.matches('\n').count() as u32 + 1;
        let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) as u32 + 1;
        RuleError { kind, message_zh: zh, message_en: en, line, column }
    }

    /// What the engine can't compile, in Chinese and in English.
    fn unsupported(&self, at: &Expression, (zh, en): (&str, &str)) -> RuleError {
        self.error(
            at,
            RuleErrorKind::Unsupported,
            format!("规则引擎尚不能编译{zh}，将逐行解释执行"),
            format!("the engine can't compile {en} yet; it runs in the interpreter"),
        )
    }

    fn type_error(&self, at: &Expression, zh: String, en: String) -> RuleError {
        self.error(at, RuleErrorKind::Type, zh, en)
    }

    /// Every name in a rule the engine can't compile is a field, a parameter or
    /// a variable of an enclosing `exists`, `all`, `count`…, as the compiler
    /// would have required had it got that far.
    fn names(&self, e: &'a Expression, vars: &mut Vec<&'a str>) -> Result<(), RuleError> {
        match &e.expr {
            Expr::Ident(_) | Expr::Select(_) if segments(&e.expr).is_some() => {
                let segs = segments(&e.expr).unwrap_or_default();
                let known = match segs.as_slice() {
                    [MEMBERS] => true,
                    [PARAMS, name] => self.vocab.params.contains_key(*name),
                    [var, rest @ ..] if vars.contains(var) => {
                        rest.is_empty() || self.vocab.field(&rest.join(".")).is_some()
                    }
                    _ => self.vocab.field(&segs.join(".")).is_some(),
                };
                if known {
                    return Ok(());
                }
                let joined = segs.join(".");
                let (zh, en) = match segs[0] {
                    PARAMS => (format!("没有参数 {joined}"), format!("unknown parameter {joined}")),
                    _ => (format!("未知字段 {joined}"), format!("unknown field {joined}")),
                };
                Err(self.error(e, RuleErrorKind::UnknownField, zh, en))
            }
            Expr::Select(s) => self.names(&s.operand, vars),
            Expr::Call(call) => {
                let name = call.func_name.as_str();
                if !known_function(name) {
                    let (zh, en) = (format!("没有函数 {name}()"), format!("there is no function {name}()"));
                    return Err(self.call_error(e, name, RuleErrorKind::UnknownField, zh, en));
                }
                // `has(x.f)` asks whether a field is set: its argument must name a field of something.
                let has_field = |a: &Expression| matches!(&a.expr, Expr::Select(s) if !s.test);
                if name == "has" && (call.target.is_some() || call.args.len() != 1 || !call.args.iter().all(has_field))
                {
                    let zh = "has() 要写成 has(对象.字段)".to_owned();
                    let en = "has() is written has(object.field)".to_owned();
                    return Err(self.call_error(e, name, RuleErrorKind::Type, zh, en));
                }
                if let Some(target) = &call.target {
                    self.names(target, vars)?;
                }
                // `x.exists(v, p)` and the like: `v` is bound in `p`.
                if let (Some(_), [var, body]) = (&call.target, call.args.as_slice())
                    && let Expr::Ident(v) = &var.expr
                {
                    vars.push(v);
                    let checked = self.names(body, vars);
                    vars.pop();
                    return checked;
                }
                call.args.iter().try_for_each(|a| self.names(a, vars))
            }
            Expr::List(list) => list.elements.iter().try_for_each(|x| self.names(x, vars)),
            Expr::Map(map) => map.entries.iter().try_for_each(|entry| match &entry.expr {
                cel::common::ast::EntryExpr::MapEntry(m) => {
                    self.names(&m.key, vars)?;
                    self.names(&m.value, vars)
                }
                cel::common::ast::EntryExpr::StructField(f) => self.names(&f.value, vars),
            }),
            Expr::Struct(st) => st.entries.iter().try_for_each(|entry| match &entry.expr {
                cel::common::ast::EntryExpr::MapEntry(m) => self.names(&m.value, vars),
                cel::common::ast::EntryExpr::StructField(f) => self.names(&f.value, vars),
            }),
            Expr::Comprehension(c) => {
                self.names(&c.iter_range, vars)?;
                self.names(&c.accu_init, vars)?;
                let bound = [Some(c.iter_var.as_str()), c.iter_var2.as_deref(), Some(c.accu_var.as_str())];
                let n = vars.len();
                vars.extend(bound.into_iter().flatten());
                let checked = [&c.loop_cond, &c.loop_step, &c.result].into_iter().try_for_each(|x| self.names(x, vars));
                vars.truncate(n);
                checked
            }
            Expr::Literal(_) | Expr::Ident(_) | Expr::Unspecified => Ok(()),
        }
    }

    fn expr(&self, e: &'a Expression) -> Result<Ex, RuleError> {
        match &e.expr {
            Expr::Literal(lit) => match lit {
                LiteralValue::Int(i) => Ok(ex(ExKind::Lit(*i.inner()), Ty::Int { money: false }, Level::Household)),
                LiteralValue::Boolean(b) => Ok(ex(ExKind::Lit(i64::from(**b)), Ty::Bool, Level::Household)),
                LiteralValue::String(_) => Err(self.type_error(
                    e,
                    "文本只能与代码字段比较，或写在 in 中".into(),
                    "a string can only be compared with a coded field, or used with in".into(),
                )),
                LiteralValue::Double(_) => Err(self.unsupported(e, ("小数", "decimal numbers"))),
                _ => Err(self.unsupported(e, ("这种常量", "this literal"))),
            },
            Expr::Ident(_) | Expr::Select(_) => self.name(e),
            Expr::Call(call) => self.call(e, call),
            _ => Err(self.unsupported(e, ("这种写法", "this expression"))),
        }
    }

    fn name(&self, e: &'a Expression) -> Result<Ex, RuleError> {
        let Some(segs) = segments(&e.expr) else {
            return Err(self.unsupported(e, ("这种取字段的写法", "this selection")));
        };
        let joined = segs.join(".");
        if segs[0] == PARAMS && segs.len() == 2 {
            return match self.vocab.params.get(segs[1]) {
                Some(&value) => {
                    let money = self.vocab.money_params.iter().any(|p| p == segs[1]);
                    Ok(ex(ExKind::Param { name: segs[1].to_owned(), value }, Ty::Int { money }, Level::Household))
                }
                None => Err(self.error(
                    e,
                    RuleErrorKind::UnknownField,
                    format!("没有参数 {joined}"),
                    format!("unknown parameter {joined}"),
                )),
            };
        }
        let (var, name) = match self.var {
            Some(v) if segs[0] == v => (Some(v), segs[1..].join(".")),
            _ => (None, joined.clone()),
        };
        let Some(field) = self.vocab.field(&name) else {
            return Err(self.error(
                e,
                RuleErrorKind::UnknownField,
                format!("未知字段 {joined}"),
                format!("unknown field {joined}"),
            ));
        };
        let ty = match field.ty {
            FieldType::Bool => Ty::Bool,
            FieldType::Int => Ty::Int { money: false },
            FieldType::Money => Ty::Int { money: true },
            FieldType::Code => Ty::Code(field.col),
            FieldType::Set => Ty::Set(field.col),
        };
        if field.level == Level::Person && var.is_none() {
            if self.var.is_some() {
                return Err(
                    self.unsupported(e, ("聚合内引用外层成员的字段", "an outer person's field inside an aggregate"))
                );
            }
            if self.level == Level::Household {
                return Err(self.type_error(
                    e,
                    format!("{joined} 是个人字段：户级政策请写 members.exists(m, m.{joined} …)"),
                    format!("{joined} is a person field: in a household policy write members.exists(m, m.{joined} …)"),
                ));
            }
        }
        if var.is_some() && field.level == Level::Household {
            return Err(self.type_error(
                e,
                format!("{name} 是家庭字段，直接写 {name}"),
                format!("{name} is a household field: write {name}"),
            ));
        }
        Ok(ex(ExKind::Field { col: field.col, name: field.name, var: var.map(str::to_owned) }, ty, field.level))
    }

    fn call(&self, e: &'a Expression, call: &'a CallExpr) -> Result<Ex, RuleError> {
        let name = call.func_name.as_str();
        let args = &call.args;
        if let Some(target) = &call.target {
            return match (name, args.len()) {
                ("exists" | "all" | "exists_one" | "existsOne" | "count", 2) => {
                    let op = match name {
                        "exists" => AggOp::Exists,
                        "all" => AggOp::All,
                        "count" => AggOp::Count,
                        _ => AggOp::ExistsOne,
                    };
                    self.aggregate(e, op, target, &args[0], &args[1])
                }
                ("size", 0) => self.size(e, target),
                _ => {
                    let (zh, en) = function_words(name);
                    Err(self.unsupported(e, (&zh, &en)))
                }
            };
        }
        if let Some(op) = CmpOp::from_fn(name) {
            return self.compare(e, op, &args[0], &args[1]);
        }
        if let Some(op) = ArOp::from_fn(name) {
            let (a, b) = (self.int(&args[0])?, self.int(&args[1])?);
            if matches!(op, ArOp::Div | ArOp::Rem) && matches!(b.kind, ExKind::Lit(0) | ExKind::Param { value: 0, .. })
            {
                let (zh, en) =
                    ("不能除以 0：每一户都会无法判定".into(), "division by 0: no row could be decided".into());
                return Err(self.type_error(e, zh, en));
            }
            let money = matches!((a.ty, b.ty), (Ty::Int { money: true }, _) | (_, Ty::Int { money: true }));
            let level = join(a.level, b.level);
            return Ok(ex(ExKind::Arith(op, Box::new(a), Box::new(b)), Ty::Int { money }, level));
        }
        match (name, args.len()) {
            (operators::LOGICAL_AND | operators::LOGICAL_OR, 2) => {
                let (a, b) = (self.boolean(&args[0])?, self.boolean(&args[1])?);
                let level = join(a.level, b.level);
                let kind = if name == operators::LOGICAL_AND {
                    ExKind::And(Box::new(a), Box::new(b))
                } else {
                    ExKind::Or(Box::new(a), Box::new(b))
                };
                Ok(ex(kind, Ty::Bool, level))
            }
            (operators::LOGICAL_NOT, 1) => {
                let a = self.boolean(&args[0])?;
                let level = a.level;
                Ok(ex(ExKind::Not(Box::new(a)), Ty::Bool, level))
            }
            (operators::NEGATE, 1) => {
                let a = self.int(&args[0])?;
                let (ty, level) = (a.ty, a.level);
                Ok(ex(ExKind::Neg(Box::new(a)), ty, level))
            }
            (operators::CONDITIONAL, 3) => {
                let c = self.boolean(&args[0])?;
                let (a, b) = (self.expr(&args[1])?, self.expr(&args[2])?);
                let ty = match (a.ty, b.ty) {
                    (Ty::Int { money: m1 }, Ty::Int { money: m2 }) => Ty::Int { money: m1 || m2 },
                    (Ty::Bool, Ty::Bool) => Ty::Bool,
                    _ => {
                        return Err(
                            self.unsupported(e, ("两个分支类型不同的 ?:", "?: with branches of different types"))
                        );
                    }
                };
                let level = join(c.level, join(a.level, b.level));
                Ok(ex(ExKind::Cond(Box::new(c), Box::new(a), Box::new(b)), ty, level))
            }
            (operators::IN, 2) => self.membership(e, &args[0], &args[1]),
            ("size", 1) => self.size(e, &args[0]),
            _ => {
                let (zh, en) = function_words(name);
                Err(self.unsupported(e, (&zh, &en)))
            }
        }
    }

    fn typed(&self, e: &'a Expression, want: Ty) -> Result<Ex, RuleError> {
        let x = self.expr(e)?;
        let ok = match want {
            Ty::Int { .. } => matches!(x.ty, Ty::Int { .. }),
            _ => x.ty == want,
        };
        if ok {
            Ok(x)
        } else {
            Err(self.type_error(
                e,
                format!("这里需要 {}，却是 {}", want.name(), x.ty.name()),
                format!("expected {} here, found {}", want.name(), x.ty.name()),
            ))
        }
    }

    fn int(&self, e: &'a Expression) -> Result<Ex, RuleError> {
        self.typed(e, Ty::Int { money: false })
    }

    fn boolean(&self, e: &'a Expression) -> Result<Ex, RuleError> {
        self.typed(e, Ty::Bool)
    }

    fn string_literal(e: &Expression) -> Option<&str> {
        match &e.expr {
            Expr::Literal(LiteralValue::String(s)) => Some(s.inner()),
            _ => None,
        }
    }

    /// The index of `code` among a coded field's values.
    fn code_of(&self, at: &Expression, col: Col, code: &str) -> Result<i64, RuleError> {
        let Some(field) = self.vocab.fields.iter().find(|f| f.col == col) else {
            return Err(self.unsupported(at, ("这个字段", "this field")));
        };
        match field.values.iter().position(|v| *v == code) {
            Some(i) => Ok(i as i64),
            // Its Chinese name written for the code: the code to write is named.
            None if let Some(written) = super::fields::code_for_label(col, code) => Err(self.type_error(
                at,
                format!("“{code}”是 {} 的取值 '{written}' 的中文名：规则中请写 '{written}'", field.name),
                format!(
                    "'{code}' is the Chinese name of {}'s value '{written}': write '{written}' in rules",
                    field.name
                ),
            )),
            None => Err(self.type_error(
                at,
                format!("{} 没有取值 '{code}'，可选：{}", field.name, field.values.join("、")),
                format!("'{code}' is not a value of {}; one of: {}", field.name, field.values.join(", ")),
            )),
        }
    }

    fn compare(&self, e: &'a Expression, op: CmpOp, l: &'a Expression, r: &'a Expression) -> Result<Ex, RuleError> {
        let (a, b) = match (Self::string_literal(l), Self::string_literal(r)) {
            (Some(_), Some(_)) => return Err(self.unsupported(e, ("两个文本的比较", "comparing two strings"))),
            (Some(s), None) => {
                let b = self.expr(r)?;
                (self.code_literal(l, s, &b)?, b)
            }
            (None, Some(s)) => {
                let a = self.expr(l)?;
                let b = self.code_literal(r, s, &a)?;
                (a, b)
            }
            (None, None) => (self.expr(l)?, self.expr(r)?),
        };
        let ok = match (a.ty, b.ty) {
            (Ty::Int { .. }, Ty::Int { .. }) => true,
            (Ty::Code(x), Ty::Code(y)) => x == y,
            (Ty::Bool, Ty::Bool) => matches!(op, CmpOp::Eq | CmpOp::Ne),
            _ => false,
        };
        if !ok {
            return Err(self.type_error(
                e,
                format!("不能用 {} 比较 {} 与 {}", op.symbol(), a.ty.name(), b.ty.name()),
                format!("can't compare {} with {} using {}", a.ty.name(), b.ty.name(), op.symbol()),
            ));
        }
        let level = join(a.level, b.level);
        Ok(ex(ExKind::Cmp(op, Box::new(a), Box::new(b)), Ty::Bool, level))
    }

    fn membership(&self, e: &'a Expression, item: &'a Expression, list: &'a Expression) -> Result<Ex, RuleError> {
        if let Some(s) = Self::string_literal(item) {
            let set = self.expr(list)?;
            let Ty::Set(col) = set.ty else {
                return Err(self.type_error(
                    list,
                    "in 的右边须是列表字段".into(),
                    "the right of in must be a list field".into(),
                ));
            };
            let bit = self.code_of(item, col, s)? as u8;
            let level = set.level;
            return Ok(ex(ExKind::Has(Box::new(set), bit, s.to_owned()), Ty::Bool, level));
        }
        let Expr::List(items) = &list.expr else {
            return Err(self.unsupported(e, ("in 后面不是列表常量的写法", "in over a non-literal list")));
        };
        let x = self.expr(item)?;
        match x.ty {
            Ty::Code(col) => {
                let mut mask = 0u64;
                let mut shown = Vec::new();
                for it in &items.elements {
                    let Some(s) = Self::string_literal(it) else {
                        return Err(self.type_error(it, "列表里须是文本".into(), "list items must be strings".into()));
                    };
                    mask |= 1 << self.code_of(it, col, s)?;
                    shown.push(s.to_owned());
                }
                let level = x.level;
                Ok(ex(ExKind::InList(Box::new(x), mask, shown), Ty::Bool, level))
            }
            _ => Err(self.unsupported(e, ("对非代码字段使用 in", "in over a non-coded value"))),
        }
    }

    fn size(&self, e: &'a Expression, target: &'a Expression) -> Result<Ex, RuleError> {
        // members.filter(m, p).size() counts the members for whom p holds.
        if let Expr::Call(c) = &target.expr
            && let (Some(members), "filter", [var, pred]) = (&c.target, c.func_name.as_str(), c.args.as_slice())
        {
            return self.aggregate(e, AggOp::Count, members, var, pred);
        }
        let set = self.expr(target)?;
        let Ty::Set(_) = set.ty else {
            return Err(self.type_error(target, "size() 需要列表字段".into(), "size() needs a list field".into()));
        };
        let level = set.level;
        Ok(ex(ExKind::Size(Box::new(set)), Ty::Int { money: false }, level))
    }

    /// A string literal compared with a coded value: its code.
    fn code_literal(&self, at: &'a Expression, s: &str, other: &Ex) -> Result<Ex, RuleError> {
        let Ty::Code(col) = other.ty else {
            return Err(self.type_error(
                at,
                "文本只能与代码字段比较".into(),
                "a string compares only with a coded field".into(),
            ));
        };
        let code = self.code_of(at, col, s)?;
        Ok(ex(ExKind::Code(code, s.to_owned()), other.ty, Level::Household))
    }

    fn aggregate(
        &self,
        e: &'a Expression,
        op: AggOp,
        range: &'a Expression,
        var: &'a Expression,
        pred: &'a Expression,
    ) -> Result<Ex, RuleError> {
        if !matches!(&range.expr, Expr::Ident(n) if n == MEMBERS) {
            let (zh, en) =
                (format!("用于 members 以外的 {}()", op.name()), format!("{}() over anything but members", op.name()));
            return Err(self.unsupported(e, (&zh, &en)));
        }
        let Expr::Ident(name) = &var.expr else {
            return Err(self.type_error(
                var,
                "这里需要一个变量名，如 m".into(),
                "expected a variable name such as m".into(),
            ));
        };
        if self.var.is_some() {
            return Err(self.unsupported(e, ("嵌套的成员聚合", "nested member aggregates")));
        }
        let inner = Cx { var: Some(name.as_str()), ..*self };
        let p = inner.boolean(pred)?;
        let ty = if op == AggOp::Count { Ty::Int { money: false } } else { Ty::Bool };
        Ok(ex(ExKind::Agg(op, name.clone(), Box::new(p)), ty, Level::Household))
    }
}

/// Writes a compiled expression back as rule text, for explanations.
impl fmt::Display for Ex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let paren = |f: &mut fmt::Formatter<'_>, x: &Ex| {
            if matches!(
                x.kind,
                ExKind::And(..) | ExKind::Or(..) | ExKind::Cond(..) | ExKind::Arith(..) | ExKind::Cmp(..)
            ) {
                write!(f, "({x})")
            } else {
                write!(f, "{x}")
            }
        };
        match &self.kind {
            ExKind::Lit(v) => match self.ty {
                Ty::Bool => write!(f, "{}", *v != 0),
                _ => write!(f, "{v}"),
            },
            ExKind::Code(_, text) => write!(f, "'{text}'"),
            ExKind::Param { name, .. } => write!(f, "{PARAMS}.{name}"),
            ExKind::Field { name, var, .. } => match var {
                Some(v) => write!(f, "{v}.{name}"),
                None => write!(f, "{name}"),
            },
            ExKind::Not(a) => {
                write!(f, "!")?;
                paren(f, a)
            }
            ExKind::And(a, b) => write!(f, "{a} && {b}"),
            ExKind::Or(a, b) => {
                paren(f, a)?;
                write!(f, " || ")?;
                paren(f, b)
            }
            ExKind::Cond(c, a, b) => {
                paren(f, c)?;
                write!(f, " ? ")?;
                paren(f, a)?;
                write!(f, " : ")?;
                paren(f, b)
            }
            ExKind::Cmp(op, a, b) => {
                paren(f, a)?;
                write!(f, " {} ", op.symbol())?;
                paren(f, b)
            }
            ExKind::Arith(op, a, b) => {
                paren(f, a)?;
                write!(f, " {} ", op.symbol())?;
                paren(f, b)
            }
            ExKind::Neg(a) => {
                write!(f, "-")?;
                paren(f, a)
            }
            ExKind::InList(a, _, items) => {
                let items: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
                write!(f, "{a} in [{}]", items.join(", "))
            }
            ExKind::Has(set, _, code) => write!(f, "'{code}' in {set}"),
            ExKind::Size(set) => write!(f, "size({set})"),
            ExKind::Agg(op, var, p) => write!(f, "{MEMBERS}.{}({var}, {p})", op.name()),
        }
    }
}

impl Ex {
    /// The parts of a top-level `a && b && …`, each a condition of its own.
    pub fn conjuncts(&self) -> Vec<&Ex> {
        match &self.kind {
            ExKind::And(a, b) => {
                let mut v = a.conjuncts();
                v.extend(b.conjuncts());
                v
            }
            _ => vec![self],
        }
    }
}

/// A function or operator as a policy officer reads it: `x[i]` rather than the
/// parser's `_[_]`.
fn function_words(name: &str) -> (String, String) {
    match name {
        operators::INDEX => ("下标取值 [ ]".into(), "indexing [ ]".into()),
        operators::MODULO => ("取余 %".into(), "the remainder %".into()),
        operators::LOGICAL_NOT => ("运算 !".into(), "the operator !".into()),
        operators::NEGATE => ("负号 -".into(), "the minus sign -".into()),
        operators::IN => ("运算 in".into(), "the operator in".into()),
        _ if name.starts_with('_') || name.starts_with('@') => {
            let op = name.trim_matches('_').replace("_", " ");
            (format!("运算 {op}"), format!("the operator {op}"))
        }
        _ => (format!(" {name}()"), format!("{name}()")),
    }
}

/// The functions the interpreter knows (`cel`'s standard library as built here, without
/// its regex feature: no `matches`), besides operators and the aggregates (`exists`,
/// `all`, `exists_one`, `count`, `map`, `filter`, `has`). Checked by name only: a known
/// function given the wrong arguments fails when it runs.
const FUNCTIONS: [&str; 18] = [
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "type",
    "dyn",
    "value",
    "hasValue",
    "or",
    "orValue",
    "optMap",
    "optFlatMap",
];

/// Whether a call by `name` runs: an operator, an aggregate or a known function.
fn known_function(name: &str) -> bool {
    name.starts_with('_')
        || name.starts_with('@')
        || name.starts_with('!')
        || name.starts_with('-')
        || FUNCTIONS.contains(&name)
        || matches!(name, "exists" | "all" | "exists_one" | "existsOne" | "count" | "map" | "filter" | "has")
}

/// The half-width twin of a full-width sign or a Chinese quote a rule cannot read.
fn half_width(c: char) -> Option<char> {
    match c {
        '‘' | '’' | '“' | '”' => Some('\''),
        _ => Some(crate::registry::half_width(c)).filter(|&h| h != c),
    }
}

/// The parser's message in words a policy officer reads (its grammar's token
/// names are left out); a message it has not been taught is passed on as it is.
fn syntax_message(msg: &str) -> (String, String) {
    let msg = msg.strip_prefix("Syntax error: ").unwrap_or(msg);
    let quoted = |rest: &str| rest.strip_prefix('\'').and_then(|r| r.split_once("' ")).map(|(q, _)| q.to_owned());
    if let Some(c) = msg.strip_prefix("token recognition error at: '") {
        let c = c.strip_suffix('\'').unwrap_or(c);
        // A sign typed with a Chinese input method: its half-width twin is named.
        if let Some(ascii) = c.chars().next().and_then(half_width) {
            return (
                format!("“{c}”是全角（中文）符号：请改用半角符号“{ascii}”（切换到英文输入法输入）"),
                format!(
                    "'{c}' is a full-width (Chinese) sign: use the half-width '{ascii}' instead (type it in English input mode)"
                ),
            );
        }
        return (
            format!("无法识别“{c}”：字段用英文名书写（见字段列表），文字要放在引号里"),
            format!(
                "'{c}' is not understood: fields are written by their English names (see the field list), text goes in quotes"
            ),
        );
    }
    // The parser stops at 96 levels of brackets and gives its own error's debug text.
    if let Some(at) = msg.find("Recursion limit of ") {
        let limit: String = msg[at + "Recursion limit of ".len()..].chars().take_while(char::is_ascii_digit).collect();
        return (
            format!("括号或运算嵌套过深（最多 {limit} 层），请拆成几个较简单的条件"),
            format!(
                "brackets or operators are nested too deeply (at most {limit} levels): split it into simpler conditions"
            ),
        );
    }
    if msg.starts_with("mismatched input '<EOF>'") {
        return (
            "规则在这里不完整，后面还缺少内容".into(),
            "the rule ends too early: something is missing here".into(),
        );
    }
    let unexpected = ["extraneous input ", "mismatched input ", "no viable alternative at input "]
        .iter()
        .find_map(|p| msg.strip_prefix(p))
        .map(|rest| quoted(rest).unwrap_or_else(|| rest.trim_matches('\'').to_owned()));
    match unexpected {
        Some(t) => (format!("这里不应出现“{t}”"), format!("'{t}' is not expected here")),
        None => (msg.to_owned(), msg.to_owned()),
    }
}
