//! The checks of the `pgoutput_decode` fuzz target, shared with the ordinary test that replays
//! the seeds (`protocol-tests/tests/fuzz_seeds.rs`, which includes this file with `#[path]`).
//!
//! [`check`] feeds a sequence of arbitrary messages to `tusk::proto::replication::pgoutput::
//! Decoder` and to `tusk::replication::LogicalDecoder` (the same stream to both). The input:
//!
//! | bytes     | meaning                                                                      |
//! | --------- | ---------------------------------------------------------------------------- |
//! | 1         | the protocol version: the byte modulo 6 (0 and 5 must be refused)            |
//! | repeated  | a 16-bit big-endian length and that many bytes: one XLogData payload          |
//!
//! Besides the absence of panics it checks:
//!
//! - a version outside 1..=4 is refused by both decoders with the typed error;
//! - every message the Decoder accepts is re-encoded by this file's own encoder (written from
//!   the documented layouts, sharing no code with tusk) to exactly the bytes it came from, so
//!   nothing is dropped, invented or misread; a tuple's values, kinds and bytes agree;
//! - every refusal is `Malformed`, `Unexpected` (a message out of place) or nothing else, and
//!   leaves the decoder's state as it was; the streamed-block state follows Stream Start and
//!   Stream Stop;
//! - `LogicalDecoder` accepts a message exactly when the Decoder does and the change refers to
//!   known relations with the right column count; its errors are `Kind::Protocol`; every value
//!   of a decoded row read as a string, an integer or bytes succeeds or fails with
//!   `Kind::Conversion` (`Kind::Usage` for a column that is not there), and NULL and unchanged
//!   TOAST are told apart.
//!
//! Allocation sizes are checked by the fuzz target itself (`fuzz_targets/pgoutput_decode.rs`
//! wraps the allocator): no single allocation may exceed a bound linear in the input.

use bytes::{BufMut, Bytes, BytesMut};
use tusk::proto::replication::pgoutput::{
    ColumnKind, ColumnValue, Decoder, Message, OldKind, TupleData,
};
use tusk::proto::replication::Lsn;
use tusk::proto::ProtoError;
use tusk::replication::{Change, ChangeTuple, LogicalDecoder};
use tusk::Kind;

/// Runs every check on one input; panics when one fails.
pub fn check(data: &[u8]) {
    let (&first, mut rest) = match data.split_first() {
        Some(split) => split,
        None => return,
    };
    let version = u32::from(first % 6);
    let mut decoder = match Decoder::new(version) {
        Ok(d) => d,
        Err(e) => {
            assert!(
                !(1..=4).contains(&version),
                "version {version} refused: {e}"
            );
            assert_eq!(e, ProtoError::UnsupportedPgoutputVersion(version));
            let e = LogicalDecoder::new(version).unwrap_err();
            assert_eq!(e.kind(), Kind::Protocol);
            return;
        }
    };
    let mut logical = LogicalDecoder::new(version).expect("a supported version");
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let message = Bytes::copy_from_slice(&rest[2..2 + len]);
        rest = &rest[2 + len..];
        let before = decoder.clone();
        let decoded = decoder.decode(message.clone());
        let changed = logical.decode(Lsn(7), message.clone());
        match decoded {
            Ok(m) => {
                assert_eq!(encode(&m, before.streaming()), &message[..], "{m:?}");
                match &m {
                    Message::StreamStart(s) => assert_eq!(decoder.streaming(), Some(s.xid)),
                    Message::StreamStop => assert_eq!(decoder.streaming(), None),
                    _ => assert_eq!(decoder.streaming(), before.streaming()),
                }
                check_tuples(&m);
                match changed {
                    Ok(change) => check_change(&change),
                    Err(e) => {
                        assert_eq!(e.kind(), Kind::Protocol, "{e}");
                        let text = e.to_string();
                        assert!(
                            text.contains("was not described by a Relation message")
                                || text.contains("values for the"),
                            "{text}"
                        );
                    }
                }
            }
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        ProtoError::Malformed { .. } | ProtoError::Unexpected { .. }
                    ),
                    "{e:?}"
                );
                assert_eq!(decoder, before, "a refusal changed the state");
                let le = changed.expect_err("the LogicalDecoder accepted what the Decoder refused");
                assert_eq!(le.kind(), Kind::Protocol);
            }
        }
        assert_eq!(logical.streaming(), decoder.streaming());
    }
}

