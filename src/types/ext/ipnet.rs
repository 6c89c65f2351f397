//! `ipnet::IpNet`, `Ipv4Net` and `Ipv6Net` as `inet` and `cidr` (feature `ipnet`).
//!
//! An `IpNet` is an address with a prefix length, like an `inet`. As a `cidr` it must have no
//! bits set right of its prefix (`IpNet::trunc` clears them): tusk refuses to send one that
//! does rather than change it. An `Ipv4Net` or `Ipv6Net` refuses a value of the other family.

use std::net::IpAddr;

use ::ipnet::{IpNet, Ipv4Net, Ipv6Net};
use bytes::BytesMut;

use crate::types::{FromSql, InvalidValue, IpCidr, IpInet, IsNull, ToSql, Type};
use crate::BoxError;

fn encode(addr: IpAddr, prefix: u8, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    if *ty == Type::CIDR {
        let cidr = IpCidr::new(addr, prefix).map_err(|e| {
            InvalidValue::boxed("cidr", format!("{e}; IpNet::trunc() clears those bits"))
        })?;
        cidr.to_sql(ty, out)
    } else {
        // The prefix length of an IpNet never exceeds its address.
        IpInet::new(addr, prefix)
            .map_err(|e| InvalidValue::boxed("inet", e.to_string()))?
            .to_sql(ty, out)
    }
}

fn decode(ty: &Type, raw: &[u8]) -> Result<IpNet, BoxError> {
    let inet = IpInet::from_sql(ty, raw)?;
    // `IpInet` checked the prefix length against the address.
    IpNet::new(inet.addr(), inet.prefix())
        .map_err(|e| InvalidValue::boxed("inet", format!("{inet}: {e}")))
}

fn accepts(ty: &Type) -> bool {
    crate::types::type_in!(ty, INET, CIDR)
}

fn wrong_family(ty: &Type, net: &IpNet, wanted: &str) -> BoxError {
    let what = if *ty == Type::CIDR { "cidr" } else { "inet" };
    InvalidValue::boxed(
        what,
        format!("{net} is not an {wanted} network; read it as ipnet::IpNet"),
    )
}

macro_rules! ipnet_impls {
    ($rust:ty, |$v:ident| $parts:expr, |$ty:ident, $net:ident| $from:expr) => {
        impl ToSql for $rust {
            fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
                let $v = self;
                let (addr, prefix): (IpAddr, u8) = $parts;
                encode(addr, prefix, ty, out)
            }

            fn accepts(ty: &Type) -> bool {
                accepts(ty)
            }

            crate::to_sql_checked!();
        }

        impl FromSql<'_> for $rust {
            fn from_sql($ty: &Type, raw: &[u8]) -> Result<$rust, BoxError> {
                let $net = decode($ty, raw)?;
                $from
            }

            fn accepts(ty: &Type) -> bool {
                accepts(ty)
            }
        }
    };
}

ipnet_impls!(IpNet, |v| (v.addr(), v.prefix_len()), |_ty, net| Ok(net));

ipnet_impls!(
    Ipv4Net,
    |v| (IpAddr::V4(v.addr()), v.prefix_len()),
    |ty, net| match net {
        IpNet::V4(n) => Ok(n),
        other => Err(wrong_family(ty, &other, "IPv4")),
    }
);

ipnet_impls!(
    Ipv6Net,
    |v| (IpAddr::V6(v.addr()), v.prefix_len()),
    |ty, net| match net {
        IpNet::V6(n) => Ok(n),
        other => Err(wrong_family(ty, &other, "IPv6")),
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{dec, encode as enc, encodes_exactly, fails_with, hex};

    #[test]
    fn ipnet_vectors() {
        let net: IpNet = "192.168.0.1/24".parse().unwrap();
        // inet_send('192.168.0.1/24'::inet), cidr_send('10.0.0.0/8'::cidr)
        assert_eq!(enc(&net, &Type::INET).unwrap(), hex("02180004c0a80001"));
        assert_eq!(
            dec::<IpNet>(&Type::INET, &hex("02180004c0a80001")).unwrap(),
            net
        );
        let cidr: Ipv4Net = "10.0.0.0/8".parse().unwrap();
        assert_eq!(enc(&cidr, &Type::CIDR).unwrap(), hex("020801040a000000"));
        assert_eq!(
            dec::<Ipv4Net>(&Type::CIDR, &hex("020801040a000000")).unwrap(),
            cidr
        );
        let v6: Ipv6Net = "2001:db8::/32".parse().unwrap();
        let raw = hex("0320011020010db8000000000000000000000000");
        assert_eq!(enc(&v6, &Type::CIDR).unwrap(), raw);
        assert_eq!(dec::<Ipv6Net>(&Type::CIDR, &raw).unwrap(), v6);
        fails_with(
            enc(&net, &Type::CIDR),
            "bits set to the right of the prefix",
        );
        fails_with(
            dec::<Ipv6Net>(&Type::CIDR, &hex("020801040a000000")),
            "not an IPv6 network",
        );
        fails_with(dec::<Ipv4Net>(&Type::CIDR, &raw), "not an IPv4 network");
        encodes_exactly(&net, "ipnet::ipnet::IpNet", &[Type::INET, Type::CIDR]);
    }
}
