//! Byte-level tests of the binary COPY encoder and decoder.

use bytes::{BufMut, Bytes, BytesMut};

use super::*;
use crate::error::Kind;

const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// A row of an int4 and a text, as the server sends it.
fn row_bytes(a: Option<i32>, b: Option<&str>) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.put_i16(2);
    match a {
        Some(a) => {
            out.put_i32(4);
            out.put_i32(a);
        }
        None => out.put_i32(-1),
    }
    match b {
        Some(b) => {
            out.put_i32(b.len() as i32);
            out.put_slice(b.as_bytes());
        }
        None => out.put_i32(-1),
    }
    out.to_vec()
}

fn stream(rows: &[(Option<i32>, Option<&str>)]) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    for (a, b) in rows {
        out.extend(row_bytes(*a, *b));
    }
    out.extend([0xff, 0xff]);
    out
}

fn types() -> [Type; 2] {
    [Type::INT4, Type::TEXT]
}

/// Feeds `chunks` to a decoder and collects `(a, b)` of every row, or the first error.
type Decoded = Vec<(Option<i32>, Option<String>)>;

fn decode_chunks(chunks: &[&[u8]]) -> Result<Decoded, ProtoError> {
    let mut decoder = RowDecoder::new(&types());
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.push(Bytes::copy_from_slice(chunk));
        while let Some(row) = decoder.next_row()? {
            let a: Option<i32> = row.get(0);
            let b: Option<String> = row.get(1);
            out.push((a, b));
        }
    }
    if decoder.stage != Stage::Trailer {
        return Err(decoder.truncated());
    }
    Ok(out)
}

