//! The sweep engine: every policy's rule lowered into one graph of column
//! operations (shared sub-expressions once), evaluated over batches of
//! households and their members in tight loops, on every core.

use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;

use super::columns::{Columns, HouseholdFacts};
use super::compile::{AggOp, ArOp, CmpOp, Ex, ExKind, Ty};
use super::fields::{Col, Level};
use super::interp::Interpreted;

type N = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    Col(Col),
    Const(i64),
    Not(N),
    And(N, N),
    Or(N, N),
    Cond(N, N, N),
    Cmp(CmpOp, N, N),
    Arith(ArOp, N, N),
    Neg(N),
    InMask(N, u64),
    Has(N, u8),
    Size(N),
    /// A household value repeated for each of its members.
    Bcast(N),
    /// Members' values folded per household (living members only).
    Agg(AggOp, N),
}

#[derive(Clone, Copy, Debug)]
struct Node {
    op: Op,
    level: Level,
    /// Whether any row can yield an error (overflow, division by zero).
    may_err: bool,
}

/// One condition of a policy (a part of its top-level `&&`), for explanations.
#[derive(Clone, Debug)]
struct Conjunct {
    text: String,
    node: N,
    /// For a comparison: the operator and each side's text, node and money flag.
    cmp: Option<(CmpOp, Side, Side)>,
}

#[derive(Clone, Debug)]
struct Side {
    text: String,
    node: N,
    money: bool,
}

/// A policy as the engine runs it.
#[derive(Clone, Debug)]
pub struct RulePlan {
    pub level: Level,
    pub condition: Ex,
    pub benefit: Option<Ex>,
    /// The category bit that records the policy as received.
    pub records: u8,
}

/// A policy as given to the engine.
#[derive(Debug)]
pub enum Rule {
    Compiled(RulePlan),
    /// Run row by row in the `cel` interpreter.
    Interpreted {
        level: Level,
        records: u8,
        rule: Box<Interpreted>,
    },
    /// Refused: evaluated for no one.
    Off,
}

#[derive(Debug)]
enum Compiled {
    Graph { cond: N, benefit: Option<N>, conjuncts: Vec<Conjunct> },
    Interpreted(Box<Interpreted>),
    Off,
}

#[derive(Debug)]
struct PolicyRun {
    level: Level,
    records: u8,
    compiled: Compiled,
}

/// What the sweep found for one row and policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// 应享未享: qualifies, does not receive.
    Missing,
    /// 应退未退: receives, no longer qualifies.
    Stale,
    /// The rule could not be evaluated for this row.
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Index of the policy in the order given to the engine.
    pub policy: u16,
    pub kind: FindingKind,
    /// Household row in the columns.
    pub household: u32,
    /// Person row, for person-level policies.
    pub person: Option<u32>,
    /// The benefit it would bring (fen), when known.
    pub benefit: Option<i64>,
}

/// One condition's outcome for a row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConditionOutcome {
    /// The condition as written (normalised).
    pub condition: String,
    /// `None` when it could not be evaluated.
    pub holds: Option<bool>,
    /// The values used, e.g. `per_capita_income 1,320.00 > params.dibao_line 1,100.00`.
    pub detail: String,
}

/// Rows per batch: households (their members follow).
const BATCH_HOUSEHOLDS: usize = 256;

/// The compiled catalogue.
#[derive(Debug, Default)]
pub struct Engine {
    nodes: Vec<Node>,
    index: HashMap<(Op, Level), N>,
    policies: Vec<PolicyRun>,
}

/// Working memory of one thread: a value and an error vector per node.
struct Buffers {
    vals: Vec<Vec<i64>>,
    errs: Vec<Vec<bool>>,
    erred: Vec<bool>,
}

impl Buffers {
    fn new(n: usize) -> Self {
        Self { vals: vec![Vec::new(); n], errs: vec![Vec::new(); n], erred: vec![false; n] }
    }

