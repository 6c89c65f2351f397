//! Hand-made messages from the documented layouts ("Logical Replication Message Formats"):
//! the refusals the real captures cannot show (unknown tags and kinds, negative or oversized
//! counts and lengths, messages out of place, versions out of range).

use bytes::Bytes;

use super::*;

fn decode(version: u32, bytes: &[u8]) -> Result<Message, ProtoError> {
    Decoder::new(version)
        .unwrap()
        .decode(Bytes::copy_from_slice(bytes))
}

fn fails_with(version: u32, bytes: &[u8], needle: &str) {
    match decode(version, bytes) {
        Err(e) => assert!(e.to_string().contains(needle), "{e}"),
        Ok(m) => panic!("accepted {m:?}"),
    }
}

/// A Relation message body after the tag: relation 1, "s"."t", identity `identity`, `columns`
/// as (flags, name, type OID, modifier).
fn relation(identity: u8, columns: &[(u8, &str, u32, i32)]) -> Vec<u8> {
    let mut b = b"R\0\0\0\x01s\0t\0".to_vec();
    b.push(identity);
    b.extend_from_slice(&(columns.len() as i16).to_be_bytes());
    for (flags, name, oid, typmod) in columns {
        b.push(*flags);
        b.extend_from_slice(name.as_bytes());
        b.push(0);
        b.extend_from_slice(&oid.to_be_bytes());
        b.extend_from_slice(&typmod.to_be_bytes());
    }
    b
}

#[test]
fn versions_outside_1_to_4_are_refused() {
    for v in [0, 5, u32::MAX] {
        assert_eq!(
            Decoder::new(v).unwrap_err(),
            ProtoError::UnsupportedPgoutputVersion(v)
        );
    }
    assert_eq!(
        ProtoError::UnsupportedPgoutputVersion(5).to_string(),
        "pgoutput protocol version 5 is not supported (tusk decodes versions 1 to 4)"
    );
    for v in 1..=4 {
        assert_eq!(Decoder::new(v).unwrap().version(), v);
    }
}

#[test]
fn relation_with_every_identity_and_a_typmod() {
    for (tag, identity) in [
        (b'd', ReplicaIdentity::Default),
        (b'n', ReplicaIdentity::Nothing),
        (b'f', ReplicaIdentity::Full),
        (b'i', ReplicaIdentity::Index),
    ] {
        let bytes = relation(tag, &[(1, "id", 23, -1), (0, "v", 1043, 14)]);
        let Message::Relation(r) = decode(1, &bytes).unwrap() else {
            unreachable!()
        };
        assert_eq!(r.replica_identity, identity);
        assert_eq!((r.id, r.namespace.as_str(), r.name.as_str()), (1, "s", "t"));
        assert_eq!(r.columns[1].type_modifier, 14);
        assert!(r.columns[0].is_key() && !r.columns[1].is_key());
    }
    fails_with(1, &relation(b'x', &[]), "replica identity is 'x'");
}

#[test]
fn counts_beyond_the_bytes_left_allocate_nothing() {
    // Relation: 32767 columns declared, none present.
    let mut r = relation(b'd', &[]);
    let n = r.len();
    r[n - 2..].copy_from_slice(&i16::MAX.to_be_bytes());
    fails_with(1, &r, "32767 columns declared but only 0 bytes are left");
    r[n - 2..].copy_from_slice(&(-1i16).to_be_bytes());
    fails_with(1, &r, "the column count is -1");
    // TupleData: 32767 columns in 3 bytes.
    fails_with(
        1,
        b"I\0\0\0\x01N\x7f\xffnnn",
        "32767 columns but only 3 bytes are left",
    );
    fails_with(
        1,
        b"I\0\0\0\x01N\xff\xff",
        "the TupleData column count is -1",
    );
    // Truncate: i32::MAX relations in 4 bytes; a negative count.
    fails_with(
        1,
        b"T\x7f\xff\xff\xff\0\0\0\0\x01",
        "2147483647 relations declared",
    );
    fails_with(1, b"T\xff\xff\xff\xff\0", "the relation count is -1");
}

#[test]
fn tuple_column_kinds_and_lengths() {
    let Message::Insert(i) = decode(1, b"I\0\0\0\x01N\0\x04nut\0\0\0\x02hib\0\0\0\0").unwrap()
    else {
        unreachable!()
    };
    let kinds: Vec<_> = (0..4).map(|c| i.new.kind(c).unwrap()).collect();
    assert_eq!(
        kinds,
        [
            ColumnKind::Null,
            ColumnKind::UnchangedToast,
            ColumnKind::Text,
            ColumnKind::Binary
        ]
    );
    assert_eq!(i.new.value(2), Some(ColumnValue::Text(b"hi")));
    assert_eq!(i.new.value(3), Some(ColumnValue::Binary(b"")));
    assert_eq!(&i.new.value_bytes(2).unwrap()[..], b"hi");
    assert_eq!(i.new.value_bytes(0), None);
    assert_eq!(&i.new.body()[..2], &[0, 4]);
    assert_eq!(
        format!("{:?}", i.new),
        "[NULL, unchanged TOAST, \"hi\", 0x]"
    );
    fails_with(1, b"I\0\0\0\x01N\0\x01x", "column 0 has kind 'x'");
    fails_with(
        1,
        b"I\0\0\0\x01N\0\x01t\xff\xff\xff\xff",
        "column 0 has length -1",
    );
    fails_with(
        1,
        b"I\0\0\0\x01N\0\x01b\0\0\0\x05abc",
        "5 bytes needed, 3 left",
    );
    fails_with(
        1,
        b"I\0\0\0\x01K\0\0",
        "expected the new tuple's 'N', found 'K'",
    );
}

