//! The optional conversions of other crates' types (tusk features `ipnet`, `bit-vec`,
//! `geo-types`, turned on by protocol-tests' dependency on tusk).

use bit_vec::BitVec;
use geo_types::{Coord, LineString, Point, Rect};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::{check_decode, check_with_arrays, connect, decode_fails, quote, Ty};

#[tokio::test]
async fn ipnet_types() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let texts = [
        "192.168.0.1/24",
        "10.0.0.1/32",
        "0.0.0.0/0",
        "::1/128",
        "2001:db8::1/64",
    ];
    let nets: Vec<(String, IpNet)> = texts
        .iter()
        .map(|s| (quote(s), s.parse().unwrap()))
        .collect();
    check_with_arrays(conn, &Ty::new("inet"), &nets).await;
    let networks = ["10.0.0.0/8", "192.168.1.5/32", "2001:db8::/32"];
    let nets: Vec<(String, IpNet)> = networks
        .iter()
        .map(|s| (quote(s), s.parse().unwrap()))
        .collect();
    check_with_arrays(conn, &Ty::new("cidr"), &nets).await;
    let v4: Vec<(String, Ipv4Net)> = ["10.0.0.0/8", "1.2.3.4/32"]
        .iter()
        .map(|s| (quote(s), s.parse().unwrap()))
        .collect();
    check_with_arrays(conn, &Ty::new("cidr"), &v4).await;
    let v6: Vec<(String, Ipv6Net)> = ["fe80::1/10", "::/0"]
        .iter()
        .map(|s| (quote(s), s.parse().unwrap()))
        .collect();
    check_with_arrays(conn, &Ty::new("inet"), &v6).await;
    decode_fails::<Ipv4Net>(conn, &Ty::new("inet"), "'::1'", "not an IPv4 network").await;
    // A network with host bits is refused as cidr before it is sent.
    let err = conn
        .query_one(
            "SELECT $1::cidr",
            &[&"10.0.0.1/8".parse::<IpNet>().unwrap()],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("IpNet::trunc()"), "{err}");
}

#[tokio::test]
async fn bit_vec() {
    let mut conn = connect().await;
    let bits = |s: &str| s.chars().map(|c| c == '1').collect::<BitVec>();
    let cases: Vec<(String, BitVec)> = ["", "1", "10100000", "101000001", &"01".repeat(300)]
        .iter()
        .map(|s| (format!("B'{s}'"), bits(s)))
        .collect();
    check_with_arrays(&mut conn, &Ty::new("varbit"), &cases).await;
    check_with_arrays(&mut conn, &Ty::new("bit(3)"), &[("B'101'", bits("101"))]).await;
}

#[tokio::test]
async fn geo_types() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let points = [
        ("'(1,-2.5)'", Point::new(1.0, -2.5)),
        ("'(0,0)'", Point::new(0.0, 0.0)),
    ];
    check_with_arrays(conn, &Ty::new("point").no_eq(), &points).await;
    let c = |x, y| Coord { x, y };
    let rects = [
        ("'(2,3),(0,0)'", Rect::new(c(0.0, 0.0), c(2.0, 3.0))),
        ("'(1,1),(-1,-1)'", Rect::new(c(1.0, -1.0), c(-1.0, 1.0))),
    ];
    check_with_arrays(conn, &Ty::new("box").no_eq(), &rects).await;
    let lines = [(
        "'[(0,0),(1,1),(2,0)]'",
        LineString::from(vec![(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]),
    )];
    check_with_arrays(conn, &Ty::new("path").no_eq(), &lines).await;
    // A closed path reads as a LineString ending where it starts.
    let ring = [(
        "'((0,0),(1,1))'",
        LineString::from(vec![(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
    )];
    check_decode(conn, &Ty::new("path").no_eq(), &ring).await;
}
