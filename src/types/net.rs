//! Network addresses: `inet` as [`IpInet`] (and `std::net::IpAddr` at full prefix length),
//! `cidr` as [`IpCidr`], `macaddr` as [`MacAddr`], `macaddr8` as [`MacAddr8`].
//!
//! Binary format of `inet` and `cidr` (`network_send` / `network_recv`): the family byte (2 for
//! IPv4, 3 for IPv6: `PGSQL_AF_INET` and `PGSQL_AF_INET6`, not the platform's `AF_*`), the
//! prefix length in bits, an "is cidr" byte (ignored on receipt), the address length (4 or 16)
//! and the address bytes in network order. A `cidr` must have no bits set right of its prefix.
//! `macaddr` and `macaddr8` are their 6 and 8 bytes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::{fixed, FromSql, InvalidValue, IsNull, Reader, ToSql, Type};
use crate::BoxError;

const PGSQL_AF_INET: u8 = 2;
const PGSQL_AF_INET6: u8 = 3;

/// The number of bits in an address of this family.
fn max_prefix(addr: &IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The address with every bit right of the first `prefix` cleared.
fn network_of(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

/// An address that is not an `inet` or a `cidr` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseNetError(String);

impl fmt::Display for ParseNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseNetError {}

/// An `inet` value: a host address with the prefix length of its network, e.g. `192.168.0.1/24`.
///
/// ```
/// use tusk::types::IpInet;
///
/// let a: IpInet = "192.168.0.1/24".parse().unwrap();
/// assert_eq!(a.prefix(), 24);
/// assert_eq!(a.to_string(), "192.168.0.1/24");
/// // A full prefix is not shown, as the server does.
/// assert_eq!("::1".parse::<IpInet>().unwrap().to_string(), "::1");
/// assert!(IpInet::new("10.0.0.1".parse().unwrap(), 33).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpInet {
    addr: IpAddr,
    prefix: u8,
}

impl IpInet {
    /// The address with this prefix length; fails when it is longer than the address (32 bits
    /// for IPv4, 128 for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<IpInet, ParseNetError> {
        if prefix > max_prefix(&addr) {
            return Err(ParseNetError(format!(
                "prefix length {prefix} exceeds the {} bits of {addr}",
                max_prefix(&addr)
            )));
        }
        Ok(IpInet { addr, prefix })
    }

    /// The host address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The network: the address with its host bits cleared.
    pub fn network(&self) -> IpCidr {
        IpCidr {
            addr: network_of(self.addr, self.prefix),
            prefix: self.prefix,
        }
    }
}

/// A host address as an `inet` with the full prefix length (`/32`, `/128`).
impl From<IpAddr> for IpInet {
    fn from(addr: IpAddr) -> IpInet {
        IpInet {
            addr,
            prefix: max_prefix(&addr),
        }
    }
}

impl fmt::Display for IpInet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == max_prefix(&self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// `address` or `address/prefix`.
fn parse_net(s: &str) -> Result<(IpAddr, u8), ParseNetError> {
    let (addr, prefix) = match s.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (s, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| ParseNetError(format!("invalid IP address {addr:?}")))?;
    let prefix = match prefix {
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= max_prefix(&addr))
            .ok_or_else(|| ParseNetError(format!("invalid prefix length {p:?} for {addr}")))?,
        None => max_prefix(&addr),
    };
    Ok((addr, prefix))
}

/// `address` (the full prefix length) or `address/prefix`.
impl FromStr for IpInet {
    type Err = ParseNetError;

    fn from_str(s: &str) -> Result<IpInet, ParseNetError> {
        let (addr, prefix) = parse_net(s)?;
        IpInet::new(addr, prefix)
    }
}

/// A `cidr` value: a network, i.e. an address with no bits set right of its prefix length,
/// e.g. `10.0.0.0/8`.
///
/// ```
/// use tusk::types::IpCidr;
///
/// let n: IpCidr = "10.0.0.0/8".parse().unwrap();
/// assert!(n.contains("10.1.2.3".parse().unwrap()));
/// assert!("10.0.0.1/8".parse::<IpCidr>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpCidr {
    addr: IpAddr,
    prefix: u8,
}

