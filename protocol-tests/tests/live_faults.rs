//! Faults as tests: tusk driven through `protocol_tests::fault_proxy` against the real server.
//!
//! Each exchange of the protocol (startup with each authentication method, a simple query, an
//! extended query, a pipeline, a row stream in batches, a server-side cursor, COPY in and out,
//! LISTEN/NOTIFY, a commit; `exchanges.rs`) is first run cleanly through the proxy, which
//! records its answer and its length each way; then it is cut at every byte offset in both
//! directions, each attempt on a fresh connection of its own (`cuts.rs`), and every attempt
//! must end in an error saying the connection was lost or in exactly the clean answer (never a
//! partial or wrong `Ok`), within a hard time limit and without a panic. A cut after the client
//! received everything must give the answer. A commit cut mid-exchange is checked against the
//! table from another session. Two exchanges are also reset (RST) at every offset, all of them
//! in an ignored test (`resets.rs`). Re-chunked (one-byte, random, coalesced) and delayed runs
//! must give exactly the clean answer (`chunks.rs`). A pool whose connections are cut recovers
//! with fresh ones (`pool.rs`); so does the reconnecting `Listener` (`listener.rs`).
//!
//! Attempts run concurrently, at most eight at a time for the whole binary (`harness.rs`): the
//! server allows 100 connections, shared with other test runs.

#[path = "live_faults/chunks.rs"]
mod chunks;
#[path = "live_faults/cuts.rs"]
mod cuts;
#[path = "live_faults/exchanges.rs"]
mod exchanges;
#[path = "live_faults/harness.rs"]
mod harness;
#[path = "live_faults/listener.rs"]
mod listener;
#[path = "live_faults/pool.rs"]
mod pool;
#[path = "live_faults/resets.rs"]
mod resets;
