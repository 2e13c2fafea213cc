use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn t(s: &str) -> Cell {
    if s.is_empty() { Cell::Empty } else { Cell::Text(s.to_owned()) }
}

fn row(cells: &[&str]) -> Vec<Cell> {
    cells.iter().map(|s| t(s)).collect()
}

fn communities() -> HashMap<String, DivisionCode> {
    let code = DivisionCode::parse("430602001001").unwrap();
    HashMap::from([("430602001001".to_owned(), code), ("洞庭社区".to_owned(), code)])
}

fn parse(rows: &[Vec<Cell>]) -> Parsed {
    let communities = communities();
    let number_for = |id: &IdNumber| format!("H{}", &id.as_str()[14..]);
    let ctx = Context { today: today(), communities: &communities, default_community: None, number_for: &number_for };
    let (header, mapping) = find_header(rows).expect("header found");
    parse_rows(rows, header, &mapping, &ctx)
}

// A valid ID: sequence odd for men.
fn id(birth: (i32, u32, u32), seq: u16) -> String {
    IdNumber::from_parts("430602", NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap(), seq)
        .unwrap()
        .to_string()
}

#[test]
fn finds_the_header_below_title_rows_by_synonyms() {
    let rows = vec![
        row(&["岳阳楼区2026年低保对象花名册"]),
        row(&["填报单位：洞庭社区", "", "填报日期：2026年11月"]),
        row(&["序号", "户号", "所属社区", "成员姓名", "公民身份号码", "与户主的关系", "月收入（元）", "备注"]),
    ];
    let (header, mapping) = find_header(&rows).unwrap();
    assert_eq!(header, 2);
    assert_eq!(
        mapping,
        vec![
            None,
            Some(Field::HouseholdNumber),
            Some(Field::Community),
            Some(Field::Name),
            Some(Field::IdNumber),
            Some(Field::Relation),
            Some(Field::MonthlyIncome),
            Some(Field::Note)
        ]
    );
    assert!(find_header(&[row(&["姓名", "年龄", "住址"])]).is_none(), "no ID column, no header");
}

#[test]
fn normalises_values_whose_meaning_is_certain() {
    assert_eq!(clean("　４３０６０２ "), "430602");
    // Runs of any white space (tabs, line breaks, the ideographic space) are one space.
    assert_eq!(clean(" 北环路\t\n 10栋　\u{3000}2单元\r\n"), "北环路 10栋 2单元");
    assert_eq!(clean(" \t　"), "");
    assert_eq!(parse_money(&t("1,200元")).unwrap(), Fen(120_000));
    assert_eq!(parse_money(&t("１２００.５")).unwrap(), Fen(120_050));
    assert_eq!(parse_money(&Cell::Number(760.0)).unwrap(), Fen(76_000));
    assert!(parse_money(&t("约1200")).is_err());
    assert!(parse_money(&t("-5")).is_err());
    // Separators only where thousands are.
    assert_eq!(parse_money(&t("12,345,678.9")).unwrap(), Fen(1_234_567_890));
    assert_eq!(parse_money(&t("1，200")).unwrap(), Fen(120_000));
    for s in ["1,20,0", "1,2000", ",200", "1200,"] {
        assert!(parse_money(&t(s)).is_err(), "{s}");
    }
    let jan5 = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    // A system's export gives the time too: midnight is the day itself.
    for s in ["2026/1/5", "2026-01-05", "2026年1月5日", "2026.1.5", "20260105", "2026-01-05 00:00:00", "2026/1/5 0:00"]
    {
        assert_eq!(parse_date(&t(s)).unwrap(), jan5, "{s}");
    }
    assert_eq!(parse_date(&Cell::Number(46027.0)).unwrap(), jan5, "Excel serial");
    assert_eq!(parse_date(&Cell::Number(2026.0)).unwrap_err().code, "year_only_date", "a year, not a day of 1905");
    // A 1 meaning "yes" in a 死亡日期 column is no day of 1899.
    for n in [1.0, 366.0, 99_999.0] {
        assert_eq!(parse_date(&Cell::Number(n)).unwrap_err().code, "invalid_date", "{n}");
    }
    assert!(parse_date(&t("2026/13/5")).is_err());
    assert!(parse_date(&t("2026-01-05 08:30:00")).is_err(), "a time of day is not a date's meaning for certain");
    assert_eq!(parse_phone(&t("138-1234-5678")).unwrap(), "13812345678");
    assert_eq!(parse_phone(&Cell::Number(13812345678.0)).unwrap(), "13812345678");
    assert_eq!(parse_phone(&t("0730-8221234")).unwrap(), "07308221234");
    assert!(parse_phone(&t("12345")).is_err());
    // A value copied from an error report or an export, masked: the worker is told to use the own ledger.
    assert_eq!(parse_phone(&t("139****1111")).unwrap_err().code, "masked_value");
    assert_eq!(parse_id(&t("430602********0371"), today()).unwrap_err().code, "masked_value");
    let x = id((1962, 3, 4), 27);
    assert_eq!(parse_id(&t(&x.to_lowercase()), today()).unwrap().as_str(), x);
}

