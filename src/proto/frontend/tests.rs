//! Byte-exact vectors for every frontend message, written by hand from the "Message Formats"
//! section of the PostgreSQL documentation, plus the error paths: NUL in strings, counts over
//! 65535, lengths over i32::MAX, encoder misuse, and rollback of the buffer on every failure.

use std::convert::Infallible;
use std::iter;

use bytes::{BufMut, BytesMut};

use super::*;

/// A buffer already holding bytes from earlier messages, to check that encoders append and that
/// a failed encode leaves exactly these bytes.
fn prefilled() -> BytesMut {
    BytesMut::from(&b"earlier"[..])
}

/// Runs `encode` on an empty buffer and returns what it wrote.
fn encoded(encode: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>) -> BytesMut {
    let mut buf = BytesMut::new();
    encode(&mut buf).expect("encoding should succeed");
    buf
}

/// Runs a failing `encode` on a prefilled buffer, checks the buffer was rolled back, and
/// returns the error.
fn rolled_back<E>(encode: impl FnOnce(&mut BytesMut) -> Result<(), E>) -> E {
    let mut buf = prefilled();
    let error = match encode(&mut buf) {
        Ok(()) => panic!("encoding should fail"),
        Err(error) => error,
    };
    assert_eq!(&buf[..], b"earlier", "the buffer was not rolled back");
    error
}

/// A parameter value for bind tests.
#[derive(Clone, Copy)]
enum Value<'a> {
    Int(i32),
    Text(&'a str),
    Null,
}

/// A well-behaved encoder: binary int4, text, or NULL.
fn encode_value(value: Value<'_>, buf: &mut BytesMut) -> Result<IsNull, Infallible> {
    Ok(match value {
        Value::Int(n) => {
            buf.put_i32(n);
            IsNull::No
        }
        Value::Text(s) => {
            buf.put_slice(s.as_bytes());
            IsNull::No
        }
        Value::Null => IsNull::Yes,
    })
}

/// An encoder for tests that only send NULLs.
fn encode_null(_: (), _: &mut BytesMut) -> Result<IsNull, Infallible> {
    Ok(IsNull::Yes)
}

// ---- vectors ------------------------------------------------------------------------------

#[test]
fn startup_message_vector() {
    let buf = encoded(|buf| startup_message([("user", "postgres"), ("database", "postgres")], buf));
    assert_eq!(
        &buf[..],
        b"\x00\x00\x00\x29\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00\x00"
    );
}

#[test]
fn startup_message_without_parameters_is_version_and_terminator() {
    let buf = encoded(|buf| startup_message([], buf));
    assert_eq!(&buf[..], b"\x00\x00\x00\x09\x00\x03\x00\x00\x00");
}

#[test]
fn startup_message_allows_empty_value() {
    let buf = encoded(|buf| startup_message([("options", "")], buf));
    assert_eq!(
        &buf[..],
        b"\x00\x00\x00\x12\x00\x03\x00\x00options\x00\x00\x00"
    );
}

#[test]
fn ssl_and_gssenc_request_vectors() {
    let mut buf = BytesMut::new();
    ssl_request(&mut buf);
    assert_eq!(&buf[..], b"\x00\x00\x00\x08\x04\xd2\x16\x2f");
    let mut buf = BytesMut::new();
    gssenc_request(&mut buf);
    assert_eq!(&buf[..], b"\x00\x00\x00\x08\x04\xd2\x16\x30");
}

#[test]
fn cancel_request_vector_with_protocol_3_0_key() {
    let buf = encoded(|buf| cancel_request(1234, &[0xde, 0xad, 0xbe, 0xef], buf));
    assert_eq!(
        &buf[..],
        b"\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x04\xd2\xde\xad\xbe\xef"
    );
}

