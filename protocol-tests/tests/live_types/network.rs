//! `inet` and `cidr` as `IpInet`, `IpCidr` and `std::net::IpAddr`, `macaddr` and `macaddr8`,
//! `bit` and `varbit` as `BitString`, and `money` as `Money`.

use std::net::IpAddr;

use tusk::types::{BitString, IpCidr, IpInet, MacAddr, MacAddr8, Money};

use super::{
    check, check_decode, check_encode, check_with_arrays, connect, decode_fails, quote, Ty,
};

#[tokio::test]
async fn inet_and_cidr() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let inet = Ty::new("inet");
    let cases: Vec<(String, IpInet)> = [
        "192.168.0.1/24",
        "10.0.0.1",
        "0.0.0.0/0",
        "255.255.255.255",
        "::1",
        "::/0",
        "2001:db8::ff00:42:8329/64",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "::ffff:1.2.3.4/128",
    ]
    .iter()
    .map(|s| (quote(s), s.parse().unwrap()))
    .collect();
    check_with_arrays(conn, &inet, &cases).await;
    // A host address as IpAddr: the full prefix length.
    let hosts: Vec<(String, IpAddr)> = ["10.1.2.3", "::1", "fe80::1"]
        .iter()
        .map(|s| (quote(s), s.parse().unwrap()))
        .collect();
    check_with_arrays(conn, &inet, &hosts).await;
    decode_fails::<IpAddr>(
        conn,
        &inet,
        "'10.0.0.0/8'",
        "is a network, not a single address",
    )
    .await;

    let cidr = Ty::new("cidr");
    let cases: Vec<(String, IpCidr)> = [
        "10.0.0.0/8",
        "192.168.1.5/32",
        "0.0.0.0/0",
        "2001:db8::/32",
        "::/0",
        "::1/128",
    ]
    .iter()
    .map(|s| (quote(s), s.parse().unwrap()))
    .collect();
    check_with_arrays(conn, &cidr, &cases).await;
    // The server's abbreviations are the same networks.
    check_decode(
        conn,
        &cidr,
        &[("'10'", "10.0.0.0/8".parse::<IpCidr>().unwrap())],
    )
    .await;
    // cidr widens to inet both ways (the server's implicit cast).
    check_encode(
        conn,
        &inet,
        &[(
            "'10.0.0.0/8'::cidr",
            "10.0.0.0/8".parse::<IpCidr>().unwrap(),
        )],
    )
    .await;
    check_decode(
        conn,
        &cidr,
        &[("'10.0.0.0/8'", "10.0.0.0/8".parse::<IpInet>().unwrap())],
    )
    .await;
    let hosts: Vec<(String, IpAddr)> = ["10.1.2.3", "::1"]
        .iter()
        .map(|s| (quote(s), s.parse().unwrap()))
        .collect();
    check(conn, &cidr, &hosts).await;
}

#[tokio::test]
async fn mac_addresses() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let cases: Vec<(String, MacAddr)> = [
        "08:00:2b:01:02:03",
        "00:00:00:00:00:00",
        "ff:ff:ff:ff:ff:ff",
    ]
    .iter()
    .map(|s| (quote(s), s.parse().unwrap()))
    .collect();
    check_with_arrays(conn, &Ty::new("macaddr"), &cases).await;
    check_decode(
        conn,
        &Ty::new("macaddr"),
        &[("'0800.2b01.0203'", cases[0].1)],
    )
    .await;
    let cases: Vec<(String, MacAddr8)> = [
        "08:00:2b:01:02:03:04:05",
        "00:00:00:00:00:00:00:00",
        "ff:ff:ff:ff:ff:ff:ff:ff",
    ]
    .iter()
    .map(|s| (quote(s), s.parse().unwrap()))
    .collect();
    check_with_arrays(conn, &Ty::new("macaddr8"), &cases).await;
    // A 6-byte address as macaddr8 gets FF:FE in the middle (the server's EUI-64 mapping).
    check_decode(
        conn,
        &Ty::new("macaddr8"),
        &[(
            "'08:00:2b:01:02:03'",
            "08:00:2b:ff:fe:01:02:03".parse::<MacAddr8>().unwrap(),
        )],
    )
    .await;
}

#[tokio::test]
async fn bit_strings() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let bits = |s: &str| s.parse::<BitString>().unwrap();
    let bit4: Vec<(String, BitString)> = ["1010", "0000", "1111"]
        .iter()
        .map(|s| (format!("B'{s}'"), bits(s)))
        .collect();
    check_with_arrays(conn, &Ty::new("bit(4)"), &bit4).await;
    let long = "10".repeat(500) + "1";
    let varbit: Vec<(String, BitString)> = ["", "1", "0", "10100000", "101000001", &long]
        .iter()
        .map(|s| (format!("B'{s}'"), bits(s)))
        .collect();
    check_with_arrays(conn, &Ty::new("varbit"), &varbit).await;
    check_with_arrays(conn, &Ty::new("varbit(16)"), &varbit[..5]).await;
    // A bit(4) column refuses another length: the server's error (a cast would pad).
    conn.batch_execute("CREATE TEMP TABLE four_bits (b bit(4))")
        .await
        .unwrap();
    let err = conn
        .execute("INSERT INTO four_bits VALUES ($1)", &[&bits("101")])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22026"), "{err}");
    conn.query_one("SELECT 1", &[]).await.unwrap();
}

/// `money`'s text form follows `lc_monetary`, so the literals go through `numeric`, which
/// converts with the currency's fractional digits; these tests expect two (the `C` locale, or
/// any with cents).
#[tokio::test]
async fn money() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let cases = [
        ("12.34::numeric", Money(1234)),
        ("0::numeric", Money(0)),
        ("(-0.01)::numeric", Money(-1)),
        ("(-92233720368547758.08)::numeric", Money(i64::MIN)),
        ("92233720368547758.07::numeric", Money(i64::MAX)),
    ];
    check_with_arrays(conn, &Ty::new("money"), &cases).await;
    // The oracle the other way: the server's own money to numeric.
    let row = conn
        .query_one(
            "SELECT $1::money::numeric::text, $2::money = '12.34'::numeric::money",
            &[&Money(-1234), &Money(1234)],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "-12.34");
    assert!(row.get::<_, bool>(1));
}