#[test]
fn an_id_stored_as_a_number_is_rejected_with_the_fix() {
    let r = parse_id(&Cell::Number(430602199101010000.0), today()).unwrap_err();
    assert_eq!(r.code, "id_as_number");
    assert!(r.zh.contains("文本"), "{}", r.zh);
    assert_eq!(parse_id(&t("4.30602E+17"), today()).unwrap_err().code, "id_as_number");
}

#[test]
fn groups_members_and_holds_back_a_household_with_a_bad_row_whole() {
    let (head_a, wife_a, head_b, son_b) =
        (id((1960, 1, 2), 11), id((1962, 5, 6), 22), id((1970, 7, 8), 31), id((2001, 2, 3), 41));
    let header = row(&["户编号", "社区", "姓名", "身份证号", "与户主关系", "性别", "月收入(元)", "家庭救助类别"]);
    let rows = vec![
        header,
        // The sex in the words ledgers use: 男性, F.
        row(&["A1", "洞庭社区", "张 三", &head_a, "户主", "男性", "1,200元", "低保"]),
        // Merged household cells: the number and community are blank below the first row.
        row(&["", "", "李四", &wife_a, "妻", "F", "0", ""]),
        row(&["", "", "", "", "", "", "", ""]),
        row(&["B1", "430602001001", "王五", &head_b, "户主", "男", "800", "低保"]),
        row(&["B1", "430602001001", "王小五", &son_b, "子", "女", "abc", ""]),
    ];
    let parsed = parse(&rows);
    assert_eq!(parsed.rows, 4, "the blank row is not a data row");
    assert_eq!(parsed.households.len(), 1);
    let a = &parsed.households[0].household;
    assert_eq!((a.number.as_str(), a.members.len(), a.members[0].name.as_str()), ("A1", 2, "张三"));
    assert_eq!(a.members[0].monthly_income, Fen(120_000));
    assert_eq!(a.categories[0].category, Category::Dibao);
    assert_eq!(parsed.households[0].rows, vec![2, 3]);
    assert_eq!(parsed.held_back, vec![("B1".to_owned(), vec![5, 6])]);
    // Row 6: sex disagrees with the ID (son_b is male), and the income is not a number.
    let codes: Vec<(usize, Option<usize>, &str)> = parsed.issues.iter().map(|i| (i.row, i.column, i.code)).collect();
    // Row 5 has no problem of its own and is said to be held back with its household.
    assert_eq!(codes, vec![(6, Some(5), "sex_mismatch"), (6, Some(6), "invalid_amount"), (5, None, "held_back")]);
    assert!(parsed.issues[2].message_zh.contains("第6行"), "{}", parsed.issues[2].message_zh);
    assert!(parsed.issues[1].message_en.contains("yuan"));
}

#[test]
fn a_sex_in_no_words_for_one_is_refused_as_such() {
    let head = id((1960, 1, 2), 11);
    let rows = vec![
        row(&["户编号", "社区", "姓名", "身份证号", "与户主关系", "性别"]),
        row(&["A1", "洞庭社区", "张三", &head, "户主", "未知"]),
    ];
    let parsed = parse(&rows);
    let codes: Vec<(usize, Option<usize>, &str)> = parsed.issues.iter().map(|i| (i.row, i.column, i.code)).collect();
    assert_eq!(codes, vec![(2, Some(5), "sex_unknown")]);
}

#[test]
fn a_total_row_is_left_out_and_counted() {
    let head = id((1960, 1, 2), 11);
    let rows = vec![
        row(&["户编号", "社区", "姓名", "身份证号", "与户主关系", "月收入(元)"]),
        row(&["A1", "洞庭社区", "张三", &head, "户主", "1,100"]),
        row(&["合 计", "", "", "", "", "1,100"]),
        row(&["", "", "小计：1户", "", "", ""]),
        // The sheet's foot: a note and the signatures.
        row(&["注：收入为月均数", "", "", "", "", ""]),
        row(&["填表人：李某", "", "审核人:王某", "", "", "联系电话：0730-1234567"]),
    ];
    let parsed = parse(&rows);
    assert_eq!((parsed.rows, parsed.totals, parsed.issues.len()), (1, 4, 0), "{:?}", parsed.issues);
    assert_eq!(parsed.households.len(), 1);
    // A person with an ID number is a person, whatever their name.
    let named = vec![rows[0].clone(), row(&["A1", "洞庭社区", "合计", &head, "户主", "0"])];
    assert_eq!((parse(&named).households.len(), parse(&named).totals), (1, 0));
}

