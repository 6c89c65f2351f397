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
    assert!(split_frame(&mut b, 7).is_err());
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