#[test]
fn update_and_delete_tuple_types() {
    let Message::Update(u) = decode(1, b"U\0\0\0\x02O\0\x01nN\0\x01n").unwrap() else {
        unreachable!()
    };
    assert_eq!(u.old.map(|(k, t)| (k, t.len())), Some((OldKind::Full, 1)));
    fails_with(
        1,
        b"U\0\0\0\x02X\0\0",
        "the tuple type is 'X', not 'K', 'O' or 'N'",
    );
    fails_with(
        1,
        b"U\0\0\0\x02K\0\0K\0\0",
        "expected the new tuple's 'N', found 'K'",
    );
    fails_with(
        1,
        b"D\0\0\0\x02N\0\0",
        "the tuple type is 'N', not 'K' or 'O'",
    );
}

#[test]
fn message_and_origin_and_type() {
    let Message::Message(m) = decode(1, b"M\x01\0\0\0\0\0\0\0\x10p\0\0\0\0\x03a\0b").unwrap()
    else {
        unreachable!()
    };
    assert!(m.transactional());
    assert_eq!(
        (m.lsn, m.prefix.as_str(), &m.content[..]),
        (Lsn(16), "p", &b"a\0b"[..])
    );
    fails_with(
        1,
        b"M\0\0\0\0\0\0\0\0\0p\0\xff\xff\xff\xff",
        "the content length is -1",
    );
    fails_with(
        1,
        b"O\0\0\0\0\0\0\0\x01o",
        "the origin name is not NUL-terminated",
    );
    fails_with(
        1,
        b"Y\0\0\0\x01s\0\xff\0",
        "the type name is not valid UTF-8",
    );
}

#[test]
fn stream_messages_need_version_2_and_two_phase_version_3() {
    fails_with(
        1,
        b"S\0\0\0\x01\x01",
        "malformed pgoutput Stream Start message: this message needs pgoutput protocol \
         version 2 or later, and the stream uses version 1",
    );
    for tag in [b'E', b'c', b'A'] {
        fails_with(1, &[tag], "version 2 or later");
    }
    for tag in [b'b', b'P', b'K', b'r', b'p'] {
        fails_with(2, &[tag], "version 3 or later");
    }
    fails_with(4, b"Z", "unknown pgoutput message type 'Z'");
    fails_with(4, b"\0", "unknown pgoutput message type 0x00");
    fails_with(4, b"", "the message type");
}

#[test]
fn the_stream_state_decides_what_may_follow() {
    let mut d = Decoder::new(2).unwrap();
    let msg = |b: &'static [u8]| Bytes::from_static(b);
    // Stream Stop without Stream Start.
    assert_eq!(
        d.decode(msg(b"E")).unwrap_err().to_string(),
        "unexpected pgoutput Stream Stop message while waiting for Stream Start before Stream \
         Stop"
    );
    assert!(matches!(
        d.decode(msg(b"S\0\0\0\x07\0")).unwrap(),
        Message::StreamStart(StreamStart {
            xid: 7,
            first_segment: false
        })
    ));
    // Inside the block: changes carry an xid; a second Start, a Begin, a Commit, a
    // Stream Commit are out of place.
    for bad in [
        &b"S\0\0\0\x07\x01"[..],
        b"B\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x07",
        b"C\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        b"c\0\0\0\x07\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        b"A\0\0\0\x07\0\0\0\x07",
    ] {
        let err = d.clone().decode(Bytes::copy_from_slice(bad)).unwrap_err();
        assert!(
            err.to_string()
                .contains("while waiting for Stream Stop ending the streamed block"),
            "{err}"
        );
    }
    let Message::Insert(i) = d.decode(msg(b"I\0\0\0\x08\0\0\0\x01N\0\0")).unwrap() else {
        unreachable!()
    };
    assert_eq!((i.xid, i.relation_id), (Some(8), 1));
    let Message::Truncate(t) = d
        .decode(msg(b"T\0\0\0\x07\0\0\0\x01\x01\0\0\0\x05"))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        (t.xid, t.cascade(), t.restart_identity()),
        (Some(7), true, false)
    );
    assert!(matches!(
        d.decode(msg(b"O\0\0\0\0\0\0\0\x01o\0")),
        Ok(Message::Origin(_))
    ));
    // A malformed Stream Stop leaves the block open.
    assert!(d.decode(msg(b"E!")).is_err());
    assert_eq!(d.streaming(), Some(7));
    assert!(matches!(d.decode(msg(b"E")), Ok(Message::StreamStop)));
    assert_eq!(d.streaming(), None);
    // Outside the block the same Insert has no xid: the xid would be read as the relation.
    let Message::Insert(i) = d.decode(msg(b"I\0\0\0\x01N\0\0")).unwrap() else {
        unreachable!()
    };
    assert_eq!((i.xid, i.relation_id), (None, 1));
    fails_with(2, b"S\0\0\0\x07\x02", "the first-segment flag is 2");
}

#[test]
fn stream_abort_fields_by_version() {
    let short = b"A\0\0\0\x07\0\0\0\x08";
    let mut long = short.to_vec();
    long.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x30]);
    for v in 2..=4 {
        let Message::StreamAbort(a) = decode(v, short).unwrap() else {
            unreachable!()
        };
        assert_eq!(
            (a.xid, a.subxid, a.abort_lsn, a.abort_time),
            (7, 8, None, None)
        );
    }
    let Message::StreamAbort(a) = decode(4, &long).unwrap() else {
        unreachable!()
    };
    assert_eq!((a.abort_lsn, a.abort_time), (Some(Lsn(0x20)), Some(0x30)));
    fails_with(3, &long, "16 unexpected bytes at the end");
    fails_with(4, &long[..long.len() - 1], "the abort time");
}