#[test]
fn a_number_in_the_name_column_is_rejected() {
    let head = id((1960, 1, 2), 11);
    let rows = vec![
        row(&["户编号", "社区", "姓名", "身份证号", "与户主关系"]),
        row(&["A1", "洞庭社区", &head, &head, "户主"]),
        row(&["B1", "洞庭社区", "李四", &id((1961, 3, 4), 21), "户主"]),
    ];
    let parsed = parse(&rows);
    let codes: Vec<&str> = parsed.issues.iter().map(|i| i.code).collect();
    assert_eq!((codes, parsed.households.len()), (vec!["number_as_name"], 1));
    assert!(!parsed.issues[0].value.contains(&head[6..14]), "the report masks it: {}", parsed.issues[0].value);
}

#[test]
fn a_household_needs_one_head_and_an_id_appears_once() {
    let (a, b, c) = (id((1960, 1, 2), 11), id((1962, 5, 6), 22), id((1980, 1, 1), 51));
    let rows = vec![
        row(&["户编号", "社区代码", "姓名", "身份证号", "与户主关系"]),
        row(&["X1", "430602001001", "甲", &a, "户主"]),
        row(&["X1", "430602001001", "乙", &b, "户主"]),
        row(&["Y1", "430602001001", "丙", &c, "户主"]),
        row(&["Z1", "430602001001", "丁", &c, "户主"]),
        row(&["W1", "430603001001", "戊", &id((1990, 1, 1), 61), "户主"]),
    ];
    let parsed = parse(&rows);
    assert!(parsed.households.is_empty(), "{:?}", parsed.households);
    let codes: Vec<&str> = parsed.issues.iter().map(|i| i.code).collect();
    // The row without a problem of its own is listed as held back with its household.
    assert_eq!(codes, vec!["two_heads", "two_heads", "id_repeated", "community_unknown", "held_back"]);
    assert_eq!(parsed.issues[2].message_en, "this ID number already appears in row 4");
    assert!(!parsed.issues[2].value.contains(&c[6..14]), "IDs stay masked in the report");
}

#[test]
fn without_a_number_column_each_head_starts_a_household() {
    let (a, b, c) = (id((1960, 1, 2), 11), id((1962, 5, 6), 22), id((1980, 1, 1), 51));
    let rows = vec![
        row(&["社区", "姓名", "身份证号码", "关系"]),
        row(&["洞庭社区", "甲", &a, "户主"]),
        row(&["洞庭社区", "乙", &b, "配偶"]),
        row(&["洞庭社区", "丙", &c, "本人"]),
    ];
    let parsed = parse(&rows);
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let sizes: Vec<(String, usize)> =
        parsed.households.iter().map(|h| (h.household.number.clone(), h.household.members.len())).collect();
    assert_eq!(sizes, vec![(format!("H{}", &a[14..]), 2), (format!("H{}", &c[14..]), 1)]);
}

#[test]
fn column_letters_run_like_excel() {
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(25), "Z");
    assert_eq!(column_letter(26), "AA");
    assert_eq!(column_letter(27), "AB");
}

