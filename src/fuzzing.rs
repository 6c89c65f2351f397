//! Entry points for the fuzz targets in `fuzz/` (and the test that replays their seeds) into
//! parsers that are not part of tusk's public API: the named-parameter rewriter, the password
//! file matcher and the service file reader.
//!
//! Compiled only with the cargo feature `fuzzing` (off by default) and hidden from the
//! documentation. Nothing here is API: each function is a thin wrapper that may change with the
//! code it exposes.

pub use crate::config::service::AppliedSection;
use crate::config::Config;
use crate::Error;

/// Rewrites the `:name` placeholders of `sql` into `$n` (what `execute_named` sends): the
/// rewritten SQL and the distinct names in order of first use (`$1` is the first name).
pub fn rewrite_named(sql: &str) -> Result<(String, Vec<String>), Error> {
    crate::client::named::rewrite(sql).map(|named| (named.sql, named.names))
}

/// The password the password file text `contents` gives for this target, as a connection
/// looks it up (first matching line wins; `None` when no line matches or its password is
/// empty). `host` is the host field as matched (`localhost` for the default socket directory).
pub fn pgpass_password(
    contents: &[u8],
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Option<Vec<u8>> {
    crate::config::pgpass::find_password(contents, host, port, dbname, user)
}

/// Reads section `name` of the service file text `text` and applies it to `base` as a
/// connection applies its `service`: the section's `(key, value)` lines in file order and the
/// resulting settings, or `Ok(None)` when the text has no such section.
pub fn apply_service_file(
    base: Config,
    text: &str,
    name: &str,
) -> Result<Option<AppliedSection>, Error> {
    crate::config::service::apply_service_text(base, text, name)
}

/// Types as the connection builds them from the catalog, for decoding arbitrary bytes as
/// them: the enum `mood` (`sad`, `ok`, `happy`), the domain `posint` over `int4`, the composite
/// `item (name text, qty posint, mood mood)`, arrays of the three, a range `floatrange` over
/// `float8` and its multirange (OIDs from 300,000 up).
pub fn catalog_types() -> Vec<crate::types::Type> {
    use crate::types::custom::{CustomType, Details};
    use crate::types::{Field, Type};

    let custom = |oid: u32, name: &str, details: Details| {
        Type::custom(CustomType::new(oid, name.into(), "public".into(), details))
    };
    let mood = custom(
        300_000,
        "mood",
        Details::Enum(vec!["sad".into(), "ok".into(), "happy".into()]),
    );
    let posint = custom(300_001, "posint", Details::Domain(Type::INT4));
    let item = custom(
        300_002,
        "item",
        Details::Composite(vec![
            Field::new("name".into(), Type::TEXT),
            Field::new("qty".into(), posint.clone()),
            Field::new("mood".into(), mood.clone()),
        ]),
    );
    let range = custom(300_003, "floatrange", Details::Range(Type::FLOAT8));
    let multirange = custom(
        300_004,
        "floatmultirange",
        Details::Multirange(range.clone()),
    );
    vec![
        custom(300_005, "_mood", Details::Array(mood.clone())),
        custom(300_006, "_posint", Details::Array(posint.clone())),
        custom(300_007, "_item", Details::Array(item.clone())),
        mood,
        posint,
        item,
        range,
        multirange,
    ]
}
