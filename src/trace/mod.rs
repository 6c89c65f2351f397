//! Spans for the `tracing` crate (feature `tracing`), named and filled in after OpenTelemetry's
//! semantic conventions for database clients: connects, statements, transactions, COPY,
//! pipelines, and the pool's checkouts and shared queries.
//!
//! Every instrumented call site is one line through this module, so that without the feature
//! the crate compiles to what it was without instrumentation:
//! - [`traced!`]`(span, body)` runs `body` (an expression that may `.await` and use `?`) inside
//!   `span` and records its outcome there. Without the feature it expands to `body` alone: the
//!   span expression is not even compiled. With it, when no subscriber takes the span, `body`
//!   runs as it is too, after a level check and a branch.
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
/// `Result<T, E>` that may `.await` and use `?` and `return`: when the span is taken it runs in
/// an `async` block (they leave the block, whose value is then recorded), otherwise as it is
/// (they leave the function, with the same value).
#[cfg(feature = "tracing")]
macro_rules! traced {
    ($span:expr, $body:expr) => {{
        let span: $crate::trace::Span = $span;
        if span.is_off() {
            // No subscriber took the span: the body as it is, as without the feature. The body
            // is written twice so that this path pays for no nested future.
            $body
        } else {
            let mut future = ::std::pin::pin!(async { $body });
            let result = $crate::trace::InSpan::new(&span, future.as_mut()).await;
            span.record_result(&result);
            result
        }
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
