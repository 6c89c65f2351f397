//! Unit tests of `split_frame`: partial input, bad headers, several frames in one buffer.

use super::*;

const MAX: usize = 1 << 20;

fn buf(bytes: &[u8]) -> BytesMut {
    BytesMut::from(bytes)
}

#[test]
fn empty_buffer_is_incomplete() {
    let mut b = BytesMut::new();
    assert_eq!(split_frame(&mut b, MAX), Ok(None));
}

#[test]
fn partial_header_consumes_nothing() {
    let whole = b"C\x00\x00\x00\x0dSELECT 1\0";
    for cut in 1..HEADER_LEN {
        let mut b = buf(&whole[..cut]);
        assert_eq!(split_frame(&mut b, MAX), Ok(None), "cut at {cut}");
        assert_eq!(&b[..], &whole[..cut]);
    }
}

#[test]
fn partial_body_consumes_nothing() {
    let whole = b"C\x00\x00\x00\x0dSELECT 1\0";
    for cut in HEADER_LEN..whole.len() {
        let mut b = buf(&whole[..cut]);
        assert_eq!(split_frame(&mut b, MAX), Ok(None), "cut at {cut}");
        assert_eq!(&b[..], &whole[..cut]);
    }
    let mut b = buf(whole);
    let frame = split_frame(&mut b, MAX).unwrap().unwrap();
    assert_eq!((frame.tag, &frame.body[..]), (b'C', &b"SELECT 1\0"[..]));
    assert!(b.is_empty());
}

#[test]
fn empty_body() {
    let mut b = buf(b"1\x00\x00\x00\x04");
    let frame = split_frame(&mut b, MAX).unwrap().unwrap();
    assert_eq!((frame.tag, frame.body.len()), (b'1', 0));
    assert!(b.is_empty());
}

#[test]
fn lengths_below_four_are_rejected() {
    for (len, bytes) in [
        (3, [0, 0, 0, 3]),
        (0, [0, 0, 0, 0]),
        (-1, [0xff; 4]),
        (i64::from(i32::MIN), [0x80, 0, 0, 0]),
    ] {
        let mut wire = vec![b'D'];
        wire.extend_from_slice(&bytes);
        let mut b = buf(&wire);
        assert_eq!(
            split_frame(&mut b, MAX),
            Err(ProtoError::InvalidLength {
                tag: b'D',
                len,
                max: MAX
            })
        );
        assert_eq!(b.len(), 5, "an error consumes nothing");
    }
}

#[test]
fn length_above_max_is_rejected_before_the_body_arrives() {
    // Only the header is present: the error must not wait for 1 MiB + 1 of body.
    let declared = (MAX as i32 + 1).to_be_bytes();
    let mut wire = vec![b'd'];
    wire.extend_from_slice(&declared);
    let mut b = buf(&wire);
    assert_eq!(
        split_frame(&mut b, MAX),
        Err(ProtoError::InvalidLength {
            tag: b'd',
            len: MAX as i64 + 1,
            max: MAX
        })
    );
    // i32::MAX with the default 1 GiB limit.
    let mut b = buf(b"d\x7f\xff\xff\xff");
    assert!(matches!(
        split_frame(&mut b, crate::proto::DEFAULT_MAX_MESSAGE_LEN),
        Err(ProtoError::InvalidLength {
            len: 2147483647,
            ..
        })
    ));
}

#[test]
fn length_equal_to_max_is_accepted() {
    let mut b = buf(b"d\x00\x00\x00\x08abcd");
    let frame = split_frame(&mut b, 8).unwrap().unwrap();
    assert_eq!(&frame.body[..], b"abcd");
    let mut b = buf(b"d\x00\x00\x00\x08abcd");
    assert_eq!(
        split_frame(&mut b, 7),
        Err(ProtoError::InvalidLength {
            tag: b'd',
            len: 8,
            max: 7
        })
    );
}

#[test]
fn unknown_tag_is_rejected_from_its_first_byte() {
    for tag in [b'Q', b'X', 0, 0xff, b'p'] {
        let mut b = buf(&[tag]);
        assert_eq!(split_frame(&mut b, MAX), Err(ProtoError::UnknownTag(tag)));
        let mut b = buf(&[tag, 0, 0, 0, 4]);
        assert_eq!(split_frame(&mut b, MAX), Err(ProtoError::UnknownTag(tag)));
    }
}

#[test]
fn backend_tags() {
    let tags: Vec<u8> = (0..=255u8).filter(|&t| is_backend_tag(t)).collect();
    assert_eq!(tags, b"123ACDEGHIKNRSTVWZcdnstv".to_vec());
}

#[test]
fn several_frames_in_one_buffer() {
    let mut b =
        buf(b"1\x00\x00\x00\x042\x00\x00\x00\x04D\x00\x00\x00\x06\x00\x00Z\x00\x00\x00\x05IC");
    let mut tags = Vec::new();
    while let Some(frame) = split_frame(&mut b, MAX).unwrap() {
        tags.push(frame.tag);
    }
    assert_eq!(tags, b"12DZ");
    assert_eq!(&b[..], b"C");
}

