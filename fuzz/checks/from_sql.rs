//! The checks of the `from_sql` fuzz target, shared with the ordinary test that replays the
//! seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`).
//!
//! [`check`] decodes arbitrary bytes as a value of one SQL type into every Rust type tusk has a
//! `FromSql` implementation for (scalars, strings, byte strings, dates and times with their
//! infinities, intervals, numerics, JSON, UUIDs, ranges and multiranges, network addresses, bit
//! strings, money, the geometric types, hstore maps; each also as `Option<T>`; arrays as `Vec<T>`,
//! `Vec<Option<T>>`, `Array<T>` and `Array<Option<T>>` of every element type), through
//! `tusk::types::decode` as a row accessor does. The input is read as:
//!
//! | bytes     | meaning                                                                    |
//! | --------- | -------------------------------------------------------------------------- |
//! | 1         | the SQL type: an index into [`types`] (`citext` by name at 0, an unknown OID at 1, then built-in types with a codec, text-only types and their arrays, then `hstore` by name and the later types), or past its end a 4-byte OID that follows |
//! | 1         | bit 0: the value is NULL                                                   |
//! | the rest  | the value's bytes (binary format where the type has a codec, text otherwise) |
//!
//! Besides the absence of panics it checks, for every Rust type:
//!
//! - a type that does not accept the SQL type fails with `WrongType`; NULL into a non-`Option`
//!   fails with `WasNull`; every other error is an `InvalidValue` (typed, naming what was
//!   wrong), never another error type;
//! - a decoded value whose Rust type can also be sent as that SQL type is encoded again
//!   (`to_sql_checked`) and decodes to the same value (compared through `Debug`, which tells
//!   `-0.0` from `0.0`, a numeric's scale and a timestamp's offset). Only the date and time
//!   types may refuse to encode a value they decoded (the decoders accept instants outside
//!   PostgreSQL's range that chrono can hold), and then with an `InvalidValue`;
//! - as text: a `numeric` literal that `Decimal` parses prints and parses back to itself, and
//!   goes through the binary format unchanged; likewise a `Uuid`.
//!
//! Allocation sizes are checked by the fuzz target itself (`fuzz_targets/from_sql.rs` wraps
//! the allocator): no single allocation may exceed a bound linear in the input, so nothing
//! allocates on a length or count read from the bytes.
//!
//! The types of tusk's feature codecs (`rust_decimal`, `bigdecimal`, `time`, `jiff`) are probed
//! too, as date and time types where they are some; so are types as the connection reads them
//! from the catalog (`tusk::fuzzing::catalog_types`: an enum, a domain, a composite, their
//! arrays, a user range and multirange) into derived Rust types.
//!
//! Only `tusk` (with those features), `bytes`, `chrono`, `serde_json` and the feature codecs'
//! crates are used here: the crates that include this file depend on all of them.

// Each fuzz target includes one check, so each check includes the reader itself; the test that
// replays every target's seeds then holds one copy per check.
#[allow(clippy::duplicate_mod)]
#[path = "input.rs"]
mod input;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::net::IpAddr;

use bytes::BytesMut;
use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use input::Input;
use tusk::types::{
    decode, Array, BitString, Circle, Decimal, FromSql, FromSqlOwned, Interval, InvalidValue,
    IpCidr, IpInet, IsNull, Json, Line, LineSegment, MacAddr, MacAddr8, Money, Multirange, Path,
    Point, Polygon, Range, Rect, TimeTz, Timestamp, ToSql, Type, Uuid, WasNull, WrongType,
};
use tusk::BoxError;

