//! TUSK_BENCH_TRACING: the `tracing` subscriber a benchmark runs under, to measure what tusk's
//! spans (feature `tracing`) cost. scripts/bench and scripts/instructions set it.
//!
//! - unset or `none`: no subscriber. Built with the feature, each span then costs the check
//!   that no subscriber wants INFO spans (one atomic load).
//! - `noop`: a subscriber that takes every span and event, gives each span an id and drops
//!   everything recorded. So the spans are really built (names, field values, parents,
//!   enter/exit on every poll, the ids' lifecycle), while the subscriber's own work, which
//!   depends on what a real one does with the data, stays out of the measurement.
//!
//! `noop` needs the feature: without it there are no spans to measure, and the benchmark
//! refuses to run rather than report a cost of zero.

/// Installs the subscriber TUSK_BENCH_TRACING names (as the global default, so every thread and
/// runtime of the benchmark sees it) and returns a description for the benchmark's output.
pub fn install_from_env() -> Result<&'static str, crate::BoxError> {
    let mode = std::env::var("TUSK_BENCH_TRACING").unwrap_or_default();
    match mode.trim() {
        "" | "none" if cfg!(feature = "tracing") => Ok("feature tracing, no subscriber"),
        "" | "none" => Ok("without feature tracing"),
        "noop" => install_noop(),
        other => Err(format!("TUSK_BENCH_TRACING={other:?}: expected none or noop").into()),
    }
}

#[cfg(not(feature = "tracing"))]
fn install_noop() -> Result<&'static str, crate::BoxError> {
    Err("TUSK_BENCH_TRACING=noop needs the benchmark built with --features tracing".into())
}

#[cfg(feature = "tracing")]
fn install_noop() -> Result<&'static str, crate::BoxError> {
    tracing::subscriber::set_global_default(noop::EverySpan::default())
        .map_err(|e| format!("TUSK_BENCH_TRACING=noop: {e}"))?;
    Ok("feature tracing, a subscriber taking every span and dropping it")
}

#[cfg(feature = "tracing")]
mod noop {
    use std::sync::atomic::{AtomicU64, Ordering};

    use tracing::span::{Attributes, Id, Record};
    use tracing::subscriber::Interest;
    use tracing::{Event, Metadata, Subscriber};

    /// Enables everything, numbers the spans, keeps nothing.
    #[derive(Default)]
    pub struct EverySpan {
        last_id: AtomicU64,
    }

    impl Subscriber for EverySpan {
        fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
            Interest::always()
        }

        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }

        fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
            Some(tracing::level_filters::LevelFilter::TRACE)
        }

        fn new_span(&self, _: &Attributes<'_>) -> Id {
            // Ids must not be zero.
            Id::from_u64(self.last_id.fetch_add(1, Ordering::Relaxed) + 1)
        }

        fn record(&self, _: &Id, _: &Record<'_>) {}

        fn record_follows_from(&self, _: &Id, _: &Id) {}

        fn event(&self, _: &Event<'_>) {}

        fn enter(&self, _: &Id) {}

        fn exit(&self, _: &Id) {}
    }
}
