//! The sweep engine: every policy's rule lowered into one graph of column
//! operations (shared sub-expressions once), evaluated over batches of
//! households and their members in tight loops, on every core.

use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;

use super::bits;
use super::columns::{Cell, Columns, HouseholdFacts, Scan, Unrecorded};
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
    /// `Cmp`, `Has` and `InMask` straight over a column in its own type.
    CmpCol(CmpOp, Col, i64),
    HasCol(Col, u8),
    InMaskCol(Col, u64),
}

/// How a node holds its values over a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Repr {
    /// One i64 per row.
    Int,
    /// One 0/1 byte per row: sixteen to a vector register.
    Bool,
    /// The same value for every row, held once.
    Const(i64),
}

#[derive(Clone, Copy, Debug)]
struct Node {
    op: Op,
    level: Level,
    /// Whether any row can yield an error (overflow, division by zero).
    may_err: bool,
    repr: Repr,
}

/// One condition of a policy (a part of its top-level `&&`), for explanations.
#[derive(Clone, Debug)]
struct Conjunct {
    text: String,
    node: N,
    /// For a comparison: the operator and each side's text, node and money flag.
    cmp: Option<(CmpOp, Side, Side)>,
    /// Otherwise (`||`, `!`, `in`…): the numbers it reads, shown with their values.
    reads: Vec<Side>,
}

#[derive(Clone, Debug)]
struct Side {
    text: String,
    node: N,
    money: bool,
    /// A coded field's codes, by index: its value is shown as the code.
    codes: Vec<&'static str>,
}

impl Side {
    fn new(x: &Ex, node: N) -> Self {
        let codes = match x.ty {
            Ty::Code(col) => super::fields::fields().into_iter().find(|f| f.col == col).map(|f| f.values),
            _ => None,
        };
        Side {
            text: x.to_string(),
            node,
            money: matches!(x.ty, Ty::Int { money: true }),
            codes: codes.unwrap_or_default(),
        }
    }

    /// Its value as a person reads it: money in yuan, a code as written in rules.
    fn show(&self, v: Option<i64>) -> String {
        match v {
            None => "?".into(),
            Some(v) => match usize::try_from(v).ok().and_then(|i| self.codes.get(i)) {
                Some(code) => format!("'{code}'"),
                None => fmt_value(v, self.money),
            },
        }
    }
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

/// One row of a sweep's lists: eight bytes, as a district's sweep lists
/// millions (a person's household is read from the columns). A sweep lists
/// them in no set order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// Person row for a person-level policy, household row otherwise.
    row: u32,
    /// Index of the policy in the order given to the engine.
    pub policy: u16,
    pub kind: FindingKind,
    /// Whether `row` is a person's.
    of_person: bool,
}

const _: () = assert!(std::mem::size_of::<Finding>() == 8);

/// A sweep's rows, in the parts its threads wrote (and re-evaluations appended).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    parts: Vec<Vec<Finding>>,
}

impl Findings {
    pub fn iter(&self) -> impl Iterator<Item = &Finding> {
        self.parts.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(Vec::is_empty)
    }

    /// Appends rows (a household re-evaluated).
    pub fn extend(&mut self, rows: impl IntoIterator<Item = Finding>) {
        if self.parts.is_empty() {
            self.parts.push(Vec::new());
        }
        if let Some(last) = self.parts.last_mut() {
            last.extend(rows);
        }
    }

    /// Every row in one list.
    pub fn to_vec(&self) -> Vec<Finding> {
        self.iter().copied().collect()
    }

    /// The part to append up to `n` rows to. A part with too little room
    /// is kept and a new one begun (each twice the last, up to `PART`), so a
    /// sweep's millions of rows are written once, never copied by a growing list.
    #[inline]
    fn room(&mut self, n: usize) -> &mut Vec<Finding> {
        let full = self.parts.last().is_none_or(|p| p.capacity() - p.len() < n);
        if full {
            let size = self.parts.last().map_or(64, |p| p.capacity() * 2).clamp(n, PART.max(n));
            self.parts.push(Vec::with_capacity(size));
        }
        let last = self.parts.len() - 1;
        &mut self.parts[last]
    }
}

/// Rows per part of `Findings`.
const PART: usize = 1 << 16;

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Finding;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<Finding>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.parts.iter().flatten()
    }
}

impl IntoIterator for Findings {
    type Item = Finding;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<Finding>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.parts.into_iter().flatten()
    }
}

impl Finding {
    /// A finding of a household-level policy, for household row `household`.
    pub fn of_household(policy: u16, kind: FindingKind, household: u32) -> Self {
        Self { row: household, policy, kind, of_person: false }
    }

    /// A finding of a person-level policy, for person row `person`.
    pub fn of_person(policy: u16, kind: FindingKind, person: u32) -> Self {
        Self { row: person, policy, kind, of_person: true }
    }

    /// Household row in the columns.
    pub fn household(&self, cols: &Columns) -> u32 {
        if self.of_person { cols.p_household[self.row as usize] } else { self.row }
    }

