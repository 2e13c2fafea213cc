use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::DivisionCode;
use crate::demo::{Community, DemoConfig, DemoGenerator};

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn vocab() -> Vocabulary {
    Vocabulary::new([("dibao_line".to_owned(), 76_000, true), ("elderly_age".to_owned(), 80, false)])
}

fn households(n: u64, seed: u64) -> Vec<HouseholdFacts> {
    let communities = ["430602001001", "430602002001", "430602100201"]
        .iter()
        .zip(["洞庭社区居委会", "天岳社区居委会", "西塘村委会"])
        .map(|(code, name)| Community { code: DivisionCode::parse(code).unwrap(), name: name.to_owned() })
        .collect();
    let generator = DemoGenerator::new(DemoConfig { households: n, seed, today: date() }, communities).unwrap();
    let mut next_person = 1;
    generator
        .enumerate()
        .map(|(i, h)| {
            let f = HouseholdFacts::of(i as i64 + 1, 1, &h, next_person);
            next_person += h.members.len() as i64;
            f
        })
        .collect()
}

#[test]
fn an_unknown_field_is_refused_at_its_position() {
    let e = vocab().compile("age >= 60 &&\n  incom < 100", Level::Person, Want::Bool).unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::UnknownField);
    assert_eq!((e.line, e.column), (2, 3));
    assert!(e.message_en.contains("incom"), "{e:?}");
    assert!(e.message_zh.contains("未知字段"), "{e:?}");
}

#[test]
fn type_errors_and_bad_codes_are_refused() {
    let v = vocab();
    for (rule, kind) in [
        ("age == 'x'", RuleErrorKind::Type),
        ("sex == 'mal'", RuleErrorKind::Type),
        ("'dibao2' in categories", RuleErrorKind::Type),
        ("age + 1", RuleErrorKind::Type),
        ("age >= ", RuleErrorKind::Syntax),
        ("params.no_such_line > 0", RuleErrorKind::UnknownField),
        ("size > 1 && age > 3", RuleErrorKind::Type),
    ] {
        let level = if rule.starts_with("size") { Level::Household } else { Level::Person };
        assert_eq!(v.compile(rule, level, Want::Bool).map_err(|e| e.kind).unwrap_err(), kind, "{rule}");
    }
    let e = v.compile("age * 1.5 > 90", Level::Person, Want::Bool).unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Unsupported, "{e:?}");
    // A rule the engine leaves to the interpreter is still refused for a name it doesn't know, at the name.
    let e = v.compile("age > 1.5 && agee > 60", Level::Person, Want::Bool).unwrap_err();
    assert_eq!((e.kind, e.line, e.column), (RuleErrorKind::UnknownField, 1, 14), "{e:?}");
    assert!(e.message_en.contains("agee"), "{e:?}");
    for rule in [
        "size * 1.5 > 2.0 && params.no_such_line > 0",
        "size > 1.5 && members.exists(m, m.agee > 60)",
        "size > 1.5 && [m].size() > 0",
    ] {
        let e = v.compile(rule, Level::Household, Want::Bool).unwrap_err();
        assert_eq!(e.kind, RuleErrorKind::UnknownField, "{rule}: {e:?}");
    }
    // Known names inside an aggregate, a list or a parameter pass: the rule goes to the interpreter.
    let e = v
        .compile("size > 1.5 && members.exists(m, m.age > 60 && m.age in [params.dibao_line]) && per_capita_income < params.dibao_line", Level::Household, Want::Bool)
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Unsupported, "{e:?}");
}

fn engine_for(rules: &[(&str, Level, &str)]) -> Engine {
    let v = vocab();
    let defs: Vec<PolicyDef> = rules
        .iter()
        .map(|(cond, level, records)| PolicyDef {
            code: "p".into(),
            name: "p".into(),
            name_en: String::new(),
            department: "d".into(),
            level: *level,
            kind: BenefitKind::CashMonthly,
            records: (*records).into(),
            basis: String::new(),
            effective_from: date(),
            effective_to: None,
            benefit: Some("params.dibao_line - per_capita_income".into()),
            condition: (*cond).into(),
            taper_months: None,
        })
        .collect();
    let refs: Vec<&PolicyDef> = defs.iter().collect();
    let (engine, refused) = build_engine(&refs, &v);
    assert!(refused.is_empty(), "{refused:?}");
    engine
}

#[test]
fn the_sweep_finds_both_lists_with_the_deciding_condition() {
    let mut hs = households(300, 3);
    // One household clearly over the line but holding 低保; one under it without.
    let over =
        hs.iter().position(|h| h.holdings.iter().any(|c| c.category == crate::registry::Category::Dibao)).unwrap();
    for m in &mut hs[over].members {
        m.income = crate::Fen(200_000);
    }
    hs[over].items_income = crate::Fen(0);
    let cols = Columns::build(date(), hs.clone());
    let engine =
        engine_for(&[("per_capita_income < params.dibao_line && assets <= 5000000", Level::Household, "dibao")]);
    let findings = engine.sweep(&cols, 2);
    let sorted = |v: Findings| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v
    };
    assert_eq!(sorted(findings.clone()), sorted(engine.sweep(&cols, 1)), "threads change nothing");
    let stale: Vec<_> = findings.iter().filter(|f| f.kind == FindingKind::Stale).collect();
    let missing: Vec<_> = findings.iter().filter(|f| f.kind == FindingKind::Missing).collect();
    assert!(!missing.is_empty() && !stale.is_empty());
    let row = cols.row_of(hs[over].id).unwrap();
    assert!(stale.iter().any(|f| f.household(&cols) == row));
    let why = engine.explain(&cols, 0, row, None);
    assert_eq!(why[0].holds, Some(false));
    assert!(why[0].detail.starts_with("per_capita_income 2,000.00 >= params.dibao_line 760.00"), "{why:?}");
    // A number written in the rule counts fen: beside money it is shown in yuan too, on either side.
    let engine = engine_for(&[("per_capita_income < 150000 && 1000 <= assets", Level::Household, "dibao")]);
    let why = engine.explain(&cols, 0, row, None);
    assert!(why[0].detail.starts_with("per_capita_income 2,000.00 >= 1,500.00"), "{why:?}");
    assert!(why[1].detail.starts_with("10.00 "), "{why:?}");
    assert!(why[1].detail.contains(" assets "), "{why:?}");
    // Every finding agrees with a direct check of the rule.
    for f in &findings {
        let i = f.household(&cols) as usize;
        let qualifies = cols.per_capita(i) < 76_000 && cols.assets_of(i) <= 5_000_000;
        assert_eq!(f.kind == FindingKind::Missing, qualifies);
    }
    // A condition that is not one comparison shows the numbers it read, with their values.
    let engine = engine_for(&[(
        "size >= 9 && (per_capita_income < params.dibao_line || members.count(m, m.age >= 60) >= 3)",
        Level::Household,
        "dibao",
    )]);
    let why = engine.explain(&cols, 0, row, None);
    assert_eq!(why[1].holds, Some(false), "{why:?}");
    let detail = &why[1].detail;
    assert!(detail.contains("per_capita_income 2,000.00") && detail.contains("params.dibao_line 760.00"), "{detail}");
    assert!(detail.contains("members.count(m, m.age >= 60) "), "{detail}");
    assert!(
        !detail.contains("（m.age") && !detail.contains("，m.age"),
        "a member's own value is not one here: {detail}"
    );
    // A coded field's value reads as its code, as rules write it.
    let engine = engine_for(&[("work_ability == 'none'", Level::Person, "dibao")]);
    let person = cols.persons(row).next().unwrap();
    let why = engine.explain(&cols, 0, row, Some(person));
    let codes = ["'full'", "'partial'", "'none'"];
    assert!(codes.iter().any(|c| why[0].detail.starts_with(&format!("work_ability {c} "))), "{why:?}");
}