#[test]
fn a_ledger_read_in_batches_cut_between_households_reads_as_one() {
    let ids: Vec<String> = (0..6).map(|i| id((1950 + i, 1, 2), 11 + 10 * i as u16)).collect();
    let mut rows = vec![row(&["户编号", "社区", "姓名", "身份证号", "与户主关系"])];
    for (n, (number, relation)) in
        [("A", "户主"), ("", "子女"), ("B", "户主"), ("B", "配偶"), ("C", "户主"), ("A", "配偶")].iter().enumerate()
    {
        rows.push(row(&[number, "洞庭社区", "某", &ids[n], relation]));
    }
    let communities = communities();
    let number_for = |id: &IdNumber| id.masked();
    let ctx = Context { today: today(), communities: &communities, default_community: None, number_for: &number_for };
    let (header, mapping) = find_header(&rows).unwrap();
    let whole = parse_rows(&rows, header, &mapping, &ctx);
    let numbered: Vec<(usize, Vec<Cell>)> = rows.iter().cloned().enumerate().skip(1).map(|(i, r)| (i + 1, r)).collect();
    let mut reader = LedgerReader::new(1, mapping.clone(), ctx);
    let cut = reader.last_start(&numbered[..4]);
    assert_eq!(cut, 2, "B starts at the third data row");
    let mut first = reader.parse(&numbered[..cut]);
    let second = reader.parse(&numbered[cut..]);
    first.households.extend(second.households);
    first.issues.extend(second.issues);
    let numbers = |p: &Parsed| p.households.iter().map(|h| h.household.number.clone()).collect::<Vec<_>>();
    assert_eq!(numbers(&first), vec!["A", "B", "C"]);
    assert_eq!(numbers(&whole), vec!["A", "B", "C"], "the unsorted second A joins the first in one batch");
    // Across batches the second A cannot join the first one: it is named, not merged silently.
    assert_eq!(whole.households[0].household.members.len(), 3);
    let codes: Vec<(usize, &str)> = first.issues.iter().map(|i| (i.row, i.code)).collect();
    assert_eq!(codes, vec![(7, "no_head"), (7, "number_repeated")]);
    // With the pass over the number column ahead of the reading, as an import does, the
    // first A is held back too: an import never writes a household without some members.
    let mut repeats = Repeats::default();
    let column = mapping.iter().position(|m| *m == Some(Field::HouseholdNumber)).unwrap();
    for (number, cells) in &numbered {
        repeats.see_number(*number, &cells[column]);
    }
    let mut reader = LedgerReader::new(1, mapping.clone(), ctx);
    reader.expect_repeats(repeats);
    let (first, second) = (reader.parse(&numbered[..cut]), reader.parse(&numbered[cut..]));
    let kept: Vec<String> = [&first, &second].iter().flat_map(|p| numbers(p)).collect();
    assert_eq!(kept, ["B", "C"]);
    let held: Vec<(String, Vec<usize>)> = [&first, &second].iter().flat_map(|p| p.held_back.clone()).collect();
    assert_eq!(held, [("A".to_owned(), vec![2, 3]), ("A".to_owned(), vec![7])]);
    assert_eq!(first.held_back_households() + second.held_back_households(), 1, "one household, counted once");
    let apart: Vec<(usize, &str)> = first
        .issues
        .iter()
        .chain(&second.issues)
        .filter(|i| i.code == "number_apart")
        .map(|i| (i.row, i.message_en.as_str()))
        .collect();
    let said = "this household's members are too far apart in the sheet (rows 2 and 7) to be read as one: keep a household's members together";
    assert_eq!(apart, [(2, said), (7, said)]);
    // Read whole, the same pass changes nothing: the unsorted A is one household.
    let mut reader = LedgerReader::new(1, mapping.clone(), ctx);
    let mut repeats = Repeats::default();
    for (number, cells) in &numbered {
        repeats.see_number(*number, &cells[column]);
    }
    reader.expect_repeats(repeats);
    let whole = reader.parse(&numbered);
    assert_eq!((numbers(&whole), whole.issues.len()), (vec!["A".to_owned(), "B".to_owned(), "C".to_owned()], 0));
}

#[test]
fn a_birth_date_or_sex_column_must_agree_with_the_id() {
    let man = id((1960, 1, 2), 11);
    let rows = vec![
        row(&["户编号", "社区", "姓名", "身份证号", "与户主关系", "出生日期", "性别"]),
        row(&["K1", "洞庭社区", "甲", &man, "户主", "1960年1月2日", "男"]),
        row(&["K2", "洞庭社区", "乙", &id((1961, 1, 2), 21), "户主", "1961/1/3", "男"]),
        row(&["K3", "洞庭社区", "丙", &id((1962, 3, 4), 31), "户主", "1962-03", "男"]),
        row(&["K4", "洞庭社区", "丁", &id((1963, 3, 4), 41), "户主", "1963年4月", "男"]),
        row(&["K5", "洞庭社区", "戊", &id((1964, 3, 4), 51), "户主", "不详", "男"]),
    ];
    // 1965/3 typed into a 出生年月 column is stored by Excel as a date cell of the 1st.
    let mut rows = rows;
    for (number, born, cell) in [("K6", (1965, 3, 4), (1965, 3, 1)), ("K7", (1966, 3, 4), (1966, 4, 1))] {
        let mut r = row(&[number, "洞庭社区", "己", &id(born, 61), "户主", "", "男"]);
        r[5] = Cell::Date(NaiveDate::from_ymd_opt(cell.0, cell.1, cell.2).unwrap());
        rows.push(r);
    }
    // 1967.10 typed into a number cell is stored as 1967.1; 1968.1 is January only.
    for (number, born, typed) in
        [("K8", (1967, 10, 4), 1967.1), ("K9", (1968, 1, 4), 1968.1), ("KA", (1969, 11, 4), 1969.1)]
    {
        let mut r = row(&[number, "洞庭社区", "庚", &id(born, 71), "户主", "", "男"]);
        r[5] = Cell::Number(typed);
        rows.push(r);
    }
    let parsed = parse(&rows);
    let codes: Vec<(usize, &str)> = parsed.issues.iter().map(|i| (i.row, i.code)).collect();
    let expected = vec![
        (3, "birth_mismatch"),
        (5, "birth_mismatch"),
        (6, "invalid_date"),
        (8, "birth_mismatch"),
        (11, "birth_mismatch"),
    ];
    assert_eq!(codes, expected);
    let numbers: Vec<&str> = parsed.households.iter().map(|h| h.household.number.as_str()).collect();
    assert_eq!(numbers, vec!["K1", "K3", "K6", "K8", "K9"], "a month-only 出生年月 that agrees is accepted");
}