#[test]
fn bodies_share_the_read_buffer() {
    let mut b = buf(b"d\x00\x00\x00\x08abcdZ\x00\x00\x00\x05I");
    let start = b.as_ptr();
    let frame = split_frame(&mut b, MAX).unwrap().unwrap();
    assert_eq!(frame.body.as_ptr(), start.wrapping_add(HEADER_LEN));
    let frame = split_frame(&mut b, MAX).unwrap().unwrap();
    assert_eq!(frame.body.as_ptr(), start.wrapping_add(9 + HEADER_LEN));
}

/// `n` DataRows of one 2-byte value each, back to back.
fn data_rows(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|_| b"D\x00\x00\x00\x0c\x00\x01\x00\x00\x00\x02ok".to_vec())
        .collect()
}

#[test]
fn data_row_runs_stop_at_anything_else() {
    let mut bytes = data_rows(3);
    bytes.extend_from_slice(b"C\x00\x00\x00\x0dSELECT 3\0");
    bytes.extend_from_slice(&data_rows(1));
    let mut b = buf(&bytes);
    let run = split_data_rows(&mut b, MAX).unwrap();
    assert_eq!(&run[..], &data_rows(3)[..]);
    // CommandComplete is next: no run, and split_frame takes it.
    assert_eq!(split_data_rows(&mut b, MAX), None);
    assert_eq!(split_frame(&mut b, MAX).unwrap().unwrap().tag, b'C');
    assert_eq!(
        &split_data_rows(&mut b, MAX).unwrap()[..],
        &data_rows(1)[..]
    );
    assert!(b.is_empty());
    assert_eq!(split_data_rows(&mut b, MAX), None);
}

#[test]
fn data_row_runs_leave_incomplete_and_invalid_frames() {
    let whole = data_rows(2);
    // Cut anywhere inside the second row: the first is taken, the rest stays.
    for cut in 13..whole.len() {
        let mut b = buf(&whole[..cut]);
        let run = split_data_rows(&mut b, MAX).unwrap();
        assert_eq!(run.len(), 13, "cut at {cut}");
        assert_eq!(&b[..], &whole[13..cut]);
    }
    // A length below 4, or above the limit, ends the run; split_frame then reports it.
    for bad in [&b"D\x00\x00\x00\x03"[..], &b"D\x7f\xff\xff\xff"[..]] {
        let mut bytes = data_rows(1);
        bytes.extend_from_slice(bad);
        let mut b = buf(&bytes);
        assert_eq!(split_data_rows(&mut b, MAX).unwrap().len(), 13);
        assert_eq!(split_data_rows(&mut b, MAX), None);
        assert!(matches!(
            split_frame(&mut b, MAX),
            Err(ProtoError::InvalidLength { tag: b'D', .. })
        ));
    }
}

#[test]
fn data_rows_walks_a_run_and_refuses_anything_else() {
    use crate::proto::backend::DataRows;

    let mut b = buf(&data_rows(4));
    let run = split_data_rows(&mut b, MAX).unwrap();
    let rows: Vec<_> = DataRows::new(run).collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows
        .iter()
        .all(|r| &r.buffer()[..] == b"\x00\x01\x00\x00\x00\x02ok"));

    // Not a run split_data_rows would return: a cut row, another tag, a row whose body is
    // malformed. Each gives one error, then the iteration ends.
    let cut = &data_rows(2)[..20]; // 13 bytes a row
    let other = &b"C\x00\x00\x00\x0dSELECT 3\0"[..];
    let malformed = &b"D\x00\x00\x00\x06\x00\x01"[..]; // 1 value announced, no room for it
    let not_a_run = "a run of DataRow messages is cut short or holds another message";
    for (run, reason) in [
        (cut, not_a_run),
        (other, not_a_run),
        (malformed, "1 items announced but only 0 bytes follow"),
    ] {
        let results: Vec<_> = DataRows::new(Bytes::copy_from_slice(run)).collect();
        match results.last().unwrap() {
            Err(ProtoError::Malformed { message, reason: r }) => {
                assert_eq!((*message, r.as_str()), ("DataRow", reason), "{run:?}")
            }
            other => panic!("{run:?}: expected a malformed DataRow, got {other:?}"),
        }
        assert!(results[..results.len() - 1].iter().all(Result::is_ok));
    }
}

#[test]
fn data_row_runs_take_rows_whose_length_equals_the_limit() {
    // Each row of data_rows declares length 12 (the 4 length bytes and an 8-byte body).
    let mut b = buf(&data_rows(2));
    assert_eq!(split_data_rows(&mut b, 12).unwrap().len(), 26);
    assert!(b.is_empty());
    // One under: neither row is taken, and split_frame reports the length.
    let mut b = buf(&data_rows(2));
    assert_eq!(split_data_rows(&mut b, 11), None);
    assert_eq!(b.len(), 26);
    assert!(matches!(
        split_frame(&mut b, 11),
        Err(ProtoError::InvalidLength {
            tag: b'D',
            len: 12,
            ..
        })
    ));
}