#[test]
fn boundaries_are_exact() {
    let mut hs = households(40, 5);
    hs.truncate(1);
    let h = &mut hs[0];
    h.members.truncate(1);
    h.holdings.clear();
    h.members[0].holdings.clear();
    h.members[0].death = None;
    h.assets = crate::Fen(0);
    let engine = engine_for(&[
        ("per_capita_income < params.dibao_line", Level::Household, "dibao"),
        ("age >= 60", Level::Person, "temporary"),
        ("disability.grade >= 1 && disability.grade <= 2", Level::Person, "disability_care"),
    ]);
    let at = |income: i64, birth: NaiveDate, grade: u8| {
        let mut h = hs[0].clone();
        h.members[0].income = crate::Fen(income);
        h.members[0].birth = birth;
        h.members[0].disability = (grade > 0).then_some((crate::registry::DisabilityKind::Physical, grade));
        let cols = Columns::build(date(), [h]);
        let f = engine.sweep(&cols, 1);
        (0..3).map(|p| f.iter().any(|x| x.policy == p)).collect::<Vec<_>>()
    };
    let sixty = NaiveDate::from_ymd_opt(1966, 11, 24).unwrap();
    let fifty_nine = NaiveDate::from_ymd_opt(1966, 11, 25).unwrap();
    assert_eq!(at(75_999, sixty, 2), vec![true, true, true]);
    assert_eq!(at(76_000, fifty_nine, 3), vec![false, false, false]);
    assert_eq!(at(76_001, sixty, 1), vec![false, true, true]);
}

#[test]
fn household_income_items_count_in_its_income() {
    let engine = engine_for(&[("per_capita_income < params.dibao_line", Level::Household, "dibao")]);
    let with = |own: i64, items: i64| {
        let mut h = alone(NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(), own, None);
        h.items_income = crate::Fen(items);
        let cols = Columns::build(date(), [h]);
        (cols.per_capita(0), engine.sweep(&cols, 1).iter().any(|f| f.kind == FindingKind::Missing))
    };
    assert_eq!(with(50_000, 25_999), (75_999, true));
    assert_eq!(with(50_000, 26_000), (76_000, false), "a rent of 260 yuan takes the household to the line");
    assert_eq!(with(0, 76_000), (76_000, false), "no member earns, the household still has income");
}

