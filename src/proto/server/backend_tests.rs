//! Unit tests of the backend encoders' refusals: NUL inside C strings, empty list items, counts
//! over 65535, lengths over i32::MAX, keys and formats the protocol does not allow, and the
//! buffer rolled back on every failure. The byte-exact vectors of every message and the
//! cross-check against the client's decoder live in
//! `protocol-tests/tests/server_backend_vectors.rs`.

use std::iter;

use bytes::BytesMut;

use super::backend::*;
use crate::proto::backend::Field;
use crate::proto::ProtoError;

/// Runs a failing `encode` on a buffer holding earlier bytes, checks it was rolled back to
/// exactly them, and returns the error.
fn rolled_back(encode: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>) -> ProtoError {
    let mut buf = BytesMut::from(&b"earlier"[..]);
    let error = encode(&mut buf).expect_err("encoding should fail");
    assert_eq!(&buf[..], b"earlier", "the buffer was not rolled back");
    error
}

fn field(name: &str) -> Field<'_> {
    Field {
        name,
        table_oid: 0,
        column_id: 0,
        type_oid: 25,
        type_size: -1,
        type_modifier: -1,
        format: 0,
    }
}

#[test]
fn nul_in_any_c_string_is_refused_naming_the_field() {
    type Case = (&'static str, fn(&mut BytesMut) -> Result<(), ProtoError>);
    let cases: [Case; 10] = [
        ("SASL mechanism name", |b| {
            authentication_sasl(["SCRAM-SHA-256", "X\0"], b)
        }),
        ("CommandComplete tag", |b| command_complete("SELECT\0 1", b)),
        ("ErrorResponse field", |b| {
            error_response([(b'S', "ERROR"), (b'M', "a\0b")], b)
        }),
        ("NoticeResponse field", |b| {
            notice_response([(b'M', "\0")], b)
        }),
        ("protocol option name", |b| {
            negotiate_protocol_version(196_608, ["_pq_.a", "_pq_\0"], b)
        }),
        ("notification channel", |b| {
            notification_response(1, "c\0", "", b)
        }),
        ("notification payload", |b| {
            notification_response(1, "c", "p\0", b)
        }),
        ("ParameterStatus name", |b| parameter_status("\0", "v", b)),
        ("ParameterStatus value", |b| parameter_status("n", "v\0", b)),
        ("RowDescription field name", |b| {
            row_description([field("a"), field("b\0")], b)
        }),
    ];
    for (what, encode) in cases {
        assert_eq!(
            rolled_back(encode),
            ProtoError::NulInString { what },
            "case {what}"
        );
    }
}

#[test]
fn empty_list_items_that_would_end_the_list_are_refused() {
    assert_eq!(
        rolled_back(|b| authentication_sasl(["SCRAM-SHA-256", ""], b)),
        ProtoError::malformed(
            "AuthenticationSASL",
            "a mechanism name is empty, which would end the list early"
        )
    );
    for (message, encode) in [
        (
            "ErrorResponse",
            (|b| error_response([(b'S', "ERROR"), (0, "x")], b))
                as fn(&mut BytesMut) -> Result<(), ProtoError>,
        ),
        ("NoticeResponse", |b| notice_response([(0, "")], b)),
    ] {
        assert_eq!(
            rolled_back(encode),
            ProtoError::malformed(
                message,
                "a field code is 0, which would end the field list early"
            )
        );
    }
}

#[test]
fn backend_keys_must_be_4_to_256_bytes() {
    for len in [0, 3, 257] {
        let key = vec![7; len];
        assert_eq!(
            rolled_back(|b| backend_key_data(1, &key, b)),
            ProtoError::malformed(
                "BackendKeyData",
                format!("the secret key is {len} bytes, outside 4..=256")
            )
        );
    }
    for len in [4, 256] {
        let mut buf = BytesMut::new();
        backend_key_data(1, &vec![7; len], &mut buf).unwrap();
        assert_eq!(buf.len(), 1 + 4 + 4 + len);
    }
}

#[test]
fn copy_formats_outside_the_protocol_are_refused() {
    assert_eq!(
        rolled_back(|b| copy_in_response(2, &[], b)),
        ProtoError::malformed("CopyInResponse", "unknown overall format 2")
    );
    assert_eq!(
        rolled_back(|b| copy_out_response(1, &[1, 2], b)),
        ProtoError::malformed(
            "CopyOutResponse",
            "column 1 has format 2, not allowed in a COPY of format 1"
        )
    );
    // A text COPY has only text columns.
    assert_eq!(
        rolled_back(|b| copy_both_response(0, &[0, 1], b)),
        ProtoError::malformed(
            "CopyBothResponse",
            "column 1 has format 1, not allowed in a COPY of format 0"
        )
    );
    // A binary COPY may mix (the documentation only requires zeros for a text COPY).
    let mut buf = BytesMut::new();
    copy_out_response(1, &[1, 0], &mut buf).unwrap();
    assert_eq!(&buf[..], b"H\x00\x00\x00\x0b\x01\x00\x02\x00\x01\x00\x00");
}

#[test]
fn counts_over_65535_are_refused_with_the_real_total() {
    let too_many = u16::MAX as usize + 1;
    assert_eq!(
        rolled_back(|b| data_row(iter::repeat_n(None, too_many + 4), b)),
        ProtoError::TooMany {
            what: "DataRow columns",
            count: too_many + 4
        }
    );
    assert_eq!(
        rolled_back(|b| parameter_description(iter::repeat_n(23, too_many), b)),
        ProtoError::TooMany {
            what: "ParameterDescription types",
            count: too_many
        }
    );
    assert_eq!(
        rolled_back(|b| row_description(iter::repeat_n(field("c"), too_many), b)),
        ProtoError::TooMany {
            what: "RowDescription fields",
            count: too_many
        }
    );
    let formats = vec![0i16; too_many];
    assert_eq!(
        rolled_back(|b| copy_in_response(0, &formats, b)),
        ProtoError::TooMany {
            what: "COPY column formats",
            count: too_many
        }
    );
    // Exactly 65535 is fine.
    let mut buf = BytesMut::new();
    data_row(iter::repeat_n(None, u16::MAX as usize), &mut buf).unwrap();
    assert_eq!(&buf[5..7], b"\xff\xff");
    assert_eq!(buf.len(), 1 + 4 + 2 + 4 * 65535);
}

/// A length over i32::MAX cannot be built in a test's memory; the checks the encoders run for
/// the message length and each inner length are exercised directly.
#[test]
fn lengths_over_i32_max_are_refused_not_wrapped() {
    use crate::proto::encode::checked_len;
    assert_eq!(
        checked_len("DataRow column 0", i32::MAX as usize),
        Ok(i32::MAX)
    );
    assert_eq!(
        checked_len(
            format_args!("{} column {}", "DataRow", 3),
            i32::MAX as usize + 1
        ),
        Err(ProtoError::TooLarge {
            what: "DataRow column 3".into(),
            len: i32::MAX as usize + 1
        })
    );
    // 4 GiB + 5 would wrap to 5 in an i32.
    assert!(checked_len("x", (1usize << 32) + 5).is_err());
}

#[test]
fn encoders_append_after_earlier_bytes() {
    let mut buf = BytesMut::from(&b"earlier"[..]);
    authentication_ok(&mut buf);
    bind_complete(&mut buf);
    command_complete("BEGIN", &mut buf).unwrap();
    assert_eq!(
        &buf[..],
        b"earlierR\x00\x00\x00\x08\x00\x00\x00\x002\x00\x00\x00\x04C\x00\x00\x00\x0aBEGIN\x00"
    );
}

#[test]
fn negotiate_protocol_version_counts_its_options() {
    let mut buf = BytesMut::new();
    negotiate_protocol_version(196_608, iter::empty(), &mut buf).unwrap();
    assert_eq!(
        &buf[..],
        b"v\x00\x00\x00\x0c\x00\x03\x00\x00\x00\x00\x00\x00"
    );
    let mut buf = BytesMut::new();
    negotiate_protocol_version(196_608, ["_pq_.a", "_pq_.b"], &mut buf).unwrap();
    assert_eq!(&buf[9..13], b"\x00\x00\x00\x02");
}