    fn err(&self, n: N, i: usize) -> bool {
        self.erred[n as usize] && self.errs[n as usize][i]
    }
}

fn fmt_value(v: i64, money: bool) -> String {
    if !money {
        return v.to_string();
    }
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    let yuan = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", abs % 100)
}

impl Engine {
    /// Compiles the policies into one graph; they keep their order.
    pub fn new(rules: Vec<Rule>) -> Self {
        let mut e = Self::default();
        for rule in rules {
            let run = match rule {
                Rule::Compiled(plan) => {
                    let cond = e.lower(&plan.condition, plan.level);
                    let benefit = plan.benefit.as_ref().map(|b| e.lower(b, plan.level));
                    let conjuncts = plan.condition.conjuncts().into_iter().map(|c| e.conjunct(c, plan.level)).collect();
                    PolicyRun {
                        level: plan.level,
                        records: plan.records,
                        compiled: Compiled::Graph { cond, benefit, conjuncts },
                    }
                }
                Rule::Interpreted { level, records, rule } => {
                    PolicyRun { level, records, compiled: Compiled::Interpreted(rule) }
                }
                Rule::Off => PolicyRun { level: Level::Household, records: 0, compiled: Compiled::Off },
            };
            e.policies.push(run);
        }
        e
    }

    /// Policies the engine could not compile.
    pub fn interpreted(&self) -> usize {
        self.policies.iter().filter(|p| matches!(p.compiled, Compiled::Interpreted(_))).count()
    }