/// Random rules from the supported grammar.
struct Gen {
    rng: SmallRng,
    level: Level,
    member: Option<&'static str>,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.rng.random_range(0..xs.len())]
    }

    fn person(&self) -> bool {
        self.member.is_some() || self.level == Level::Person
    }

    fn field(&mut self, name: &str) -> String {
        match self.member {
            Some(m) => format!("{m}.{name}"),
            None => name.to_owned(),
        }
    }

    fn int(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.rng.random_bool(0.35);
        if leaf {
            return match self.rng.random_range(0..9) {
                0 | 1 if self.person() => {
                    let f = self.pick(&["age", "income", "disability.grade"]);
                    self.field(f)
                }
                2 | 3 => self.pick(&["size", "per_capita_income", "assets", "total_income"]).to_owned(),
                4 => self.pick(&["params.dibao_line", "params.elderly_age"]).to_owned(),
                5 if self.person() => format!("size({})", self.field("categories")),
                6 => self.pick(&["0", "1", "2", "60", "76000", "9223372036854775807", "-3"]).to_owned(),
                _ => self.rng.random_range(-5..100_000).to_string(),
            };
        }
        match self.rng.random_range(0..8) {
            0 => format!("-({})", self.int(depth - 1)),
            1 => format!("({} ? {} : {})", self.boolean(depth - 1), self.int(depth - 1), self.int(depth - 1)),
            2 if self.member.is_none() => format!("members.count(m, {})", self.member_bool(depth - 1)),
            3 if self.member.is_none() => format!("members.filter(m, {}).size()", self.member_bool(depth - 1)),
            _ => {
                let op = self.pick(&["+", "-", "*", "/", "%"]);
                let (a, b) = (self.int(depth - 1), self.int(depth - 1));
                // A zero written as the divisor is refused when the rule is checked; one
                // reached by arithmetic is left for the run, where both must say "unknown".
                let b = if b == "0" && matches!(op, "/" | "%") { "(0 * 1)".to_owned() } else { b };
                format!("({a} {op} {b})")
            }
        }
    }

    /// A test of coded or set field `f` (written `name`, e.g. `m.schooling`)
    /// against values from its own list: `==`, `!=`, `in [..]`, or membership for a set.
    fn coded(&mut self, f: &str, name: &str) -> String {
        let values = fields().into_iter().find(|x| x.name == f).map(|x| x.values).unwrap_or_default();
        let mut value = || format!("'{}'", values[self.rng.random_range(0..values.len())]);
        let (a, b) = (value(), value());
        if matches!(f, "tags" | "household_categories") {
            return format!("{a} in {name}");
        }
        match self.rng.random_range(0..3) {
            0 => format!("{name} == {a}"),
            1 => format!("{name} != {a}"),
            _ => format!("{name} in [{a}, {b}]"),
        }
    }

    fn member_bool(&mut self, depth: u32) -> String {
        self.member = Some("m");
        let b = self.boolean(depth);
        self.member = None;
        b
    }

    fn boolean(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.rng.random_bool(0.3);
        if leaf {
            return match self.rng.random_range(0..9) {
                0 if self.person() => {
                    let s = self.pick(&["'male'", "'female'"]);
                    format!("{} == {s}", self.field("sex"))
                }
                1 if self.person() => {
                    let c = self.pick(&["'dibao'", "'tekun'", "'disability_care'", "'orphan'"]);
                    format!("{c} in {}", self.field("categories"))
                }
                2 if self.person() => {
                    let w = self.field("work_ability");
                    format!("{w} in ['none', 'partial']")
                }
                3 => self
                    .pick(&["dangerous_housing", "true", "false", "'living_alone' in tags", "housing == 'rent'"])
                    .to_owned(),
                4 if self.person() => {
                    let f = self.pick(&[
                        "relation",
                        "marital",
                        "illness",
                        "disability.type",
                        "work_ability",
                        "employment",
                        "schooling",
                        "sex",
                    ]);
                    let name = self.field(f);
                    self.coded(f, &name)
                }
                5 => {
                    let f = self.pick(&["housing", "registration", "tags", "household_categories"]);
                    self.coded(f, f)
                }
                _ => {
                    let op = self.pick(&["<", "<=", ">", ">=", "==", "!="]);
                    format!("{} {op} {}", self.int(depth.saturating_sub(1)), self.int(depth.saturating_sub(1)))
                }
            };
        }
        match self.rng.random_range(0..7) {
            0 => format!("!({})", self.boolean(depth - 1)),
            1 => format!("({} && {})", self.boolean(depth - 1), self.boolean(depth - 1)),
            2 => format!("({} || {})", self.boolean(depth - 1), self.boolean(depth - 1)),
            3 => format!("({} ? {} : {})", self.boolean(depth - 1), self.boolean(depth - 1), self.boolean(depth - 1)),
            4 if self.member.is_none() => {
                let agg = self.pick(&["exists", "all", "exists_one"]);
                format!("members.{agg}(m, {})", self.member_bool(depth - 1))
            }
            _ => {
                let op = self.pick(&["<", ">=", "=="]);
                format!("{} {op} {}", self.int(depth - 1), self.int(depth - 1))
            }
        }
    }
}

#[test]
fn the_engine_agrees_with_the_cel_interpreter_on_random_rules() {
    let v = vocab();
    let params: Arc<BTreeMap<String, i64>> = Arc::new(v.params().clone());
    // More than 64 households and persons, so rows span several words of bits.
    // Some who died still hold category 0 (the one the rules record): they must be listed.
    let mut registry = households(100, 11);
    for h in registry.iter_mut().step_by(3) {
        let last = h.members.last_mut().unwrap();
        last.death = Some(date() - chrono::Days::new(40));
        let category = crate::registry::Category::ALL[0];
        last.holdings.push(crate::registry::Holding { category, start: date() - chrono::Days::new(400), end: None });
    }
    // Some have their income or assets not recorded: a rule that reads them errs there.
    for h in registry.iter_mut().step_by(5) {
        h.unrecorded |= Unrecorded::INCOME;
    }
    for h in registry.iter_mut().skip(2).step_by(7) {
        h.unrecorded |= Unrecorded::ASSETS;
    }
    let cols = Columns::build(date(), registry);
    let mut compared = 0;
    for seed in 0..400u64 {
        let level = if seed % 2 == 0 { Level::Person } else { Level::Household };
        let mut g = Gen { rng: SmallRng::seed_from_u64(seed), level, member: None };
        let rule = g.boolean(4);
        let ex = match v.compile(&rule, level, Want::Bool) {
            Ok(ex) => ex,
            Err(e) => panic!("generated rule {rule} does not compile: {e}"),
        };
        let engine = Engine::new(vec![Rule::Compiled(RulePlan { level, condition: ex, benefit: None, records: 0 })]);
        let reference = Interpreted::new(level, &rule, None, Arc::clone(&params)).unwrap();
        let mut expected = Vec::new();
        for h in 0..cols.household_rows() {
            let rows: Vec<Option<usize>> = match level {
                Level::Household => vec![None],
                Level::Person => cols.persons(h as u32).map(|p| Some(p as usize)).collect(),
            };
            for p in rows {
                let (col, row, alive) = match p {
                    Some(p) => (Col::Categories, p, cols.person(p).1),
                    None => (Col::HouseholdCategories, h, cols.size[h] > 0),
                };
                // The deceased, and a household with no one alive, qualify for nothing.
                let ours = engine.qualifies(&cols, 0, h as u32, p.map(|p| p as u32));
                let theirs = reference.condition(&cols, h, p).ok();
                assert_eq!(ours, if alive { theirs } else { Some(false) }, "rule {rule} on household {h} person {p:?}");
                compared += 1;
                // What the sweep must list for this row (the rule records category bit 0).
                let received = cols.values(col, row..row + 1)[0] & 1 == 1;
                let kind = match (alive, received, theirs) {
                    (false, true, _) | (true, true, Some(false)) => Some(FindingKind::Stale),
                    (true, _, None) => Some(FindingKind::Unknown),
                    (true, false, Some(true)) => Some(FindingKind::Missing),
                    _ => None,
                };
                expected.extend(kind.map(|k| (h as u32, p.map(|p| p as u32), k)));
            }
        }
        // The batched sweep lists the same rows as the interpreter, row by row.
        let listed: Vec<_> =
            engine.sweep(&cols, 2).into_iter().map(|f| (f.household(&cols), f.person(), f.kind)).collect();
        let mut listed = listed;
        listed.sort_unstable();
        expected.sort_unstable();
        assert_eq!(listed, expected, "rule {rule}");
    }
    assert!(compared > 10_000, "{compared}");
}

