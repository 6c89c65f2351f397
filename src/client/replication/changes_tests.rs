//! [`LogicalDecoder`] over the real pgoutput messages of
//! `src/proto/replication/pgoutput/testdata/` (see `capture.sh` there: PostgreSQL 18.6 and 15),
//! read as typed values; and its refusals.

use bytes::Bytes;

use super::*;
use crate::proto::replication::pgoutput::tests_server::*;
use crate::Kind;

/// Every change of a capture file, decoded in order.
fn changes(file: &str, version: u32) -> Vec<Change> {
    let mut decoder = LogicalDecoder::new(version).unwrap();
    vectors(file)
        .into_iter()
        .map(|m| decoder.decode(Lsn(0x10), m).unwrap())
        .collect()
}

fn insert(c: &Change) -> &ChangeTuple {
    match c {
        Change::Insert { new, .. } => new,
        other => panic!("{other:?}"),
    }
}

fn err_text(e: Error) -> String {
    e.to_string()
}

#[test]
fn basic_binary_rows_read_as_typed_values() {
    for file in [BASIC_BINARY_18, BASIC_BINARY_15] {
        let c = changes(file, 1);
        let Change::Relation(basic) = &c[1] else {
            unreachable!()
        };
        assert_eq!(basic.qualified_name(), "public.po_basic");
        assert_eq!(basic.replica_identity(), ReplicaIdentity::Default);
        let cols: Vec<_> = basic
            .columns()
            .iter()
            .map(|c| (c.name(), c.type_().name(), c.is_key(), c.type_modifier()))
            .collect();
        assert_eq!(
            cols,
            [
                ("id", "int4", true, -1),
                ("name", "text", false, -1),
                ("big", "text", false, -1)
            ]
        );
        let one = insert(&c[2]);
        assert_eq!(one.get::<_, i32>("id"), 1);
        assert_eq!(one.get::<_, i64>(0), 1, "widened like a query's int4");
        assert_eq!(one.get::<_, &str>("name"), "one");
        assert_eq!(one.get::<_, Option<String>>("big"), None);
        assert!(one.is_null("big") && !one.is_null("id") && !one.is_null("nope"));
        assert_eq!(one.kind("id"), Some(ColumnKind::Binary));
        assert_eq!(one.raw("id"), Some(&[0, 0, 0, 1][..]));
        assert_eq!((one.len(), one.columns().len()), (3, 3));
        let two = insert(&c[3]);
        assert_eq!(two.get::<_, String>("big"), "x".repeat(2100));
        // NULL into a non-Option, a wrong type, a missing column: errors naming the column.
        let e = one.try_get::<_, String>("big").unwrap_err();
        assert_eq!(e.kind(), Kind::Conversion);
        assert!(err_text(e).contains("column 2 (\"big\") of SQL type text"));
        let e = err_text(one.try_get::<_, bool>(0).unwrap_err());
        assert!(
            e.contains("into Rust type bool: the types do not match"),
            "{e}"
        );
        let e = err_text(one.try_get::<_, i32>("nope").unwrap_err());
        assert!(
            e.contains("no column nope in relation public.po_basic with columns"),
            "{e}"
        );
        // The TOASTed value the Update did not touch: a state of its own, not NULL.
        let Change::Update { new, old: None, .. } = &c[9] else {
            unreachable!()
        };
        assert!(new.is_unchanged_toast("big") && !new.is_null("big"));
        assert_eq!(new.raw("big"), None);
        for e in [
            new.try_get::<_, Option<String>>("big").unwrap_err(),
            new.try_get::<_, String>(2).unwrap_err(),
        ] {
            let e = err_text(e);
            assert!(
                e.contains("column 2 (\"big\")") && e.contains("unchanged TOAST value"),
                "{e}"
            );
        }
        assert_eq!(
            format!("{new:?}"),
            "{\"id\": 0x00000002, \"name\": 0x74776f, \"big\": unchanged TOAST}"
        );
        // A changed key: the old key first.
        let Change::Update {
            old: Some(old),
            old_is_key_only: true,
            new,
            ..
        } = &c[12]
        else {
            unreachable!()
        };
        assert_eq!((old.get::<_, i32>(0), new.get::<_, i32>(0)), (1, 3));
        assert!(old.is_null("name"));
        let Change::Delete {
            old,
            key_only: true,
            ..
        } = &c[15]
        else {
            unreachable!()
        };
        assert_eq!(old.get::<_, i32>("id"), 3);
        // REPLICA IDENTITY FULL: the cache takes the new description.
        let Change::Relation(full) = &c[18] else {
            unreachable!()
        };
        assert_eq!(full.replica_identity(), ReplicaIdentity::Full);
        let Change::Update {
            relation,
            old: Some(old),
            old_is_key_only: false,
            ..
        } = &c[19]
        else {
            unreachable!()
        };
        assert!(Arc::ptr_eq(relation, full));
        assert_eq!(old.get::<_, &str>("big").len(), 2100);
        let Change::Delete {
            old,
            key_only: false,
            ..
        } = &c[22]
        else {
            unreachable!()
        };
        assert_eq!(old.get::<_, &str>("name"), "deux");
        // Messages, the enum's name, truncate, origin.
        let Change::Message {
            transactional: true,
            prefix,
            content,
            xid: None,
            ..
        } = &c[25]
        else {
            unreachable!()
        };
        assert_eq!(
            (prefix.as_str(), &content[..]),
            ("po_prefix", &b"transactional"[..])
        );
        let Change::Type { oid, schema, name } = &c[26] else {
            unreachable!()
        };
        assert_eq!((schema.as_str(), name.as_str()), ("public", "po_feeling"));
        let Change::Relation(mood) = &c[27] else {
            unreachable!()
        };
        assert_eq!(mood.columns()[1].type_().oid(), *oid);
        assert_eq!(mood.columns()[1].type_().name(), "po_feeling");
        // A binary value of a type tusk knows only by name is refused, not misread.
        let e = err_text(insert(&c[28]).try_get::<_, String>("feeling").unwrap_err());
        assert!(
            e.contains("came in binary format") && e.contains("po_feeling"),
            "{e}"
        );
        assert_eq!(insert(&c[28]).raw("feeling"), Some(&b"happy"[..]));
        let Change::Message {
            transactional: false,
            ..
        } = &c[30]
        else {
            unreachable!()
        };
        let Change::Truncate {
            relations,
            cascade: true,
            restart_identity: true,
            xid: None,
        } = &c[38]
        else {
            unreachable!()
        };
        let names: Vec<_> = relations.iter().map(|r| r.name()).collect();
        assert_eq!(names, ["po_basic", "po_child"]);
        let Change::Origin { name, commit_lsn } = &c[41] else {
            unreachable!()
        };
        assert_eq!(
            (name.as_str(), commit_lsn.to_string()),
            ("po_origin", "1/2345678".into())
        );
        assert!(matches!(c[43], Change::Commit { .. }));
    }
}