#[test]
fn a_death_before_the_birth_is_refused() {
    let rows = vec![
        row(&["户编号", "社区", "姓名", "身份证号", "与户主关系", "死亡日期"]),
        row(&["D1", "洞庭社区", "甲", &id((1960, 1, 2), 11), "户主", "1959-12-31"]),
        row(&["D2", "洞庭社区", "乙", &id((1960, 1, 2), 21), "户主", "2020-05-06"]),
    ];
    let parsed = parse(&rows);
    let codes: Vec<(usize, &str)> = parsed.issues.iter().map(|i| (i.row, i.code)).collect();
    assert_eq!(codes, vec![(2, "death_before_birth")]);
}

#[test]
fn every_tag_and_category_label_reads_back_from_a_ledger_cell() {
    // Labels such as 刑事被害人（未获赔偿） hold full-width brackets, which a
    // cell's text is cleaned of; the label must still be found.
    for &tag in Tag::ALL {
        let read = list(&t(tag.label_zh()), Field::HouseholdTags, Tag::parse).ok();
        assert_eq!(read, Some(vec![tag]), "{}", tag.label_zh());
    }
    for &category in Category::ALL {
        let read = list(&t(category.label_zh()), Field::HouseholdCategories, Category::parse).ok();
        assert_eq!(read, Some(vec![category]), "{}", category.label_zh());
    }
}

#[test]
fn a_death_in_the_ledger_ends_the_persons_categories_with_its_month() {
    let (a, b) = (id((1940, 1, 2), 11), id((1942, 5, 6), 22));
    let rows = vec![
        row(&["户编号", "社区代码", "姓名", "身份证号", "与户主关系", "个人救助类别", "死亡日期"]),
        row(&["D1", "430602001001", "甲", &a, "户主", "特困", ""]),
        row(&["D1", "430602001001", "乙", &b, "配偶", "特困", "2026年9月12日"]),
    ];
    let parsed = parse(&rows);
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let members = &parsed.households[0].household.members;
    assert_eq!(members[0].categories[0].end, None, "the living keep theirs");
    let ended = &members[1].categories[0];
    assert_eq!(ended.end, NaiveDate::from_ymd_opt(2026, 9, 30), "to the end of the month of death");
    assert!(ended.start <= NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(), "it began before it ended: {ended:?}");
}

#[test]
fn an_id_on_a_rejected_row_is_still_taken() {
    let (a, b) = (id((1960, 1, 2), 11), id((1962, 5, 6), 22));
    let rows = vec![
        row(&["户编号", "社区代码", "姓名", "身份证号", "与户主关系", "联系电话"]),
        row(&["X1", "430602001001", "甲", &a, "户主", "12345"]),
        row(&["Y1", "430602001001", "乙", &b, "户主", ""]),
        row(&["Y1", "430602001001", "甲", &a, "子女", ""]),
    ];
    let parsed = parse(&rows);
    assert!(parsed.households.is_empty(), "{:?}", parsed.households);
    let found: Vec<(usize, &str)> = parsed.issues.iter().map(|i| (i.row, i.code)).collect();
    assert!(found.contains(&(4, "id_repeated")), "{found:?}");
    assert_eq!(
        parsed.issues.iter().find(|i| i.code == "id_repeated").unwrap().message_en,
        "this ID number already appears in row 2"
    );
}

#[test]
fn a_sheet_says_only_the_fields_it_has_columns_for() {
    let said = Said::of(&[Some(Field::Name), None, Some(Field::IdNumber), Some(Field::MonthlyIncome)]);
    assert!(said.has(Field::Name) && said.has(Field::IdNumber) && said.has(Field::MonthlyIncome));
    assert!(!said.has(Field::Phone) && !said.has(Field::DeathDate) && !said.has(Field::Note));
    assert!(Field::ALL.iter().all(|&f| Said::all().has(f)));
}

#[test]
fn an_unrecognised_header_is_guessed_as_the_fullest_top_row() {
    let rows = vec![
        row(&["Household list 2026"]),
        row(&[]),
        row(&["Name", "ID", "Relation", "Phone"]),
        row(&["吴六", "430602196003040011", "户主", ""]),
    ];
    assert_eq!(find_header(&rows), None);
    assert_eq!(guess_header(&rows), Some(2));
    assert_eq!(guess_header(&[row(&[]), row(&[" "])]), None);
}

#[test]
fn a_certificate_number_is_read_as_typed_and_refused_when_it_is_not_one() {
    assert_eq!(parse_certificate(" ４３０６０２１９６００３０４００１ｘ１２ ").unwrap(), "43060219600304001X12");
    for bad in ["", "4306-0219", "残疾证", &"1".repeat(31)] {
        assert_eq!(parse_certificate(bad).unwrap_err().code, "bad_certificate", "{bad}");
    }
}