#[test]
fn the_shipped_catalogue_compiles_and_covers_the_district() {
    let c = Catalogue::demo();
    let v = c.vocabulary(date());
    let mut departments: Vec<&str> = c.policies.iter().map(|p| p.department.as_str()).collect();
    departments.sort_unstable();
    departments.dedup();
    assert!(c.policies.len() >= 40 && departments.len() >= 12, "{} policies, {departments:?}", c.policies.len());
    let mut records: Vec<&str> = c.policies.iter().map(|p| p.records.as_str()).collect();
    records.sort_unstable();
    records.dedup();
    assert_eq!(records.len(), c.policies.len(), "each policy has its own received category");
    for p in &c.policies {
        let checked = check(p, &v).unwrap_or_else(|e| panic!("{}: {e}", p.code));
        assert!(matches!(checked, Checked::Compiled(_)), "{} runs in the interpreter: {checked:?}", p.code);
        // A service or a thing given with no cash value writes none: a written 0 would show
        // as an amount of 0.00.
        let cash = matches!(p.kind, BenefitKind::CashMonthly | BenefitKind::CashOnce | BenefitKind::Insurance);
        assert!(p.benefit().is_some() || !cash, "{} has no benefit", p.code);
        assert!(p.benefit().is_none_or(|b| b.trim() != "0"), "{}: a benefit of 0 is none", p.code);
    }
    assert_eq!(v.params()["dibao_line"], 76_000);
    // 低保 alone has a gradual-exit period.
    let tapered: Vec<(&str, Option<u32>)> =
        c.policies.iter().filter(|p| p.taper_months.is_some()).map(|p| (p.code.as_str(), p.taper_months)).collect();
    assert_eq!(tapered, [("dibao", Some(6))]);
}

#[test]
fn a_gradual_exit_period_ends_by_calendar_months() {
    let mut p = Catalogue::demo().policies.into_iter().find(|p| p.code == "dibao").unwrap();
    let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(p.taper_end(on(2026, 3, 15)), Some(on(2026, 9, 15)));
    // The month's last day when the day does not exist: 31 August + 6 months.
    assert_eq!(p.taper_end(on(2025, 8, 31)), Some(on(2026, 2, 28)));
    assert_eq!(p.taper_end(on(2027, 8, 31)), Some(on(2028, 2, 29)));
    assert_eq!(p.taper_end(on(2026, 11, 30)), Some(on(2027, 5, 30)));
    p.taper_months = Some(0);
    assert_eq!(p.taper_end(on(2026, 3, 15)), None);
    p.taper_months = None;
    assert_eq!(p.taper_end(on(2026, 3, 15)), None);
}

#[test]
fn the_demo_district_gives_every_policy_both_lists() {
    let c = Catalogue::demo();
    for p in &c.policies {
        assert!(
            !p.condition.contains(&format!("'{}'", p.records)),
            "{} requires its own category: none could qualify",
            p.code
        );
    }
    assert!(crate::registry::Category::ALL.len() <= 64, "categories are 64-bit sets");
    let defs: Vec<&PolicyDef> = c.policies.iter().collect();
    let (engine, refused) = build_engine(&defs, &c.vocabulary(date()));
    assert!(refused.is_empty());
    // `make run` loads seed 1; the benchmarks use 2026.
    for seed in [1, 2026] {
        let cols = Columns::build(date(), households(2000, seed));
        let findings = engine.sweep(&cols, 2);
        for (i, p) in c.policies.iter().enumerate() {
            let count = |k| findings.iter().filter(|f| f.policy as usize == i && f.kind == k).count();
            let (missing, stale) = (count(FindingKind::Missing), count(FindingKind::Stale));
            assert!(missing > 0 && stale > 0, "seed {seed}, {}: {missing} 应享未享, {stale} 应退未退", p.code);
            assert_eq!(count(FindingKind::Unknown), 0, "{}", p.code);
        }
    }
}

/// One person living alone, as of `date()`, with the given birth, income and disability.
fn alone(birth: NaiveDate, income: i64, disability: Option<(crate::registry::DisabilityKind, u8)>) -> HouseholdFacts {
    use crate::registry::*;
    HouseholdFacts {
        id: 1,
        version: 1,
        community: DivisionCode::parse("430602001001").unwrap(),
        registration: Registration::Urban,
        tenure: Tenure::Rent,
        dangerous_housing: false,
        assets: crate::Fen(0),
        items_income: crate::Fen(0),
        unrecorded: 0,
        tags: vec![Tag::LivingAlone],
        holdings: Vec::new(),
        members: vec![PersonFacts {
            id: 1,
            birth,
            sex: crate::Sex::Male,
            relation: Relation::Head,
            marital: Marital::Widowed,
            health: Health::Chronic,
            disability,
            work_ability: WorkAbility::Partial,
            employment: Employment::NotWorking,
            schooling: Schooling::NotInSchool,
            income: crate::Fen(income),
            death: None,
            holdings: Vec::new(),
            unrecorded: 0,
        }],
    }
}