/// The SQL types an input can choose by index: every built-in type some `FromSql` accepts,
/// their array types, types without a binary codec (read as text), `citext` by name and an
/// OID nobody knows.
pub fn types() -> Vec<Type> {
    let base = [
        Type::BOOL,
        Type::CHAR,
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::OID,
        Type::REGPROC,
        Type::REGPROCEDURE,
        Type::REGOPER,
        Type::REGOPERATOR,
        Type::REGCLASS,
        Type::REGTYPE,
        Type::REGCONFIG,
        Type::REGDICTIONARY,
        Type::REGNAMESPACE,
        Type::REGROLE,
        Type::REGCOLLATION,
        Type::XID,
        Type::CID,
        Type::XID8,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::NUMERIC,
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
        Type::BYTEA,
        Type::DATE,
        Type::TIME,
        Type::TIMETZ,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::JSON,
        Type::JSONB,
        Type::UUID,
        Type::INET,
        Type::MONEY,
        Type::INT4RANGE,
    ];
    // The two without a fixed OID first, so that seeds can name them by index.
    let mut all = vec![Type::other(16_401, "citext"), Type::from_oid(99_999)];
    all.extend(base.iter().cloned());
    all.extend(base.iter().filter_map(Type::array_type));
    all.extend([Type::INT2VECTOR, Type::OIDVECTOR]);
    // Added after the first set so that the older seeds keep naming the same types: the
    // ranges, network, bit string, geometric types, hstore by name, and text-only types whose
    // arrays are text-format arrays.
    let more = [
        Type::INT8RANGE,
        Type::NUMRANGE,
        Type::DATERANGE,
        Type::TSRANGE,
        Type::TSTZRANGE,
        Type::INT4MULTIRANGE,
        Type::NUMMULTIRANGE,
        Type::DATEMULTIRANGE,
        Type::CIDR,
        Type::MACADDR,
        Type::MACADDR8,
        Type::BIT,
        Type::VARBIT,
        Type::POINT,
        Type::LINE,
        Type::LSEG,
        Type::BOX,
        Type::PATH,
        Type::POLYGON,
        Type::CIRCLE,
        Type::XML,
        Type::TSVECTOR,
    ];
    all.push(Type::other(16_402, "hstore"));
    all.extend(more.iter().cloned());
    all.extend(more.iter().filter_map(Type::array_type));
    // Then types as read from the catalog: an enum, a domain, a composite, their arrays, a
    // range over float8 and its multirange.
    all.extend(tusk::fuzzing::catalog_types());
    all
}

/// The enum of `tusk::fuzzing::catalog_types`, derived as an application would.
#[derive(Debug, PartialEq, tusk::ToSql, tusk::FromSql)]
#[tusk(name = "mood", rename_all = "lowercase")]
enum Mood {
    Sad,
    Ok,
    Happy,
}

/// The composite of `tusk::fuzzing::catalog_types` (its `qty` is the domain `posint`).
#[derive(Debug, PartialEq, tusk::ToSql, tusk::FromSql)]
#[tusk(name = "item")]
struct Item {
    name: Option<String>,
    qty: Option<i32>,
    mood: Option<Mood>,
}

/// A newtype for the domain `posint`.
#[derive(Debug, PartialEq, tusk::ToSql, tusk::FromSql)]
#[tusk(name = "posint")]
struct PosInt(i32);

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let types = types();
    let index = usize::from(input.byte());
    let ty = match types.get(index) {
        Some(ty) => ty.clone(),
        None => {
            let oid = u32::from_be_bytes([input.byte(), input.byte(), input.byte(), input.byte()]);
            Type::from_oid(oid)
        }
    };
    let null = input.byte() & 1 == 1;
    let bytes = input.rest();
    let raw = (!null).then_some(bytes);

    decode_as_everything(&ty, raw);
    if let Ok(text) = std::str::from_utf8(bytes) {
        check_text_forms(text);
    }
}

/// Probes one Rust type `T` (and `Option<T>`), re-decoding as the owned type `O`, which must
/// have the same `Debug` form (`String` for `&str`, ...). `$dates` marks the date and time
/// types, which may refuse to encode what they decoded.
macro_rules! probe {
    ($ty:expr, $raw:expr; $($t:ty => $o:ty, $dates:expr;)*) => {$(
        probe::<$t, $o>($ty, $raw, $dates);
        probe::<Option<$t>, Option<$o>>($ty, $raw, $dates);
    )*};
}

/// Probes the array forms of one element type.
macro_rules! probe_arrays {
    ($ty:expr, $raw:expr; $($t:ty => $o:ty, $dates:expr;)*) => {$(
        probe::<Vec<$t>, Vec<$o>>($ty, $raw, $dates);
        probe::<Vec<Option<$t>>, Vec<Option<$o>>>($ty, $raw, $dates);
        probe::<Array<$t>, Array<$o>>($ty, $raw, $dates);
        probe::<Option<Array<Option<$t>>>, Option<Array<Option<$o>>>>($ty, $raw, $dates);
    )*};
}