fn check_tuples(m: &Message) {
    let tuples: Vec<&TupleData> = match m {
        Message::Insert(i) => vec![&i.new],
        Message::Update(u) => u.old.iter().map(|(_, t)| t).chain([&u.new]).collect(),
        Message::Delete(d) => vec![&d.old],
        _ => return,
    };
    for t in tuples {
        assert_eq!(t.values().len(), t.len());
        for (i, v) in t.values().enumerate() {
            assert_eq!(t.value(i), Some(v));
            assert_eq!(t.kind(i), Some(v.kind()));
            assert_eq!(t.value_bytes(i).as_deref(), v.bytes());
        }
        assert_eq!(t.value(t.len()), None);
        assert_eq!(t.kind(t.len()), None);
    }
}

fn check_change(change: &Change) {
    let rows: Vec<&ChangeTuple> = match change {
        Change::Insert { new, .. } => vec![new],
        Change::Update { old, new, .. } => old.iter().chain([new]).collect(),
        Change::Delete { old, .. } => vec![old],
        _ => return,
    };
    for row in rows {
        assert_eq!(row.len(), row.columns().len());
        for i in 0..row.len() {
            let kind = row.kind(i).expect("a kind");
            assert_eq!(row.is_null(i), kind == ColumnKind::Null);
            assert_eq!(
                row.is_unchanged_toast(i),
                kind == ColumnKind::UnchangedToast
            );
            for e in [
                row.try_get::<_, Option<String>>(i).err(),
                row.try_get::<_, Option<i64>>(i).err(),
                row.try_get::<_, Option<&[u8]>>(i).err(),
                row.try_get::<_, bool>(i).err(),
            ]
            .into_iter()
            .flatten()
            {
                assert_eq!(e.kind(), Kind::Conversion, "{e}");
            }
            if kind == ColumnKind::UnchangedToast {
                assert!(row.try_get::<_, Option<String>>(i).is_err());
            }
        }
        let e = row.try_get::<_, String>(row.len()).unwrap_err();
        assert_eq!(e.kind(), Kind::Usage);
        let _ = format!("{row:?}");
    }
}