#[test]
fn the_shipped_rules_hold_at_their_boundaries() {
    use crate::registry::DisabilityKind::{Mental, Physical};
    let c = Catalogue::demo();
    let defs: Vec<&PolicyDef> = c.policies.iter().collect();
    let (engine, _) = build_engine(&defs, &c.vocabulary(date()));
    let index = |code: &str| c.policies.iter().position(|p| p.code == code).unwrap();
    // Qualifies (findings are 应享未享: nothing is held), and the benefit it would bring.
    let run = |code: &str, h: HouseholdFacts| {
        let cols = Columns::build(date(), [h]);
        let f = engine.sweep(&cols, 1).into_iter().find(|f| f.policy as usize == index(code));
        f.map(|f| engine.explain_finding(&cols, &f).1)
    };
    let born = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let (sixty, fifty_nine) = (born(1966, 11, 24), born(1966, 11, 25));
    // 低保: per-capita income below the line (76,000 fen), to the fen; the benefit tops it up.
    assert_eq!(run("dibao", alone(fifty_nine, 75_999, None)), Some(Some(1)));
    assert_eq!(run("dibao", alone(fifty_nine, 76_000, None)), None);
    assert_eq!(run("dibao", alone(fifty_nine, 76_001, None)), None);
    // 特殊困难老年人探访关爱: 60 and living alone.
    assert!(run("elderly_visiting", alone(sixty, 0, None)).is_some());
    assert!(run("elderly_visiting", alone(fifty_nine, 0, None)).is_none());
    // 重度残疾人护理补贴: grade 1–2, or grade 3 intellectual or mental.
    assert!(run("disability_care", alone(fifty_nine, 0, Some((Physical, 2)))).is_some());
    assert!(run("disability_care", alone(fifty_nine, 0, Some((Physical, 3)))).is_none());
    assert!(run("disability_care", alone(fifty_nine, 0, Some((Mental, 3)))).is_some());
    // 高龄津贴: from 80, by band.
    let band = |code| c.params.iter().find(|p| p.name == code).and_then(|p| p.on(date()));
    assert!(run("elderly_allowance", alone(born(1946, 11, 25), 0, None)).is_none());
    assert_eq!(run("elderly_allowance", alone(born(1946, 11, 24), 0, None)), Some(band("elderly_allowance_band1")));
    assert_eq!(run("elderly_allowance", alone(born(1936, 11, 24), 0, None)), Some(band("elderly_allowance_band2")));
    // 国家司法救助: an uncompensated victim of crime, income under twice the 低保 line.
    let victim = |income| {
        let mut h = alone(fifty_nine, income, None);
        h.tags.push(crate::registry::Tag::CrimeVictim);
        h
    };
    assert_eq!(run("judicial_aid", victim(151_999)), Some(band("judicial_aid")));
    assert_eq!(run("judicial_aid", victim(152_000)), None);
    assert_eq!(run("judicial_aid", alone(fifty_nine, 0, None)), None);
}

#[test]
fn a_rule_the_engine_cannot_compile_runs_in_the_interpreter_with_the_same_results() {
    let cols = Columns::build(date(), households(200, 9));
    let compiled = engine_for(&[("age >= 60 && income < 100000", Level::Person, "temporary")]);
    // Doubles are valid CEL the engine does not compile.
    let interpreted = engine_for(&[("age >= 60.0 && income < 100000", Level::Person, "temporary")]);
    assert_eq!((compiled.interpreted(), interpreted.interpreted()), (0, 1));
    let a = compiled.sweep(&cols, 2);
    assert!(!a.is_empty());
    let strip = |v: Findings| {
        let mut rows: Vec<_> = v.into_iter().map(|f| (f.kind, f.household(&cols), f.person())).collect();
        rows.sort_unstable();
        rows
    };
    assert_eq!(strip(a), strip(interpreted.sweep(&cols, 2)));
    // Its explanation still shows each condition with the values it read.
    let row = (0..cols.household_rows() as u32).find(|&h| cols.persons(h).next().is_some()).unwrap();
    let person = cols.persons(row).next().unwrap();
    let why = interpreted.explain(&cols, 0, row, Some(person));
    let expected = compiled.explain(&cols, 0, row, Some(person));
    assert_eq!(why.len(), 2, "{why:?}");
    assert_eq!(why[0].condition, "age >= 60.0");
    for (w, e) in why.iter().zip(&expected) {
        assert_eq!(w.holds, e.holds, "{why:?} {expected:?}");
    }
    let age = cols.persons(row).next().map(|_| expected[0].detail.split(' ').nth(1).unwrap().to_owned()).unwrap();
    assert!(why[0].detail.contains(&format!("（age {age}）")), "{why:?} {expected:?}");
    assert!(why[1].detail.starts_with("income < 100000 = ") && why[1].detail.contains("（income "), "{why:?}");
}

#[test]
fn an_interpreted_rule_splits_into_its_top_level_conditions() {
    use super::interp::conjunct_texts;
    assert_eq!(
        conjunct_texts(" age >= 60.0 && (a || b) && 'x&&y' in tags "),
        ["age >= 60.0", "(a || b)", "'x&&y' in tags"]
    );
    assert_eq!(conjunct_texts("(a && b)"), ["a", "b"]);
    assert_eq!(conjunct_texts("(a) && (b)"), ["(a)", "(b)"]);
    // `||` and `?:` bind looser than `&&`: the rule is one condition.
    assert_eq!(conjunct_texts("a || b && c"), ["a || b && c"]);
    assert_eq!(conjunct_texts("a ? b && c : d"), ["a ? b && c : d"]);
    assert_eq!(
        conjunct_texts("members.exists(m, m.age > 60 && m.income < 5)"),
        ["members.exists(m, m.age > 60 && m.income < 5)"]
    );
}

#[test]
fn a_rule_that_errs_on_a_row_makes_it_unknown_and_the_sweep_goes_on() {
    let cols = Columns::build(date(), households(50, 4));
    // Division by zero only where the household has exactly two members.
    let engine = engine_for(&[
        ("100 / (size - 2) > 0 || per_capita_income < 0", Level::Household, "dibao"),
        ("per_capita_income < params.dibao_line", Level::Household, "dibao_edge"),
    ]);
    let findings = engine.sweep(&cols, 2);
    let unknown: Vec<u32> =
        findings.iter().filter(|f| f.kind == FindingKind::Unknown).map(|f| f.household(&cols)).collect();
    let living = |h: u32| cols.persons(h).filter(|&p| cols.p_alive[p as usize]).count();
    let pairs: Vec<u32> = (0..cols.household_rows() as u32).filter(|&h| living(h) == 2).collect();
    assert!(!pairs.is_empty());
    assert_eq!(unknown, pairs, "exactly the rows that divide by zero");
    assert!(findings.iter().any(|f| f.policy == 1), "the other policy still ran");
    // The row says what went wrong.
    let why = engine.explain(&cols, 0, pairs[0], None);
    assert_eq!(why[0].holds, None);
    assert!(why[0].detail.contains("division by zero"), "{why:?}");
}