    /// Person row, for person-level policies.
    pub fn person(&self) -> Option<u32> {
        self.of_person.then_some(self.row)
    }
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
const BATCH_HOUSEHOLDS: usize = 512;

/// The compiled catalogue.
#[derive(Debug, Default)]
pub struct Engine {
    nodes: Vec<Node>,
    index: HashMap<(Op, Level), N>,
    policies: Vec<PolicyRun>,
    /// The nodes a sweep needs (conditions; benefits are worked out per row when read), in order.
    live: Vec<N>,
    /// The categories read, of persons and of households, as bit sets.
    held: [u64; 2],
}

/// Working memory of one thread: values and errors per node, for one batch.
#[derive(Default)]
struct Buffers {
    ints: Vec<Vec<i64>>,
    /// Boolean nodes' values, 64 rows to a word.
    bits: Vec<Vec<u64>>,
    /// Rows that erred, 64 to a word; read only where `erred`.
    errs: Vec<Vec<u64>>,
    erred: Vec<bool>,
    /// Per person of the batch: the index of its household in the batch.
    local: Vec<u32>,
    /// Persons of the batch alive, as bits.
    alive: Vec<u64>,
    /// Where each household's persons start in the batch, and where the last ends.
    starts: Vec<u32>,
    /// Persons followed by a member of their household, as bits; each
    /// household's last person (`bits::runs`).
    inner: Vec<u64>,
    ends: Vec<u32>,
    /// Persons no longer alive, as bits (only rows of the batch set).
    p_dead: Vec<u64>,
    /// Households of the batch still in the registry (not replaced), and their persons, as bits.
    h_live: Vec<u64>,
    /// Households none of whose members is alive, as bits: they receive nothing any more.
    h_dead: Vec<u64>,
    p_live: Vec<u64>,
    /// Per category the engine reads, who holds it: persons and households, as bits.
    p_held: Vec<Vec<u64>>,
    h_held: Vec<Vec<u64>>,
    /// Inputs converted from another representation, and overflow flags.
    scratch_ints: [Vec<i64>; 3],
    scratch_bits: [Vec<u64>; 3],
    flags: Vec<bool>,
}

impl Buffers {
    fn new(n: usize) -> Self {
        Self {
            ints: vec![Vec::new(); n],
            bits: vec![Vec::new(); n],
            errs: vec![Vec::new(); n],
            erred: vec![false; n],
            ..Default::default()
        }
    }

    fn err(&self, n: N, i: usize) -> bool {
        self.erred[n as usize] && bits::get(&self.errs[n as usize], i)
    }

    /// What every node of a batch shares: each person's household in the
    /// batch, who is alive, where households start, and who holds what.
    fn prepare(&mut self, cols: &Columns, hh: &Range<usize>, persons: &Range<usize>, held: [u64; 2]) {
        let base = hh.start as u32;
        self.local.clear();
        self.local.extend(cols.p_household[persons.clone()].iter().map(|&h| h - base));
        self.alive.clear();
        bits::pack_each(&cols.p_alive[persons.clone()], &mut self.alive, |a| a);
        self.starts.clear();
        self.starts.extend(cols.hh_start[hh.start..=hh.end].iter().map(|&s| s - persons.start as u32));
        let np = persons.len();
        bits::runs(&self.starts, &mut self.inner, &mut self.ends);
        let alive = &self.alive;
        self.p_dead.clear();
        self.p_dead.extend(alive.iter().enumerate().map(|(k, &a)| !a & bits::tail_mask(k * bits::W, np)));
        self.h_live.clear();
        bits::pack_each(&cols.hh_live[hh.clone()], &mut self.h_live, |l| l);
        self.h_dead.clear();
        bits::pack_each(&cols.size[hh.clone()], &mut self.h_dead, |living| living == 0);
        bits::spread(&self.h_live, &self.starts, &self.inner, &mut self.scratch_bits[0], &mut self.p_live);
        for (planes, out, used, rows) in [
            (&cols.p_categories, &mut self.p_held, held[0], persons),
            (&cols.hh_categories, &mut self.h_held, held[1], hh),
        ] {
            out.resize_with(bits::W, Vec::new);
            let mut used = used;
            while used != 0 {
                let b = used.trailing_zeros() as usize;
                used &= used - 1;
                planes.window(b, rows.start, rows.len(), &mut out[b]);
            }
        }
    }
}

fn fmt_value(v: i64, money: bool) -> String {
    if money { crate::Fen(v).grouped() } else { v.to_string() }
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
        let mut need = vec![false; e.nodes.len()];
        for p in &e.policies {
            if let Compiled::Graph { cond, .. } = &p.compiled {
                need[*cond as usize] = true;
            }
        }
        for n in (0..e.nodes.len()).rev() {
            if need[n] {
                for c in children(e.nodes[n].op) {
                    need[c as usize] = true;
                }
            }
        }
        e.live = (0..e.nodes.len() as N).filter(|&n| need[n as usize]).collect();
        for node in &e.nodes {
            match node.op {
                Op::HasCol(Col::Categories, bit) => e.held[0] |= 1 << bit,
                Op::HasCol(Col::HouseholdCategories, bit) => e.held[1] |= 1 << bit,
                _ => {}
            }
        }
        for p in e.policies.iter().filter(|p| matches!(p.compiled, Compiled::Graph { .. })) {
            e.held[usize::from(p.level == Level::Household)] |= 1 << p.records;
        }
        e
    }

