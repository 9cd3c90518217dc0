//! Hostile repositories and inputs: files that are not records (a pipe, a
//! link to a device, a huge file), queries nested beyond reason, weights
//! that would make a deal allocate without bound, and terminal escapes in
//! records. Every command finishes, says what is wrong, and prints nothing
//! raw to the terminal.

mod common;
use common::TestRepo;
use std::time::Duration;

/// A bound on commands that must not hang: hitting it fails the test.
const LIMIT: Duration = Duration::from_secs(20);

/// Run with the time limit; (exit code, stdout, stderr). A command killed
/// at the limit has no exit code, and the test fails saying so.
fn bounded(t: &TestRepo, args: &[&str]) -> (i32, String, String) {
    let out = t.folio().args(args).timeout(LIMIT).output().unwrap();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("folio {args:?} did not finish within {LIMIT:?}"));
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---- 6. files that are not records ----

/// A repository with one good record, a pipe `x.toml`, a link `z.toml` to
/// /dev/zero and a 50 MB record `big.toml` (sparse: no disk used).
#[cfg(unix)]
fn not_records() -> TestRepo {
    let t = TestRepo::new();
    t.customer("C1", "ABC Corp", "John Doe", "US", "");
    let fifo = std::ffi::CString::new(
        t.path("customers/us/x.toml")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("/dev/zero", t.path("customers/us/z.toml")).unwrap();
    t.write(
        "customers/us/big.toml",
        &common::record("C2", "Big", "Ann", "US", "notes = \"\"\"\n"),
    );
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(t.path("customers/us/big.toml"))
        .unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    t
}

#[cfg(unix)]
#[test]
fn check_refuses_pipes_links_and_huge_files_without_hanging() {
    let t = not_records();
    let (code, out, err) = bounded(&t, &["check", "--as-of", "2026-01-01"]);
    assert_eq!(code, 1, "{err}");
    let headers: Vec<&str> = out.lines().filter(|l| l.contains("]: ")).collect();
    assert_eq!(
        headers,
        [
            "customers/us/big.toml: error[F006]: the file is 52428800 bytes, more than the 10485760 bytes folio reads",
            "customers/us/x.toml: error[F003]: not a regular file (device, socket or pipe)",
            "customers/us/z.toml: error[F003]: record is a symlink to `/dev/zero`, outside the repository",
        ],
        "{out}"
    );

    let (code, out, err) = bounded(&t, &["check", "--as-of", "2026-01-01", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let found: Vec<(&str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("customers/us/big.toml", "F006"),
            ("customers/us/x.toml", "F003"),
            ("customers/us/z.toml", "F003"),
        ]
    );
}

#[cfg(unix)]
#[test]
fn search_leaves_out_pipes_links_and_huge_files_and_names_them() {
    let t = not_records();
    // the first run builds the index, the second updates it
    for _ in 0..2 {
        let (code, out, err) = bounded(&t, &["search", "abc"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("ABC Corp-John Doe-US"), "{out}");
        for p in ["big", "x", "z"] {
            let p = format!("customers/us/{p}.toml");
            assert!(
                err.contains(&format!(
                    "warning: {p} is not a record folio can read (not a regular file, too large, or not readable: check its permissions) and is left out of the search index (run `folio check {p}` for details)"
                )),
                "{err}"
            );
        }
    }
}

// ---- 7. queries nested beyond reason ----

#[test]
fn deep_and_long_queries_are_bad_queries_not_crashes() {
    let t = TestRepo::new();
    t.customer("C1", "ABC Corp", "John Doe", "US", "");
    let nots = format!("{}abc", "NOT ".repeat(1000));
    let parens = format!("{}abc{}", "(".repeat(10_000), ")".repeat(10_000));
    let deep = format!("{}abc{}", "(".repeat(65), ")".repeat(65));
    let long = "abc ".repeat(2_600);
    let nested = "error: bad query: the query nests `(` and `NOT` more than 64 levels deep\n";
    let cases = [
        (&nots, nested.to_string()),
        (&deep, nested.to_string()),
        (
            &parens,
            "error: bad query: the query is 20003 characters long; at most 10000 are allowed\n"
                .to_string(),
        ),
        (
            &long,
            "error: bad query: the query is 10400 characters long; at most 10000 are allowed\n"
                .to_string(),
        ),
    ];
    for (q, want) in cases {
        for cmd in ["search", "export"] {
            let (code, out, err) = bounded(&t, &[cmd, "--", q]);
            assert_eq!(code, 2, "{cmd}: {err}");
            assert_eq!(out, "", "{cmd}");
            assert_eq!(
                err,
                format!("{want}hint: see `folio search --help` for the query language\n"),
                "{cmd}"
            );
        }
    }
    // 64 levels are fine
    let ok = format!("{}abc{}", "(".repeat(32), ")".repeat(32));
    let ok = format!("{}{ok}", "NOT NOT ".repeat(16));
    let (code, out, err) = bounded(&t, &["search", "--", &ok]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ABC Corp-John Doe-US"), "{out}");
}

/// folio.toml, staff.toml and schema files: a link is followed (a team may
/// share staff.toml), but a pipe is not read, however it is reached.
#[cfg(unix)]
#[test]
fn a_settings_file_that_is_a_pipe_stops_the_command_without_hanging() {
    let t = TestRepo::new();
    t.customer("C1", "ABC Corp", "John Doe", "US", "");
    std::fs::remove_file(t.path("staff.toml")).unwrap();
    let fifo =
        std::ffi::CString::new(t.path("team.pipe").into_os_string().into_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("team.pipe", t.path("staff.toml")).unwrap();
    let (code, out, err) = bounded(&t, &["check", "--as-of", "2026-01-01"]);
    assert_eq!((code, out.as_str()), (2, ""));
    let root = t.root().canonicalize().unwrap();
    assert_eq!(
        err,
        format!(
            "error: cannot read {}\ncaused by: not a regular file (a pipe)\n",
            root.join("staff.toml").display()
        )
    );
}

// ---- 8. weights that would make a deal allocate without bound ----

/// A repository in git with `n` pool customers P1..Pn (tier B) and staff
/// amy and ben.
fn pool_repo(n: usize, staff: &str) -> TestRepo {
    let t = TestRepo::new();
    t.write("staff.toml", staff);
    for i in 1..=n {
        let rel = format!("customers/de/pool-company-{i}--buyer-{i}--de.toml");
        let text = common::record(
            &format!("P{i}"),
            &format!("Pool Company {i}"),
            &format!("Buyer {i}"),
            "DE",
            "",
        )
        .replace("owner = \"alice\"\n", "");
        t.write(&rel, &text);
    }
    t.git_init();
    t.commit_all("pool", "admin", 1_767_225_600);
    t
}

const AMY_BEN: &str = "[staff.amy]\nname = \"A\"\n[staff.ben]\nname = \"B\"\n";

#[test]
fn huge_weights_are_refused_by_the_flag_and_by_check() {
    let t = pool_repo(2, AMY_BEN);
    let want = "error: invalid value '4294967295:1' for '--weights <WEIGHTS>': `4294967295:1` is not a list of weights such as 3:2:1 (whole numbers from 1 to 1000)";
    let (code, out, err) = bounded(
        &t,
        &[
            "pool",
            "assign",
            "--to",
            "amy,ben",
            "--weights",
            "4294967295:1",
            "--dry-run",
            "--as-of",
            "2026-03-02",
        ],
    );
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with(want), "{err}");
    let (code, _, err) = bounded(
        &t,
        &[
            "handover",
            "amy",
            "--to",
            "ben",
            "--weights",
            "1001",
            "--dry-run",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "`1001` is not a list of weights such as 3:2:1 (whole numbers from 1 to 1000)"
        ),
        "{err}"
    );

    t.write(
        "staff.toml",
        "[staff.amy]\nname = \"A\"\nweight = 200000000\n[staff.ben]\nname = \"B\"\n",
    );
    let (code, out, _) = bounded(&t, &["check", "--as-of", "2026-03-02"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with(
            "staff.toml:3:10: error[F601]: staff.amy.weight must be a whole number from 1 to 1000\n"
        ),
        "{out}"
    );
    let (code, out, _) = bounded(&t, &["check", "--as-of", "2026-03-02", "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(
        (d["path"].as_str(), d["line"].as_u64(), d["field"].as_str()),
        (Some("staff.toml"), Some(3), Some("staff.amy.weight"))
    );
    // a command dealing by staff weights refuses the broken staff.toml
    let (code, _, err) = bounded(
        &t,
        &["pool", "assign", "--dry-run", "--as-of", "2026-03-02"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("staff.amy.weight must be a whole number from 1 to 1000"),
        "{err}"
    );
}

#[test]
fn a_deal_of_1000_to_1_is_instant_and_proportional() {
    let t = pool_repo(6, AMY_BEN);
    let (code, out, err) = bounded(
        &t,
        &[
            "pool",
            "assign",
            "--to",
            "amy,ben",
            "--weights",
            "1000:1",
            "--count",
            "6",
            "--dry-run",
            "--as-of",
            "2026-03-02",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let receivers: Vec<&str> = out
        .lines()
        .filter_map(|l| l.rsplit_once(" -> ").map(|(_, r)| r))
        .collect();
    assert_eq!(receivers, ["amy"; 6], "{out}");
    let t = pool_repo(
        6,
        "[staff.amy]\nname = \"A\"\nweight = 1000\n[staff.ben]\nname = \"B\"\nweight = 1\n",
    );
    let (code, out, err) = bounded(
        &t,
        &[
            "pool",
            "assign",
            "--count",
            "6",
            "--dry-run",
            "--as-of",
            "2026-03-02",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let receivers: Vec<&str> = out
        .lines()
        .filter_map(|l| l.rsplit_once(" -> ").map(|(_, r)| r))
        .collect();
    assert_eq!(receivers, ["amy"; 6], "{out}");
}

// ---- 9. terminal escapes in records ----

const EVIL: &str = "customers/us/evil.toml";

/// A record whose name, follow-up summary and type hold an OSC title
/// change ending in BEL, a colour code and a C1 CSI, in git with a later
/// change of name and owner.
fn escapes_repo() -> TestRepo {
    let t = TestRepo::new();
    let hostile = "\\u001b]0;pwned\\u0007 x\\u001b[31m y\\u009b";
    let text = |owner: &str, name: &str| {
        format!(
            "id = \"C1\"\nname = \"{name}\"\ncontact = \"John Doe\"\ncountry = \"US\"\nowner = \"{owner}\"\ntier = \"B\"\ntype = \"{hostile}\"\nstage = \"contacted\"\ncreated = 2025-01-10\nnext_followup = 2025-12-01\n\n[[followups]]\ndate = 2025-11-01\nby = \"alice\"\nsummary = \"call {hostile}\"\n"
        )
    };
    t.write(EVIL, &text("alice", "Evil Co"));
    t.git_init();
    t.commit_all("add", "admin", 1_767_225_600);
    t.write(EVIL, &text("bob", &format!("Evil {hostile} Co")));
    t.commit_all("rename", "admin", 1_767_312_000);
    t
}

#[test]
fn record_escapes_never_reach_the_terminal_raw() {
    let t = escapes_repo();
    let runs: [&[&str]; 5] = [
        &["search", "evil"],
        &["due", "--as-of", "2026-01-01"],
        &["log", "C1"],
        &["owners", "C1"],
        &["check", "--as-of", "2026-01-01"],
    ];
    for color in [None, Some("--color=always")] {
        for args in runs {
            let mut args: Vec<&str> = args.to_vec();
            args.extend(color);
            let out = t.folio().args(&args).timeout(LIMIT).output().unwrap();
            assert!(out.status.code().is_some(), "{args:?}");
            let (o, e) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            // (folio's own red is `\x1b[1m\x1b[31m` with --color=always)
            for raw in ["\x1b]0;pwned", "\x07", "x\x1b[31m", "\u{9b}"] {
                assert!(
                    !o.contains(raw) && !e.contains(raw),
                    "{args:?} wrote {raw:?} raw:\n{o}{e}"
                );
            }
            assert!(
                o.contains("\\u{1b}]0;pwned\\u{7} x\\u{1b}[31m y\\u{9b}"),
                "{args:?}:\n{o}{e}"
            );
        }
    }
    // JSON is escaped by JSON, as before
    let out = t
        .folio()
        .args(["search", "evil", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v[0]["display_name"],
        "Evil \u{1b}]0;pwned\u{7} x\u{1b}[31m y\u{9b} Co-John Doe-US"
    );
}