#[test]
fn a_household_whose_income_is_not_recorded_is_unknown_where_a_rule_needs_its_income() {
    let mut registry = households(90, 6);
    for h in registry.iter_mut().step_by(3) {
        h.unrecorded = Unrecorded::INCOME;
    }
    registry[1].unrecorded = Unrecorded::ASSETS;
    let cols = Columns::build(date(), registry);
    let engine = engine_for(&[
        ("per_capita_income < params.dibao_line", Level::Household, "dibao"),
        // Decided without the income: false && anything is false.
        ("size > 100 && total_income < 1", Level::Household, "dibao_edge"),
        ("members.exists(m, m.income < 100000)", Level::Household, "temporary"),
        ("age >= 0 && income >= 0", Level::Person, "temporary"),
        ("assets < 100000000", Level::Household, "temporary"),
        ("size > 0", Level::Household, "temporary"),
    ]);
    let findings = engine.sweep(&cols, 2);
    let unknown = |policy: u16| {
        let mut rows: Vec<u32> = findings
            .iter()
            .filter(|f| f.policy == policy && f.kind == FindingKind::Unknown)
            .map(|f| f.household(&cols))
            .collect();
        rows.dedup();
        rows
    };
    let living = |h: u32| cols.persons(h).any(|p| cols.p_alive[p as usize]);
    let unrecorded: Vec<u32> = (0..90).step_by(3).filter(|&h| living(h)).collect();
    assert!(unrecorded.len() > 20);
    assert_eq!(unknown(0), unrecorded);
    assert_eq!(unknown(1), Vec::<u32>::new(), "decided without the income");
    assert_eq!(unknown(2), unrecorded);
    assert_eq!(unknown(3), unrecorded);
    assert_eq!(unknown(4), vec![1]);
    assert_eq!(unknown(5), Vec::<u32>::new());
    // None of them is listed as missing out on 低保.
    assert!(
        !findings
            .iter()
            .any(|f| f.policy == 0 && f.kind == FindingKind::Missing && unrecorded.contains(&f.household(&cols)))
    );
    // The row says what is missing.
    let why = engine.explain(&cols, 0, unrecorded[0], None);
    assert_eq!(why[0].holds, None);
    assert!(why[0].detail.contains("收入未登记") && why[0].detail.contains("income not recorded"), "{why:?}");
    let why = engine.explain(&cols, 4, 1, None);
    assert!(why[0].detail.contains("家庭财产未登记"), "{why:?}");
    // A rule the interpreter runs says the same.
    let interpreted = engine_for(&[("per_capita_income >= 0.0 && size > 0", Level::Household, "dibao")]);
    assert_eq!(interpreted.interpreted(), 1);
    let why = interpreted.explain(&cols, 0, unrecorded[0], None);
    assert_eq!((why[0].holds, why[1].holds), (None, Some(true)), "{why:?}");
    assert!(why[0].detail.contains("收入未登记"), "{why:?}");
}

#[test]
fn a_household_whose_members_have_all_died_qualifies_for_nothing_and_what_it_holds_is_to_stop() {
    let mut hs = households(20, 5);
    let died = date() - chrono::Days::new(40);
    for p in &mut hs[0].members {
        p.death = Some(died);
    }
    hs[0].holdings.push(crate::registry::Holding { category: Category::Dibao, start: died, end: None });
    let cols = Columns::build(date(), hs);
    // A rule every household meets, with and without the interpreter.
    for rule in ["assets >= 0", "assets >= 0.0"] {
        let engine = engine_for(&[(rule, Level::Household, "dibao")]);
        let row = cols.row_of(1).unwrap();
        let mine: Vec<_> = engine.sweep(&cols, 1).into_iter().filter(|f| f.household(&cols) == row).collect();
        assert_eq!(mine.len(), 1, "{rule}: {mine:?}");
        assert_eq!(mine[0].kind, FindingKind::Stale, "{rule}");
        assert_eq!(engine.qualifies(&cols, 0, row, None), Some(false), "{rule}");
        let why = engine.explain(&cols, 0, row, None);
        assert!(why.iter().any(|c| c.condition == "alive" && c.holds == Some(false)), "{rule}: {why:?}");
    }
}

#[test]
fn a_sweep_runs_the_policies_in_force_and_an_ended_one_whose_category_nothing_records_now() {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let def = |code: &str, records: &str, to: Option<NaiveDate>| PolicyDef {
        code: code.into(),
        records: records.into(),
        effective_from: day(2020, 1, 1),
        effective_to: to,
        ..Catalogue::demo().policies[0].clone()
    };
    let defs = [
        def("dibao", "dibao", None),
        // Replaced by the policy in force that records the same category: not run.
        def("dibao_old", "dibao", Some(day(2025, 12, 31))),
        // Nothing records 临时救助 now: the one that ended last is run, the earlier one not.
        def("temp_2024", "temporary", Some(day(2024, 12, 31))),
        def("temp_2025", "temporary", Some(day(2025, 12, 31))),
        // Not begun yet.
        PolicyDef { effective_from: day(2027, 1, 1), ..def("future", "orphan", None) },
    ];
    let refs: Vec<&PolicyDef> = defs.iter().collect();
    assert_eq!(swept_on(&refs, day(2026, 11, 27)), [0, 3]);
    // Once it has ended, nobody qualifies for it.
    let ended = defs[3].ended_rule();
    assert!(defs[3].ended(day(2026, 11, 27)) && !defs[0].ended(day(2026, 11, 27)));
    assert_eq!((ended.condition.as_str(), ended.benefit), ("false", None));
}

#[test]
fn every_shipped_parameter_lies_within_its_units_bounds() {
    let params = Catalogue::demo().params;
    for unit in ["fen", "percent", "years", "count"] {
        assert!(params.iter().any(|d| d.unit == unit), "the catalogue has a parameter in {unit}");
    }
    for d in &params {
        let (range, ..) = d.bounds();
        assert!(d.values.iter().all(|v| range.contains(&v.value)), "{}: {:?} outside {range:?}", d.name, d.values);
    }
    let share = params.iter().find(|d| d.unit == "percent").unwrap();
    assert!(!share.bounds().0.contains(&101) && share.bounds().0.contains(&100));
}

#[test]
fn a_parameter_takes_a_new_value_from_a_day_on() {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let mut line = ParamDef {
        name: "dibao_line".into(),
        label: "低保标准".into(),
        label_en: String::new(),
        unit: "fen".into(),
        values: vec![ParamValue { from: day(2025, 1, 1), value: 72_000 }],
    };
    line.set(day(2027, 1, 1), 80_000);
    line.set(day(2026, 1, 1), 76_000);
    line.set(day(2026, 1, 1), 76_500);
    assert_eq!(line.values.len(), 3, "one value a day, the last one set");
    assert_eq!(
        [line.on(day(2024, 12, 31)), line.on(day(2025, 6, 1)), line.on(day(2026, 1, 1)), line.on(day(2027, 3, 1))],
        [None, Some(72_000), Some(76_500), Some(80_000)]
    );
}