impl IpCidr {
    /// The network at `addr` with this prefix length; fails when the prefix is longer than
    /// the address or bits are set right of it (as the server refuses).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<IpCidr, ParseNetError> {
        IpInet::new(addr, prefix)?;
        if network_of(addr, prefix) != addr {
            return Err(ParseNetError(format!(
                "{addr}/{prefix} has bits set to the right of the prefix"
            )));
        }
        Ok(IpCidr { addr, prefix })
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `addr` is in this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.addr.is_ipv4() && network_of(addr, self.prefix) == self.addr
    }
}

/// Always shows the prefix length, as the server does for `cidr`.
impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// `address/prefix`, or an address alone for a single-host network.
impl FromStr for IpCidr {
    type Err = ParseNetError;

    fn from_str(s: &str) -> Result<IpCidr, ParseNetError> {
        let (addr, prefix) = parse_net(s)?;
        IpCidr::new(addr, prefix)
    }
}

/// Every network is an `inet` too.
impl From<IpCidr> for IpInet {
    fn from(c: IpCidr) -> IpInet {
        IpInet {
            addr: c.addr,
            prefix: c.prefix,
        }
    }
}

fn encode_net(addr: IpAddr, prefix: u8, ty: &Type, out: &mut BytesMut) {
    let (family, bytes): (u8, &[u8]) = match &addr {
        IpAddr::V4(a) => (PGSQL_AF_INET, &a.octets()),
        IpAddr::V6(a) => (PGSQL_AF_INET6, &a.octets()),
    };
    out.put_u8(family);
    out.put_u8(prefix);
    out.put_u8(u8::from(*ty == Type::CIDR));
    out.put_u8(bytes.len() as u8); // 4 or 16.
    out.put_slice(bytes);
}

/// Decodes an `inet` or `cidr`, checking what `network_recv` checks.
fn decode_net(ty: &Type, raw: &[u8]) -> Result<(IpAddr, u8), BoxError> {
    let what = if *ty == Type::CIDR { "cidr" } else { "inet" };
    let mut r = Reader::new(what, raw);
    let head = r.take(4, "header")?; // Exactly 4 bytes.
    let (family, prefix, size) = (head[0], head[1], head[3]);
    let addr = match (family, size) {
        (PGSQL_AF_INET, 4) => {
            let b: [u8; 4] = fixed(what, r.take(4, "address")?)?;
            IpAddr::V4(Ipv4Addr::from(b))
        }
        (PGSQL_AF_INET6, 16) => {
            let b: [u8; 16] = fixed(what, r.take(16, "address")?)?;
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => {
            return Err(InvalidValue::boxed(
                what,
                format!("invalid address family {family} with an address of {size} bytes"),
            ))
        }
    };
    r.finish()?;
    if prefix > max_prefix(&addr) {
        return Err(InvalidValue::boxed(
            what,
            format!(
                "prefix length {prefix} exceeds the {} bits of {addr}",
                max_prefix(&addr)
            ),
        ));
    }
    if *ty == Type::CIDR && network_of(addr, prefix) != addr {
        return Err(InvalidValue::boxed(
            what,
            format!("{addr}/{prefix} has bits set to the right of the prefix"),
        ));
    }
    Ok((addr, prefix))
}

impl ToSql for IpInet {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_net(self.addr, self.prefix, ty, out);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INET
    }

    crate::to_sql_checked!();
}

/// From `inet`, and from `cidr` (every network is an `inet`).
impl FromSql<'_> for IpInet {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<IpInet, BoxError> {
        let (addr, prefix) = decode_net(ty, raw)?;
        Ok(IpInet { addr, prefix })
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, INET, CIDR)
    }
}

/// As `cidr`, and as `inet` (the server's implicit cast).
impl ToSql for IpCidr {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_net(self.addr, self.prefix, ty, out);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, INET, CIDR)
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for IpCidr {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<IpCidr, BoxError> {
        let (addr, prefix) = decode_net(ty, raw)?;
        Ok(IpCidr { addr, prefix })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::CIDR
    }
}