#[test]
fn text_rows_read_as_strings_only() {
    let c = changes(BASIC_TEXT_18, 1);
    let one = insert(&c[2]);
    assert_eq!(one.kind(0), Some(ColumnKind::Text));
    assert_eq!(one.get::<_, &str>("id"), "1");
    assert_eq!(one.get::<_, String>("name"), "one");
    let e = err_text(one.try_get::<_, i32>("id").unwrap_err());
    assert!(
        e.contains("column 0 (\"id\") of SQL type int4 into Rust type i32")
            && e.contains("binary 'true'"),
        "{e}"
    );
    // The enum's text is its label, read as a string.
    assert_eq!(insert(&c[28]).get::<_, &str>("feeling"), "happy");
}

#[test]
fn streamed_and_two_phase_changes() {
    let c = changes(STREAM_V2_15, 2);
    let Change::StreamStart {
        xid,
        first_segment: true,
    } = c[0]
    else {
        unreachable!()
    };
    let Change::Insert {
        xid: Some(in_stream),
        new,
        ..
    } = &c[2]
    else {
        unreachable!()
    };
    assert_eq!((*in_stream, new.get::<_, &str>("id")), (xid, "1"));
    assert!(c.iter().any(|c| matches!(c,
        Change::StreamAbort { xid: x, subxid, abort_lsn: None, .. } if *x == xid && *subxid != xid)));
    assert!(matches!(c.last(), Some(Change::StreamCommit { xid: x, .. }) if *x == xid));
    let c = changes(STREAM_V4_18, 4);
    assert!(c.iter().any(|c| matches!(
        c,
        Change::StreamAbort {
            abort_lsn: Some(_),
            ..
        }
    )));

    let c = changes(TWOPHASE_V4_18, 4);
    let Change::BeginPrepare(b) = &c[0] else {
        unreachable!()
    };
    let Change::Prepare(p) = &c[3] else {
        unreachable!()
    };
    assert_eq!(b, p);
    assert_eq!(p.gid, "po_gid_1");
    assert!(
        matches!(&c[4], Change::CommitPrepared { gid, xid, .. } if gid == "po_gid_1" && *xid == p.xid)
    );
    assert!(matches!(&c[8], Change::RollbackPrepared { gid, .. } if gid == "po_gid_2"));
    assert!(matches!(&c[c.len() - 2], Change::StreamPrepare(p) if p.gid == "po_gid_3"));
}

