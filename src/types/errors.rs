//! The errors of converting values: a Rust type that does not fit a SQL type ([`WrongType`]),
//! a NULL where none can go ([`WasNull`]), and bytes that are not a valid value
//! ([`InvalidValue`]).

use std::error::Error as StdError;
use std::fmt;

use super::Type;
use crate::BoxError;

/// A Rust type and a SQL type that cannot be converted into each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongType {
    /// The SQL type.
    pub sql_type: Type,
    /// The Rust type's name.
    pub rust_type: &'static str,
}

impl WrongType {
    /// The error for `rust_type` and `sql_type`.
    pub fn new(rust_type: &'static str, sql_type: Type) -> WrongType {
        WrongType {
            sql_type,
            rust_type,
        }
    }
}

impl fmt::Display for WrongType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot convert between Rust type `{}` and SQL type `{}`",
            self.rust_type, self.sql_type
        )
    }
}

impl StdError for WrongType {}

/// A SQL NULL read into a Rust type that cannot hold it; read an `Option<T>` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasNull;

impl fmt::Display for WasNull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unexpected NULL value")
    }
}

impl StdError for WasNull {}

/// Bytes that do not form a valid value of their type, or a value outside the range its
/// destination can represent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    what: &'static str,
    reason: String,
}

impl InvalidValue {
    pub(crate) fn new(what: &'static str, reason: impl Into<String>) -> InvalidValue {
        InvalidValue {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn boxed(what: &'static str, reason: impl Into<String>) -> BoxError {
        Box::new(InvalidValue::new(what, reason))
    }

    /// What was being converted: a SQL type name such as `"numeric"`, or `"array"`.
    pub fn what(&self) -> &str {
        self.what
    }

    /// What was wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} value: {}", self.what, self.reason)
    }
}

impl StdError for InvalidValue {}