    /// Distinct operations after sharing.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn conjunct(&mut self, c: &Ex, level: Level) -> Conjunct {
        let node = self.lower(c, level);
        let cmp = match &c.kind {
            ExKind::Cmp(op, a, b) => {
                let side = |e: &mut Self, x: &Ex| Side {
                    text: x.to_string(),
                    node: e.lower(x, level),
                    money: matches!(x.ty, Ty::Int { money: true }),
                };
                Some((*op, side(self, a), side(self, b)))
            }
            _ => None,
        };
        Conjunct { text: c.to_string(), node, cmp }
    }

    fn add(&mut self, op: Op, level: Level) -> N {
        if let Some(&n) = self.index.get(&(op, level)) {
            return n;
        }
        let child_err = |ns: &[N], nodes: &[Node]| ns.iter().any(|&c| nodes[c as usize].may_err);
        let may_err = match op {
            Op::Col(_) | Op::Const(_) => false,
            Op::Arith(..) => true,
            Op::Neg(_) => true,
            Op::Not(a) | Op::InMask(a, _) | Op::Has(a, _) | Op::Size(a) | Op::Bcast(a) | Op::Agg(_, a) => {
                child_err(&[a], &self.nodes)
            }
            Op::And(a, b) | Op::Or(a, b) | Op::Cmp(_, a, b) => child_err(&[a, b], &self.nodes),
            Op::Cond(c, a, b) => child_err(&[c, a, b], &self.nodes),
        };
        let n = self.nodes.len() as N;
        self.nodes.push(Node { op, level, may_err });
        self.index.insert((op, level), n);
        n
    }

    /// The node computing `x` at `level` (a household value is broadcast to
    /// members when needed at person level).
    fn lower(&mut self, x: &Ex, at: Level) -> N {
        let own = if at == Level::Person { x.level } else { Level::Household };
        let level = match x.kind {
            ExKind::Lit(_) | ExKind::Code(..) | ExKind::Param { .. } => at,
            _ => own,
        };
        let n = match &x.kind {
            ExKind::Lit(v) | ExKind::Code(v, _) | ExKind::Param { value: v, .. } => self.add(Op::Const(*v), level),
            ExKind::Field { col, .. } => self.add(Op::Col(*col), level),
            ExKind::Not(a) => {
                let a = self.lower(a, level);
                self.add(Op::Not(a), level)
            }
            ExKind::And(a, b) | ExKind::Or(a, b) | ExKind::Cmp(_, a, b) | ExKind::Arith(_, a, b) => {
                let (a, b) = (self.lower(a, level), self.lower(b, level));
                let op = match &x.kind {
                    ExKind::And(..) => Op::And(a, b),
                    ExKind::Or(..) => Op::Or(a, b),
                    ExKind::Cmp(o, ..) => Op::Cmp(*o, a, b),
                    ExKind::Arith(o, ..) => Op::Arith(*o, a, b),
                    _ => unreachable!("matched above"),
                };
                self.add(op, level)
            }
            ExKind::Cond(c, a, b) => {
                let (c, a, b) = (self.lower(c, level), self.lower(a, level), self.lower(b, level));
                self.add(Op::Cond(c, a, b), level)
            }
            ExKind::Neg(a) => {
                let a = self.lower(a, level);
                self.add(Op::Neg(a), level)
            }
            ExKind::InList(a, mask, _) => {
                let a = self.lower(a, level);
                self.add(Op::InMask(a, *mask), level)
            }
            ExKind::Has(a, bit, _) => {
                let a = self.lower(a, level);
                self.add(Op::Has(a, *bit), level)
            }
            ExKind::Size(a) => {
                let a = self.lower(a, level);
                self.add(Op::Size(a), level)
            }
            ExKind::Agg(op, _, p) => {
                let p = self.lower(p, Level::Person);
                self.add(Op::Agg(*op, p), Level::Household)
            }
        };
        if at == Level::Person && self.nodes[n as usize].level == Level::Household {
            self.add(Op::Bcast(n), Level::Person)
        } else {
            n
        }
    }

    /// Evaluates every node over households `hh` (and their persons).
    fn eval(&self, cols: &Columns, hh: Range<usize>, buf: &mut Buffers) {
        let persons = cols.hh_start[hh.start] as usize..cols.hh_start[hh.end] as usize;
        let (np, nh) = (persons.len(), hh.len());
        for (i, node) in self.nodes.iter().enumerate() {
            let len = if node.level == Level::Person { np } else { nh };
            let mut out = std::mem::take(&mut buf.vals[i]);
            let mut err = std::mem::take(&mut buf.errs[i]);
            out.clear();
            let mut erred = false;
            let v = |n: N| &buf.vals[n as usize];
            match node.op {
                Op::Col(col) => {
                    let rows = if node.level == Level::Person { persons.clone() } else { hh.clone() };
                    cols.load(col, rows, &mut out);
                }
                Op::Const(c) => out.resize(len, c),
                Op::Not(a) => out.extend(v(a).iter().map(|&x| x ^ 1)),
                Op::And(a, b) => out.extend(v(a).iter().zip(v(b)).map(|(&x, &y)| x & y)),
                Op::Or(a, b) => out.extend(v(a).iter().zip(v(b)).map(|(&x, &y)| x | y)),
                Op::Cond(c, a, b) => {
                    out.extend(v(c).iter().zip(v(a).iter().zip(v(b))).map(|(&c, (&x, &y))| if c != 0 { x } else { y }))
                }
                Op::Cmp(op, a, b) => {
                    let (x, y) = (v(a), v(b));
                    match (&self.nodes[b as usize].op, op) {
                        (Op::Const(k), CmpOp::Lt) => out.extend(x.iter().map(|&x| i64::from(x < *k))),
                        (Op::Const(k), CmpOp::Le) => out.extend(x.iter().map(|&x| i64::from(x <= *k))),
                        (Op::Const(k), CmpOp::Gt) => out.extend(x.iter().map(|&x| i64::from(x > *k))),
                        (Op::Const(k), CmpOp::Ge) => out.extend(x.iter().map(|&x| i64::from(x >= *k))),
                        (Op::Const(k), CmpOp::Eq) => out.extend(x.iter().map(|&x| i64::from(x == *k))),
                        (Op::Const(k), CmpOp::Ne) => out.extend(x.iter().map(|&x| i64::from(x != *k))),
                        _ => out.extend(x.iter().zip(y).map(|(&x, &y)| i64::from(op.holds(x, y)))),
                    }
                }
                Op::Arith(op, a, b) => {
                    let (x, y) = (v(a), v(b));
                    err.clear();
                    match op {
                        // Fast paths: wrapping ops with overflow flags.
                        ArOp::Add | ArOp::Sub | ArOp::Mul => {
                            for (&x, &y) in x.iter().zip(y) {
                                let (r, o) = match op {
                                    ArOp::Add => x.overflowing_add(y),
                                    ArOp::Sub => x.overflowing_sub(y),
                                    _ => x.overflowing_mul(y),
                                };
                                out.push(r);
                                err.push(o);
                            }
                        }
                        _ => {
                            for (&x, &y) in x.iter().zip(y) {
                                let r = op.apply(x, y);
                                out.push(r.unwrap_or(0));
                                err.push(r.is_none());
                            }
                        }
                    }
                    erred = err.iter().any(|&e| e);
                }
                Op::Neg(a) => {
                    err.clear();
                    for &x in v(a) {
                        let (r, o) = x.overflowing_neg();
                        out.push(r);
                        err.push(o);
                    }
                    erred = err.iter().any(|&e| e);
                }
                Op::InMask(a, mask) => out.extend(v(a).iter().map(|&x| ((mask >> (x as u64 & 63)) & 1) as i64)),
                Op::Has(a, bit) => out.extend(v(a).iter().map(|&x| (x >> bit) & 1)),
                Op::Size(a) => out.extend(v(a).iter().map(|&x| i64::from((x as u64).count_ones() as u16))),
                Op::Bcast(a) => {
                    let x = v(a);
                    let base = hh.start as u32;
                    out.extend(cols.p_household[persons.clone()].iter().map(|&h| x[(h - base) as usize]));
                }
                Op::Agg(op, a) => {
                    let x = v(a);
                    let p0 = persons.start;
                    for h in hh.clone() {
                        let r = cols.hh_start[h] as usize - p0..cols.hh_start[h + 1] as usize - p0;
                        let alive = &cols.p_alive[r.start + p0..r.end + p0];
                        let n = x[r].iter().zip(alive).filter(|&(&x, &a)| a && x != 0).count() as i64;
                        out.push(match op {
                            AggOp::Exists => i64::from(n > 0),
                            AggOp::All => i64::from(n == alive.iter().filter(|&&a| a).count() as i64),
                            AggOp::ExistsOne => i64::from(n == 1),
                            AggOp::Count => n,
                        });
                    }
                }
            }
            // Errors propagate with CEL's rules.
            let (a, b) = match node.op {
                Op::Arith(_, a, b) => (a, b),
                Op::Neg(a) => (a, a),
                _ => (0, 0),
            };
            if matches!(node.op, Op::Arith(..) | Op::Neg(_)) && (buf.erred[a as usize] || buf.erred[b as usize]) {
                for (i, e) in err.iter_mut().enumerate() {
                    *e |= buf.err(a, i) || buf.err(b, i);
                }
                erred = true;
            }
            if node.may_err && !matches!(node.op, Op::Arith(..) | Op::Neg(_)) {
                let rows = Rows { hh: hh.clone(), persons: persons.clone() };
                erred = self.propagate(node, buf, &out, &mut err, cols, rows);
            }
            buf.vals[i] = out;
            buf.errs[i] = err;
            buf.erred[i] = erred;
        }
    }

    /// Errors of a node from its children's. Returns whether any row erred.
    fn propagate(
        &self,
        node: &Node,
        buf: &Buffers,
        out: &[i64],
        err: &mut Vec<bool>,
        cols: &Columns,
        rows: Rows,
    ) -> bool {
        let Rows { hh, persons } = rows;
        err.clear();
        let e = |n: N, i: usize| buf.err(n, i);
        let v = |n: N, i: usize| buf.vals[n as usize][i];
        let len = out.len();
        match node.op {
            Op::And(a, b) => err.extend((0..len).map(|i| {
                let fa = !e(a, i) && v(a, i) == 0;
                let fb = !e(b, i) && v(b, i) == 0;
                (e(a, i) || e(b, i)) && !fa && !fb
            })),
            Op::Or(a, b) => err.extend((0..len).map(|i| {
                let ta = !e(a, i) && v(a, i) != 0;
                let tb = !e(b, i) && v(b, i) != 0;
                (e(a, i) || e(b, i)) && !ta && !tb
            })),
            Op::Cond(c, a, b) => err.extend((0..len).map(|i| e(c, i) || if v(c, i) != 0 { e(a, i) } else { e(b, i) })),
            Op::Cmp(_, a, b) => err.extend((0..len).map(|i| e(a, i) || e(b, i))),
            Op::Not(a) | Op::InMask(a, _) | Op::Has(a, _) | Op::Size(a) => err.extend((0..len).map(|i| e(a, i))),
            Op::Bcast(a) => {
                let base = hh.start as u32;
                err.extend(cols.p_household[persons].iter().map(|&h| e(a, (h - base) as usize)));
            }
            Op::Agg(op, a) => {
                let p0 = persons.start;
                for h in hh {
                    let r = cols.hh_start[h] as usize - p0..cols.hh_start[h + 1] as usize - p0;
                    let mut any_err = false;
                    let mut decided = false;
                    for i in r {
                        if !cols.p_alive[i + p0] {
                            continue;
                        }
                        if e(a, i) {
                            any_err = true;
                        } else {
                            let x = v(a, i) != 0;
                            decided |= (op == AggOp::Exists && x) || (op == AggOp::All && !x);
                        }
                    }
                    err.push(any_err && !decided);
                }
            }
            Op::Col(_) | Op::Const(_) | Op::Arith(..) | Op::Neg(_) => err.resize(len, false),
        }
        err.iter().any(|&x| x)
    }
}

