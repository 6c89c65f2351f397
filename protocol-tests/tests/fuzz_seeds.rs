//! Replays every seed in `fuzz/seeds/<target>/` through its fuzz target's checks, on stable, in
//! the ordinary test run: cargo-fuzz (nightly) is not needed to know the seeds still pass.
//!
//! The checks are the fuzz targets' own code (`fuzz/checks/*.rs`, included here with `#[path]`),
//! not a copy. A seed directory with no check here, a target without its seed directory, or an
//! empty or missing directory fails the test: it never passes having replayed nothing.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/backend_decode.rs"]
mod backend_decode;
#[path = "../../fuzz/checks/config_parse.rs"]
mod config_parse;
#[path = "../../fuzz/checks/exchange.rs"]
mod exchange;
#[path = "../../fuzz/checks/from_sql.rs"]
mod from_sql;
#[path = "../../fuzz/checks/frontend_decode.rs"]
mod frontend_decode;
#[path = "../../fuzz/checks/named_params.rs"]
mod named_params;
#[path = "../../fuzz/checks/pgoutput_decode.rs"]
mod pgoutput_decode;
#[path = "../../fuzz/checks/roundtrip.rs"]
mod roundtrip;
#[path = "../../fuzz/checks/scram_client.rs"]
mod scram_client;

/// A fuzz target's checks: panics when one fails.
type Check = fn(&[u8]);

/// Each fuzz target with seeds, and its checks.
const TARGETS: &[(&str, Check)] = &[
    ("backend_decode", backend_decode::check),
    ("config_parse", config_parse::check),
    ("exchange", exchange::check),
    ("frontend_decode", frontend_decode::check),
    ("roundtrip", roundtrip::check),
    ("from_sql", from_sql::check),
    ("named_params", named_params::check),
    ("pgoutput_decode", pgoutput_decode::check),
    ("scram_client", scram_client::check),
];

fn seeds_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds")
}

/// The entries of `dir`, sorted by name.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    paths.sort();
    paths
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_fuzz_seed_passes_its_targets_checks() {
    let root = seeds_root();
    let dirs = entries(&root);
    assert!(
        !dirs.is_empty(),
        "{} holds no seed directory",
        root.display()
    );
    for (target, _) in TARGETS {
        assert!(
            root.join(target).is_dir(),
            "fuzz target {target} has no seed directory {}",
            root.join(target).display()
        );
    }

    let mut replayed = 0usize;
    let mut failures = Vec::new();
    for dir in &dirs {
        let target = name_of(dir);
        assert!(dir.is_dir(), "{} is not a directory", dir.display());
        let Some((_, check)) = TARGETS.iter().find(|(name, _)| *name == target) else {
            panic!(
                "{} holds seeds for {target}, which this test has no check for: add it to TARGETS",
                dir.display()
            );
        };
        let seeds = entries(dir);
        assert!(!seeds.is_empty(), "{} holds no seed", dir.display());
        for seed in &seeds {
            let data = fs::read(seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                failures.push(format!("{target}/{}: {message}", name_of(seed)));
            }
            replayed += 1;
        }
        eprintln!("{target}: {} seeds replayed", seeds.len());
    }
    assert!(
        failures.is_empty(),
        "seeds failing their checks:\n{failures:#?}"
    );
    assert!(replayed > 0, "no seed was replayed");
    eprintln!("{replayed} fuzz seeds replayed in all");
}

/// The seeds are real backend traffic: each is a stream of complete frames, every one of which
/// decodes. So the replay above reaches every body decoder the seeds stand for, rather than
/// passing on input the framing refuses at once.
#[test]
fn every_backend_decode_seed_is_complete_decodable_messages() {
    use tusk::proto::backend::Message;
    use tusk::proto::framing::split_frame;

    let dir = seeds_root().join("backend_decode");
    let mut messages = 0usize;
    for seed in entries(&dir) {
        let name = name_of(&seed);
        let mut buf = bytes::BytesMut::from(&fs::read(&seed).expect("a seed")[..]);
        while !buf.is_empty() {
            let frame = match split_frame(&mut buf, 1 << 16) {
                Ok(Some(frame)) => frame,
                Ok(None) => panic!("{name}: ends in an incomplete frame"),
                Err(e) => panic!("{name}: does not frame: {e}"),
            };
            let tag = frame.tag;
            if let Err(e) = Message::parse(frame) {
                panic!(
                    "{name}: a message tagged {:?} does not decode: {e}",
                    char::from(tag)
                );
            }
            messages += 1;
        }
    }
    assert!(messages > 0, "no message in the seeds of {}", dir.display());
    eprintln!("{messages} messages in the backend_decode seeds");
}

/// The exchange seeds are hand-made exchanges (`fuzz/make_exchange_seeds.py`): each runs its
/// whole script and its whole server stream with every message accepted, and ends with nothing
/// owed. So the replay above checks the exchanges they stand for, rather than passing on input
/// the session refuses at once. Seeds named `refused_*` end on a refused message on purpose;
/// `crash-*` (open) and `found-*` (fixed, kept as regressions) files are inputs the fuzzer
/// found, only replayed above.
#[test]
fn every_exchange_seed_runs_to_its_end() {
    let dir = seeds_root().join("exchange");
    let mut runs = 0usize;
    for seed in entries(&dir) {
        let name = name_of(&seed);
        if name.starts_with("crash-") || name.starts_with("found-") {
            continue;
        }
        let outcome = exchange::run(&fs::read(&seed).expect("a seed"));
        if name.starts_with("refused_") {
            assert!(outcome.broken, "{name}: not refused: {outcome:?}");
        } else {
            assert!(
                !outcome.broken && outcome.unread == 0 && outcome.idle && outcome.script_done,
                "{name}: did not run to its end: {outcome:?}"
            );
        }
        assert!(outcome.messages > 0, "{name}: no message handled");
        runs += 1;
    }
    assert!(runs > 0, "no exchange seed in {}", dir.display());
    eprintln!("{runs} exchange seeds run to their end");
}

/// The scram_client seeds are hand-made exchanges (`fuzz/make_seeds.py`): each one not named
/// `refused_*` completes (the right signature verified, AuthenticationOk and ReadyForQuery
/// accepted) and each `refused_*` one stops before, so the replay above checks what each seed
/// stands for rather than passing on an exchange refused at its first message.
#[test]
fn every_scram_client_seed_ends_as_named() {
    let dir = seeds_root().join("scram_client");
    let (mut completed, mut refused) = (0usize, 0usize);
    for seed in entries(&dir) {
        let name = name_of(&seed);
        if name.starts_with("found-") {
            continue;
        }
        let done = scram_client::run(&fs::read(&seed).expect("a seed"));
        if name.starts_with("refused_") {
            assert!(!done, "{name}: completed the exchange");
            refused += 1;
        } else {
            assert!(done, "{name}: did not complete the exchange");
            completed += 1;
        }
    }
    assert!(
        completed > 0 && refused > 0,
        "scram_client seeds: {completed} completed, {refused} refused"
    );
    eprintln!("scram_client seeds: {completed} complete, {refused} refused as named");
}