#[test]
fn policies_overlap_when_both_are_in_force_on_some_day() {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let def = |from, to| PolicyDef { effective_from: from, effective_to: to, ..Catalogue::demo().policies[0].clone() };
    let old = def(day(2020, 1, 1), Some(day(2025, 12, 31)));
    assert!(!old.overlaps(&def(day(2026, 1, 1), None)), "one takes over the day after the other ends");
    assert!(old.overlaps(&def(day(2025, 12, 31), None)));
    assert!(def(day(2026, 1, 1), None).overlaps(&def(day(2030, 1, 1), None)));
}

#[test]
fn a_late_re_evaluation_of_an_older_read_does_not_undo_a_newer_one() {
    let hs = households(20, 5);
    let mut cols = Columns::build(date(), hs.clone());
    let engine = engine_for(&[("per_capita_income < params.dibao_line", Level::Household, "dibao")]);
    let mut findings = engine.sweep(&cols, 1);
    let mut older = hs[0].clone();
    older.version += 1;
    let mut newer = older.clone();
    newer.version += 1;
    for m in &mut newer.members {
        m.income = crate::Fen(9_000_000);
    }
    let row = |cols: &Columns| cols.row_of(hs[0].id).unwrap();
    engine.update(&mut cols, &mut findings, hs[0].id, Some(&newer));
    let after_newer = (cols.household_version(row(&cols)), cols.per_capita(row(&cols) as usize));
    // The older read arrives last: ignored.
    engine.update(&mut cols, &mut findings, hs[0].id, Some(&older));
    assert_eq!((cols.household_version(row(&cols)), cols.per_capita(row(&cols) as usize)), after_newer);
    assert_eq!(after_newer.0, hs[0].version + 2);
    // The same version again (a re-read) is applied.
    engine.update(&mut cols, &mut findings, hs[0].id, Some(&newer));
    assert_eq!(cols.household_version(row(&cols)), hs[0].version + 2);
    // Removed (merged away), then a read from before the removal arrives: it stays removed.
    engine.update(&mut cols, &mut findings, hs[0].id, None);
    engine.update(&mut cols, &mut findings, hs[0].id, Some(&newer));
    assert_eq!(cols.row_of(hs[0].id), None);
}

#[test]
fn syntax_errors_point_at_the_character_and_say_what_is_wrong_in_words() {
    let v = vocab();
    let e = v.compile("年龄 > 60", Level::Person, Want::Bool).unwrap_err();
    assert_eq!((e.kind, e.line, e.column), (RuleErrorKind::Syntax, 1, 1), "{e:?}");
    assert!(e.message_zh.contains("无法识别“年”") && e.message_en.contains("'年' is not understood"), "{e:?}");
    // A sign or a quote typed with a Chinese input method: its half-width twin is named.
    for (rule, sign, ascii) in [("age ＞ 60", "＞", ">"), ("（age > 60)", "（", "("), ("sex == ‘male’", "‘", "'")]
    {
        let e = v.compile(rule, Level::Person, Want::Bool).unwrap_err();
        assert!(
            e.message_zh.contains(&format!("“{sign}”是全角")) && e.message_zh.contains(&format!("“{ascii}”")),
            "{e:?}"
        );
    }
    // A value written by its Chinese name: the code to write instead is named.
    for (rule, code) in [("'特困' in categories", "tekun"), ("sex == '女'", "female")] {
        let e = v.compile(rule, Level::Person, Want::Bool).unwrap_err();
        assert!(
            e.message_zh.contains(&format!("请写 '{code}'")) && e.message_en.contains(&format!("write '{code}'")),
            "{e:?}"
        );
    }
    let e = v.compile("age > 60 && 年龄", Level::Person, Want::Bool).unwrap_err();
    assert_eq!(e.column, 13, "{e:?}");
    let e = v.compile("age > ", Level::Person, Want::Bool).unwrap_err();
    assert_eq!(
        (e.column, e.message_en.as_str()),
        (7, "syntax error: the rule ends too early: something is missing here")
    );
    let e = v.compile("age > 60)", Level::Person, Want::Bool).unwrap_err();
    assert_eq!((e.column, e.message_zh.as_str()), (9, "语法错误：这里不应出现“)”"), "{e:?}");
    let deep = format!("{}age{}", "(".repeat(300), ")".repeat(300));
    let e = v.compile(&deep, Level::Person, Want::Bool).unwrap_err();
    assert!(e.message_zh.contains("嵌套过深") && !e.message_en.contains("ParseError"), "{e:?}");
    for blank in ["", "  \n "] {
        let e = v.compile(blank, Level::Person, Want::Bool).unwrap_err();
        assert_eq!((e.kind, e.message_zh.as_str()), (RuleErrorKind::Syntax, "规则不能为空"), "{e:?}");
    }
    // Nothing of the parser's grammar is shown.
    for rule in ["age >> 1", "a.b(", "age 60"] {
        let e = v.compile(rule, Level::Person, Want::Bool).unwrap_err();
        assert!(!e.message_en.contains("NUM_INT") && !e.message_en.contains("expecting"), "{rule}: {e:?}");
    }
}

#[test]
fn positions_count_characters_after_chinese_text() {
    let v = vocab();
    let e = v.compile("\"独居\" == \"独居\" && agee > 60", Level::Person, Want::Bool).unwrap_err();
    assert_eq!((e.kind, e.line, e.column), (RuleErrorKind::UnknownField, 1, 17), "{e:?}");
    let e = v.compile("\"独居\" == \"独居\" &&\n  agee > 60", Level::Person, Want::Bool).unwrap_err();
    assert_eq!((e.kind, e.line, e.column), (RuleErrorKind::UnknownField, 2, 3), "{e:?}");
}