    /// The columns a sweep reads for its rules, each once.
    pub fn columns(&self) -> Vec<Col> {
        let mut cols: Vec<Col> = (self.live.iter())
            .filter_map(|&n| match self.nodes[n as usize].op {
                Op::Col(c) | Op::CmpCol(_, c, _) | Op::HasCol(c, _) | Op::InMaskCol(c, _) => Some(c),
                _ => None,
            })
            .collect();
        cols.sort();
        cols.dedup();
        cols
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
                let side = |e: &mut Self, x: &Ex| Side::new(x, e.lower(x, level));
                Some((*op, side(self, a), side(self, b)))
            }
            _ => None,
        };
        let mut reads = Vec::new();
        if cmp.is_none() {
            self.numbers_read(c, level, &mut reads);
        }
        Conjunct { text: c.to_string(), node, cmp, reads }
    }

    /// The numeric fields, parameters and member counts `x` reads outside an
    /// aggregate's own variable (those have a value per member, not one here), each once.
    fn numbers_read(&mut self, x: &Ex, level: Level, out: &mut Vec<Side>) {
        let number =
            matches!(&x.kind, ExKind::Field { var: None, .. } | ExKind::Param { .. } | ExKind::Agg(AggOp::Count, ..));
        if number {
            if matches!(x.ty, Ty::Int { .. }) && !out.iter().any(|s| s.text == x.to_string()) {
                let node = self.lower(x, level);
                out.push(Side::new(x, node));
            }
            return;
        }
        match &x.kind {
            ExKind::Not(a) | ExKind::Neg(a) | ExKind::InList(a, ..) | ExKind::Has(a, ..) | ExKind::Size(a) => {
                self.numbers_read(a, level, out)
            }
            ExKind::And(a, b) | ExKind::Or(a, b) | ExKind::Cmp(_, a, b) | ExKind::Arith(_, a, b) => {
                self.numbers_read(a, level, out);
                self.numbers_read(b, level, out);
            }
            ExKind::Cond(c, a, b) => {
                for e in [c, a, b] {
                    self.numbers_read(e, level, out);
                }
            }
            _ => {}
        }
    }

    fn add(&mut self, op: Op, level: Level) -> N {
        let op = self.fuse(op);
        if let Some(&n) = self.index.get(&(op, level)) {
            return n;
        }
        let node = |n: N| self.nodes[n as usize];
        let may_err = matches!(op, Op::Arith(..) | Op::Neg(_))
            || column(op).and_then(Unrecorded::read_by).is_some()
            || children(op).any(|c| node(c).may_err);
        let repr = match op {
            Op::Const(k) => Repr::Const(k),
            Op::Col(_) | Op::Arith(..) | Op::Neg(_) | Op::Size(_) | Op::Agg(AggOp::Count, _) => Repr::Int,
            Op::Cond(_, a, b) if node(a).repr != Repr::Bool || node(b).repr != Repr::Bool => Repr::Int,
            Op::Bcast(a) => node(a).repr,
            _ => Repr::Bool,
        };
        let n = self.nodes.len() as N;
        self.nodes.push(Node { op, level, may_err, repr });
        self.index.insert((op, level), n);
        n
    }

    /// Tests of a column against a constant read the column in its own
    /// type; a constant goes to the right of a comparison.
    fn fuse(&self, op: Op) -> Op {
        let of = |n: N| self.nodes[n as usize].op;
        match op {
            Op::Cmp(c, a, b) => match (of(a), of(b)) {
                (Op::Col(col), Op::Const(k)) => Op::CmpCol(c, col, k),
                (Op::Const(k), Op::Col(col)) => Op::CmpCol(c.flipped(), col, k),
                (Op::Const(_), _) => Op::Cmp(c.flipped(), b, a),
                _ => op,
            },
            Op::Has(a, bit) => match of(a) {
                Op::Col(col) => Op::HasCol(col, bit),
                _ => op,
            },
            Op::InMask(a, mask) => match of(a) {
                Op::Col(col) => Op::InMaskCol(col, mask),
                _ => op,
            },
            _ => op,
        }
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

    /// A node's value at row `i` of the batch.
    fn value(&self, buf: &Buffers, n: N, i: usize) -> i64 {
        match self.nodes[n as usize].repr {
            Repr::Int => buf.ints[n as usize][i],
            Repr::Bool => bits::get(&buf.bits[n as usize], i).into(),
            Repr::Const(k) => k,
        }
    }

    /// A node's values as integers, converted into `scratch` if held otherwise.
    fn ints<'a>(&self, buf: &'a Buffers, n: N, len: usize, scratch: &'a mut Vec<i64>) -> &'a [i64] {
        scratch.clear();
        match self.nodes[n as usize].repr {
            Repr::Int => return &buf.ints[n as usize],
            Repr::Bool => scratch.extend((0..len).map(|i| i64::from(bits::get(&buf.bits[n as usize], i)))),
            Repr::Const(k) => scratch.resize(len, k),
        }
        scratch
    }

    /// A node's values as bits, converted into `scratch` if held otherwise.
    fn bits<'a>(&self, buf: &'a Buffers, n: N, len: usize, scratch: &'a mut Vec<u64>) -> &'a [u64] {
        scratch.clear();
        match self.nodes[n as usize].repr {
            Repr::Bool => return &buf.bits[n as usize],
            Repr::Int => bits::pack_each(&buf.ints[n as usize], scratch, |x| x != 0),
            Repr::Const(k) => scratch.resize(bits::words(len), if k != 0 { u64::MAX } else { 0 }),
        }
        scratch
    }

    /// A node's errors as bits (none set where it did not err).
    fn err_bits(&self, buf: &Buffers, n: N, len: usize) -> Vec<u64> {
        if buf.erred[n as usize] { buf.errs[n as usize].clone() } else { vec![0; bits::words(len)] }
    }

    /// Evaluates the nodes `order` over households `hh` (and their persons).
    fn eval(&self, cols: &Columns, hh: Range<usize>, buf: &mut Buffers, order: &[N]) {
        let persons = cols.hh_start[hh.start] as usize..cols.hh_start[hh.end] as usize;
        let (np, nh) = (persons.len(), hh.len());
        buf.prepare(cols, &hh, &persons, self.held);
        let [mut si0, mut si1, mut si2] = std::mem::take(&mut buf.scratch_ints);
        let [mut sb0, mut sb1, mut sb2] = std::mem::take(&mut buf.scratch_bits);
        let mut flags = std::mem::take(&mut buf.flags);
        for &n in order {
            let i = n as usize;
            let node = self.nodes[i];
            let (len, rows) = if node.level == Level::Person { (np, persons.clone()) } else { (nh, hh.clone()) };
            let mut ints = std::mem::take(&mut buf.ints[i]);
            let mut out = std::mem::take(&mut buf.bits[i]);
            let mut err = std::mem::take(&mut buf.errs[i]);
            ints.clear();
            out.clear();
            let mut erred = false;
            let b = &*buf;
            match node.op {
                Op::Const(_) => {}
                Op::Col(col) => cols.load(col, rows, &mut ints),
                Op::CmpCol(op, col, k) => cols.scan(col, rows, test(TestKind::Cmp(op, k), &mut out)),
                // Who holds a category is read once per batch (`Buffers::prepare`).
                Op::HasCol(Col::Categories, bit) => out.extend_from_slice(&b.p_held[bit as usize]),
                Op::HasCol(Col::HouseholdCategories, bit) => out.extend_from_slice(&b.h_held[bit as usize]),
                Op::HasCol(col, bit) => cols.scan(col, rows, test(TestKind::Has(bit), &mut out)),
                Op::InMaskCol(col, mask) => cols.scan(col, rows, test(TestKind::In(mask), &mut out)),
                Op::Has(a, bit) => test(TestKind::Has(bit), &mut out).scan(self.ints(b, a, len, &mut si0)),
                Op::InMask(a, mask) => test(TestKind::In(mask), &mut out).scan(self.ints(b, a, len, &mut si0)),
                Op::Cmp(op, a, c) => match self.nodes[c as usize].repr {
                    Repr::Const(k) => test(TestKind::Cmp(op, k), &mut out).scan(self.ints(b, a, len, &mut si0)),
                    _ => {
                        let (x, y) = (self.ints(b, a, len, &mut si0), self.ints(b, c, len, &mut si1));
                        compare_pairs(x, y, op, &mut out);
                    }
                },
                Op::Not(a) => out.extend(self.bits(b, a, len, &mut sb0).iter().map(|&x| !x)),
                Op::And(x, y) | Op::Or(x, y) => {
                    let (x, y) = (self.bits(b, x, len, &mut sb0), self.bits(b, y, len, &mut sb1));
                    match node.op {
                        Op::And(..) => out.extend(x.iter().zip(y).map(|(&x, &y)| x & y)),
                        _ => out.extend(x.iter().zip(y).map(|(&x, &y)| x | y)),
                    }
                }
                Op::Cond(c, x, y) => {
                    let c = self.bits(b, c, len, &mut sb0);
                    if node.repr == Repr::Bool {
                        let (x, y) = (self.bits(b, x, len, &mut sb1), self.bits(b, y, len, &mut sb2));
                        out.extend(c.iter().zip(x.iter().zip(y)).map(|(&c, (&x, &y))| (c & x) | (!c & y)));
                    } else {
                        let (x, y) = (self.ints(b, x, len, &mut si1), self.ints(b, y, len, &mut si2));
                        bits::select(c, x, y, &mut ints);
                    }
                }
                Op::Arith(op, x, y) => {
                    let (x, y) = (self.ints(b, x, len, &mut si0), self.ints(b, y, len, &mut si1));
                    flags.clear();
                    match op {
                        // Fast paths: wrapping ops with overflow flags.
                        ArOp::Add | ArOp::Sub | ArOp::Mul => {
                            for (&x, &y) in x.iter().zip(y) {
                                let (r, o) = match op {
                                    ArOp::Add => x.overflowing_add(y),
                                    ArOp::Sub => x.overflowing_sub(y),
                                    _ => x.overflowing_mul(y),
                                };
                                ints.push(r);
                                flags.push(o);
                            }
                        }
                        _ => {
                            for (&x, &y) in x.iter().zip(y) {
                                let r = op.apply(x, y);
                                ints.push(r.unwrap_or(0));
                                flags.push(r.is_none());
                            }
                        }
                    }
                    err.clear();
                    bits::pack_each(&flags, &mut err, |f| f);
                    erred = flags.contains(&true);
                }
                Op::Neg(a) => {
                    flags.clear();
                    for &x in self.ints(b, a, len, &mut si0) {
                        let (r, o) = x.overflowing_neg();
                        ints.push(r);
                        flags.push(o);
                    }
                    err.clear();
                    bits::pack_each(&flags, &mut err, |f| f);
                    erred = flags.contains(&true);
                }
                Op::Size(a) => ints.extend(self.ints(b, a, len, &mut si0).iter().map(|&x| i64::from(x.count_ones()))),
                Op::Bcast(a) => match self.nodes[a as usize].repr {
                    Repr::Bool => bits::spread(&b.bits[a as usize], &b.starts, &b.inner, &mut sb0, &mut out),
                    Repr::Int => ints.extend(b.local.iter().map(|&h| b.ints[a as usize][h as usize])),
                    Repr::Const(_) => {}
                },
                Op::Agg(op, a) => {
                    // Per household, over its living members: those for which `a` holds
                    // (for `all`: those for which it does not, and there must be none).
                    let x = self.bits(b, a, np, &mut sb0);
                    sb1.clear();
                    match op {
                        AggOp::All => sb1.extend(x.iter().zip(&b.alive).map(|(&x, &a)| !x & a)),
                        _ => sb1.extend(x.iter().zip(&b.alive).map(|(&x, &a)| x & a)),
                    }
                    let range = |h: usize| (b.starts[h] as usize, b.starts[h + 1] as usize);
                    match op {
                        AggOp::Count => ints.extend((0..nh).map(|h| {
                            let (s, e) = range(h);
                            i64::from(bits::count(&sb1, s, e))
                        })),
                        AggOp::Exists => bits::any_per_household(&sb1, &b.inner, &b.ends, &mut sb2, &mut out),
                        AggOp::ExistsOne => bits::pack_households(&b.starts, &mut out, |w| w.one(&sb1)),
                        AggOp::All => {
                            bits::any_per_household(&sb1, &b.inner, &b.ends, &mut sb2, &mut out);
                            out.iter_mut().for_each(|w| *w = !*w);
                        }
                    }
                }
            }
            // A fact not recorded is a missing field: its rows err.
            if let Some(fact) = column(node.op).and_then(Unrecorded::read_by) {
                err.clear();
                err.resize(bits::words(len), 0);
                for h in cols.unrecorded_in(hh.clone(), fact) {
                    erred = true;
                    match node.level {
                        Level::Person => {
                            let r = cols.persons(h);
                            bits::set_range(&mut err, r.start as usize - persons.start, r.end as usize - persons.start);
                        }
                        Level::Household => bits::set_range(&mut err, h as usize - hh.start, h as usize - hh.start + 1),
                    }
                }
            }
            // Errors propagate with CEL's rules.
            if let Op::Arith(_, x, y) | Op::Neg(x @ y) = node.op
                && (buf.erred[x as usize] || buf.erred[y as usize])
            {
                for c in [x, y].into_iter().filter(|&c| buf.erred[c as usize]) {
                    err.iter_mut().zip(&buf.errs[c as usize]).for_each(|(e, &c)| *e |= c);
                }
                erred = true;
            }
            // Only when a child erred in this batch: errors are rare.
            let child_erred = node.may_err && children(node.op).any(|c| buf.erred[c as usize]);
            if child_erred && !matches!(node.op, Op::Arith(..) | Op::Neg(_)) {
                erred = self.propagate(&node, buf, len, &mut err);
            }
            buf.ints[i] = ints;
            buf.bits[i] = out;
            buf.errs[i] = err;
            buf.erred[i] = erred;
        }
        buf.scratch_ints = [si0, si1, si2];
        buf.scratch_bits = [sb0, sb1, sb2];
        buf.flags = flags;
    }

    /// Errors of a node from its children's. Returns whether any row erred.
    fn propagate(&self, node: &Node, buf: &Buffers, len: usize, err: &mut Vec<u64>) -> bool {
        err.clear();
        let e = |n: N| self.err_bits(buf, n, len);
        let v = |n: N| self.bits(buf, n, len, &mut Vec::new()).to_vec();
        let zip2 = |x: &[u64], y: &[u64], f: &dyn Fn(u64, u64) -> u64| -> Vec<u64> {
            x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect()
        };
        match node.op {
            // An error is hidden by a side that decides alone: false for &&, true for ||.
            Op::And(a, b) | Op::Or(a, b) => {
                let (ea, eb, va, vb) = (e(a), e(b), v(a), v(b));
                let and = matches!(node.op, Op::And(..));
                let decides = |e: u64, v: u64| if and { !e & !v } else { !e & v };
                err.extend((0..ea.len()).map(|k| (ea[k] | eb[k]) & !decides(ea[k], va[k]) & !decides(eb[k], vb[k])));
            }
            Op::Cond(c, a, b) => {
                let (ec, vc, ea, eb) = (e(c), v(c), e(a), e(b));
                err.extend((0..ec.len()).map(|k| ec[k] | (vc[k] & ea[k]) | (!vc[k] & eb[k])));
            }
            Op::Cmp(_, a, b) => err.extend(zip2(&e(a), &e(b), &|x, y| x | y)),
            Op::Not(a) | Op::InMask(a, _) | Op::Has(a, _) | Op::Size(a) => err.extend(e(a)),
            Op::Bcast(a) => {
                let ea = self.err_bits(buf, a, buf.starts.len() - 1);
                bits::spread(&ea, &buf.starts, &buf.inner, &mut Vec::new(), err);
            }
            Op::Agg(op, a) => {
                // Erred unless a living member that did not err decides alone.
                let np = buf.local.len();
                let (ea, va) = (self.err_bits(buf, a, np), self.bits(buf, a, np, &mut Vec::new()).to_vec());
                let erring = zip2(&ea, &buf.alive, &|e, a| e & a);
                let deciding = match op {
                    AggOp::Exists => zip2(&zip2(&ea, &va, &|e, v| !e & v), &buf.alive, &|x, a| x & a),
                    AggOp::All => zip2(&zip2(&ea, &va, &|e, v| !e & !v), &buf.alive, &|x, a| x & a),
                    AggOp::ExistsOne | AggOp::Count => vec![0; ea.len()],
                };
                let (s, t) = (&buf.starts, |h: usize| (buf.starts[h] as usize, buf.starts[h + 1] as usize));
                bits::pack_rows(s.len() - 1, err, |h| {
                    let (from, to) = t(h);
                    bits::count(&erring, from, to) > 0 && bits::count(&deciding, from, to) == 0
                });
            }
            Op::Col(_)
            | Op::Const(_)
            | Op::Arith(..)
            | Op::Neg(_)
            | Op::CmpCol(..)
            | Op::HasCol(..)
            | Op::InMaskCol(..) => err.resize(bits::words(len), 0),
        }
        err.iter().enumerate().any(|(k, &w)| w & bits::tail_mask(k * bits::W, len) != 0)
    }
}

