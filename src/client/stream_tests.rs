//! The read buffer's growth under streaming, with the connection's own reserve policy
//! (`make_read_room`): rows hold `Bytes` slices of the buffer, and the buffer must not grow
//! with the number of rows read.

use bytes::{BufMut, Bytes, BytesMut};

use crate::client::transport::make_read_room;

/// The documented policy: reserve a 64 KiB chunk when less than a quarter of one is free.
const READ_CHUNK: usize = 64 * 1024;

#[test]
fn make_read_room_reserves_one_chunk_when_less_than_a_quarter_is_free() {
    // Empty: one chunk of room, and not much more (BytesMut may round up, never by 64x).
    let mut buf = BytesMut::new();
    make_read_room(&mut buf);
    assert!(buf.capacity() >= READ_CHUNK, "{}", buf.capacity());
    assert!(buf.capacity() <= 2 * READ_CHUNK, "{}", buf.capacity());

    // Exactly a quarter free: enough, nothing is reserved.
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    buf.put_bytes(0, READ_CHUNK - READ_CHUNK / 4);
    let before = buf.capacity();
    make_read_room(&mut buf);
    assert_eq!(buf.capacity(), before);

    // One byte less than a quarter free: grows so that a whole chunk is free, within bounds.
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    buf.put_bytes(0, READ_CHUNK - READ_CHUNK / 4 + 1);
    let len = buf.len();
    make_read_room(&mut buf);
    assert_eq!(buf.len(), len);
    let spare = buf.capacity() - buf.len();
    assert!(spare >= READ_CHUNK, "{spare}");
    assert!(
        buf.capacity() <= 2 * (len + READ_CHUNK),
        "{}",
        buf.capacity()
    );

    // Full, with the front split off and held by a row: still one chunk of room, bounded.
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    buf.put_bytes(7, READ_CHUNK);
    let held = buf.split_to(READ_CHUNK / 2).freeze();
    make_read_room(&mut buf);
    let spare = buf.capacity() - buf.len();
    assert!(spare >= READ_CHUNK, "{spare}");
    assert!(
        buf.capacity() <= 2 * (buf.len() + READ_CHUNK),
        "{}",
        buf.capacity()
    );
    assert_eq!(held.len(), READ_CHUNK / 2);
}

#[test]
fn read_buffer_stays_bounded_while_rows_are_held() {
    let frame = [7u8; 75];
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // The consumer holds the last 1000 rows at any time (a slow consumer with a window).
    let mut held: std::collections::VecDeque<Bytes> = std::collections::VecDeque::new();
    let mut max_capacity = 0;
    for _ in 0..200_000 {
        make_read_room(&mut buf);
        // A "socket read" of whatever fits, up to 16 frames.
        for _ in 0..16 {
            if buf.capacity() - buf.len() >= frame.len() {
                buf.put_slice(&frame);
            }
        }
        while buf.len() >= frame.len() {
            held.push_back(buf.split_to(frame.len()).freeze());
            if held.len() > 1000 {
                held.pop_front();
            }
        }
        max_capacity = max_capacity.max(buf.capacity());
    }
    assert!(
        max_capacity <= 2 * READ_CHUNK,
        "the read buffer grew to {max_capacity} bytes"
    );
}
