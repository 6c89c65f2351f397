//! The checks of the `backend_decode` fuzz target, shared with the ordinary test that replays
//! the seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`):
//! one body, so the seeds are replayed against exactly what the fuzzer checks.
//!
//! [`check`] feeds arbitrary bytes to the backend decoder and walks everything it decodes. It
//! must never panic. Besides the absence of panics it checks four invariants: every range a
//! DataRow hands out indexes its buffer, a decoded message reports the tag it was framed with,
//! framing the input in two pieces yields exactly the frames (or the error) that framing it
//! whole does, and taking DataRows a run at a time (`split_data_rows` + `DataRows`, the
//! connection's fast path) yields the same rows as one frame at a time.
//!
//! Only `tusk` and `bytes` may be used here: both crates that include it depend on them.

use bytes::{Bytes, BytesMut};
use tusk::proto::backend::{DataRows, Message};
use tusk::proto::framing::{split_data_rows, split_frame, Frame};
use tusk::proto::ProtoError;

/// Small enough that the length check is reached often, large enough for real messages.
const MAX_LEN: usize = 1 << 16;

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    // The first byte as a tag and the rest as a body: reaches every body decoder directly.
    if let Some((&tag, body)) = data.split_first() {
        if let Ok(message) = Message::parse(Frame {
            tag,
            body: Bytes::copy_from_slice(body),
        }) {
            assert_eq!(message.tag(), tag);
            walk(&message);
        }
    }

    // The whole input as a stream of frames, then the same stream in two pieces.
    let whole = frames(&[data]);
    let (front, back) = data.split_at(data.len() / 2);
    assert_eq!(frames(&[front, back]), whole);
    assert_eq!(rows_by_runs(data), rows_by_frames(data));
    for frame in whole.into_iter().flatten() {
        let tag = frame.tag;
        if let Ok(message) = Message::parse(frame) {
            assert_eq!(message.tag(), tag);
            walk(&message);
        }
    }
}

/// Frames `pieces` appended one after another to a read buffer, draining after each, up to and
/// including the first error.
fn frames(pieces: &[&[u8]]) -> Vec<Result<Frame, ProtoError>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match split_frame(&mut buf, MAX_LEN) {
                Ok(Some(frame)) => out.push(Ok(frame)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }
    out
}

/// Iterates every lazily decoded part of `message` to its end.
fn walk(message: &Message) {
    let _ = message.name();
    match message {
        Message::DataRow(row) => {
            let mut seen = 0usize;
            for range in row.ranges() {
                seen += 1;
                if let Ok(Some(range)) = range {
                    let _ = &row.buffer()[range];
                }
            }
            assert!(seen <= usize::from(row.column_count()));
        }
        Message::RowDescription(desc) => {
            let mut seen = 0usize;
            for field in desc.fields() {
                seen += 1;
                if let Ok(field) = field {
                    let _ = field.name.len();
                }
            }
            assert!(seen <= usize::from(desc.field_count()));
        }
        Message::ErrorResponse(fields) | Message::NoticeResponse(fields) => {
            for field in fields.iter() {
                let _ = field;
            }
            let _ = fields.get(b'M');
            let _ = tusk::DbError::from_fields(fields);
        }
        Message::CommandComplete(done) => {
            let _ = (done.tag(), done.rows());
        }
        _ => {}
    }
}

/// The bodies of the leading DataRows of `data`, framed one at a time, up to the first frame
/// that is not a DataRow, is incomplete, or fails to frame or parse.
fn rows_by_frames(data: &[u8]) -> Vec<Bytes> {
    let mut buf = BytesMut::from(data);
    let mut rows = Vec::new();
    while let Ok(Some(frame)) = split_frame(&mut buf, MAX_LEN) {
        if frame.tag != b'D' {
            break;
        }
        match Message::parse(frame) {
            Ok(Message::DataRow(row)) => rows.push(row.into_buffer()),
            _ => break,
        }
    }
    rows
}

/// The same through the run-at-a-time path.
fn rows_by_runs(data: &[u8]) -> Vec<Bytes> {
    let mut buf = BytesMut::from(data);
    let mut rows = Vec::new();
    while let Some(run) = split_data_rows(&mut buf, MAX_LEN) {
        for row in DataRows::new(run) {
            match row {
                Ok(row) => rows.push(row.into_buffer()),
                Err(_) => return rows,
            }
        }
    }
    rows
}