/// `x op y` for each pair, as bits: one loop per operator.
fn compare_pairs(x: &[i64], y: &[i64], op: CmpOp, out: &mut Vec<u64>) {
    let n = x.len().min(y.len());
    match op {
        CmpOp::Eq => bits::pack_rows(n, out, |i| x[i] == y[i]),
        CmpOp::Ne => bits::pack_rows(n, out, |i| x[i] != y[i]),
        CmpOp::Lt => bits::pack_rows(n, out, |i| x[i] < y[i]),
        CmpOp::Le => bits::pack_rows(n, out, |i| x[i] <= y[i]),
        CmpOp::Gt => bits::pack_rows(n, out, |i| x[i] > y[i]),
        CmpOp::Ge => bits::pack_rows(n, out, |i| x[i] >= y[i]),
    }
}

/// The column a leaf reads.
fn column(op: Op) -> Option<Col> {
    match op {
        Op::Col(c) | Op::CmpCol(_, c, _) | Op::HasCol(c, _) | Op::InMaskCol(c, _) => Some(c),
        _ => None,
    }
}

/// The nodes an operation reads.
fn children(op: Op) -> impl Iterator<Item = N> {
    let (a, b, c) = match op {
        Op::Col(_) | Op::Const(_) | Op::CmpCol(..) | Op::HasCol(..) | Op::InMaskCol(..) => (None, None, None),
        Op::Not(a) | Op::Neg(a) | Op::InMask(a, _) | Op::Has(a, _) | Op::Size(a) | Op::Bcast(a) | Op::Agg(_, a) => {
            (Some(a), None, None)
        }
        Op::And(a, b) | Op::Or(a, b) | Op::Cmp(_, a, b) | Op::Arith(_, a, b) => (Some(a), Some(b), None),
        Op::Cond(c, a, b) => (Some(c), Some(a), Some(b)),
    };
    [a, b, c].into_iter().flatten()
}

