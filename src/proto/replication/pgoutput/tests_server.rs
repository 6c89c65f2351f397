//! Real pgoutput messages captured from PostgreSQL 18.6 and 15 (`testdata/capture.sh` says how:
//! the SQL of each scenario, peeked with `pg_logical_slot_peek_binary_changes`), decoded and
//! checked field by field; and every truncation of every one of them is refused.

use bytes::Bytes;

use super::*;

/// The messages of a capture file: one hex line each, `#` lines are comments.
pub(crate) fn vectors(file: &str) -> Vec<Bytes> {
    file.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let bytes = (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).expect("hex"))
                .collect::<Vec<u8>>();
            Bytes::from(bytes)
        })
        .collect()
}

pub(crate) const BASIC_TEXT_18: &str = include_str!("testdata/basic_v1_text_pg18.hex");
pub(crate) const BASIC_BINARY_18: &str = include_str!("testdata/basic_v1_binary_pg18.hex");
pub(crate) const BASIC_TEXT_15: &str = include_str!("testdata/basic_v1_text_pg15.hex");
pub(crate) const BASIC_BINARY_15: &str = include_str!("testdata/basic_v1_binary_pg15.hex");
pub(crate) const STREAM_V2_15: &str = include_str!("testdata/stream_v2_pg15.hex");
pub(crate) const STREAM_V2_18: &str = include_str!("testdata/stream_v2_pg18.hex");
pub(crate) const STREAM_V4_18: &str = include_str!("testdata/stream_v4_parallel_pg18.hex");
pub(crate) const TWOPHASE_V3_18: &str = include_str!("testdata/twophase_v3_pg18.hex");
pub(crate) const TWOPHASE_V4_18: &str = include_str!("testdata/twophase_v4_pg18.hex");

/// Decodes every message of `file` in order.
fn decode_all(file: &str, version: u32) -> Vec<Message> {
    let mut decoder = Decoder::new(version).unwrap();
    vectors(file)
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            decoder
                .decode(m)
                .unwrap_or_else(|e| panic!("message {i}: {e}"))
        })
        .collect()
}

