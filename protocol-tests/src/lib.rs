//! Shared helpers for tusk's conformance suite.
//!
//! - [`fake`]: a scripted fake backend on loopback, for server behaviour a real PostgreSQL will
//!   not produce on demand (malformed messages, cut connections, odd authentication). It is a
//!   test double for hostile servers, never a stand-in for PostgreSQL itself.
//! - [`wire`]: backend messages as byte vectors for the fake backend, written by the server side
//!   of tusk's codec (`tusk::proto::server::backend`), which shares no code with the client's
//!   decoder under test and is checked byte for byte against the protocol documentation
//!   (`tests/server_backend_vectors.rs`); plus a raw frame builder for malformed messages.
//! - [`fault_proxy`]: a TCP proxy in front of the real server that cuts, stalls, delays and
//!   re-chunks each connection's bytes by a plan, and counts them each way.
//! - [`proxy`]: a byte-counting TCP proxy in front of the real server (a clean
//!   [`fault_proxy::FaultProxy`]).
//! - [`poll`]: polling a future part-way, for the cancellation-safety tests.
//! - [`live`]: settings for the real throwaway server started by `scripts/test-server`, and
//!   the rule for a missing server or extension: fail, or skip only when allowed.
//! - [`scripted`]: a scripted fake server over an in-memory duplex (no socket), steered by the
//!   test to split its replies, fail statements in a given phase or cut the stream anywhere.
//! - [`duplex`]: the shared helpers of the `duplex_*` tests, which run `Connection` against
//!   [`scripted`]: connecting, checks, and the operations under test.
//! - [`errors`]: assertions that name the error a call returned (SQLSTATE, kind and message).
//! - [`stall_proxy`]: a TCP proxy in front of the real server whose open connections a test
//!   can silence (no bytes, no close), as a network that went quiet (a
//!   [`fault_proxy::FaultProxy`] too).
//! - [`pgtest`]: the pgtest runner (CockroachDB's data-driven pgwire test format): scenario
//!   files of JSON messages replayed against any server, used by the `pgtest` binary and by
//!   `tests/live_conformance.rs` on the corpus in `protocol-tests/pgtest/`.
//! - [`tls_proxy`]: a TLS-terminating proxy in front of the real server, answering SSLRequest
//!   and direct TLS (PostgreSQL 17's `sslnegotiation=direct`) itself; a test helper only.

pub mod duplex;
pub mod errors;
pub mod fake;
pub mod fault_proxy;
pub mod live;
pub mod pgtest;
pub mod poll;
pub mod proxy;
pub mod scripted;
pub mod stall_proxy;
pub mod tls_proxy;
pub mod wire;
