//! The checks of the `roundtrip` fuzz target, shared with the ordinary test that replays the
//! seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`).
//!
//! [`check`] reads the input as a script of messages with their fields ([`Input`] turns bytes
//! into counts, integers, byte strings and UTF-8 text, NULs included) and runs it three times:
//!
//! 1. as frontend messages written by the client's encoder (`tusk::proto::frontend`), each
//!    decoded by the server side (`tusk::proto::server`), which must give back exactly the
//!    fields that were written (`roundtrip_frontend.rs`);
//! 2. as backend messages written by the server side's encoder (`tusk::proto::server::backend`),
//!    each decoded by the client (`tusk::proto::backend`) to exactly those fields, and written
//!    again by `backend::encode` to the same bytes (`roundtrip_backend.rs`);
//! 3. the raw input as a stream of backend frames: every message the client decodes (lazy
//!    parts included) is written back by `backend::encode` byte for byte.
//!
//! In the first two, an encoder must fail exactly when its input breaks a rule of the
//! protocol (a NUL in a C string, an empty SASL mechanism or parameter name, a 0 error field
//! code, a cancel key outside 4..=256 bytes, a negative row limit, a COPY format other than
//! 0 or 1), checked here by an independent statement of the rule, and a failed encode must
//! leave the buffer as it was. The messages of one script are also written one after another
//! into one stream, which must decode, split in two at an offset the input picks, to the same
//! messages as one by one.
//!
//! Only `tusk` and `bytes` may be used here: both crates that include it depend on them.

#[path = "roundtrip_backend.rs"]
mod backend_side;
#[path = "roundtrip_frontend.rs"]
mod frontend_side;

use bytes::BytesMut;
use tusk::proto::backend::{decode, Message};
use tusk::proto::server::backend;

/// Small enough that the length check is reached often, large enough for real messages.
const MAX_LEN: usize = 1 << 16;

/// Runs every check on `data`; panics (an assertion) when one fails.
pub fn check(data: &[u8]) {
    frontend_side::run(&mut Input::new(data));
    backend_side::run(&mut Input::new(data));
    reencode_backend_stream(data);
}

/// Decodes `data` as backend frames and writes back each message that decodes; a message the
/// client decodes lazily may fail only in the part it checks lazily (`backend::encode` then
/// fails too), and a text COPY announcing binary columns (which the client accepts but the
/// documentation forbids) is refused by the encoder.
fn reencode_backend_stream(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    loop {
        let start = data.len() - buf.len();
        let message = match decode(&mut buf, MAX_LEN) {
            Ok(Some(message)) => message,
            Ok(None) | Err(_) => return,
        };
        let wire = &data[start..data.len() - buf.len()];
        let mut again = BytesMut::from(&b"earlier"[..]);
        match backend::encode(&message, &mut again) {
            Ok(()) => assert_eq!(&again[7..], wire, "{message:?} re-encoded differently"),
            Err(e) => {
                assert_eq!(&again[..], b"earlier", "a failed encode left bytes behind");
                assert!(
                    lazily_malformed(&message),
                    "{message:?} does not re-encode: {e}"
                );
            }
        }
    }
}

/// Whether a decoded message may still fail to re-encode: its lazily checked part is
/// malformed, or it is a text COPY response with a binary column.
fn lazily_malformed(message: &Message) -> bool {
    match message {
        Message::DataRow(row) => row.ranges().any(|r| r.is_err()),
        Message::RowDescription(description) => description.fields().any(|f| f.is_err()),
        Message::ErrorResponse(fields) | Message::NoticeResponse(fields) => {
            fields.iter().any(|f| f.is_err())
        }
        Message::CopyInResponse(c) | Message::CopyOutResponse(c) | Message::CopyBothResponse(c) => {
            c.format == 0 && c.column_formats().iter().any(|&f| f != 0)
        }
        _ => false,
    }
}

/// The input, read front to back as the fields of messages. Reads past the end give zeros and
/// empty strings, so a script always completes; every message consumes at least its op byte,
/// which bounds the run by the input's length.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// One byte, 0 past the end.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A count in `0..=max` (at most 255).
    pub fn count(&mut self, max: u8) -> usize {
        usize::from(self.byte() % max.saturating_add(1))
    }

    /// Up to `n` bytes (fewer past the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A byte string of up to `max` bytes, its length read first.
    pub fn blob(&mut self, max: u8) -> &'a [u8] {
        let n = self.count(max);
        self.bytes(n)
    }

    /// UTF-8 text of up to `max` bytes of input (invalid sequences become U+FFFD); may hold NUL.
    pub fn text(&mut self, max: u8) -> String {
        String::from_utf8_lossy(self.blob(max)).into_owned()
    }

    /// A big-endian i16.
    pub fn i16(&mut self) -> i16 {
        i16::from_be_bytes([self.byte(), self.byte()])
    }

    /// A big-endian i32.
    pub fn i32(&mut self) -> i32 {
        i32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> u32 {
        self.i32() as u32
    }

    /// A value that may be NULL: `None` when the first byte is odd.
    pub fn nullable(&mut self, max: u8) -> Option<&'a [u8]> {
        match self.byte() % 2 {
            1 => None,
            _ => Some(self.blob(max)),
        }
    }
}
