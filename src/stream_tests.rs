//! The read buffer's growth under streaming, with the connection's reserve policy: rows hold
//! `Bytes` slices of the buffer, and the buffer must not grow with the number of rows read.

use bytes::{BufMut, Bytes, BytesMut};

/// The connection's read policy (`read_message` in connection.rs): reserve a 64 KiB chunk
/// when less than a quarter of one is free, then read into the spare room.
const READ_CHUNK: usize = 64 * 1024;

#[test]
fn read_buffer_stays_bounded_while_rows_are_held() {
    let frame = [7u8; 75];
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // The consumer holds the last 1000 rows at any time (a slow consumer with a window).
    let mut held: std::collections::VecDeque<Bytes> = std::collections::VecDeque::new();
    let mut max_capacity = 0;
    for _ in 0..200_000 {
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
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