/// The message's bytes, written from the documented layouts; `stream` is whether a streamed
/// block was open when it arrived (the changes then carry their xid).
fn encode(m: &Message, stream: Option<u32>) -> Bytes {
    let mut b = BytesMut::new();
    let xid = |b: &mut BytesMut, xid: Option<u32>| {
        assert_eq!(
            xid.is_some(),
            stream.is_some(),
            "xid present iff in a stream"
        );
        if let Some(x) = xid {
            b.put_u32(x);
        }
    };
    let cstr = |b: &mut BytesMut, s: &str| {
        b.put_slice(s.as_bytes());
        b.put_u8(0);
    };
    let lsn = |b: &mut BytesMut, l: Lsn| b.put_u64(l.0);
    match m {
        Message::Begin(x) => {
            b.put_u8(b'B');
            lsn(&mut b, x.final_lsn);
            b.put_i64(x.commit_time);
            b.put_u32(x.xid);
        }
        Message::Commit(x) => {
            b.put_u8(b'C');
            b.put_u8(x.flags);
            lsn(&mut b, x.commit_lsn);
            lsn(&mut b, x.end_lsn);
            b.put_i64(x.commit_time);
        }
        Message::Origin(x) => {
            b.put_u8(b'O');
            lsn(&mut b, x.commit_lsn);
            cstr(&mut b, &x.name);
        }
        Message::Relation(x) => {
            b.put_u8(b'R');
            xid(&mut b, x.xid);
            b.put_u32(x.id);
            cstr(&mut b, &x.namespace);
            cstr(&mut b, &x.name);
            b.put_u8(match x.replica_identity {
                tusk::proto::replication::pgoutput::ReplicaIdentity::Default => b'd',
                tusk::proto::replication::pgoutput::ReplicaIdentity::Nothing => b'n',
                tusk::proto::replication::pgoutput::ReplicaIdentity::Full => b'f',
                tusk::proto::replication::pgoutput::ReplicaIdentity::Index => b'i',
            });
            b.put_i16(x.columns.len() as i16);
            for c in &x.columns {
                b.put_u8(c.flags);
                cstr(&mut b, &c.name);
                b.put_u32(c.type_oid);
                b.put_i32(c.type_modifier);
            }
        }
        Message::Type(x) => {
            b.put_u8(b'Y');
            xid(&mut b, x.xid);
            b.put_u32(x.oid);
            cstr(&mut b, &x.namespace);
            cstr(&mut b, &x.name);
        }
        Message::Insert(x) => {
            b.put_u8(b'I');
            xid(&mut b, x.xid);
            b.put_u32(x.relation_id);
            b.put_u8(b'N');
            tuple(&mut b, &x.new);
        }
        Message::Update(x) => {
            b.put_u8(b'U');
            xid(&mut b, x.xid);
            b.put_u32(x.relation_id);
            if let Some((kind, old)) = &x.old {
                b.put_u8(old_tag(*kind));
                tuple(&mut b, old);
            }
            b.put_u8(b'N');
            tuple(&mut b, &x.new);
        }
        Message::Delete(x) => {
            b.put_u8(b'D');
            xid(&mut b, x.xid);
            b.put_u32(x.relation_id);
            b.put_u8(old_tag(x.old_kind));
            tuple(&mut b, &x.old);
        }
        Message::Truncate(x) => {
            b.put_u8(b'T');
            xid(&mut b, x.xid);
            b.put_i32(x.relation_ids.len() as i32);
            b.put_u8(x.options);
            for id in &x.relation_ids {
                b.put_u32(*id);
            }
        }
        Message::Message(x) => {
            b.put_u8(b'M');
            xid(&mut b, x.xid);
            b.put_u8(x.flags);
            lsn(&mut b, x.lsn);
            cstr(&mut b, &x.prefix);
            b.put_i32(x.content.len() as i32);
            b.put_slice(&x.content);
        }
        Message::StreamStart(x) => {
            b.put_u8(b'S');
            b.put_u32(x.xid);
            b.put_u8(u8::from(x.first_segment));
        }
        Message::StreamStop => b.put_u8(b'E'),
        Message::StreamCommit(x) => {
            b.put_u8(b'c');
            b.put_u32(x.xid);
            b.put_u8(x.flags);
            lsn(&mut b, x.commit_lsn);
            lsn(&mut b, x.end_lsn);
            b.put_i64(x.commit_time);
        }
        Message::StreamAbort(x) => {
            b.put_u8(b'A');
            b.put_u32(x.xid);
            b.put_u32(x.subxid);
            assert_eq!(x.abort_lsn.is_some(), x.abort_time.is_some());
            if let (Some(l), Some(t)) = (x.abort_lsn, x.abort_time) {
                lsn(&mut b, l);
                b.put_i64(t);
            }
        }
        Message::BeginPrepare(x) => {
            b.put_u8(b'b');
            lsn(&mut b, x.prepare_lsn);
            lsn(&mut b, x.end_lsn);
            b.put_i64(x.prepare_time);
            b.put_u32(x.xid);
            cstr(&mut b, &x.gid);
        }
        Message::Prepare(x) | Message::StreamPrepare(x) => {
            b.put_u8(if matches!(m, Message::Prepare(_)) {
                b'P'
            } else {
                b'p'
            });
            b.put_u8(x.flags);
            lsn(&mut b, x.prepare_lsn);
            lsn(&mut b, x.end_lsn);
            b.put_i64(x.prepare_time);
            b.put_u32(x.xid);
            cstr(&mut b, &x.gid);
        }
        Message::CommitPrepared(x) => {
            b.put_u8(b'K');
            b.put_u8(x.flags);
            lsn(&mut b, x.commit_lsn);
            lsn(&mut b, x.end_lsn);
            b.put_i64(x.commit_time);
            b.put_u32(x.xid);
            cstr(&mut b, &x.gid);
        }
        Message::RollbackPrepared(x) => {
            b.put_u8(b'r');
            b.put_u8(x.flags);
            lsn(&mut b, x.prepare_end_lsn);
            lsn(&mut b, x.rollback_end_lsn);
            b.put_i64(x.prepare_time);
            b.put_i64(x.rollback_time);
            b.put_u32(x.xid);
            cstr(&mut b, &x.gid);
        }
        other => panic!("a message this check does not know: {other:?}"),
    }
    b.freeze()
}

fn old_tag(kind: OldKind) -> u8 {
    match kind {
        OldKind::Key => b'K',
        OldKind::Full => b'O',
    }
}

fn tuple(b: &mut BytesMut, t: &TupleData) {
    let start = b.len();
    b.put_i16(t.len() as i16);
    for v in t.values() {
        match v {
            ColumnValue::Null => b.put_u8(b'n'),
            ColumnValue::UnchangedToast => b.put_u8(b'u'),
            ColumnValue::Text(x) | ColumnValue::Binary(x) => {
                b.put_u8(if matches!(v, ColumnValue::Text(_)) {
                    b't'
                } else {
                    b'b'
                });
                b.put_i32(x.len() as i32);
                b.put_slice(x);
            }
        }
    }
    assert_eq!(&b[start..], &t.body()[..], "the tuple's body is its bytes");
}
