//! `examples/cdc.rs` run as a user runs it (`cdc -- --demo`, the binary `cargo test
//! --workspace` builds beside the tests) against the main server and PostgreSQL 18: its three
//! demo transactions must come out as JSON lines with the rows the server stored.

use std::path::PathBuf;
use std::process::Command;

use protocol_tests::live;
use serde_json::Value;

/// The example's binary: `target/<profile>/examples/cdc`, next to this test's `deps/` directory.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let binary = profile_dir.join("examples").join("cdc");
    assert!(
        binary.exists(),
        "{} is missing: run the suite with `cargo test --workspace` (which builds the \
         examples) or `cargo build --example cdc` first",
        binary.display()
    );
    binary
}

fn run_demo(port: u16) -> Vec<Value> {
    let output = Command::new(example_binary())
        .arg("--demo")
        .env(
            "TUSK_PG_URL",
            format!("postgres://tusk:tusk@127.0.0.1:{port}/tusk"),
        )
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cdc --demo on port {port} failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

#[test]
fn cdc_demo_prints_each_change_as_a_json_line_on_both_servers() {
    let mut ports = vec![live::port()];
    ports.extend(live::pg18());
    for port in ports {
        let lines = run_demo(port);
        let ops: Vec<&str> = lines.iter().map(|l| l["op"].as_str().unwrap()).collect();
        assert_eq!(
            ops,
            [
                "begin", "insert", "insert", "commit", "begin", "update", "commit", "begin",
                "delete", "commit"
            ],
            "port {port}: {lines:#?}"
        );
        let table = "public.tusk_cdc_demo";
        assert!(lines[1..3].iter().all(|l| l["table"] == table));
        assert_eq!(lines[1]["new"]["id"], "1");
        assert_eq!(lines[1]["new"]["name"], "ada");
        assert_eq!(lines[2]["new"]["name"], "grace");
        assert_eq!(lines[5]["new"]["name"], "Ada Lovelace");
        assert_eq!(lines[8]["old"]["id"], "2");
        // Each commit's end is confirmed in order: positions only grow.
        let ends: Vec<&str> = lines
            .iter()
            .filter(|l| l["op"] == "commit")
            .map(|l| l["end_lsn"].as_str().unwrap())
            .collect();
        let parsed: Vec<tusk::proto::replication::Lsn> =
            ends.iter().map(|e| e.parse().unwrap()).collect();
        assert!(parsed.windows(2).all(|w| w[0] < w[1]), "{ends:?}");
    }
}
