//! inet, cidr, macaddr and macaddr8.

use std::net::IpAddr;

use super::*;
use crate::types::{IpCidr, IpInet, MacAddr, MacAddr8};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn network_vectors() {
    let inet = |s: &str| s.parse::<IpInet>().unwrap();
    let cidr = |s: &str| s.parse::<IpCidr>().unwrap();
    vector(
        &Type::INET,
        "inet_send('192.168.0.1/24'::inet)",
        "02180004c0a80001",
        inet("192.168.0.1/24"),
    );
    vector(
        &Type::INET,
        "inet_send('::1'::inet)",
        "0380001000000000000000000000000000000001",
        inet("::1"),
    );
    vector(
        &Type::CIDR,
        "cidr_send('10.0.0.0/8'::cidr)",
        "020801040a000000",
        cidr("10.0.0.0/8"),
    );
    vector(
        &Type::CIDR,
        "cidr_send('2001:db8::/32'::cidr)",
        "0320011020010db8000000000000000000000000",
        cidr("2001:db8::/32"),
    );
    vector(
        &Type::INET,
        "inet_send('10.1.2.3'::inet)",
        "022000040a010203",
        ip("10.1.2.3"),
    );
    vector(
        &Type::MACADDR,
        "macaddr_send('08:00:2b:01:02:03')",
        "08002b010203",
        MacAddr([8, 0, 0x2b, 1, 2, 3]),
    );
    vector(
        &Type::MACADDR8,
        "macaddr8_send('08:00:2b:01:02:03:04:05')",
        "08002b0102030405",
        MacAddr8([8, 0, 0x2b, 1, 2, 3, 4, 5]),
    );
}

#[test]
fn network_types_and_accepts() {
    let a = "10.0.0.1/8".parse::<IpInet>().unwrap();
    encodes_exactly(&a, "tusk::types::net::IpInet", &[Type::INET]);
    decodes_exactly::<IpInet>("tusk::types::net::IpInet", &[Type::INET, Type::CIDR]);
    let n = a.network();
    assert_eq!(n.to_string(), "10.0.0.0/8");
    encodes_exactly(&n, "tusk::types::net::IpCidr", &[Type::INET, Type::CIDR]);
    decodes_exactly::<IpCidr>("tusk::types::net::IpCidr", &[Type::CIDR]);
    encodes_exactly(
        &ip("::"),
        "core::net::ip_addr::IpAddr",
        &[Type::INET, Type::CIDR],
    );
    // A cidr sent as inet says so in its "is cidr" byte, which the server ignores.
    assert_eq!(encode(&n, &Type::INET).unwrap(), hex("020800040a000000"));
    assert_eq!(IpInet::from(ip("1.2.3.4")).prefix(), 32);
    assert_eq!(IpInet::from(n).to_string(), "10.0.0.0/8");
    assert!(
        n.contains(ip("10.255.0.1")) && !n.contains(ip("11.0.0.1")) && !n.contains(ip("::a00:1"))
    );
    assert_eq!("0.0.0.0/0".parse::<IpCidr>().unwrap().prefix(), 0);
    assert_eq!(IpCidr::new(ip("::"), 0).unwrap().addr(), ip("::"));
}

#[test]
fn invalid_network_values() {
    // A network decoded into an IpAddr would lose its prefix length.
    fails_with(
        dec::<IpAddr>(&Type::INET, &hex("02180004c0a80001")),
        "is a network, not a single address",
    );
    fails_with(
        dec::<IpInet>(&Type::INET, &hex("04200004")),
        "invalid address family 4",
    );
    fails_with(
        dec::<IpInet>(&Type::INET, &hex("02200010c0a80001")),
        "with an address of 16 bytes",
    );
    fails_with(
        dec::<IpInet>(&Type::INET, &hex("02210004c0a80001")),
        "prefix length 33 exceeds",
    );
    fails_with(
        dec::<IpInet>(&Type::INET, &hex("02200004c0a800")),
        "address needs 4 bytes",
    );
    fails_with(
        dec::<IpInet>(&Type::INET, &hex("02200004c0a8000100")),
        "unexpected bytes",
    );
    fails_with(
        dec::<IpCidr>(&Type::CIDR, &hex("020801040a000001")),
        "bits set to the right of the prefix",
    );
    fails_with("10.0.0.1/8".parse::<IpCidr>(), "bits set to the right");
    fails_with("10.0.0.1/33".parse::<IpInet>(), "invalid prefix length");
    fails_with("::1/129".parse::<IpInet>(), "invalid prefix length");
    fails_with("10.0.0/8".parse::<IpInet>(), "invalid IP address");
    fails_with(IpInet::new(ip("::1"), 129), "exceeds the 128 bits");
    fails_with(
        dec::<MacAddr>(&Type::MACADDR, &[1, 2, 3]),
        "expected 6 bytes, got 3",
    );
    fails_with(
        dec::<MacAddr8>(&Type::MACADDR8, &[1; 6]),
        "expected 8 bytes, got 6",
    );
}

#[test]
fn mac_text() {
    let m = MacAddr([8, 0, 0x2b, 1, 2, 3]);
    for s in ["08:00:2b:01:02:03", "08-00-2B-01-02-03", "08002b010203"] {
        assert_eq!(s.parse::<MacAddr>().unwrap(), m, "{s}");
    }
    for s in [
        "08:00:2b:01:02",
        "08:00-2b:01:02:03",
        "0800.2b01.0203",
        "g8:00:2b:01:02:03",
        "",
        "08:00:2b:01:02:03:04",
    ] {
        fails_with(s.parse::<MacAddr>(), "invalid MAC address");
    }
    assert_eq!(MacAddr8([0xab; 8]).to_string(), "ab:ab:ab:ab:ab:ab:ab:ab");
    fails_with(
        "08:00:2b:01:02:03".parse::<MacAddr8>(),
        "invalid MAC address",
    );
}