#[test]
fn one_households_rows_that_disagree_on_a_household_fact_hold_it_back() {
    let rows = vec![
        row(&["户编号", "社区代码", "家庭住址", "姓名", "身份证号", "与户主关系"]),
        row(&["D1", "430602001001", "洞庭路1号", "赵一", &id((1960, 3, 4), 11), "户主"]),
        row(&["D1", "430602001001", "洞庭路9号", "钱二", &id((1962, 3, 4), 22), "配偶"]),
        row(&["D2", "430602001001", "洞庭路2号", "孙三", &id((1970, 3, 4), 31), "户主"]),
        row(&["D2", "", "", "李四", &id((1972, 3, 4), 42), "配偶"]),
    ];
    let parsed = parse(&rows);
    let numbers: Vec<&str> = parsed.households.iter().map(|h| h.household.number.as_str()).collect();
    assert_eq!(numbers, ["D2"], "blank cells below continue the household; a different value holds it back");
    let issue = parsed.issues.iter().find(|i| i.code == "household_value_differs").unwrap();
    assert_eq!((issue.row, issue.column, issue.field), (3, Some(2), Some(Field::Address)));
    assert!(issue.message_zh.contains("第2行") && issue.message_zh.contains("洞庭路1号"), "{issue:?}");
    // A phone is quoted back masked.
    let rows = vec![
        row(&["户编号", "社区代码", "家庭电话", "姓名", "身份证号", "与户主关系"]),
        row(&["D1", "430602001001", "13812345678", "赵一", &id((1960, 3, 4), 11), "户主"]),
        row(&["D1", "430602001001", "13900001111", "钱二", &id((1962, 3, 4), 22), "配偶"]),
    ];
    let parsed = parse(&rows);
    let issue = parsed.issues.iter().find(|i| i.code == "household_value_differs").unwrap();
    let said = format!("{} / {}", issue.message_zh, issue.message_en);
    assert!(said.contains("138****5678") && !said.contains("13812345678"), "{said}");
}

#[test]
fn an_address_over_a_hundred_characters_holds_the_household_back() {
    let long = "洞".repeat(101);
    let rows = vec![
        row(&["户编号", "社区代码", "家庭住址", "姓名", "身份证号", "与户主关系"]),
        row(&["A1", "430602001001", &long, "赵一", &id((1960, 3, 4), 11), "户主"]),
        row(&["A2", "430602001001", &"洞".repeat(100), "钱二", &id((1962, 3, 4), 22), "户主"]),
    ];
    let parsed = parse(&rows);
    let numbers: Vec<&str> = parsed.households.iter().map(|h| h.household.number.as_str()).collect();
    assert_eq!(numbers, ["A2"]);
    let issue = parsed.issues.iter().find(|i| i.code == "too_long").unwrap();
    assert_eq!((issue.row, issue.column, issue.field), (2, Some(2), Some(Field::Address)));
}

#[test]
fn the_preview_shows_a_cell_as_it_will_be_stored() {
    let id = IdNumber::from_parts("430602", NaiveDate::from_ymd_opt(1960, 3, 4).unwrap(), 11).unwrap();
    let shown = |f: Field, c: Cell| as_mapped(f, &c, today());
    assert_eq!(shown(Field::IdNumber, t(&id.as_str().to_lowercase())), id.masked());
    assert_eq!(shown(Field::MonthlyIncome, t("1,200元")), "1,200.00");
    assert_eq!(shown(Field::Relation, t("妻子")), "配偶");
    assert_eq!(shown(Field::DisabilityKind, t("肢体残疾")), "肢体");
    assert_eq!(shown(Field::DangerousHousing, t("Y")), "是");
    assert_eq!(shown(Field::HouseholdCategories, t("低保，特困")), "低保、特困");
    // Named twice, held once (two holdings of one category would double its rows).
    assert_eq!(shown(Field::HouseholdCategories, t("低保、dibao，特困、低保")), "低保、特困");
    assert_eq!(shown(Field::DeathDate, Cell::Date(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap())), "2026-01-02");
    assert_eq!(shown(Field::Phone, t("138 1234 5678")), "138****5678");
    // What does not read is shown as typed; the issues say why.
    assert_eq!(shown(Field::MonthlyIncome, t("约800")), "约800");
    assert_eq!(shown(Field::Name, t(" 张三 ")), "张三");
}

#[test]
fn a_mapping_written_by_hand_names_each_column_once() {
    assert_eq!(
        parse_mapping("name, id_number,,relation").unwrap(),
        vec![Some(Field::Name), Some(Field::IdNumber), None, Some(Field::Relation)]
    );
    let unknown = parse_mapping("name,shoe_size").unwrap_err();
    assert_eq!((unknown.code, unknown.en.as_str()), ("invalid_mapping", "unknown field: shoe_size"));
    let twice = parse_mapping("name,id_number,relation,name").unwrap_err();
    assert!(twice.zh.contains("A 列和 D 列") && twice.en.contains("columns A and D"), "{}", twice.zh);
    // Without a column for the name, ID number or relation no row could be read: said once.
    let short = parse_mapping("household_number,community,name").unwrap_err();
    assert!(short.zh.contains("列对应缺少：身份证号、与户主关系"), "{}", short.zh);
}

