//! Over-long names (issue 14, item 14): the naming rule cuts a file name
//! to at most 200 bytes, so that `folio import --dry-run`, the real
//! import, `folio new` and `folio check` agree on one path.

mod common;
use common::{TestRepo, run};

/// The file names under customers/, sorted.
fn files(t: &TestRepo) -> Vec<String> {
    let mut v = Vec::new();
    for cc in std::fs::read_dir(t.path("customers")).unwrap() {
        let cc = cc.unwrap();
        for f in std::fs::read_dir(cc.path()).unwrap() {
            let f = f.unwrap();
            v.push(format!(
                "{}/{}",
                cc.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            ));
        }
    }
    v.sort();
    v
}

fn check_is_clean(t: &TestRepo) {
    let (code, out, err) = run(t.folio().args(["check"]));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn import_of_a_300_character_company_name_creates_the_record() {
    let t = TestRepo::new();
    let long = format!("{} Ltd", "A".repeat(300));
    t.write(
        "in.csv",
        &format!("Company,Contact,Country\n{long},Jo Doe,DE\nShort Co,Ann Lee,DE\n"),
    );
    let want = format!("customers/de/{}--jo-doe--de.toml", "a".repeat(183));
    assert_eq!(want.rsplit('/').next().unwrap().len(), 200);
    let args = [
        "import",
        "in.csv",
        "--as-of",
        "2026-01-01",
        "--ids",
        "seq:C",
    ];
    let (code, dry, err) = run(t.folio().args(args).arg("--dry-run"));
    assert_eq!(code, 0, "{dry}{err}");
    assert!(
        dry.contains(&format!("created row 2: {want} ({long}-Jo Doe-DE)\n")),
        "{dry}"
    );
    assert!(dry.contains("2 created, 0 updated, 0 skipped, 0 rejected"));
    let (code, real, err) = run(t.folio().args(args));
    assert_eq!(code, 0, "{real}{err}");
    // the real run says what the dry run said
    let created = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.starts_with("created row"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(created(&real), created(&dry));
    assert!(t.read(&want).contains(&format!("name = \"{long}\"")));
    assert_eq!(
        files(&t),
        [
            want.trim_start_matches("customers/").to_string(),
            "de/short-co--ann-lee--de.toml".to_string()
        ]
    );
    check_is_clean(&t);
}

#[test]
fn new_with_a_300_character_name_writes_a_cut_file_name() {
    let t = TestRepo::new();
    let long = "B".repeat(300);
    let (code, out, err) = run(t.folio().args([
        "new",
        "--name",
        &long,
        "--contact",
        "Jo Doe",
        "--country",
        "US",
        "--id",
        "N1",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let want = format!("customers/us/{}--jo-doe--us.toml", "b".repeat(183));
    assert_eq!(out, format!("created {want} ({long}-Jo Doe-US)\n"));
    assert!(t.path(&want).is_file());
    check_is_clean(&t);
}

#[test]
fn cjk_names_are_cut_and_told_apart_by_id() {
    let t = TestRepo::new();
    let base = "上海宏达进出口有限公司".repeat(20);
    let new = |name: &str, id: &str| {
        let (code, out, err) = run(t.folio().args([
            "new",
            "--name",
            name,
            "--contact",
            "王伟",
            "--country",
            "CN",
            "--id",
            id,
            "--as-of",
            "2026-01-01",
        ]));
        assert_eq!(code, 0, "{out}{err}");
        out
    };
    // the pinyin of the first 20 characters and a bit, cut on a character
    // boundary without a trailing dash
    let slug = folio::naming::slug(&base);
    let cut = |n: usize| slug[..n].trim_end_matches('-').to_string();
    let first = format!("customers/cn/{}--wang-wei--cn.toml", cut(200 - 19));
    assert_eq!(
        new(&format!("{base}东"), "N1"),
        format!("created {first} ({base}东-王伟-CN)\n")
    );
    // a second name alike up to the cut gets its id at the end of the cut
    let second = format!("customers/cn/{}-n2--wang-wei--cn.toml", cut(200 - 22));
    assert_eq!(
        new(&format!("{base}西"), "N2"),
        format!("created {second} ({base}西-王伟-CN)\n")
    );
    for p in [&first, &second] {
        let name = p.rsplit('/').next().unwrap();
        assert!(name.len() <= 200, "{name}");
    }
    // both at their rule paths: check reports nothing misnamed
    check_is_clean(&t);
}

#[test]
fn import_tells_apart_long_names_alike_up_to_the_cut_by_their_ids() {
    let t = TestRepo::new();
    let long = "A".repeat(300);
    t.write(
        "in.csv",
        &format!("Company,Contact,Country\n{long} One,Jo Doe,DE\n{long} Two,Jo Doe,DE\n"),
    );
    let args = [
        "import",
        "in.csv",
        "--as-of",
        "2026-01-01",
        "--ids",
        "seq:C",
    ];
    let (code, dry, err) = run(t.folio().args(args).arg("--dry-run"));
    assert_eq!(code, 0, "{dry}{err}");
    let one = format!("customers/de/{}--jo-doe--de.toml", "a".repeat(183));
    let two = format!("customers/de/{}-c2--jo-doe--de.toml", "a".repeat(180));
    assert!(dry.contains(&format!("created row 2: {one} (")), "{dry}");
    assert!(dry.contains(&format!("created row 3: {two} (")), "{dry}");
    let (code, out, err) = run(t.folio().args(args));
    assert_eq!(code, 0, "{out}{err}");
    assert!(t.read(&one).contains("id = \"C1\""));
    assert!(t.read(&two).contains("id = \"C2\""));
    check_is_clean(&t);
}