fn decode_as_everything(ty: &Type, raw: Option<&[u8]>) {
    probe!(ty, raw;
        bool => bool, false;
        i8 => i8, false;
        i16 => i16, false;
        i32 => i32, false;
        i64 => i64, false;
        u32 => u32, false;
        u64 => u64, false;
        f32 => f32, false;
        f64 => f64, false;
        Decimal => Decimal, false;
        &str => String, false;
        String => String, false;
        Box<str> => String, false;
        Cow<'_, str> => String, false;
        &[u8] => Vec<u8>, false;
        Vec<u8> => Vec<u8>, false;
        Box<[u8]> => Vec<u8>, false;
        NaiveDate => NaiveDate, true;
        NaiveTime => NaiveTime, true;
        NaiveDateTime => NaiveDateTime, true;
        DateTime<Utc> => DateTime<Utc>, true;
        DateTime<FixedOffset> => DateTime<FixedOffset>, true;
        DateTime<Local> => DateTime<Local>, true;
        TimeTz => TimeTz, true;
        Timestamp<NaiveDate> => Timestamp<NaiveDate>, true;
        Timestamp<NaiveDateTime> => Timestamp<NaiveDateTime>, true;
        Timestamp<DateTime<Utc>> => Timestamp<DateTime<Utc>>, true;
        Interval => Interval, false;
        serde_json::Value => serde_json::Value, false;
        Json<serde_json::Value> => Json<serde_json::Value>, false;
        Json<Vec<i64>> => Json<Vec<i64>>, false;
        Uuid => Uuid, false;
        Box<i32> => Box<i32>, false;
        Range<i32> => Range<i32>, false;
        Range<i64> => Range<i64>, false;
        Range<Decimal> => Range<Decimal>, false;
        Range<NaiveDate> => Range<NaiveDate>, true;
        Range<Timestamp<NaiveDate>> => Range<Timestamp<NaiveDate>>, true;
        Range<NaiveDateTime> => Range<NaiveDateTime>, true;
        Range<DateTime<Utc>> => Range<DateTime<Utc>>, true;
        Multirange<i32> => Multirange<i32>, false;
        Multirange<Decimal> => Multirange<Decimal>, false;
        Multirange<NaiveDate> => Multirange<NaiveDate>, true;
        IpInet => IpInet, false;
        IpCidr => IpCidr, false;
        IpAddr => IpAddr, false;
        MacAddr => MacAddr, false;
        MacAddr8 => MacAddr8, false;
        BitString => BitString, false;
        Money => Money, false;
        Point => Point, false;
        Line => Line, false;
        LineSegment => LineSegment, false;
        Rect => Rect, false;
        Path => Path, false;
        Polygon => Polygon, false;
        Circle => Circle, false;
        // Not HashMap: its Debug order differs between two maps of the same pairs.
        BTreeMap<String, Option<String>> => BTreeMap<String, Option<String>>, false;
        Mood => Mood, false;
        Item => Item, false;
        PosInt => PosInt, false;
        Range<f64> => Range<f64>, false;
        Multirange<f64> => Multirange<f64>, false;
    );
    probe_arrays!(ty, raw;
        bool => bool, false;
        i16 => i16, false;
        i32 => i32, false;
        i64 => i64, false;
        u32 => u32, false;
        f32 => f32, false;
        f64 => f64, false;
        Decimal => Decimal, false;
        &str => String, false;
        String => String, false;
        Vec<u8> => Vec<u8>, false;
        NaiveDate => NaiveDate, true;
        NaiveTime => NaiveTime, true;
        NaiveDateTime => NaiveDateTime, true;
        DateTime<Utc> => DateTime<Utc>, true;
        TimeTz => TimeTz, true;
        Timestamp<NaiveDate> => Timestamp<NaiveDate>, true;
        Interval => Interval, false;
        serde_json::Value => serde_json::Value, false;
        Uuid => Uuid, false;
        Range<i32> => Range<i32>, false;
        Multirange<i32> => Multirange<i32>, false;
        IpInet => IpInet, false;
        BitString => BitString, false;
        Point => Point, false;
        Path => Path, false;
        Mood => Mood, false;
        Item => Item, false;
        PosInt => PosInt, false;
    );
    decode_as_feature_types(ty, raw);
}

/// The types of tusk's feature codecs (src/types/ext/).
fn decode_as_feature_types(ty: &Type, raw: Option<&[u8]>) {
    probe!(ty, raw;
        rust_decimal::Decimal => rust_decimal::Decimal, false;
        bigdecimal::BigDecimal => bigdecimal::BigDecimal, false;
        time::Date => time::Date, true;
        time::Time => time::Time, true;
        time::PrimitiveDateTime => time::PrimitiveDateTime, true;
        time::OffsetDateTime => time::OffsetDateTime, true;
        time::UtcDateTime => time::UtcDateTime, true;
        time::Duration => time::Duration, false;
        Timestamp<time::Date> => Timestamp<time::Date>, true;
        jiff::civil::Date => jiff::civil::Date, true;
        jiff::civil::Time => jiff::civil::Time, true;
        jiff::civil::DateTime => jiff::civil::DateTime, true;
        jiff::Timestamp => jiff::Timestamp, true;
        jiff::ZonedDateTime => jiff::ZonedDateTime, true;
        jiff::Span => jiff::Span, false;
        jiff::SignedDuration => jiff::SignedDuration, false;
        Timestamp<jiff::Timestamp> => Timestamp<jiff::Timestamp>, true;
    );
    probe_arrays!(ty, raw;
        rust_decimal::Decimal => rust_decimal::Decimal, false;
        bigdecimal::BigDecimal => bigdecimal::BigDecimal, false;
        time::Date => time::Date, true;
        time::OffsetDateTime => time::OffsetDateTime, true;
        jiff::civil::DateTime => jiff::civil::DateTime, true;
        jiff::Span => jiff::Span, false;
    );
}