/// A test of each value, written as bits.
#[derive(Clone, Copy)]
enum TestKind {
    Cmp(CmpOp, i64),
    /// Bit `n` of a bit set.
    Has(u8),
    /// A code among those of a mask.
    In(u64),
}

struct Test<'a> {
    kind: TestKind,
    out: &'a mut Vec<u64>,
}

fn test(kind: TestKind, out: &mut Vec<u64>) -> Test<'_> {
    Test { kind, out }
}

impl Scan for Test<'_> {
    fn scan<T: Cell>(self, xs: &[T]) {
        match self.kind {
            TestKind::Cmp(op, k) => T::compare(xs, op, k, self.out),
            TestKind::Has(bit) => bits::pack_each(xs, self.out, |x| (x.wide() >> bit) & 1 == 1),
            // A few codes: equalities, which vectorise (a shift by each row's value does not).
            TestKind::In(mask) if mask.count_ones() <= 4 && mask != 0 => {
                let mut codes = [mask.trailing_zeros() as i64; 4];
                let mut rest = mask;
                for c in &mut codes {
                    if rest != 0 {
                        *c = i64::from(rest.trailing_zeros());
                        rest &= rest - 1;
                    }
                }
                T::any_of(xs, codes, self.out);
            }
            TestKind::In(mask) => bits::pack_each(xs, self.out, |x| (mask >> (x.wide() as u64 & 63)) & 1 == 1),
        }
    }
}