#[test]
fn a_households_own_income_is_read_from_its_columns_by_kind() {
    let rows = vec![
        row(&[
            "户编号",
            "社区代码",
            "姓名",
            "身份证号",
            "与户主关系",
            "月收入",
            "经营性收入(元)",
            "赡养费",
            "租金收入",
        ]),
        row(&["I1", "430602001001", "赵一", &id((1960, 3, 4), 11), "户主", "800", "1,200元", "", "0"]),
        row(&["I1", "430602001001", "钱二", &id((1962, 3, 4), 22), "配偶", "", "", "300", ""]),
        row(&["I2", "430602001001", "孙三", &id((1970, 3, 4), 31), "户主", "", "一千", "", ""]),
    ];
    let parsed = parse(&rows);
    let numbers: Vec<&str> = parsed.households.iter().map(|h| h.household.number.as_str()).collect();
    assert_eq!(numbers, ["I1"], "a bad amount holds its household back");
    let h = &parsed.households[0].household;
    assert_eq!(
        h.income_items,
        vec![
            IncomeItem { kind: IncomeKind::Business, monthly: Fen(120_000) },
            IncomeItem { kind: IncomeKind::Transfer, monthly: Fen(30_000) },
        ]
    );
    assert_eq!(h.monthly_income(), Fen(230_000), "the members' income and the household's");
    assert_eq!(h.per_capita_income(), Fen(115_000));
    let issue = parsed.issues.iter().find(|i| i.row == 4).unwrap();
    assert_eq!((issue.column, issue.field, issue.code), (Some(6), Some(Field::BusinessIncome), "invalid_amount"));
}

#[test]
fn an_amount_past_a_billion_yuan_is_refused_not_wrapped() {
    assert_eq!(parse_money(&t("1,000,000,000")), Ok(Fen::MAX_AMOUNT));
    for cell in [t("1000000000.01"), Cell::Number(1e20), t("999999999999")] {
        assert_eq!(parse_money(&cell).unwrap_err().code, "amount_too_large", "{cell:?}");
    }
}

#[test]
fn an_id_twice_far_apart_holds_back_both_households_once_the_pass_ahead_has_found_it() {
    let (a, b, c) = (id((1960, 1, 2), 11), id((1962, 5, 6), 22), id((1970, 3, 4), 31));
    let header = row(&["户编号", "社区代码", "姓名", "身份证号", "与户主关系"]);
    let first =
        vec![(2, row(&["X1", "430602001001", "甲", &a, "户主"])), (3, row(&["Z1", "430602001001", "丙", &c, "户主"]))];
    let second = vec![
        (40_002, row(&["Y1", "430602001001", "乙", &b, "户主"])),
        (40_003, row(&["Y1", "430602001001", "甲", &a, "子女"])),
    ];
    let communities = communities();
    let number_for = |id: &IdNumber| format!("H{}", &id.as_str()[14..]);
    let ctx = Context { today: today(), communities: &communities, default_community: None, number_for: &number_for };
    let (_, mapping) = find_header(std::slice::from_ref(&header)).unwrap();
    // Read batch by batch, as an import does, without and then with the pass ahead.
    let read = |repeats: Option<Repeats>| {
        let mut reader = LedgerReader::new(1, mapping.clone(), ctx);
        if let Some(r) = repeats {
            reader.expect_repeats(r);
        }
        (reader.parse(&first), reader.parse(&second))
    };
    let numbers = |p: &Parsed| p.households.iter().map(|h| h.household.number.clone()).collect::<Vec<_>>();
    let (one, two) = read(None);
    assert_eq!(numbers(&one), ["X1", "Z1"], "the first batch alone cannot know");
    assert!(numbers(&two).is_empty());
    let mut repeats = Repeats::default();
    let column = mapping.iter().position(|m| *m == Some(Field::IdNumber)).unwrap();
    for (number, cells) in first.iter().chain(&second) {
        repeats.see(*number, &cells[column], today());
    }
    assert_eq!(repeats.len(), 1);
    let (one, two) = read(Some(repeats));
    assert_eq!(numbers(&one), ["Z1"], "甲's first household is held back too");
    assert!(numbers(&two).is_empty());
    let said: Vec<(usize, String)> =
        one.issues.iter().chain(&two.issues).map(|i| (i.row, i.message_en.clone())).collect();
    assert_eq!(
        said,
        [
            (2, "this ID number also appears in row 40003".to_owned()),
            (40_003, "this ID number already appears in row 2".to_owned()),
            (40_002, "held back with its household: row 40003 has a problem (this row has none)".to_owned()),
        ]
    );
    assert!(one.issues[0].message_zh.contains("第40003行也出现"));
}