#[test]
fn a_rule_that_passes_the_check_runs() {
    let v = vocab();
    // Neither the engine nor the interpreter could run these: they are refused where they are written.
    let cases = [
        ("age > 60 && has(age)", Level::Person, RuleErrorKind::Type, 13, "has() 要写成 has(对象.字段)"),
        (
            "members.exists(m, m.sex.matches('('))",
            Level::Household,
            RuleErrorKind::UnknownField,
            25,
            "没有函数 matches()",
        ),
        ("max(age, 60) > 60", Level::Person, RuleErrorKind::UnknownField, 1, "没有函数 max()"),
    ];
    for (rule, level, kind, column, zh) in cases {
        let e = v.compile(rule, level, Want::Bool).unwrap_err();
        assert_eq!((e.kind, e.column, e.message_zh.as_str()), (kind, column, zh), "{rule}: {e:?}");
    }
    // The list of functions is the interpreter's own: were `cel`'s regex feature turned on,
    // `matches` would run, and this test would say the list is out of date.
    let env = super::interp::env();
    let program = env.compile("'a'.matches('a')").unwrap();
    assert!(program.execute(&cel::Context::with_env(Arc::clone(&env))).is_err(), "matches() runs now: list it");
    // A division by a zero written in the rule would leave every row undecided.
    let e = v.compile("size / 0 > 1", Level::Household, Want::Bool).unwrap_err();
    assert_eq!((e.kind, e.message_zh.as_str()), (RuleErrorKind::Type, "不能除以 0：每一户都会无法判定"), "{e:?}");
    // What only the interpreter runs is said in words, in each language.
    let e = v.compile("[age][0] > 60", Level::Person, Want::Bool).unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Unsupported, "{e:?}");
    assert!(e.message_zh.contains("下标取值") && e.message_en.contains("indexing"), "{e:?}");
    assert!(!e.message_zh.contains("_[_]") && !e.message_en.contains("_[_]"), "{e:?}");
    let e = v.compile("members.exists(m, members.exists(n, n.age > m.age))", Level::Household, Want::Bool).unwrap_err();
    assert!(!e.message_en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{e:?}");
    assert!(e.message_zh.contains("嵌套的成员聚合"), "{e:?}");
    // And it is accepted and interpreted, as before.
    let mut p =
        PolicyDef { condition: "[age][0] > 60".into(), level: Level::Person, ..Catalogue::demo().policies[0].clone() };
    p.benefit = None;
    assert!(matches!(check(&p, &v), Ok(Checked::Interpreted(_))), "{:?}", check(&p, &v));
}

#[test]
fn reasons_read_in_chinese_with_each_code_labelled_by_its_own_field() {
    let params = vec![("dibao_line".to_owned(), "低保标准（每人每月）".to_owned())];
    let read = |t: &str| readable_zh(t, &params);
    assert_eq!(
        read("per_capita_income 1,320.00 >= params.dibao_line 760.00"),
        "家庭月人均收入 1,320.00 ≥ 低保标准（每人每月） 760.00"
    );
    // 'none' is 无 as a work ability and 无房 as housing.
    assert_eq!(read("work_ability 'full' != 'none'"), "劳动能力 “有” ≠ “无”");
    assert_eq!(read("housing 'none' == 'none'"), "住房情况 “无房” = “无房”");
    // Member functions in words, `!` before them as 并非, true and false as 是 and 否.
    assert_eq!(read("members.count(m, m.age >= 60) 2"), "满足条件的成员人数(年龄（周岁） ≥ 60) 2");
    // A member function and its outcome read as what holds, without 并非 … = 是.
    assert_eq!(
        read("!members.all(m, 'tekun' in m.categories) = true"),
        "有成员不满足(“特困” 属于 享受的救助类别（含本户）)"
    );
    assert_eq!(read("members.all(m, m.age >= 60) = false"), "有成员不满足(年龄（周岁） ≥ 60)");
    assert_eq!(read("members.all(m, m.age >= 60) = true"), "全部成员满足(年龄（周岁） ≥ 60)");
    assert_eq!(read("members.exists(m, m.age < 16) = false"), "没有成员满足(年龄（周岁） < 16)");
    assert_eq!(read("!members.exists(m, (m.age < 16)) = false"), "有成员满足((年龄（周岁） < 16))");
    // Within a list of conditions, and with the values read after it.
    assert_eq!(
        read("housing 'own' == 'own'；members.exists(m, m.work_ability == 'none') = true（size 2）"),
        "住房情况 “自有” = “自有”；有成员满足(劳动能力 = “无”)（家庭人口（在世） 2）"
    );
    // Inside a larger condition it stays as written.
    assert_eq!(
        read("size > 1 && !members.all(m, m.age >= 60) = true"),
        "家庭人口（在世） > 1 且 并非全部成员满足(年龄（周岁） ≥ 60) = 是"
    );
    assert_eq!(read("!('tekun' in m.categories) = false"), "非(“特困” 属于 享受的救助类别（含本户）) = 否");
    assert_eq!(read("unknown_thing 'x'"), "unknown_thing 'x'");
    // Each condition's codes by its own field; functions and methods are not fields.
    assert_eq!(
        read("housing 'own' == 'own'；'none' != work_ability 'full'"),
        "住房情况 “自有” = “自有”；“无” ≠ 劳动能力 “有”"
    );
    assert_eq!(read("members.filter(m, m.age >= 60).size() 2"), "members.filter(m, 年龄（周岁） ≥ 60).size() 2");
    assert_eq!(read("size(m.categories) 1"), "size(享受的救助类别（含本户）) 1");
    // Operators in words and signs, spaced or not; the engine's notes in Chinese alone.
    assert_eq!(
        read("(size>=3 || size == 1) && dangerous_housing ? 1 : 0"),
        "(家庭人口（在世） ≥ 3 或 家庭人口（在世） = 1) 且 危房（C/D 级） 则 1，否则 0"
    );
    assert_eq!(
        read("assets <= 1：无法判定，家庭财产未登记 (cannot be decided: household assets not recorded)"),
        "家庭财产 ≤ 1：无法判定，家庭财产未登记"
    );
    assert_eq!(read("已故 (deceased)"), "已故");
    assert_eq!(read("size(m.categories) (x)"), "size(享受的救助类别（含本户）) (x)");
    // Any text at all is read without a panic, quotes left open included.
    for odd in ["'", "'独居", "age '", "'a'b'", "“'男'”", "params.", "m.", "."] {
        let _ = read(odd);
    }
}