#[test]
fn cancel_request_with_protocol_3_2_long_keys() {
    let key32 = [0xab; 32];
    let buf = encoded(|buf| cancel_request(-7, &key32, buf));
    let mut expected = b"\x00\x00\x00\x2c\x04\xd2\x16\x2e\xff\xff\xff\xf9".to_vec();
    expected.extend_from_slice(&key32);
    assert_eq!(&buf[..], &expected[..]);

    // 256 bytes is the documented maximum: accepted, length 12 + 256 = 268.
    let key256 = [0x01; MAX_CANCEL_KEY_LEN];
    let buf = encoded(|buf| cancel_request(1, &key256, buf));
    assert_eq!(&buf[..4], b"\x00\x00\x01\x0c");
    assert_eq!(buf.len(), 268);
}

#[test]
fn password_message_vector() {
    let buf = encoded(|buf| password_message(b"secret", buf));
    assert_eq!(&buf[..], b"p\x00\x00\x00\x0bsecret\x00");
}

#[test]
fn password_message_carries_md5_hash_text() {
    let hash = b"md5fd8f3cbd3d8dd2e0fa2d7a3f8b4d3b1c";
    let buf = encoded(|buf| password_message(hash, buf));
    assert_eq!(buf[0], b'p');
    assert_eq!(&buf[1..5], &(4 + 35 + 1i32).to_be_bytes());
    assert_eq!(&buf[5..40], &hash[..]);
    assert_eq!(buf[40], 0);
}

#[test]
fn sasl_initial_response_vector() {
    let buf = encoded(|buf| sasl_initial_response("SCRAM-SHA-256", b"n,,n=,r=abc", buf));
    assert_eq!(
        &buf[..],
        b"p\x00\x00\x00\x21SCRAM-SHA-256\x00\x00\x00\x00\x0bn,,n=,r=abc"
    );
}

#[test]
fn sasl_initial_response_with_empty_data_sends_length_zero() {
    let buf = encoded(|buf| sasl_initial_response("X", b"", buf));
    assert_eq!(&buf[..], b"p\x00\x00\x00\x0aX\x00\x00\x00\x00\x00");
}

#[test]
fn sasl_and_gss_response_vectors() {
    let buf = encoded(|buf| sasl_response(b"c=biws", buf));
    assert_eq!(&buf[..], b"p\x00\x00\x00\x0ac=biws");
    let buf = encoded(|buf| gss_response(b"\x01\x00\x02", buf));
    assert_eq!(&buf[..], b"p\x00\x00\x00\x07\x01\x00\x02");
}

#[test]
fn query_vectors() {
    let buf = encoded(|buf| query("SELECT 1", buf));
    assert_eq!(&buf[..], b"Q\x00\x00\x00\x0dSELECT 1\x00");
    let buf = encoded(|buf| query("", buf));
    assert_eq!(&buf[..], b"Q\x00\x00\x00\x05\x00");
}

#[test]
fn query_counts_utf8_bytes_not_chars() {
    // "é" is two bytes in UTF-8: length = 4 + 2 + 1.
    let buf = encoded(|buf| query("é", buf));
    assert_eq!(&buf[..], b"Q\x00\x00\x00\x07\xc3\xa9\x00");
}

#[test]
fn parse_vector_with_types() {
    let buf = encoded(|buf| parse("s1", "SELECT $1, $2", [23, 25], buf));
    assert_eq!(
        &buf[..],
        b"P\x00\x00\x00\x1fs1\x00SELECT $1, $2\x00\x00\x02\x00\x00\x00\x17\x00\x00\x00\x19"
    );
}

#[test]
fn parse_vector_unnamed_without_types() {
    let buf = encoded(|buf| parse("", "SELECT 1", [], buf));
    assert_eq!(&buf[..], b"P\x00\x00\x00\x10\x00SELECT 1\x00\x00\x00");
}

#[test]
fn parse_writes_oids_as_unsigned() {
    let buf = encoded(|buf| parse("", "", [u32::MAX, 0], buf));
    assert_eq!(
        &buf[..],
        b"P\x00\x00\x00\x10\x00\x00\x00\x02\xff\xff\xff\xff\x00\x00\x00\x00"
    );
}

