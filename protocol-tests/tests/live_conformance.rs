//! The pgtest corpus (`protocol-tests/pgtest/`) against the real test server, through the
//! library and through the `pgtest` binary; and the runner itself against the same server: a
//! wrong, missing or extra message must fail its step at its location, a conversation that
//! lost track must end the file, and rewrite must record what the server answered.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use protocol_tests::live;
use protocol_tests::pgtest::{run_file, scenario_files, FileReport, Status, Target};

fn target(user: &str, password: Option<&str>) -> Target {
    Target {
        host: live::env("TUSK_PG_HOST"),
        port: live::port(),
        user: user.into(),
        password: password.map(str::to_owned),
        dbname: Some(live::env("TUSK_PG_DBNAME")),
        params: Vec::new(),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(10),
    }
}

fn admin() -> Target {
    target(
        &live::env("TUSK_PG_USER"),
        Some(&live::env("TUSK_PG_PASSWORD")),
    )
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pgtest")
}

/// A scenario written to a fresh file of its own in the temporary directory.
fn scenario(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "tusk-live-conformance-{}-{name}.pgtest",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

fn run(path: &Path, target: &Target) -> FileReport {
    run_file(path, &path.display().to_string(), target, false)
}

/// The binary with the test server's address and credentials, then `args`.
fn pgtest(args: &[&str]) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pgtest"))
        .args(["--conninfo", &live::env("TUSK_PG_URL")])
        .args(args)
        .output()
        .expect("the pgtest binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

#[test]
fn the_corpus_passes_against_postgresql() {
    let files = scenario_files(&[corpus()]).unwrap();
    // The corpus is there: an empty directory must not pass for a passing corpus.
    assert!(
        files.len() >= 14,
        "only {} scenario files in {:?}",
        files.len(),
        corpus()
    );
    let started = Instant::now();
    let mut failures = String::new();
    let mut steps = 0;
    for file in &files {
        let report = run(file, &admin());
        steps += report.steps.len();
        assert!(
            report.steps.iter().any(|s| s.status == Status::Pass),
            "{} ran no step:\n{}",
            file.display(),
            report.render()
        );
        if !report.passed() {
            failures.push_str(&report.render());
        }
    }
    assert!(failures.is_empty(), "the corpus failed:\n{failures}");
    eprintln!(
        "pgtest corpus: {} files, {steps} steps passed in {:.2} s",
        files.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn the_binary_runs_the_corpus_and_says_so() {
    let dir = corpus();
    let (output, stdout) = pgtest(&[dir.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("PASS ") && stdout.contains("simple_query.pgtest:"),
        "{stdout}"
    );
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.starts_with("pgtest: ") && summary.contains(" 0 failed, 0 skipped, 0 not run"),
        "{summary}"
    );
}

/// A send and an until whose expected block is what PostgreSQL answers. `altered` repeats it
/// with the expected block changed: a wrong value, a missing message, an extra message.
const GOOD: &str = r#"send
Query {"String": "SELECT 1 UNION ALL SELECT 2"}
----

until ignore=RowDescription
ReadyForQuery
----
{"Type":"DataRow","Values":[{"text":"1"}]}
{"Type":"DataRow","Values":[{"text":"2"}]}
{"Type":"CommandComplete","CommandTag":"SELECT 2"}
{"Type":"ReadyForQuery","TxStatus":"I"}

"#;

fn altered() -> (String, String) {
    let wrong_value = GOOD.replace(r#"[{"text":"2"}]"#, r#"[{"text":"3"}]"#);
    let missing = GOOD.replace("{\"Type\":\"DataRow\",\"Values\":[{\"text\":\"1\"}]}\n", "");
    let extra = GOOD.replace(
        "{\"Type\":\"CommandComplete\"",
        "{\"Type\":\"NoData\"}\n{\"Type\":\"CommandComplete\"",
    );
    let good = [GOOD, GOOD, GOOD, GOOD].concat();
    let bad = [GOOD, &wrong_value, &missing, &extra].concat();
    (good, bad)
}

#[test]
fn altered_expectations_fail_at_their_step_with_a_diff() {
    let (_, bad) = altered();
    let path = scenario("altered", &bad);
    let (output, stdout) = pgtest(&[path.to_str().unwrap()]);
    let name = path.display().to_string();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    // A block is 12 lines (send on its line 1, until on its line 5); the third is one line
    // shorter (a message fewer), so the fourth starts on line 36.
    assert!(
        stdout.contains(&format!("PASS {name}:5 until\n")),
        "{stdout}"
    );
    for (line, minus, plus) in [
        (
            17,
            r#"- {"Type":"DataRow","Values":[{"text":"3"}]}"#,
            Some(r#"+ {"Type":"DataRow","Values":[{"text":"2"}]}"#),
        ),
        (
            29,
            r#"  {"Type":"DataRow","Values":[{"text":"2"}]}"#,
            Some(r#"+ {"Type":"DataRow","Values":[{"text":"1"}]}"#),
        ),
        (40, r#"- {"Type":"NoData"}"#, None),
    ] {
        let header = format!("FAIL {name}:{line} until: output differs (- expected, + received)");
        let at = stdout
            .find(&header)
            .unwrap_or_else(|| panic!("no {header:?} in:\n{stdout}"));
        let diff: String = stdout[at..]
            .lines()
            .skip(1)
            .take(5)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(diff.contains(minus), "{header}:\n{diff}");
        if let Some(plus) = plus {
            assert!(diff.contains(plus), "{header}:\n{diff}");
        }
    }
    for send in [1, 13, 25, 36] {
        assert!(
            stdout.contains(&format!("PASS {name}:{send} send\n")),
            "{send}: {stdout}"
        );
    }
    assert!(
        stdout.ends_with("pgtest: 1 file(s): 5 step(s) passed, 3 failed, 0 skipped, 0 not run\n"),
        "{stdout}"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn rewrite_records_what_the_server_answered() {
    let (good, bad) = altered();
    let path = scenario("rewrite", &bad);
    let (output, stdout) = pgtest(&["--rewrite", path.to_str().unwrap()]);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("REWROTE"), "{stdout}");
    // The recorded file is the correct one, byte for byte (datadriven's layout).
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        good.trim_end_matches('\n').to_owned() + "\n"
    );
    let (output, stdout) = pgtest(&[path.to_str().unwrap()]);
    assert!(output.status.success(), "{stdout}");
    // A second rewrite changes nothing.
    let (_, stdout) = pgtest(&["--rewrite", path.to_str().unwrap()]);
    assert!(!stdout.contains("REWRITE"), "{stdout}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn an_error_not_waited_for_ends_the_file() {
    let path = scenario(
        "lost",
        r#"send
Query {"String": "SELECT 1/0"}
----

until
CommandComplete
----
{"Type":"CommandComplete","CommandTag":"SELECT 1"}

send
Query {"String": "SELECT 1"}
----

until
ReadyForQuery
----
"#,
    );
    let report = run(&path, &admin());
    assert!(!report.passed());
    assert_eq!(report.steps.len(), 2, "{}", report.render());
    assert_eq!(report.steps[0].status, Status::Pass);
    let Status::Error(error) = &report.steps[1].status else {
        panic!("{}", report.render())
    };
    assert!(
        error.starts_with(
            r#"waiting for CommandComplete, got {"Type":"ErrorResponse","Code":"22012","Message":"division by zero"}"#
        ),
        "{error}"
    );
    assert_eq!(report.not_run, 2);
    assert!(
        report.render().contains("2 later directive(s) not run"),
        "{}",
        report.render()
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_wait_the_server_never_answers_times_out() {
    // No Sync: the server answers nothing, so waiting for ReadyForQuery cannot end.
    let path = scenario(
        "timeout",
        "send\nParse {\"Query\": \"SELECT 1\"}\n----\n\nuntil\nReadyForQuery\n----\n",
    );
    let mut target = admin();
    // Connecting keeps its own, longer timeout.
    target.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let report = run(&path, &target);
    assert!(started.elapsed() < Duration::from_secs(5));
    let Status::Error(error) = &report.steps[1].status else {
        panic!("{}", report.render())
    };
    assert_eq!(error, "timed out after 0.3 s waiting for ReadyForQuery");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn bad_input_fails_its_step_naming_the_line_and_sends_nothing() {
    let path = scenario(
        "bad_input",
        "send\nQuery {\"String\": \"SELECT 1\"}\nQuery {\"Strin\": \"x\"}\n----\n\nuntil\nReadyForQuery\n----\n",
    );
    let report = run(&path, &admin());
    let Status::Error(error) = &report.steps[0].status else {
        panic!("{}", report.render())
    };
    assert_eq!(error, "line 3: Query has no field \"Strin\"");
    assert_eq!(report.not_run, 1);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn every_authentication_method_connects() {
    let text = |user: &str| {
        format!(
            "send\nQuery {{\"String\": \"SELECT current_user\"}}\n----\n\nuntil ignore=RowDescription\n\
             ReadyForQuery\n----\n{{\"Type\":\"DataRow\",\"Values\":[{{\"text\":\"{user}\"}}]}}\n\
             {{\"Type\":\"CommandComplete\",\"CommandTag\":\"SELECT 1\"}}\n\
             {{\"Type\":\"ReadyForQuery\",\"TxStatus\":\"I\"}}\n"
        )
    };
    for (user, password) in [
        ("tusk_trust", None),
        ("tusk_password", Some("pw_password")),
        ("tusk_md5", Some("pw_md5")),
        ("tusk_scram", Some("pw_scram")),
    ] {
        let path = scenario(&format!("auth_{user}"), &text(user));
        let report = run(&path, &target(user, password));
        assert!(report.passed(), "{user}:\n{}", report.render());
        std::fs::remove_file(path).unwrap();
    }
    let path = scenario("auth_refused", &text("tusk_scram"));
    let report = run(&path, &target("tusk_scram", Some("wrong")));
    let error = report.error.clone().unwrap_or_default();
    assert!(error.contains("28P01"), "{}", report.render());
    assert_eq!(report.not_run, 2);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn crdb_only_steps_and_files_are_skipped_against_postgresql() {
    let path = scenario(
        "crdb_only",
        r#"send crdb_only
Query {"String": "SHOW crdb_only_setting"}
----

until crdb_only
ReadyForQuery
----
{"Type":"this is never compared"}

only noncrdb
----

send noncrdb_only
Query {"String": "SELECT 1"}
----

until noncrdb_only ignore=RowDescription
ReadyForQuery
----
{"Type":"DataRow","Values":[{"text":"1"}]}
{"Type":"CommandComplete","CommandTag":"SELECT 1"}
{"Type":"ReadyForQuery","TxStatus":"I"}

only crdb
----

send
Query {"String": "SELECT 'never sent'"}
----
"#,
    );
    let report = run(&path, &admin());
    assert!(report.passed(), "{}", report.render());
    let statuses: Vec<&Status> = report.steps.iter().map(|s| &s.status).collect();
    assert_eq!(
        statuses,
        [
            &Status::Skip("crdb_only".into()),
            &Status::Skip("crdb_only".into()),
            &Status::Pass,
            &Status::Pass,
            &Status::Pass,
            &Status::Skip("only crdb".into()),
            &Status::Skip("only crdb".into()),
        ]
    );
    std::fs::remove_file(path).unwrap();
}

/// Two sessions that listen on one channel (`{chan}`) and each notify it while the other
/// listens. The sessions share the application name `{app}`, and two barriers make the overlap
/// certain however the runs are scheduled: each waits until both sessions have run their
/// LISTEN (their current query holds the marker "after listen"), then until the other one has
/// run its NOTIFY (its query holds "after notify", or it has already left, which it can only
/// do after that). A barrier gives up after 10 s.
const OVERLAPPING_NOTIFY: &str = r#"send
Query {"String": "LISTEN {chan}"}
----

until
ReadyForQuery
----
{"Type":"CommandComplete","CommandTag":"LISTEN"}
{"Type":"ReadyForQuery","TxStatus":"I"}

send
Query {"String": "DO $$ BEGIN FOR i IN 1..1000 LOOP PERFORM pg_stat_clear_snapshot(); EXIT WHEN (SELECT count(*) FROM pg_stat_activity WHERE application_name = '{app}' AND query LIKE '%after listen%') = 2; PERFORM pg_sleep(0.01); END LOOP; END $$"}
Query {"String": "NOTIFY {chan}, 'mine' /* after listen */"}
Query {"String": "DO $$ BEGIN FOR i IN 1..1000 LOOP PERFORM pg_stat_clear_snapshot(); EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '{app}' AND pid <> pg_backend_pid() AND query NOT LIKE '%after notify%'); PERFORM pg_sleep(0.01); END LOOP; END $$ /* after listen */"}
----

until
ReadyForQuery
ReadyForQuery
ReadyForQuery
----
{"Type":"CommandComplete","CommandTag":"DO"}
{"Type":"ReadyForQuery","TxStatus":"I"}
{"Type":"CommandComplete","CommandTag":"NOTIFY"}
{"Type":"NotificationResponse","PID":0,"Channel":"{chan}","Payload":"mine"}
{"Type":"ReadyForQuery","TxStatus":"I"}
{"Type":"CommandComplete","CommandTag":"DO"}
{"Type":"ReadyForQuery","TxStatus":"I"}
"#;

/// Runs the scenario in two sessions at once, named `{app}`.
fn run_twice_at_once(name: &str, chan: &str) -> [FileReport; 2] {
    let app = format!("tusk_overlap_{}_{name}", std::process::id());
    let path = scenario(
        name,
        &OVERLAPPING_NOTIFY
            .replace("{chan}", chan)
            .replace("{app}", &app),
    );
    let mut target = admin();
    target.params.push(("application_name".into(), app));
    let reports = std::thread::scope(|scope| {
        let runs = [(); 2].map(|()| scope.spawn(|| run(&path, &target)));
        runs.map(|run| run.join().unwrap())
    });
    std::fs::remove_file(path).unwrap();
    reports
}

#[test]
fn unique_keeps_concurrent_runs_of_a_notify_scenario_apart() {
    let reports = run_twice_at_once("notify_unique", "chan_$UNIQUE");
    for report in &reports {
        assert!(
            report.passed(),
            "{}\n{}",
            reports[0].render(),
            reports[1].render()
        );
    }
    // The oracle: with one channel name for both runs, each hears the other's notification
    // (another PID, printed as it is) and the scenario fails.
    let channel = format!("tusk_pgtest_shared_{}", std::process::id());
    for report in run_twice_at_once("notify_shared", &channel) {
        let rendered = report.render();
        assert!(!report.passed(), "{rendered}");
        assert!(
            rendered.contains(r#"+ {"Type":"NotificationResponse","PID":"#),
            "{rendered}"
        );
    }
}
