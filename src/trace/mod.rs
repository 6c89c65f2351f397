//! Spans for the `tracing` crate (feature `tracing`), named and filled in after OpenTelemetry's
//! semantic conventions for database clients: connects, statements, transactions, COPY,
//! pipelines, and the pool's checkouts and shared queries.
//!
//! Every instrumented call site is one line through this module, so that without the feature
//! the crate compiles to what it was without instrumentation:
//! - [`traced!`]`(span, body)` runs `body` (an expression that may `.await` and use `?`) inside
//!   `span` and records its outcome there. Without the feature it expands to `body` alone: the
//!   span expression is not even compiled.
//! - [`span!`]`(span)` makes a span that outlives one call (a row stream's, a COPY's); without
//!   the feature it is the zero-sized [`Span`].
//! - [`ConnTrace`] (a connection's facts for its spans), [`TxTrace`] (an open transaction's
//!   span) and [`Span`] are zero-sized without the feature, and their methods are empty and
//!   `#[inline(always)]`.
//!
//! Span names are static in `tracing` (`tusk.query`, `tusk.connect`, ...), so the
//! conventions' dynamic name, `{db.operation.name} {db.namespace}` (`SELECT shop`), goes into
//! the field `otel.name`, which `tracing-opentelemetry` takes as the span's name.

#[cfg(feature = "tracing")]
mod operation;
#[cfg(feature = "tracing")]
mod spans;

#[cfg(feature = "tracing")]
pub(crate) use spans::*;

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;

/// Runs `$body` inside the span `$span` (a [`Span`]) and records the outcome on it: the rows
/// returned, or the error's SQLSTATE and type. `$body` is an expression of type
/// `Result<T, E>`, evaluated in an `async` block: `?` and `return` leave the block, not the
/// enclosing function.
#[cfg(feature = "tracing")]
macro_rules! traced {
    ($span:expr, $body:expr) => {{
        let mut traced = ::std::pin::pin!($crate::trace::Span::instrument($span, async { $body }));
        let result = traced.as_mut().await;
        $crate::trace::record_result(traced.span(), &result);
        result
    }};
}

/// Without the feature: `$body` as it is; `$span` is dropped unexpanded.
#[cfg(not(feature = "tracing"))]
macro_rules! traced {
    ($span:expr, $body:expr) => {
        $body
    };
}

/// A span kept beyond one call: `$span` itself, or without the feature the zero-sized
/// [`Span`] (`$span` is dropped unexpanded).
#[cfg(feature = "tracing")]
macro_rules! span {
    ($span:expr) => {
        $span
    };
}

/// Without the feature: the zero-sized [`Span`].
#[cfg(not(feature = "tracing"))]
macro_rules! span {
    ($span:expr) => {
        $crate::trace::Span
    };
}

pub(crate) use span;
pub(crate) use traced;

/// The zero-sized stand-ins used without the feature.
#[cfg(not(feature = "tracing"))]
mod off {
    use crate::config::{Config, Resolved, Target};
    use crate::error::Error;

    /// Without the feature: nothing.
    #[derive(Debug, Clone)]
    pub(crate) struct Span;

    impl Span {
        #[inline(always)]
        pub(crate) fn record_end(&self, _rows: Option<u64>, _error: Option<&Error>) {}
    }

    /// Without the feature: nothing.
    #[derive(Debug)]
    pub(crate) struct ConnTrace;

    impl ConnTrace {
        #[inline(always)]
        pub(crate) fn new(_config: &Config, _resolved: &Resolved, _target: &Target) -> ConnTrace {
            ConnTrace
        }
    }

    /// Without the feature: nothing.
    #[derive(Debug)]
    pub(crate) struct TxTrace;

    impl TxTrace {
        #[inline(always)]
        pub(crate) fn start(_conn: &mut ConnTrace, _savepoint: Option<&str>) -> TxTrace {
            TxTrace
        }

        #[inline(always)]
        pub(crate) fn ended(&self, _how: &'static str) {}

        #[inline(always)]
        pub(crate) fn failed(&self, _error: &Error) {}

        #[inline(always)]
        pub(crate) fn close(&mut self, _conn: &mut ConnTrace, _dropped: bool) {}
    }
}