/// Whether `accepts` takes `ty` or a type under its domains: a domain converts as its base
/// type (as tusk's checked conversions do).
fn through_domains(ty: &Type, accepts: fn(&Type) -> bool) -> bool {
    let mut ty = ty;
    loop {
        if accepts(ty) {
            return true;
        }
        match ty.domain_base() {
            Some(base) => ty = base,
            None => return false,
        }
    }
}

/// Decodes `raw` as `T`, checks the outcome, and re-encodes a decoded value to decode it again
/// as `O`.
fn probe<'a, T, O>(ty: &Type, raw: Option<&'a [u8]>, dates: bool)
where
    T: FromSql<'a> + ToSql + Debug,
    O: FromSqlOwned + Debug,
{
    let name = std::any::type_name::<T>();
    let value = match decode::<T>(ty, raw) {
        Ok(value) => value,
        Err(e) => {
            if !through_domains(ty, <T as FromSql>::accepts) {
                assert!(
                    e.is::<WrongType>(),
                    "{name} from {ty}: not WrongType: {e:?}"
                );
            } else if raw.is_none() {
                assert!(
                    e.is::<WasNull>(),
                    "{name} from NULL {ty}: not WasNull: {e:?}"
                );
            } else {
                assert_typed(&e, name, ty);
            }
            return;
        }
    };
    assert!(
        through_domains(ty, <T as FromSql>::accepts),
        "{name} decoded {ty}, which it does not accept"
    );
    if !through_domains(ty, <T as ToSql>::accepts) {
        return; // Decoding widens (i64 from int2); encoding never narrows.
    }
    let mut buf = BytesMut::new();
    let again = match value.to_sql_checked(ty, &mut buf) {
        Ok(IsNull::Yes) => decode::<O>(ty, None),
        Ok(IsNull::No) => decode::<O>(ty, Some(&buf)),
        Err(e) => {
            assert!(
                dates,
                "{name} decoded {value:?} from {ty} but cannot encode it: {e}"
            );
            assert!(
                e.is::<InvalidValue>(),
                "{name} encoding {ty}: untyped error {e:?}"
            );
            return;
        }
    };
    let again = again.unwrap_or_else(|e| {
        panic!("{name} {value:?} encoded as {ty} ({buf:?}) does not decode: {e}")
    });
    assert_eq!(
        format!("{again:?}"),
        format!("{value:?}"),
        "{name} from {ty}: {raw:?} re-encoded as {buf:?}"
    );
}

/// A decoding error must be one of the types the module documents, and here (the SQL type
/// accepted, the value not NULL) an `InvalidValue`, or `WasNull` for a NULL array element.
fn assert_typed(e: &BoxError, name: &str, ty: &Type) {
    assert!(
        e.is::<InvalidValue>() || e.is::<WasNull>(),
        "{name} from {ty}: untyped error {e:?}"
    );
}

/// The text forms: `Decimal` and `Uuid` print what they parse so that it parses back, and a
/// parsed `Decimal` survives the binary format.
fn check_text_forms(text: &str) {
    if let Ok(d) = text.parse::<Decimal>() {
        let printed = d.to_string();
        let again: Decimal = printed
            .parse()
            .unwrap_or_else(|e| panic!("{text:?} parsed as {d:?}, printed {printed:?}: {e}"));
        assert_eq!(again, d, "{text:?} printed as {printed:?}");
        let mut buf = BytesMut::new();
        d.to_sql_checked(&Type::NUMERIC, &mut buf)
            .unwrap_or_else(|e| panic!("{text:?} parsed as {d:?} but does not encode: {e}"));
        let back: Decimal = decode(&Type::NUMERIC, Some(&buf))
            .unwrap_or_else(|e| panic!("{d:?} encoded as {buf:?} does not decode: {e}"));
        assert_eq!(back, d, "{text:?} through the binary format");
    }
    if let Ok(u) = text.parse::<Uuid>() {
        let printed = u.to_string();
        assert_eq!(
            printed.parse::<Uuid>().ok(),
            Some(u),
            "{text:?} printed as {printed:?}"
        );
    }
}
