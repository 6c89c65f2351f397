use super::*;

#[test]
fn slot_names_follow_the_servers_rule() {
    for ok in ["a", "slot_1", "_", &"x".repeat(63)] {
        check_slot_name(ok).unwrap();
    }
    for (bad, needle) in [
        ("", "cannot be empty"),
        ("Slot", "'S'"),
        ("a-b", "'-'"),
        ("a\"; DROP", "'\"'"),
        ("a b", "' '"),
        ("é", "'é'"),
        (&*"x".repeat(64), "64 bytes"),
    ] {
        let e = check_slot_name(bad).unwrap_err();
        assert_eq!(e.kind(), crate::Kind::Usage);
        assert!(e.to_string().contains(needle), "{bad:?}: {e}");
    }
}

#[test]
fn create_slot_uses_the_parenthesized_options_from_15() {
    let sql = |o: &SlotOptions, v| create_slot_sql("s1", o, v).unwrap();
    assert_eq!(
        sql(&SlotOptions::logical(), 150000),
        "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"pgoutput\""
    );
    assert_eq!(
        sql(
            &SlotOptions::logical()
                .temporary(true)
                .plugin("test_decoding")
                .snapshot(SnapshotAction::Nothing)
                .two_phase(true),
            150000
        ),
        "CREATE_REPLICATION_SLOT \"s1\" TEMPORARY LOGICAL \"test_decoding\" \
         (SNAPSHOT 'nothing', TWO_PHASE true)"
    );
    assert_eq!(
        sql(
            &SlotOptions::logical().snapshot(SnapshotAction::Use),
            140000
        ),
        "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"pgoutput\" USE_SNAPSHOT"
    );
    assert_eq!(
        sql(&SlotOptions::physical().reserve_wal(true), 180000),
        "CREATE_REPLICATION_SLOT \"s1\" PHYSICAL (RESERVE_WAL true)"
    );
    assert_eq!(
        sql(&SlotOptions::physical().reserve_wal(true), 130000),
        "CREATE_REPLICATION_SLOT \"s1\" PHYSICAL RESERVE_WAL"
    );
    assert_eq!(
        sql(&SlotOptions::physical().temporary(true), 150000),
        "CREATE_REPLICATION_SLOT \"s1\" TEMPORARY PHYSICAL"
    );
}

#[test]
fn nothing_can_be_injected_into_a_command() {
    // A plugin name is a quoted identifier; a double quote cannot be carried in one.
    assert_eq!(
        create_slot_sql("s", &SlotOptions::logical().plugin("x PHYSICAL"), 150000).unwrap(),
        "CREATE_REPLICATION_SLOT \"s\" LOGICAL \"x PHYSICAL\""
    );
    let e =
        create_slot_sql("s", &SlotOptions::logical().plugin("x\" PHYSICAL"), 150000).unwrap_err();
    assert!(e.to_string().contains("double quote"), "{e}");
    assert!(create_slot_sql("s", &SlotOptions::logical().plugin(""), 150000).is_err());
    assert!(create_slot_sql("s; DROP", &SlotOptions::logical(), 150000).is_err());
    // Options that do not belong to the slot's kind.
    assert!(create_slot_sql("s", &SlotOptions::logical().reserve_wal(true), 150000).is_err());
    assert!(create_slot_sql("s", &SlotOptions::physical().two_phase(true), 150000).is_err());
    // Option values are literals, names identifiers.
    let options = LogicalOptions::new()
        .option("publication_names", "\"p1\",\"it's\"")
        .option("a b", "x')\\")
        .flag("binary");
    assert_eq!(
        start_logical_sql("s", Lsn(0x1_0000_0010), &options).unwrap(),
        "START_REPLICATION SLOT \"s\" LOGICAL 1/10 (\"publication_names\" \
         '\"p1\",\"it''s\"', \"a b\" 'x'')\\', \"binary\")"
    );
    let quoted = LogicalOptions::new().option("a\"b", "x");
    assert!(start_logical_sql("s", Lsn(0), &quoted).is_err());
    let nul = LogicalOptions::new().option("x", "a\0b");
    let e = start_logical_sql("s", Lsn(0), &nul).unwrap_err();
    assert!(e.to_string().contains("NUL"), "{e}");
    assert!(start_logical_sql("S", Lsn(0), &LogicalOptions::new()).is_err());
    assert!(drop_slot_sql("s'", false).is_err());
    assert!(read_slot_sql("").is_err());
}

#[test]
fn the_other_commands() {
    assert_eq!(
        drop_slot_sql("s", true).unwrap(),
        "DROP_REPLICATION_SLOT \"s\" WAIT"
    );
    assert_eq!(
        drop_slot_sql("s", false).unwrap(),
        "DROP_REPLICATION_SLOT \"s\""
    );
    assert_eq!(read_slot_sql("s").unwrap(), "READ_REPLICATION_SLOT \"s\"");
    assert_eq!(
        start_physical_sql(&PhysicalStart::at(Lsn(0x2_0000_0000))).unwrap(),
        "START_REPLICATION PHYSICAL 2/0"
    );
    assert_eq!(
        start_physical_sql(&PhysicalStart::at(Lsn(0x16)).slot("p").timeline(3)).unwrap(),
        "START_REPLICATION SLOT \"p\" PHYSICAL 0/16 TIMELINE 3"
    );
    assert!(start_physical_sql(&PhysicalStart::at(Lsn(0)).slot("P")).is_err());
    assert_eq!(
        start_logical_sql("s", Lsn(0), &LogicalOptions::new()).unwrap(),
        "START_REPLICATION SLOT \"s\" LOGICAL 0/0"
    );
}
