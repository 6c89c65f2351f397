//! Shared helpers for tusk's conformance suite.