#[test]
fn bind_vector_with_nulls_and_mixed_formats() {
    let mut buf = BytesMut::new();
    let params = [Value::Int(7), Value::Null, Value::Text("hi")];
    bind("p1", "s1", &[1, 0, 0], params, encode_value, &[1], &mut buf).unwrap();
    assert_eq!(
        &buf[..],
        &b"B\x00\x00\x00\x2a\
           p1\x00\
           s1\x00\
           \x00\x03\x00\x01\x00\x00\x00\x00\
           \x00\x03\
           \x00\x00\x00\x04\x00\x00\x00\x07\
           \xff\xff\xff\xff\
           \x00\x00\x00\x02hi\
           \x00\x01\x00\x01"[..]
    );
}

/// Names longer than the fixed part of the message (the sizes of the reservation up front).
#[test]
fn bind_vector_with_long_names() {
    let mut buf = BytesMut::new();
    let params = [Value::Int(7)];
    let (portal, statement) = ("portal_0123456789", "tusk_statement_0123456789abcdef");
    bind(portal, statement, &[], params, encode_value, &[], &mut buf).unwrap();
    assert_eq!(
        &buf[..],
        &b"B\x00\x00\x00\x44\
           portal_0123456789\x00\
           tusk_statement_0123456789abcdef\x00\
           \x00\x00\
           \x00\x01\
           \x00\x00\x00\x04\x00\x00\x00\x07\
           \x00\x00"[..]
    );
}

#[test]
fn bind_vector_unnamed_without_parameters() {
    let mut buf = BytesMut::new();
    bind("", "", &[], iter::empty(), encode_null, &[], &mut buf).unwrap();
    assert_eq!(
        &buf[..],
        b"B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00"
    );
}

#[test]
fn bind_distinguishes_empty_value_from_null() {
    let mut buf = BytesMut::new();
    let params = [Value::Text(""), Value::Null];
    bind("", "", &[], params, encode_value, &[], &mut buf).unwrap();
    assert_eq!(
        &buf[..],
        b"B\x00\x00\x00\x14\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00"
    );
}

#[test]
fn describe_vectors() {
    let buf = encoded(|buf| describe_statement("s1", buf));
    assert_eq!(&buf[..], b"D\x00\x00\x00\x08Ss1\x00");
    let buf = encoded(|buf| describe_portal("", buf));
    assert_eq!(&buf[..], b"D\x00\x00\x00\x06P\x00");
}

