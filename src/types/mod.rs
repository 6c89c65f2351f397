//! Conversions between Rust values and PostgreSQL's binary formats. (Stub: being written.)