#[test]
fn a_repeat_met_first_further_down_names_the_other_row() {
    // 户 H1's rows are not together: the reader reads H1 (rows 2 and 4) before H2 (row 3).
    let (a, b, x) = (id((1960, 1, 2), 11), id((1962, 5, 6), 22), id((1970, 3, 4), 31));
    let rows = vec![
        (2, row(&["H1", "430602001001", "甲", &a, "户主"])),
        (3, row(&["H2", "430602001001", "乙", &x, "户主"])),
        (4, row(&["H1", "430602001001", "丙", &x, "子女"])),
        (5, row(&["H3", "430602001001", "丁", &b, "户主"])),
    ];
    let header = row(&["户编号", "社区代码", "姓名", "身份证号", "与户主关系"]);
    let communities = communities();
    let number_for = |id: &IdNumber| format!("H{}", &id.as_str()[14..]);
    let ctx = Context { today: today(), communities: &communities, default_community: None, number_for: &number_for };
    let (_, mapping) = find_header(std::slice::from_ref(&header)).unwrap();
    let mut repeats = Repeats::default();
    for (number, cells) in &rows {
        repeats.see(*number, &cells[3], today());
    }
    let mut reader = LedgerReader::new(1, mapping, ctx);
    reader.expect_repeats(repeats);
    let parsed = reader.parse(&rows);
    let said: Vec<(usize, &str)> = parsed.issues.iter().map(|i| (i.row, i.message_en.as_str())).collect();
    assert_eq!(
        said,
        [
            (4, "this ID number also appears in row 3"),
            (3, "this ID number already appears in row 4"),
            (2, "held back with its household: row 4 has a problem (this row has none)"),
        ]
    );
    let kept: Vec<&str> = parsed.households.iter().map(|h| h.household.number.as_str()).collect();
    assert_eq!(kept, ["H3"]);
}

#[test]
fn relations_are_read_as_household_registers_write_them() {
    use crate::registry::Relation;
    let cases = [
        ("户主", Relation::Head),
        ("本人", Relation::Head),
        ("之子", Relation::Child),
        ("户主之女", Relation::Child),
        ("女婿", Relation::Child),
        ("之妻", Relation::Spouse),
        ("岳母", Relation::Parent),
        ("外孙子", Relation::Grandchild),
        ("妹妹", Relation::Sibling),
    ];
    for (text, relation) in cases {
        assert_eq!(super::parse_relation(text), Some(relation), "{text}");
    }
    for text in ["之", "邻居", "户主之"] {
        assert_eq!(super::parse_relation(text), None, "{text}");
    }
}

#[test]
fn headers_with_notes_in_brackets_are_recognised() {
    let cases = [
        ("身份证号码（18位）", Field::IdNumber),
        ("居民身份证号", Field::IdNumber),
        ("证件号码（居民）", Field::IdNumber),
        ("姓名(必填)", Field::Name),
        ("*月收入【元】", Field::MonthlyIncome),
        ("社区(村)", Field::Community),
        ("所属村（社区）", Field::Community),
        ("婚姻状态", Field::Marital),
        ("身体状况", Field::Health),
        ("称谓", Field::Relation),
        ("保障起始时间", Field::CategoryStart),
    ];
    for (header, field) in cases {
        assert_eq!(field_for_header(header), Some(field), "{header}");
    }
    // One header it cannot read leaves the others proposed.
    let row: Vec<Cell> =
        ["户编号", "姓名", "身份号（身份证）", "与户主关系"].iter().map(|t| Cell::Text((*t).into())).collect();
    assert_eq!(
        propose_mapping(&row),
        vec![Some(Field::HouseholdNumber), Some(Field::Name), None, Some(Field::Relation)]
    );
}

#[test]
fn a_household_number_that_is_an_id_number_is_not_kept() {
    let (head, child) = (id((1970, 3, 4), 31), id((2001, 5, 6), 22));
    let rows = vec![
        row(&["户编号", "社区", "姓名", "身份证号", "与户主关系"]),
        row(&[&head, "洞庭社区", "甲", &head, "户主"]),
        row(&[&head, "洞庭社区", "乙", &child, "子女"]),
        row(&["H9", "洞庭社区", "丙", &id((1980, 1, 2), 11), "户主"]),
    ];
    let communities = communities();
    let number_for = |id: &IdNumber| format!("HZ{}", id.as_str().len());
    let ctx = Context { today: today(), communities: &communities, default_community: None, number_for: &number_for };
    let (header, mapping) = find_header(&rows).unwrap();
    let parsed = parse_rows(&rows, header, &mapping, &ctx);
    let numbers: Vec<(&str, usize)> =
        parsed.households.iter().map(|h| (h.household.number.as_str(), h.household.members.len())).collect();
    assert_eq!(numbers, [("HZ18", 2), ("H9", 1)], "numbered as a ledger without numbers is");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
}