/// The households of a batch and their persons.
struct Rows {
    hh: Range<usize>,
    persons: Range<usize>,
}

/// A row's verdict under one policy.
fn verdict(alive: bool, received: bool, qualifies: Option<bool>) -> Option<FindingKind> {
    match (alive, received, qualifies) {
        (false, true, _) => Some(FindingKind::Stale),
        (false, false, _) => None,
        (true, _, None) => Some(FindingKind::Unknown),
        (true, true, Some(false)) => Some(FindingKind::Stale),
        (true, false, Some(true)) => Some(FindingKind::Missing),
        _ => None,
    }
}

impl Engine {
    /// Evaluates every policy over every household row still in the
    /// registry, on `threads` threads.
    pub fn sweep(&self, cols: &Columns, threads: usize) -> Vec<Finding> {
        let rows = cols.household_rows();
        let threads = threads.clamp(1, 64);
        // Split by persons, so each thread gets about the same work.
        let total = cols.person_rows().max(1);
        let mut bounds = vec![0usize];
        for t in 1..threads {
            let target = (total * t / threads) as u32;
            let h = cols.hh_start.partition_point(|&s| s < target).min(rows);
            bounds.push(h.max(*bounds.last().unwrap_or(&0)));
        }
        bounds.push(rows);
        let parts: Vec<Vec<Finding>> = std::thread::scope(|s| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let range = w[0]..w[1];
                    s.spawn(move || self.run(cols, range))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
        });
        parts.concat()
    }

    /// Evaluates the given household rows only (after an edit).
    pub fn evaluate(&self, cols: &Columns, rows: &[u32]) -> Vec<Finding> {
        let mut buf = Buffers::new(self.nodes.len());
        let mut out = Vec::new();
        for &r in rows {
            let hh = r as usize..r as usize + 1;
            self.eval(cols, hh.clone(), &mut buf);
            self.collect(cols, hh, &buf, &mut out);
        }
        out
    }

    /// Puts a changed household (or, with `None`, its removal) into the
    /// columns and appends its findings. The old row's findings stay behind
    /// its dead row: read findings through `Columns::is_live`.
    pub fn update(
        &self,
        cols: &mut Columns,
        findings: &mut Vec<Finding>,
        household: i64,
        facts: Option<&HouseholdFacts>,
    ) {
        match facts {
            Some(f) => cols.push(f),
            None => cols.remove(household),
        }
        if let Some(row) = cols.row_of(household) {
            findings.extend(self.evaluate(cols, &[row]));
        }
    }

    fn run(&self, cols: &Columns, range: Range<usize>) -> Vec<Finding> {
        let mut buf = Buffers::new(self.nodes.len());
        let mut out = Vec::new();
        let mut start = range.start;
        while start < range.end {
            let hh = start..(start + BATCH_HOUSEHOLDS).min(range.end);
            self.eval(cols, hh.clone(), &mut buf);
            self.collect(cols, hh.clone(), &buf, &mut out);
            start = hh.end;
        }
        out
    }

    fn collect(&self, cols: &Columns, hh: Range<usize>, buf: &Buffers, out: &mut Vec<Finding>) {
        let p0 = cols.hh_start[hh.start] as usize;
        let p1 = cols.hh_start[hh.end] as usize;
        for (pi, p) in self.policies.iter().enumerate() {
            let bit = p.records;
            let mut emit = |kind, household: usize, person: Option<usize>, benefit| {
                out.push(Finding {
                    policy: pi as u16,
                    kind,
                    household: household as u32,
                    person: person.map(|x| x as u32),
                    benefit,
                })
            };
            match (&p.compiled, p.level) {
                (Compiled::Off, _) => {}
                (Compiled::Graph { cond, benefit, .. }, Level::Household) => {
                    let c = &buf.vals[*cond as usize];
                    let may_err = buf.erred[*cond as usize];
                    let held = &cols.hh_categories[hh.clone()];
                    for (i, (&ci, &cats)) in c.iter().zip(held).enumerate() {
                        let received = (cats >> bit) & 1 == 1;
                        // Most rows agree with the registry: skip them in a tight loop.
                        if (ci != 0) == received && !(may_err && buf.err(*cond, i)) {
                            continue;
                        }
                        let h = hh.start + i;
                        if !cols.hh_live[h] {
                            continue;
                        }
                        let q = (!buf.err(*cond, i)).then_some(ci != 0);
                        if let Some(kind) = verdict(true, received, q) {
                            let b = benefit.filter(|&b| !buf.err(b, i)).map(|b| buf.vals[b as usize][i]);
                            emit(kind, h, None, b);
                        }
                    }
                }
                (Compiled::Graph { cond, benefit, .. }, Level::Person) => {
                    let c = &buf.vals[*cond as usize];
                    let may_err = buf.erred[*cond as usize];
                    let held = &cols.p_categories[p0..p1];
                    let living = &cols.p_alive[p0..p1];
                    for (i, ((&ci, &cats), &alive)) in c.iter().zip(held).zip(living).enumerate() {
                        let received = (cats >> bit) & 1 == 1;
                        if alive & ((ci != 0) == received) && !(may_err && buf.err(*cond, i)) {
                            continue;
                        }
                        let row = p0 + i;
                        let h = cols.p_household[row] as usize;
                        if !cols.hh_live[h] {
                            continue;
                        }
                        let q = (!buf.err(*cond, i)).then_some(ci != 0);
                        if let Some(kind) = verdict(alive, received, q) {
                            let b = benefit.filter(|&b| !buf.err(b, i)).map(|b| buf.vals[b as usize][i]);
                            emit(kind, h, Some(row), b);
                        }
                    }
                }
                (Compiled::Interpreted(ip), level) => {
                    for h in hh.clone().filter(|&h| cols.hh_live[h]) {
                        if level == Level::Household {
                            let received = (cols.hh_categories[h] >> bit) & 1 == 1;
                            let q = ip.condition(cols, h, None).ok();
                            if let Some(kind) = verdict(true, received, q) {
                                emit(kind, h, None, ip.benefit(cols, h, None));
                            }
                        } else {
                            for row in cols.persons(h as u32) {
                                let row = row as usize;
                                let received = (cols.p_categories[row] >> bit) & 1 == 1;
                                let alive = cols.p_alive[row];
                                let q = if alive { ip.condition(cols, h, Some(row)).ok() } else { Some(false) };
                                if let Some(kind) = verdict(alive, received, q) {
                                    emit(kind, h, Some(row), ip.benefit(cols, h, Some(row)));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Every node evaluated for one household alone.
    fn single(&self, cols: &Columns, household: u32, person: Option<u32>) -> Single {
        let h = household as usize;
        let mut buf = Buffers::new(self.nodes.len());
        self.eval(cols, h..h + 1, &mut buf);
        Single { buf, person: person.map_or(0, |row| (row - cols.hh_start[h]) as usize) }
    }

    /// Whether one row qualifies under `policy`: `None` if its rule errs.
    pub fn qualifies(&self, cols: &Columns, policy: usize, household: u32, person: Option<u32>) -> Option<bool> {
        match &self.policies.get(policy)?.compiled {
            Compiled::Graph { cond, .. } => self.single(cols, household, person).at(self, *cond).map(|v| v != 0),
            Compiled::Interpreted(ip) => ip.condition(cols, household as usize, person.map(|p| p as usize)).ok(),
            Compiled::Off => Some(false),
        }
    }

    /// Each condition of `policy` for one row, with the values it used.
    pub fn explain(&self, cols: &Columns, policy: usize, household: u32, person: Option<u32>) -> Vec<ConditionOutcome> {
        let Some(p) = self.policies.get(policy) else { return Vec::new() };
        let mut outcomes = Vec::new();
        if person.is_some_and(|row| !cols.p_alive[row as usize]) {
            outcomes.push(ConditionOutcome {
                condition: "alive".into(),
                holds: Some(false),
                detail: "已故 (deceased)".into(),
            });
        }
        match &p.compiled {
            Compiled::Off => {}
            Compiled::Interpreted(ip) => {
                let r = ip.condition(cols, household as usize, person.map(|x| x as usize));
                outcomes.push(ConditionOutcome {
                    condition: ip.source().to_owned(),
                    holds: r.as_ref().ok().copied(),
                    detail: r.err().unwrap_or_else(|| "解释执行 (interpreted)".into()),
                });
            }
            Compiled::Graph { conjuncts, .. } => {
                let row = self.single(cols, household, person);
                let at = |n: N| row.at(self, n);
                for c in conjuncts {
                    let holds = at(c.node).map(|v| v != 0);
                    let detail = match (&c.cmp, holds) {
                        (Some((op, a, b)), Some(holds)) => {
                            let shown = if holds { *op } else { op.negated() };
                            let value = |s: &Side| at(s.node).map_or("?".into(), |v| fmt_value(v, s.money));
                            // A literal on the right is shown once; a parameter or a field with its value.
                            let literal = matches!(self.nodes[b.node as usize].op, Op::Const(_))
                                && !b.text.starts_with("params.");
                            let right = if literal { String::new() } else { format!(" {}", value(b)) };
                            format!("{} {} {} {}{right}", a.text, value(a), shown.symbol(), b.text)
                        }
                        (_, Some(h)) => format!("{} = {h}", c.text),
                        (_, None) => format!("{}：无法计算 (could not be evaluated)", c.text),
                    };
                    outcomes.push(ConditionOutcome { condition: c.text.clone(), holds, detail });
                }
            }
        }
        outcomes
    }
}

/// One household's evaluation, read at one of its persons (or the household).
struct Single {
    buf: Buffers,
    person: usize,
}

impl Single {
    fn at(&self, engine: &Engine, n: N) -> Option<i64> {
        let i = if engine.nodes[n as usize].level == Level::Person { self.person } else { 0 };
        (!self.buf.err(n, i)).then(|| self.buf.vals[n as usize][i])
    }
}
