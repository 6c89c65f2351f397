//! The derives' compile-time behaviour: items that must expand and compile (`ui/pass/`, whose
//! `main`s also run a few checks that need no server), and misuses that must fail with a clear
//! error at the right place (`ui/fail/`, the expected errors in the `.stderr` files beside them;
//! `TRYBUILD=overwrite cargo test -p tusk-derive --test ui` rewrites those after a deliberate
//! change). The conversions themselves are tested against a server in
//! protocol-tests/tests/live_derive.rs.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
