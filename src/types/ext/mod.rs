//! Conversions for other crates' types, each behind the cargo feature named after the crate.
//! They convert through tusk's own types of the same SQL types, so the wire formats and their
//! checks are those of `super::net`, `super::bits` and `super::geometry`.

#[cfg(feature = "bit-vec")]
mod bit_vec;
#[cfg(feature = "geo-types")]
mod geo_types;
#[cfg(feature = "ipnet")]
mod ipnet;