/// A finding for each row set in `found` (rows of one word), appended to `part`.
#[inline(always)]
fn push_rows(part: &mut Vec<Finding>, mut found: u64, finding: impl Fn(usize) -> Finding) {
    while found != 0 {
        part.push(finding(found.trailing_zeros() as usize));
        found &= found - 1;
    }
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
    pub fn sweep(&self, cols: &Columns, threads: usize) -> Findings {
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
        let parts: Vec<Findings> = std::thread::scope(|s| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let range = w[0]..w[1];
                    s.spawn(move || self.run(cols, range))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
        });
        // Kept as each thread wrote them: joining them would copy millions of rows.
        Findings { parts: parts.into_iter().flat_map(|f| f.parts).collect() }
    }

    /// Evaluates the given household rows only (after an edit).
    pub fn evaluate(&self, cols: &Columns, rows: &[u32]) -> Findings {
        let mut buf = Buffers::new(self.nodes.len());
        let mut out = Findings::default();
        for &r in rows {
            let hh = r as usize..r as usize + 1;
            self.eval(cols, hh.clone(), &mut buf, &self.live);
            self.collect(cols, hh, &buf, &mut out);
        }
        out
    }

    /// Puts a changed household (or, with `None`, its removal) into the
    /// columns and appends its findings. The old row's findings stay behind
    /// its dead row: read findings through `Columns::is_live`.
    pub fn update(&self, cols: &mut Columns, findings: &mut Findings, household: i64, facts: Option<&HouseholdFacts>) {
        match facts {
            // Two edits' re-evaluations may arrive out of order: an older read of the
            // household does not overwrite a newer one, nor bring back one since removed.
            Some(f) if cols.is_stale(household, f.version) => return,
            Some(f) => cols.push(f),
            None => cols.remove(household),
        }
        if let Some(row) = cols.row_of(household) {
            findings.extend(self.evaluate(cols, &[row]));
        }
    }

    fn run(&self, cols: &Columns, range: Range<usize>) -> Findings {
        let mut buf = Buffers::new(self.nodes.len());
        let mut out = Findings::default();
        let mut start = range.start;
        while start < range.end {
            let hh = start..(start + BATCH_HOUSEHOLDS).min(range.end);
            self.eval(cols, hh.clone(), &mut buf, &self.live);
            self.collect(cols, hh.clone(), &buf, &mut out);
            start = hh.end;
        }
        out
    }

    fn collect(&self, cols: &Columns, hh: Range<usize>, buf: &Buffers, out: &mut Findings) {
        let p0 = cols.hh_start[hh.start] as usize;
        let p1 = cols.hh_start[hh.end] as usize;
        let mut scratch = Vec::new();
        for (pi, p) in self.policies.iter().enumerate() {
            let bit = p.records;
            let policy = pi as u16;
            match (&p.compiled, p.level) {
                (Compiled::Off, _) => {}
                (Compiled::Graph { cond, .. }, level) => {
                    let person = level == Level::Person;
                    let len = if person { p1 - p0 } else { hh.len() };
                    let n = bits::words(len);
                    let qualifies = &self.bits(buf, *cond, len, &mut scratch)[..n];
                    let c = *cond as usize;
                    let errs = buf.erred[c].then(|| &buf.errs[c][..n]);
                    let (by_category, live) =
                        if person { (&buf.p_held, &buf.p_live) } else { (&buf.h_held, &buf.h_live) };
                    let (held, live) = (&by_category[bit as usize][..n], &live[..n]);
                    let dead = if person { &buf.p_dead[..n] } else { &buf.h_dead[..n] };
                    // `verdict`, 64 rows at a time: most rows agree with the registry.
                    for k in 0..n {
                        let (q, held) = (qualifies[k], held[k]);
                        let dead = dead[k];
                        let err = errs.map_or(0, |e| e[k]);
                        let rows = live[k] & bits::tail_mask(k * bits::W, len);
                        let missing = rows & !dead & !err & q & !held;
                        let stale = rows & held & (dead | (!err & !q));
                        let unknown = rows & !dead & err;
                        if missing | stale | unknown == 0 {
                            continue;
                        }
                        let part = out.room(bits::W);
                        let start = k * bits::W;
                        // The three are disjoint (64 rows at most): each kind's rows in a loop of their own.
                        for (kind, found) in [
                            (FindingKind::Missing, missing),
                            (FindingKind::Stale, stale),
                            (FindingKind::Unknown, unknown),
                        ] {
                            if person {
                                push_rows(part, found, |j| Finding::of_person(policy, kind, (p0 + start + j) as u32));
                            } else {
                                push_rows(part, found, |j| {
                                    Finding::of_household(policy, kind, (hh.start + start + j) as u32)
                                });
                            }
                        }
                    }
                }
                (Compiled::Interpreted(ip), level) => {
                    for h in hh.clone().filter(|&h| cols.hh_live[h]) {
                        if level == Level::Household {
                            let received = cols.hh_categories.has(h, bit as usize);
                            let alive = cols.size[h] > 0;
                            let q = if alive { ip.condition(cols, h, None).ok() } else { Some(false) };
                            if let Some(kind) = verdict(alive, received, q) {
                                out.room(1).push(Finding::of_household(policy, kind, h as u32));
                            }
                        } else {
                            for row in cols.persons(h as u32) {
                                let row = row as usize;
                                let received = cols.p_categories.has(row, bit as usize);
                                let alive = cols.p_alive[row];
                                let q = if alive { ip.condition(cols, h, Some(row)).ok() } else { Some(false) };
                                if let Some(kind) = verdict(alive, received, q) {
                                    out.room(1).push(Finding::of_person(policy, kind, row as u32));
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
        let every: Vec<N> = (0..self.nodes.len() as N).collect();
        self.eval(cols, h..h + 1, &mut buf, &every);
        Single { buf, person: person.map_or(0, |row| (row - cols.hh_start[h]) as usize) }
    }

    /// Whether one row qualifies under `policy`: `None` if its rule errs.
    pub fn qualifies(&self, cols: &Columns, policy: usize, household: u32, person: Option<u32>) -> Option<bool> {
        let p = self.policies.get(policy)?;
        // The deceased, and a household none of whose members is alive, qualify for nothing.
        let alive = match person {
            Some(row) => cols.p_alive[row as usize],
            None => p.level == Level::Person || cols.size[household as usize] > 0,
        };
        if !alive {
            return Some(false);
        }
        match &p.compiled {
            Compiled::Graph { cond, .. } => self.single(cols, household, person).at(self, *cond).map(|v| v != 0),
            Compiled::Interpreted(ip) => ip.condition(cols, household as usize, person.map(|p| p as usize)).ok(),
            Compiled::Off => Some(false),
        }
    }

    /// A finding's conditions with the values they used, and the benefit
    /// (fen) its row would bring (`None` without a benefit or where the
    /// formula errs), from one evaluation of the household.
    pub fn explain_finding(&self, cols: &Columns, f: &Finding) -> (Vec<ConditionOutcome>, Option<i64>) {
        self.explained(cols, f.policy as usize, f.household(cols), f.person())
    }

    /// Each condition of `policy` for one row, with the values it used.
    pub fn explain(&self, cols: &Columns, policy: usize, household: u32, person: Option<u32>) -> Vec<ConditionOutcome> {
        self.explained(cols, policy, household, person).0
    }

    fn explained(
        &self,
        cols: &Columns,
        policy: usize,
        household: u32,
        person: Option<u32>,
    ) -> (Vec<ConditionOutcome>, Option<i64>) {
        let Some(p) = self.policies.get(policy) else { return (Vec::new(), None) };
        let mut outcomes = Vec::new();
        if person.is_some_and(|row| !cols.p_alive[row as usize]) {
            outcomes.push(ConditionOutcome {
                condition: "alive".into(),
                holds: Some(false),
                detail: "已故 (deceased)".into(),
            });
        }
        if p.level == Level::Household && cols.size[household as usize] == 0 {
            outcomes.push(ConditionOutcome {
                condition: "alive".into(),
                holds: Some(false),
                detail: "全户成员均已故 (every member has died)".into(),
            });
        }
        let benefit = match &p.compiled {
            Compiled::Off => None,
            Compiled::Interpreted(ip) => {
                let (h, person) = (household as usize, person.map(|x| x as usize));
                for (condition, holds, reads) in ip.explain(cols, h, person) {
                    let detail = match &holds {
                        Err(e) => match Interpreted::unrecorded_read(&condition, cols, h) {
                            Some(fact) => {
                                let (zh, en) = Unrecorded::name(fact);
                                format!("{condition}：无法判定，{zh} (cannot be decided: {en})")
                            }
                            None => format!("{condition}：无法计算 (could not be evaluated): {e}"),
                        },
                        Ok(h) if reads.is_empty() => format!("{condition} = {h}"),
                        Ok(h) => format!("{condition} = {h}（{}）", reads.join("，")),
                    };
                    outcomes.push(ConditionOutcome { condition, holds: holds.ok(), detail });
                }
                ip.benefit(cols, h, person)
            }
            Compiled::Graph { conjuncts, benefit, .. } => {
                let row = self.single(cols, household, person);
                let at = |n: N| row.at(self, n);
                for c in conjuncts {
                    let holds = at(c.node).map(|v| v != 0);
                    let detail = match (&c.cmp, holds) {
                        (Some((op, a, b)), Some(holds)) => {
                            let shown = if holds { *op } else { op.negated() };
                            // A parameter or a field is shown with its value; a number written in
                            // the rule once, in yuan when the other side is money (it counts fen).
                            let side = |s: &Side, other: &Side| {
                                let literal = matches!(self.nodes[s.node as usize].op, Op::Const(_))
                                    && !s.text.starts_with("params.");
                                match (literal, at(s.node)) {
                                    (true, Some(v)) if other.money => fmt_value(v, true),
                                    (true, _) => s.text.clone(),
                                    (false, v) => format!("{} {}", s.text, s.show(v)),
                                }
                            };
                            format!("{} {} {}", side(a, b), shown.symbol(), side(b, a))
                        }
                        (_, Some(h)) if c.reads.is_empty() => format!("{} = {h}", c.text),
                        (_, Some(h)) => {
                            let values: Vec<String> =
                                c.reads.iter().map(|s| format!("{} {}", s.text, s.show(at(s.node)))).collect();
                            format!("{} = {h}（{}）", c.text, values.join("，"))
                        }
                        // A fact not recorded, else the arithmetic's errors.
                        (_, None) => match self.reads_unrecorded(c.node, cols.unrecorded(household)) {
                            Some(fact) => {
                                let (zh, en) = Unrecorded::name(fact);
                                format!("{}：无法判定，{zh} (cannot be decided: {en})", c.text)
                            }
                            None => format!(
                                "{}：无法计算，算式溢出或除以零 (could not be evaluated: an overflow or a division by zero)",
                                c.text
                            ),
                        },
                    };
                    outcomes.push(ConditionOutcome { condition: c.text.clone(), holds, detail });
                }
                benefit.and_then(at)
            }
        };
        (outcomes, benefit)
    }

    /// The fact among `missing` (`Unrecorded` bits) that node `n` reads, if any.
    fn reads_unrecorded(&self, n: N, missing: u8) -> Option<u8> {
        let op = self.nodes[n as usize].op;
        column(op)
            .and_then(Unrecorded::read_by)
            .filter(|f| f & missing != 0)
            .or_else(|| children(op).find_map(|c| self.reads_unrecorded(c, missing)))
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
        (!self.buf.err(n, i)).then(|| engine.value(&self.buf, n, i))
    }
}