#[test]
fn refusals_name_what_was_wrong() {
    let e = LogicalDecoder::new(5).unwrap_err();
    assert_eq!(e.kind(), Kind::Protocol);
    assert!(err_text(e).contains("pgoutput protocol version 5 is not supported"));
    let mut d = LogicalDecoder::new(1).unwrap();
    let rel = Bytes::from_static(b"R\0\0\0\x05s\0t\0d\0\x01\x01id\0\0\0\0\x17\xff\xff\xff\xff");
    let e = d
        .decode(
            Lsn(0x1_0000_0020),
            Bytes::from_static(b"I\0\0\0\x05N\0\x01n"),
        )
        .unwrap_err();
    assert_eq!(e.kind(), Kind::Protocol);
    assert_eq!(
        err_text(e),
        "protocol error: in the replication message at 1/20: malformed pgoutput Insert \
         message: relation 5 was not described by a Relation message earlier in the stream"
    );
    assert!(matches!(d.decode(Lsn(0), rel), Ok(Change::Relation(_))));
    assert_eq!(d.relation(5).unwrap().qualified_name(), "s.t");
    let e = d
        .decode(Lsn(0), Bytes::from_static(b"U\0\0\0\x05N\0\x02nn"))
        .unwrap_err();
    assert!(
        err_text(e).contains("2 values for the 1 columns of relation 5 (s.t)"),
        "truncated tuple"
    );
    let e = d
        .decode(
            Lsn(0),
            Bytes::from_static(b"T\0\0\0\x02\0\0\0\0\x05\0\0\0\x06"),
        )
        .unwrap_err();
    assert!(err_text(e).contains("pgoutput Truncate message: relation 6 was not"));
    // A malformed message is a protocol error with the decoder's reason.
    let e = d.decode(Lsn(0), Bytes::from_static(b"I\0\0")).unwrap_err();
    assert!(err_text(e).contains("malformed pgoutput Insert message"));
}

#[test]
fn quoted_names() {
    assert_eq!(quote("abc_1"), "abc_1");
    assert_eq!(quote("Abc"), "\"Abc\"");
    assert_eq!(quote("1a"), "\"1a\"");
    assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote(""), "\"\"");
}