#[test]
fn execute_vectors() {
    let buf = encoded(|buf| execute("", 0, buf));
    assert_eq!(&buf[..], b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00");
    let buf = encoded(|buf| execute("p1", 100, buf));
    assert_eq!(&buf[..], b"E\x00\x00\x00\x0bp1\x00\x00\x00\x00\x64");
    let buf = encoded(|buf| execute("", i32::MAX, buf));
    assert_eq!(&buf[..], b"E\x00\x00\x00\x09\x00\x7f\xff\xff\xff");
}

#[test]
fn close_vectors() {
    let buf = encoded(|buf| close_statement("s1", buf));
    assert_eq!(&buf[..], b"C\x00\x00\x00\x08Ss1\x00");
    let buf = encoded(|buf| close_portal("p1", buf));
    assert_eq!(&buf[..], b"C\x00\x00\x00\x08Pp1\x00");
}

#[test]
fn empty_message_vectors() {
    type Case = (fn(&mut BytesMut), &'static [u8]);
    let cases: [Case; 4] = [
        (sync, b"S\x00\x00\x00\x04"),
        (flush, b"H\x00\x00\x00\x04"),
        (terminate, b"X\x00\x00\x00\x04"),
        (copy_done, b"c\x00\x00\x00\x04"),
    ];
    for (encode, expected) in cases {
        let mut buf = BytesMut::new();
        encode(&mut buf);
        assert_eq!(&buf[..], expected);
    }
}

#[test]
fn copy_data_vectors() {
    let buf = encoded(|buf| copy_data(b"1\tx\n", buf));
    assert_eq!(&buf[..], b"d\x00\x00\x00\x081\tx\n");
    // CopyData is raw bytes: NUL is fine inside it.
    let buf = encoded(|buf| copy_data(b"\x00", buf));
    assert_eq!(&buf[..], b"d\x00\x00\x00\x05\x00");
    let buf = encoded(|buf| copy_data(b"", buf));
    assert_eq!(&buf[..], b"d\x00\x00\x00\x04");
}

#[test]
fn copy_data_header_matches_copy_data() {
    let mut split = BytesMut::new();
    copy_data_header(4, &mut split).unwrap();
    split.put_slice(b"1\tx\n");
    assert_eq!(split, encoded(|buf| copy_data(b"1\tx\n", buf)));
}

#[test]
fn copy_fail_vector() {
    let buf = encoded(|buf| copy_fail("oops", buf));
    assert_eq!(&buf[..], b"f\x00\x00\x00\x09oops\x00");
}

#[test]
fn function_call_vector_with_null_argument() {
    let five = [0, 0, 0, 5];
    let args = [Some(&five[..]), None];
    let buf = encoded(|buf| function_call(1598, &[1], args, 1, buf));
    assert_eq!(
        &buf[..],
        &b"F\x00\x00\x00\x1c\
           \x00\x00\x06\x3e\
           \x00\x01\x00\x01\
           \x00\x02\
           \x00\x00\x00\x04\x00\x00\x00\x05\
           \xff\xff\xff\xff\
           \x00\x01"[..]
    );
}

#[test]
fn encoders_append_after_existing_bytes() {
    let mut buf = prefilled();
    query("SELECT 1", &mut buf).unwrap();
    sync(&mut buf);
    assert_eq!(
        &buf[..],
        b"earlierQ\x00\x00\x00\x0dSELECT 1\x00S\x00\x00\x00\x04"
    );
}

// ---- NUL in C strings ---------------------------------------------------------------------

#[test]
fn nul_in_any_c_string_is_refused_naming_the_field() {
    type Case = (&'static str, fn(&mut BytesMut) -> Result<(), ProtoError>);
    let cases: [Case; 16] = [
        ("StartupMessage parameter name", |b| {
            startup_message([("user", "u"), ("a\0b", "v")], b)
        }),
        ("StartupMessage parameter value", |b| {
            startup_message([("user", "u\0")], b)
        }),
        ("password", |b| password_message(b"pa\0ss", b)),
        ("SASL mechanism name", |b| {
            sasl_initial_response("SCRAM\0", b"", b)
        }),
        ("Query text", |b| query("SELECT 1;\0Q", b)),
        ("Parse statement name", |b| parse("s\0", "SELECT 1", [], b)),
        ("Parse query text", |b| parse("s", "SELECT \0", [23], b)),
        ("Bind portal name", |b| {
            bind("p\0", "", &[], iter::empty(), encode_null, &[], b).map_err(into_proto)
        }),
        ("Bind statement name", |b| {
            bind("", "\0", &[], iter::empty(), encode_null, &[], b).map_err(into_proto)
        }),
        ("Describe statement name", |b| describe_statement("\0", b)),
        ("Describe portal name", |b| describe_portal("x\0", b)),
        ("Execute portal name", |b| execute("\0", 0, b)),
        ("Close statement name", |b| close_statement("\0", b)),
        ("Close portal name", |b| close_portal("\0", b)),
        ("CopyFail reason", |b| copy_fail("bad\0", b)),
        // The leading NUL case: a string that is nothing but the terminator.
        ("Query text", |b| query("\0", b)),
    ];
    for (what, encode) in cases {
        let error = rolled_back(encode);
        assert_eq!(error, ProtoError::NulInString { what }, "case {what}");
    }
}

fn into_proto(error: BindError<Infallible>) -> ProtoError {
    match error {
        BindError::Proto(error) => error,
        BindError::Param { error, .. } => match error {},
    }
}

// ---- other refusals, each rolled back -----------------------------------------------------

#[test]
fn startup_message_refuses_empty_parameter_name() {
    let error = rolled_back(|b| startup_message([("user", "u"), ("", "v")], b));
    assert_eq!(
        error,
        ProtoError::malformed(
            "StartupMessage",
            "a parameter name is empty, which would end the parameter list early"
        )
    );
}

#[test]
fn cancel_request_refuses_keys_outside_4_to_256_bytes() {
    for len in [0, 1, 3, MAX_CANCEL_KEY_LEN + 1] {
        let error = rolled_back(|b| cancel_request(1, &vec![7; len], b));
        assert_eq!(
            error.to_string(),
            format!(
                "malformed CancelRequest message: the secret key is {len} bytes, outside the \
                 protocol's {MIN_CANCEL_KEY_LEN}..={MAX_CANCEL_KEY_LEN}"
            )
        );
    }
}

#[test]
fn execute_refuses_negative_row_limit() {
    let error = rolled_back(|b| execute("", -1, b));
    assert_eq!(
        error,
        ProtoError::malformed(
            "Execute",
            "the row limit is -1; it must be 0 (all rows) or positive"
        )
    );
}

// ---- counts over 65535 ----------------------------------------------------------------------

#[test]
fn parse_refuses_more_than_65535_types_and_accepts_65535() {
    let error = rolled_back(|b| parse("", "", std::iter::repeat_n(23, 65_536), b));
    assert_eq!(
        error,
        ProtoError::TooMany {
            what: "Parse parameter types",
            count: 65_536
        }
    );
    // The reported count is the iterator's whole length, not where encoding stopped.
    let error = rolled_back(|b| parse("", "", std::iter::repeat_n(23, 70_000), b));
    assert_eq!(
        error,
        ProtoError::TooMany {
            what: "Parse parameter types",
            count: 70_000
        }
    );

    let buf = encoded(|b| parse("", "", std::iter::repeat_n(23, 65_535), b));
    assert_eq!(&buf[7..9], b"\xff\xff");
    assert_eq!(buf.len(), 1 + 4 + 1 + 1 + 2 + 4 * 65_535);
}

#[test]
fn bind_refuses_more_than_65535_of_anything() {
    let many = vec![0i16; 65_536];
    let cases: [(&str, &[i16], usize, &[i16]); 3] = [
        ("Bind parameter format codes", &many, 0, &[]),
        ("Bind parameters", &[], 65_536, &[]),
        ("Bind result format codes", &[], 0, &many),
    ];
    for (what, param_formats, params, result_formats) in cases {
        let error = rolled_back(|b| {
            let nulls = std::iter::repeat_n((), params);
            bind("", "", param_formats, nulls, encode_null, result_formats, b)
        });
        assert_eq!(
            error,
            BindError::Proto(ProtoError::TooMany {
                what,
                count: 65_536
            })
        );
    }
}

/// The error counts every parameter, the ones after the 65,536th included.
#[test]
fn bind_reports_the_real_number_of_parameters_past_the_limit() {
    let error = rolled_back(|b| {
        let nulls = std::iter::repeat_n((), 70_000);
        bind("", "", &[], nulls, encode_null, &[], b)
    });
    assert_eq!(
        error,
        BindError::Proto(ProtoError::TooMany {
            what: "Bind parameters",
            count: 70_000
        })
    );
}

/// The length field of a value: checked against i32::MAX without writing 2 GiB.
#[test]
fn value_lengths_must_fit_the_i32_field() {
    let max = i32::MAX as usize;
    assert_eq!(value_length(0, Some(0), IsNull::Yes), Ok(-1));
    assert_eq!(value_length(0, Some(0), IsNull::No), Ok(0));
    assert_eq!(value_length(0, Some(max), IsNull::No), Ok(i32::MAX));
    assert_eq!(
        value_length(2, Some(max + 1), IsNull::No),
        Err(ProtoError::TooLarge {
            what: "Bind parameter 3".into(),
            len: max + 1
        })
    );
    assert_eq!(
        value_length(0, Some(1), IsNull::Yes)
            .unwrap_err()
            .to_string(),
        "malformed Bind message: parameter 1 was reported NULL but its encoder wrote 1 bytes"
    );
    assert_eq!(
        value_length(4, None, IsNull::No).unwrap_err().to_string(),
        "malformed Bind message: the encoder of parameter 5 removed bytes it had not written"
    );
}

#[test]
fn bind_accepts_exactly_65535_parameters() {
    let mut buf = BytesMut::new();
    let nulls = std::iter::repeat_n((), 65_535);
    bind("", "", &[], nulls, encode_null, &[], &mut buf).unwrap();
    // Tag, length, two empty names and the zero format count come first.
    assert_eq!(&buf[9..11], b"\xff\xff");
    assert_eq!(buf.len(), 1 + 4 + 2 + 2 + 2 + 4 * 65_535 + 2);
}

#[test]
fn function_call_refuses_more_than_65535_formats_or_arguments() {
    let error = rolled_back(|b| function_call(1, &[0; 65_536], [], 0, b));
    assert!(matches!(
        error,
        ProtoError::TooMany {
            what: "FunctionCall argument format codes",
            count: 65_536
        }
    ));
    let error = rolled_back(|b| function_call(1, &[], std::iter::repeat_n(None, 65_536), 0, b));
    assert!(matches!(
        error,
        ProtoError::TooMany {
            what: "FunctionCall arguments",
            count: 65_536
        }
    ));
}

// ---- bind encoders that fail or break their contract ---------------------------------------

#[test]
fn bind_reports_the_failing_parameter_index_and_rolls_back() {
    let error = rolled_back(|b| {
        bind(
            "",
            "",
            &[],
            [1, 2, 3],
            |n, buf| {
                if n == 2 {
                    return Err("cannot encode 2");
                }
                buf.put_i32(n);
                Ok(IsNull::No)
            },
            &[],
            b,
        )
    });
    assert_eq!(
        error,
        BindError::Param {
            index: 1,
            error: "cannot encode 2"
        }
    );
}

#[test]
fn bind_refuses_encoder_that_wrote_bytes_but_said_null() {
    let error = rolled_back(|b| {
        bind(
            "",
            "",
            &[],
            [(), ()],
            |(), buf| {
                buf.put_slice(b"oops");
                Ok::<_, Infallible>(IsNull::Yes)
            },
            &[],
            b,
        )
    });
    let error = into_proto(error);
    assert!(matches!(
        error,
        ProtoError::Malformed {
            message: "Bind",
            ..
        }
    ));
    let text = error.to_string();
    assert!(
        text.contains("parameter 1") && text.contains("4 bytes"),
        "{text}"
    );
}

#[test]
fn bind_refuses_encoder_that_truncated_the_buffer() {
    let error = rolled_back(|b| {
        bind(
            "",
            "",
            &[],
            [()],
            |(), buf| {
                // Eats two bytes of the length placeholder written for it.
                buf.truncate(buf.len() - 2);
                Ok::<_, Infallible>(IsNull::No)
            },
            &[],
            b,
        )
    });
    assert_eq!(
        into_proto(error),
        ProtoError::malformed(
            "Bind",
            "the encoder of parameter 1 removed bytes it had not written"
        )
    );
}

#[test]
fn bind_error_display_and_source() {
    let error: BindError<std::io::Error> = BindError::Param {
        index: 2,
        error: std::io::Error::other("out of range"),
    };
    assert_eq!(error.to_string(), "could not encode Bind parameter 3");
    let source = std::error::Error::source(&error).expect("the encoder's error is the source");
    assert_eq!(source.to_string(), "out of range");

    let error: BindError<std::io::Error> = ProtoError::NulInString {
        what: "Bind portal name",
    }
    .into();
    assert_eq!(
        error.to_string(),
        "Bind portal name contains a NUL byte, which the protocol cannot carry"
    );
}

// ---- lengths over i32::MAX (RUSTSEC-2024-0363) ---------------------------------------------

#[test]
fn checked_len_accepts_up_to_i32_max() {
    assert_eq!(checked_len("x", 0), Ok(0));
    assert_eq!(checked_len("x", i32::MAX as usize), Ok(i32::MAX));
}

#[test]
fn checked_len_refuses_anything_over_i32_max() {
    for n in [
        i32::MAX as usize + 1,
        u32::MAX as usize,
        u32::MAX as usize + 1,
        usize::MAX,
    ] {
        assert_eq!(
            checked_len(format_args!("Bind parameter {}", 3), n),
            Err(ProtoError::TooLarge {
                what: "Bind parameter 3".to_owned(),
                len: n
            })
        );
    }
}

/// RUSTSEC-2024-0363: a parameter a little over 4 GiB had its length truncated to 32 bits, so
/// the server read a tiny value and then took the rest of the parameter's bytes (chosen by
/// whoever supplied the value) as protocol messages. The same bug with a length just over
/// i32::MAX gives a negative length (NULL) and the same smuggling. Every length here goes
/// through `checked_len`, which refuses both instead of wrapping.
#[test]
fn rustsec_2024_0363_lengths_error_instead_of_wrapping() {
    let smuggling_len = (1usize << 32) + 5; // wraps to 5 as u32/i32
    assert_eq!(smuggling_len as i32, 5, "the wrap the advisory describes");
    assert!(matches!(
        checked_len(format_args!("Bind parameter {}", 1), smuggling_len),
        Err(ProtoError::TooLarge { len, .. }) if len == smuggling_len
    ));

    let negative_len = i32::MAX as usize + 1; // wraps to i32::MIN
    assert!((negative_len as i32) < 0, "the wrap to a negative length");
    assert_eq!(
        checked_len("Bind parameter 1", negative_len),
        Err(ProtoError::TooLarge {
            what: "Bind parameter 1".to_owned(),
            len: negative_len
        })
    );
}

#[test]
fn copy_data_header_checks_the_length_including_itself() {
    // The payload limit is the server's message limit less 4: the length field counts its own
    // 4 bytes.
    let limit = crate::proto::MAX_FRONTEND_MESSAGE_LEN;
    assert_eq!(limit, (1 << 30) - 2, "PostgreSQL's PQ_LARGE_MESSAGE_LIMIT");
    let mut buf = BytesMut::new();
    copy_data_header(limit - 4, &mut buf).unwrap();
    assert_eq!(&buf[..], b"d\x3f\xff\xff\xfe");

    let mut buf = prefilled();
    let error = copy_data_header(limit - 3, &mut buf).unwrap_err();
    assert_eq!(
        error,
        ProtoError::MessageTooLarge {
            message: "CopyData",
            len: limit + 1
        }
    );
    assert_eq!(&buf[..], b"earlier");
    assert_eq!(
        copy_data(&[], &mut buf).map(|()| buf.len()),
        Ok(b"earlier".len() + 5)
    );

    // No overflow panic when the payload length is absurd.
    let mut buf = prefilled();
    assert_eq!(
        copy_data_header(usize::MAX, &mut buf),
        Err(ProtoError::MessageTooLarge {
            message: "CopyData",
            len: usize::MAX
        })
    );
    assert_eq!(&buf[..], b"earlier");
}

#[test]
fn a_message_over_the_servers_limit_is_refused_and_rolled_back() {
    // The limit itself passes, one byte more does not (checked without allocating 1 GiB).
    let limit = crate::proto::MAX_FRONTEND_MESSAGE_LEN;
    assert_eq!(checked_message_len("Bind", limit, limit), Ok(limit as i32));
    assert_eq!(
        checked_message_len("Bind", limit + 1, limit),
        Err(ProtoError::MessageTooLarge {
            message: "Bind",
            len: limit + 1
        })
    );
    // The error says which message and that nothing went out.
    let error = ProtoError::MessageTooLarge {
        message: "Query",
        len: limit + 1,
    };
    let text = error.to_string();
    assert!(
        text.contains("Query message") && text.contains("nothing was sent"),
        "{text}"
    );
}

#[test]
fn message_length_is_checked_at_the_end() {
    // The helper every encoder uses rolls back when the finished message is too long; simulate
    // that without allocating 2 GiB by checking the error it would build.
    assert_eq!(
        checked_len(format_args!("{} message", "Bind"), i32::MAX as usize + 1),
        Err(ProtoError::TooLarge {
            what: "Bind message".to_owned(),
            len: i32::MAX as usize + 1
        })
    );
}