/// A host address as an `inet` or `cidr` with the full prefix length.
impl ToSql for IpAddr {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode_net(*self, max_prefix(self), ty, out);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, INET, CIDR)
    }

    crate::to_sql_checked!();
}

/// Only a value with the full prefix length (`/32`, `/128`): the prefix of any other would be
/// lost; read those as [`IpInet`] or [`IpCidr`].
impl FromSql<'_> for IpAddr {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<IpAddr, BoxError> {
        let (addr, prefix) = decode_net(ty, raw)?;
        if prefix != max_prefix(&addr) {
            return Err(InvalidValue::boxed(
                if *ty == Type::CIDR { "cidr" } else { "inet" },
                format!(
                    "{addr}/{prefix} is a network, not a single address: an IpAddr would lose \
                     its prefix length; read it as tusk::types::IpInet"
                ),
            ));
        }
        Ok(addr)
    }

    fn accepts(ty: &Type) -> bool {
        super::type_in!(ty, INET, CIDR)
    }
}

/// A MAC address that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMacAddrError(String);

impl fmt::Display for ParseMacAddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid MAC address {:?}: expected hex pairs separated by ':' or '-', or none",
            self.0
        )
    }
}

impl std::error::Error for ParseMacAddrError {}

/// `N` bytes as hex pairs, separated all by `:`, all by `-`, or not at all.
fn parse_mac<const N: usize>(s: &str) -> Result<[u8; N], ParseMacAddrError> {
    let err = || ParseMacAddrError(s.to_owned());
    let sep = s
        .as_bytes()
        .get(2)
        .copied()
        .filter(|c| matches!(c, b':' | b'-'));
    let pairs: Vec<&str> = match sep {
        Some(sep) => s.split(char::from(sep)).collect(),
        None if s.len() == 2 * N && s.is_ascii() => {
            (0..N).map(|i| &s[2 * i..2 * i + 2]).collect() // ASCII: every index a boundary.
        }
        None => return Err(err()),
    };
    if pairs.len() != N {
        return Err(err());
    }
    let mut bytes = [0u8; N];
    for (b, pair) in bytes.iter_mut().zip(pairs) {
        if pair.len() != 2 || !pair.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        *b = u8::from_str_radix(pair, 16).map_err(|_| err())?;
    }
    Ok(bytes)
}

fn fmt_mac(bytes: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

macro_rules! mac_type {
    ($(#[$doc:meta])* $name:ident, $n:literal, $sql:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; $n]);

        /// Lowercase hex pairs separated by colons, as the server shows it.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_mac(&self.0, f)
            }
        }

        /// Hex pairs in either case, separated all by `:`, all by `-`, or not at all.
        impl FromStr for $name {
            type Err = ParseMacAddrError;

            fn from_str(s: &str) -> Result<$name, ParseMacAddrError> {
                parse_mac(s).map($name)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                out.put_slice(&self.0);
                Ok(IsNull::No)
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::$sql
            }

            crate::to_sql_checked!();
        }

        impl FromSql<'_> for $name {
            fn from_sql(_ty: &Type, raw: &[u8]) -> Result<$name, BoxError> {
                Ok($name(fixed($what, raw)?))
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::$sql
            }
        }
    };
}

mac_type!(
    /// A `macaddr` value: a 6-byte (EUI-48) MAC address.
    ///
    /// ```
    /// use tusk::types::MacAddr;
    ///
    /// let m: MacAddr = "08-00-2B-01-02-03".parse().unwrap();
    /// assert_eq!(m, MacAddr([8, 0, 0x2b, 1, 2, 3]));
    /// assert_eq!(m.to_string(), "08:00:2b:01:02:03");
    /// ```
    MacAddr,
    6,
    MACADDR,
    "macaddr"
);

mac_type!(
    /// A `macaddr8` value: an 8-byte (EUI-64) MAC address.
    ///
    /// ```
    /// use tusk::types::MacAddr8;
    ///
    /// let m: MacAddr8 = "08002b0102030405".parse().unwrap();
    /// assert_eq!(m.to_string(), "08:00:2b:01:02:03:04:05");
    /// ```
    MacAddr8,
    8,
    MACADDR8,
    "macaddr8"
);