fn reason(err: ProtoError) -> String {
    match err {
        ProtoError::Malformed { message, reason } => {
            assert_eq!(message, STREAM);
            reason
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn encoder_writes_header_rows_nulls_and_trailer() {
    let mut enc = RowEncoder::new(&types());
    enc.encode(&[&7i32, &"hé"]).unwrap();
    enc.encode(&[&None::<i32>, &None::<&str>]).unwrap();
    enc.finish();
    let mut expected = HEADER.to_vec();
    expected.extend(row_bytes(Some(7), Some("hé")));
    expected.extend(row_bytes(None, None));
    expected.extend([0xff, 0xff]);
    assert_eq!(&enc.buf[..], &expected[..]);
}

#[test]
fn encoder_rejects_wrong_types_and_counts_leaving_nothing_behind() {
    let mut enc = RowEncoder::new(&types());
    let before = enc.buf.len();
    let err = enc.encode(&[&1i32, &2i64]).unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    let text = err.to_string();
    assert!(
        text.contains("cannot encode column 1 of SQL type text from Rust type i64"),
        "{text}"
    );
    assert_eq!(enc.buf.len(), before, "a failed row leaves no bytes");

    let err = enc.encode(&[&1i32]).unwrap_err();
    assert_eq!(err.kind(), Kind::Usage);
    assert!(
        err.to_string()
            .contains("the row has 1 value(s) but the COPY has 2 column(s)"),
        "{err}"
    );
    assert_eq!(enc.buf.len(), before);

    // Still usable afterwards.
    enc.encode(&[&1i32, &"x"]).unwrap();
    assert_eq!(&enc.buf[before..], &row_bytes(Some(1), Some("x"))[..]);
}

#[test]
fn encoder_output_decodes_back() {
    let mut enc = RowEncoder::new(&types());
    for i in 0..100 {
        let text = format!("row\t{i}\n\\ ✓");
        let b: Option<&str> = (i % 3 != 0).then_some(&text);
        let a: Option<i32> = (i % 5 != 0).then_some(i);
        enc.encode(&[&a, &b]).unwrap();
    }
    enc.finish();
    let rows = decode_chunks(&[&enc.buf]).unwrap();
    assert_eq!(rows.len(), 100);
    for (i, (a, b)) in rows.into_iter().enumerate() {
        let i = i as i32;
        assert_eq!(a, (i % 5 != 0).then_some(i));
        assert_eq!(b, (i % 3 != 0).then(|| format!("row\t{i}\n\\ ✓")));
    }
}

#[test]
fn decoder_reads_rows_split_at_every_byte() {
    let data = stream(&[(Some(1), Some("one")), (None, Some("")), (Some(-3), None)]);
    let expected = vec![
        (Some(1), Some("one".to_owned())),
        (None, Some(String::new())),
        (Some(-3), None),
    ];
    assert_eq!(decode_chunks(&[&data]).unwrap(), expected);
    for cut in 0..=data.len() {
        let (a, b) = data.split_at(cut);
        assert_eq!(decode_chunks(&[a, b]).unwrap(), expected, "cut at {cut}");
    }
    // One byte per chunk.
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    assert_eq!(decode_chunks(&bytes).unwrap(), expected);
}

#[test]
fn decoder_slices_whole_rows_without_copying() {
    let data = Bytes::from(stream(&[(Some(1), Some("one"))]));
    let mut decoder = RowDecoder::new(&types());
    decoder.push(data.clone());
    let row = decoder.next_row().unwrap().unwrap();
    let raw = row.raw(1).unwrap();
    let offset = raw.as_ptr() as usize - data.as_ptr() as usize;
    assert!(offset < data.len(), "the row points into the chunk");
    assert_eq!(raw, b"one");
}

#[test]
fn decoder_skips_the_header_extension() {
    let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
    data.extend(0i32.to_be_bytes());
    data.extend(3i32.to_be_bytes());
    data.extend(b"abc");
    data.extend(row_bytes(Some(9), Some("x")));
    data.extend([0xff, 0xff]);
    assert_eq!(
        decode_chunks(&[&data]).unwrap(),
        vec![(Some(9), Some("x".to_owned()))]
    );
}

#[test]
fn decoder_accepts_non_critical_flags() {
    let mut data = stream(&[]);
    data[14] = 0x01; // bit 0: not critical
    assert_eq!(decode_chunks(&[&data]).unwrap(), vec![]);
}

#[test]
fn decoder_refuses_bad_headers() {
    let err = decode_chunks(&[b"1\tx\n"]).unwrap_err();
    assert!(reason(err).contains("signature"));
    // Detected from the first bytes, before the header is complete.
    let err = decode_chunks(&[b"PGCOPX"]).unwrap_err();
    assert!(reason(err).contains("signature"));

    let mut oids = stream(&[]);
    oids[12] = 0x01; // bit 16
    assert!(reason(decode_chunks(&[&oids]).unwrap_err()).contains("OIDs"));

    let mut critical = stream(&[]);
    critical[11] = 0x80; // bit 31
    assert!(reason(decode_chunks(&[&critical]).unwrap_err()).contains("critical"));

    let mut negative = stream(&[]);
    negative[15..19].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(reason(decode_chunks(&[&negative]).unwrap_err()).contains("negative"));

    let huge_extension = {
        let mut d = stream(&[]);
        d[15..19].copy_from_slice(&i32::MAX.to_be_bytes());
        d
    };
    // Waits for bytes that never come; allocates nothing for the declared length.
    assert!(reason(decode_chunks(&[&huge_extension]).unwrap_err()).contains("in the header"));
}

#[test]
fn decoder_refuses_bad_rows() {
    let mut wrong_count = HEADER.to_vec();
    wrong_count.extend(3i16.to_be_bytes());
    let err = reason(decode_chunks(&[&wrong_count]).unwrap_err());
    assert!(err.contains("3 field(s) but 2"), "{err}");

    let mut negative_count = HEADER.to_vec();
    negative_count.extend((-2i16).to_be_bytes());
    assert!(reason(decode_chunks(&[&negative_count]).unwrap_err()).contains("-2 field(s)"));

    let mut bad_len = HEADER.to_vec();
    bad_len.extend(2i16.to_be_bytes());
    bad_len.extend((-2i32).to_be_bytes());
    assert!(reason(decode_chunks(&[&bad_len]).unwrap_err()).contains("invalid length -2"));

    // A declared length past the data: waits, then reports the truncation.
    let mut long = HEADER.to_vec();
    long.extend(2i16.to_be_bytes());
    long.extend(i32::MAX.to_be_bytes());
    long.extend(b"short");
    assert!(reason(decode_chunks(&[&long]).unwrap_err()).contains("before the trailer"));

    let mut after = stream(&[(Some(1), None)]);
    after.push(0);
    assert!(reason(decode_chunks(&[&after]).unwrap_err()).contains("follow the trailer"));

    let no_trailer = &stream(&[(Some(1), None)])[..HEADER.len() + 10];
    assert!(reason(decode_chunks(&[no_trailer]).unwrap_err()).contains("before the trailer"));
}

#[test]
fn binary_row_accessors_check_types_and_bounds() {
    let data = stream(&[(Some(5), None)]);
    let mut decoder = RowDecoder::new(&types());
    decoder.push(Bytes::from(data));
    let row = decoder.next_row().unwrap().unwrap();
    assert_eq!(row.len(), 2);
    assert!(!row.is_empty());
    assert_eq!(row.types(), &types());
    assert_eq!(row.get::<i32>(0), 5);
    assert_eq!(row.get::<Option<&str>>(1), None);
    assert_eq!(row.raw(0), Some(&[0, 0, 0, 5][..]));
    assert_eq!(row.raw(1), None);
    assert_eq!(row.raw(2), None);

    let err = row.try_get::<&str>(0).unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    assert!(
        err.to_string().contains(
            "cannot convert column 0 of SQL type int4 into Rust type &str: the types do not match"
        ),
        "{err}"
    );
    let err = row.try_get::<&str>(1).unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion, "NULL into a non-Option");
    assert!(
        err.to_string().contains(
            "cannot convert column 1 of SQL type text into Rust type &str: unexpected NULL value"
        ),
        "{err}"
    );
    let err = row.try_get::<i32>(2).unwrap_err();
    assert_eq!(err.kind(), Kind::Usage);
    assert!(
        err.to_string()
            .contains("no column 2 in a binary COPY row of 2 column(s)"),
        "{err}"
    );
    assert!(format!("{row:?}").contains("int4"));
}

#[test]
#[should_panic(expected = "column 0 of SQL type int4")]
fn binary_row_get_panics_with_a_clear_message() {
    let mut decoder = RowDecoder::new(&types());
    decoder.push(Bytes::from(stream(&[(Some(5), None)])));
    let row = decoder.next_row().unwrap().unwrap();
    let _: &str = row.get(0);
}