fn text(tuple: &TupleData) -> Vec<Option<String>> {
    tuple
        .values()
        .map(|v| match v {
            ColumnValue::Null => None,
            ColumnValue::UnchangedToast => Some("<unchanged>".to_owned()),
            ColumnValue::Text(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
            // Binary text is the text itself; other binary values are shown in hex.
            ColumnValue::Binary(b) if b.iter().all(u8::is_ascii_graphic) && !b.is_empty() => {
                Some(String::from_utf8(b.to_vec()).unwrap())
            }
            ColumnValue::Binary(b) => Some(format!("0x{}", super::tuple::hex_for_tests(b))),
        })
        .collect()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

/// The transaction boundaries pair up: each Commit follows its Begin with the same LSN and time.
fn check_transactions(messages: &[Message]) {
    let mut open: Option<Begin> = None;
    for m in messages {
        match m {
            Message::Begin(b) => {
                assert!(open.is_none(), "Begin inside a transaction");
                open = Some(*b);
            }
            Message::Commit(c) => {
                let b = open.take().expect("Commit without Begin");
                assert_eq!(c.commit_lsn, b.final_lsn);
                assert_eq!(c.commit_time, b.commit_time);
                assert!(c.end_lsn > c.commit_lsn);
                assert_eq!(c.flags, 0);
            }
            _ => {}
        }
    }
    assert!(open.is_none());
}

/// The basic scenario (see capture.sh), in text or binary (`binary`) tuples.
fn check_basic(file: &str, binary: bool, with_origin: bool) {
    let m = decode_all(file, 1);
    check_transactions(&m);
    let names: Vec<&str> = m.iter().map(Message::name).collect();
    let mut want = vec![
        "Begin", "Relation", "Insert", "Insert", "Commit", // two rows
        "Begin", "Update", "Commit", "Begin", "Update", "Commit", // name changes
        "Begin", "Update", "Commit", "Begin", "Delete", "Commit", // key change, delete
        "Begin", "Relation", "Update", "Commit", "Begin", "Delete", "Commit", // FULL
        "Begin", "Message", "Type", "Relation", "Insert", "Commit",  // message, enum
        "Message", // non-transactional
        "Begin", "Relation", "Insert", "Commit", "Begin", "Relation", "Relation", "Truncate",
        "Commit",
    ];
    if with_origin {
        want.extend(["Begin", "Origin", "Insert", "Commit"]);
    }
    assert_eq!(names, want);

    let Message::Relation(basic) = &m[1] else {
        unreachable!()
    };
    assert_eq!(
        (basic.namespace.as_str(), basic.name.as_str()),
        ("public", "po_basic")
    );
    assert_eq!(basic.replica_identity, ReplicaIdentity::Default);
    let cols: Vec<_> = basic
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.type_oid, c.type_modifier, c.is_key()))
        .collect();
    assert_eq!(
        cols,
        [
            ("id", 23, -1, true),
            ("name", 25, -1, false),
            ("big", 25, -1, false)
        ]
    );
    let big = "x".repeat(2100);
    // Binary int4 and text values are what the server's send functions write.
    let (one, two, three) = if binary {
        (s("0x00000001"), s("0x00000002"), s("0x00000003"))
    } else {
        (s("1"), s("2"), s("3"))
    };
    let insert = |i: usize| match &m[i] {
        Message::Insert(x) => {
            assert_eq!(x.xid, None);
            (x.relation_id, text(&x.new))
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(insert(2), (basic.id, vec![one.clone(), s("one"), None]));
    assert_eq!(
        insert(3),
        (basic.id, vec![two.clone(), None, Some(big.clone())])
    );
    let Message::Update(u) = &m[6] else {
        unreachable!()
    };
    assert_eq!(
        (u.old.is_none(), text(&u.new)),
        (true, vec![one.clone(), s("uno"), None])
    );
    // The TOASTed value the Update did not touch is not sent.
    let Message::Update(u) = &m[9] else {
        unreachable!()
    };
    assert_eq!(text(&u.new), vec![two.clone(), s("two"), s("<unchanged>")]);
    assert_eq!(u.new.kind(2), Some(ColumnKind::UnchangedToast));
    // The key changed: the old key comes first, NULL outside the key.
    let Message::Update(u) = &m[12] else {
        unreachable!()
    };
    let (kind, old) = u.old.as_ref().unwrap();
    assert_eq!(
        (*kind, text(old)),
        (OldKind::Key, vec![one.clone(), None, None])
    );
    assert_eq!(text(&u.new), vec![three.clone(), s("uno"), None]);
    let Message::Delete(d) = &m[15] else {
        unreachable!()
    };
    assert_eq!(
        (d.old_kind, text(&d.old)),
        (OldKind::Key, vec![three, None, None])
    );
    // REPLICA IDENTITY FULL: a new Relation marks every column, old rows are whole.
    let Message::Relation(full) = &m[18] else {
        unreachable!()
    };
    assert_eq!(full.replica_identity, ReplicaIdentity::Full);
    assert!(full.columns.iter().all(RelationColumn::is_key));
    let Message::Update(u) = &m[19] else {
        unreachable!()
    };
    let (kind, old) = u.old.as_ref().unwrap();
    assert_eq!(*kind, OldKind::Full);
    assert_eq!(text(old), vec![two.clone(), s("two"), Some(big.clone())]);
    let Message::Delete(d) = &m[22] else {
        unreachable!()
    };
    assert_eq!(d.old_kind, OldKind::Full);
    assert_eq!(text(&d.old), vec![two, s("deux"), Some(big)]);
    // Messages: transactional in the transaction, the other on its own.
    let Message::Message(msg) = &m[25] else {
        unreachable!()
    };
    assert!(msg.transactional());
    assert_eq!(msg.prefix, "po_prefix");
    assert_eq!(&msg.content[..], b"transactional");
    let Message::Message(msg) = &m[30] else {
        unreachable!()
    };
    assert!(!msg.transactional());
    assert_eq!(
        (msg.prefix.as_str(), &msg.content[..]),
        ("po_prefix", &[0, 0xff][..])
    );
    // The enum's Type message comes before the Relation that uses it.
    let Message::Type(ty) = &m[26] else {
        unreachable!()
    };
    assert_eq!(
        (ty.namespace.as_str(), ty.name.as_str()),
        ("public", "po_feeling")
    );
    let Message::Relation(mood) = &m[27] else {
        unreachable!()
    };
    assert_eq!(mood.columns[1].type_oid, ty.oid);
    assert_eq!(mood.columns[0].type_oid, 20);
    let happy = "happy"; // enum_send sends the label
    assert_eq!(
        text(&match &m[28] {
            Message::Insert(i) => i.new.clone(),
            _ => unreachable!(),
        })[1],
        s(happy)
    );
    // TRUNCATE po_basic, po_child RESTART IDENTITY CASCADE.
    let Message::Relation(child) = &m[32] else {
        unreachable!()
    };
    let Message::Truncate(t) = &m[38] else {
        unreachable!()
    };
    assert!(t.cascade() && t.restart_identity());
    assert_eq!(t.relation_ids, [basic.id, child.id]);
    assert_eq!(t.xid, None);
    if with_origin {
        let Message::Origin(o) = &m[41] else {
            unreachable!()
        };
        assert_eq!(o.name, "po_origin");
        assert_eq!(o.commit_lsn, Lsn(0x1_0234_5678));
        // pg_replication_origin_xact_setup's time is the transaction's commit time.
        let Message::Begin(b) = &m[40] else {
            unreachable!()
        };
        let unix = 1_767_323_045; // 2026-01-02 03:04:05 UTC
        assert_eq!(
            b.commit_time,
            unix * 1_000_000 - super::super::PG_EPOCH_UNIX_MICROS
        );
    }
}

#[test]
fn basic_v1_from_postgresql_18() {
    check_basic(BASIC_TEXT_18, false, true);
    check_basic(BASIC_BINARY_18, true, true);
}

#[test]
fn basic_v1_from_postgresql_15() {
    check_basic(BASIC_TEXT_15, false, true);
    check_basic(BASIC_BINARY_15, true, true);
    check_stream(STREAM_V2_15, 2);
}

/// The streaming scenario: a transaction streamed in blocks, one subtransaction aborted, then
/// committed; `parallel` adds the abort's LSN and time (version 4).
fn check_stream(file: &str, version: u32) {
    let m = decode_all(file, version);
    let names: Vec<&str> = m.iter().map(Message::name).collect();
    let starts: Vec<usize> = (0..m.len())
        .filter(|&i| names[i] == "Stream Start")
        .collect();
    assert_eq!(starts.len(), 3, "{names:?}");
    let Message::StreamStart(first) = &m[0] else {
        unreachable!()
    };
    assert!(first.first_segment);
    let xid = first.xid;
    let Message::Relation(rel) = &m[1] else {
        unreachable!()
    };
    assert_eq!((rel.xid, rel.name.as_str()), (Some(xid), "po_stream"));
    let mut subxids = Vec::new();
    let mut inside = false;
    for msg in &m {
        match msg {
            Message::StreamStart(s) => {
                assert!(!inside);
                inside = true;
                assert_eq!(s.xid, xid);
            }
            Message::StreamStop => {
                assert!(inside);
                inside = false;
            }
            Message::Insert(i) => {
                assert!(inside);
                let x = i.xid.expect("a streamed change has its xid");
                if x != xid && !subxids.contains(&x) {
                    subxids.push(x);
                }
                assert_eq!(i.new.len(), 2);
            }
            _ => {}
        }
    }
    assert_eq!(subxids.len(), 1, "the savepoint's subtransaction");
    let abort = m.iter().find_map(|m| match m {
        Message::StreamAbort(a) => Some(*a),
        _ => None,
    });
    let abort = abort.unwrap();
    assert_eq!((abort.xid, abort.subxid), (xid, subxids[0]));
    let Message::StreamCommit(commit) = m.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(commit.xid, xid);
    assert!(commit.end_lsn > commit.commit_lsn);
    if version >= 4 {
        let lsn = abort.abort_lsn.unwrap();
        assert!(lsn < commit.commit_lsn && !lsn.is_invalid());
        assert!(abort.abort_time.unwrap() <= commit.commit_time);
    } else {
        assert_eq!((abort.abort_lsn, abort.abort_time), (None, None));
    }
    // The transactional message of the last block carries the xid.
    let msg = m.iter().find_map(|m| match m {
        Message::Message(x) => Some(x),
        _ => None,
    });
    let msg = msg.unwrap();
    assert_eq!((msg.xid, msg.prefix.as_str()), (Some(xid), "po_stream"));
    assert_eq!(&msg.content[..], b"in a stream");
}

#[test]
fn streaming_v2_and_v4_parallel_from_postgresql_18() {
    check_stream(STREAM_V2_18, 2);
    check_stream(STREAM_V4_18, 4);
    // The same bytes under version 2 are refused where version 4 added the abort's fields.
    let mut decoder = Decoder::new(2).unwrap();
    let err = vectors(STREAM_V4_18)
        .into_iter()
        .find_map(|m| decoder.decode(m).err())
        .unwrap();
    assert!(err.to_string().contains("Stream Abort"), "{err}");
    assert!(err.to_string().contains("16 unexpected bytes"), "{err}");
}

/// Two-phase scenario: prepared then committed, prepared then rolled back, streamed and
/// prepared (Stream Prepare) then committed.
fn check_two_phase(file: &str, version: u32) {
    let m = decode_all(file, version);
    let Message::BeginPrepare(b1) = &m[0] else {
        unreachable!()
    };
    assert_eq!(b1.gid, "po_gid_1");
    let Message::Prepare(p1) = &m[3] else {
        unreachable!()
    };
    assert_eq!((p1.xid, p1.gid.as_str()), (b1.xid, "po_gid_1"));
    assert_eq!((p1.prepare_lsn, p1.end_lsn), (b1.prepare_lsn, b1.end_lsn));
    assert_eq!(p1.prepare_time, b1.prepare_time);
    let Message::CommitPrepared(k1) = &m[4] else {
        unreachable!()
    };
    assert_eq!((k1.xid, k1.gid.as_str()), (b1.xid, "po_gid_1"));
    assert!(k1.commit_lsn >= p1.end_lsn && k1.end_lsn > k1.commit_lsn);
    let Message::BeginPrepare(b2) = &m[5] else {
        unreachable!()
    };
    let Message::Insert(i2) = &m[6] else {
        unreachable!()
    };
    assert_eq!(i2.new.value(1), Some(ColumnValue::Text(b"rolled back")));
    let Message::Prepare(p2) = &m[7] else {
        unreachable!()
    };
    let Message::RollbackPrepared(r2) = &m[8] else {
        unreachable!()
    };
    assert_eq!((r2.xid, r2.gid.as_str()), (b2.xid, "po_gid_2"));
    assert_eq!(r2.prepare_end_lsn, p2.end_lsn);
    assert_eq!(r2.prepare_time, p2.prepare_time);
    assert!(r2.rollback_end_lsn > r2.prepare_end_lsn && r2.rollback_time >= r2.prepare_time);
    let Message::StreamPrepare(p3) = &m[m.len() - 2] else {
        unreachable!()
    };
    let Message::CommitPrepared(k3) = m.last().unwrap() else {
        unreachable!()
    };
    assert_eq!((p3.gid.as_str(), k3.gid.as_str()), ("po_gid_3", "po_gid_3"));
    assert_eq!(p3.xid, k3.xid);
    let streamed = m
        .iter()
        .filter(|m| matches!(m, Message::StreamStart(_)))
        .count();
    assert_eq!(streamed, 2);
}

#[test]
fn two_phase_v3_and_v4_from_postgresql_18() {
    check_two_phase(TWOPHASE_V3_18, 3);
    check_two_phase(TWOPHASE_V4_18, 4);
    // Version 2 has no two-phase messages.
    let err = Decoder::new(2)
        .unwrap()
        .decode(vectors(TWOPHASE_V3_18)[0].clone())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed pgoutput Begin Prepare message: this message needs pgoutput protocol \
         version 3 or later, and the stream uses version 2"
    );
}

/// Every real message cut short at every byte is refused as malformed, and one byte more is
/// refused too; the decoder's state is the one the message arrived in.
#[test]
fn every_truncation_of_every_real_message_is_malformed() {
    for (file, version) in [
        (BASIC_TEXT_18, 1),
        (BASIC_BINARY_18, 1),
        (BASIC_BINARY_15, 1),
        (STREAM_V2_18, 2),
        (STREAM_V2_15, 2),
        (STREAM_V4_18, 4),
        (TWOPHASE_V3_18, 3),
        (TWOPHASE_V4_18, 4),
    ] {
        let mut decoder = Decoder::new(version).unwrap();
        for (i, whole) in vectors(file).into_iter().enumerate() {
            for cut in 0..whole.len() {
                let mut d = decoder.clone();
                let part = whole.slice(..cut);
                match d.decode(part) {
                    Err(ProtoError::Malformed { .. }) => assert_eq!(d, decoder),
                    // Version 4's Stream Abort without its parallel-apply fields is whole.
                    Ok(Message::StreamAbort(a)) if cut == 9 && version == 4 => {
                        assert_eq!(a.abort_lsn, None)
                    }
                    other => panic!("message {i} cut at {cut}: {other:?}"),
                }
            }
            let mut longer = whole.to_vec();
            longer.push(0);
            assert!(
                decoder.clone().decode(Bytes::from(longer)).is_err(),
                "message {i}"
            );
            decoder.decode(whole).unwrap();
        }
    }
}
