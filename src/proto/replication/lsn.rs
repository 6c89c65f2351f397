//! [`Lsn`]: a position in the write-ahead log, printed and parsed the way PostgreSQL does
//! (`16/B374D848`: the high and low 32 bits in upper-case hexadecimal).

use std::fmt;
use std::str::FromStr;

/// A WAL location (PostgreSQL's `pg_lsn`): a byte position in the write-ahead log.
///
/// Ordered and printed as the server prints it; [`Lsn::INVALID`] (`0/0`) is what the server
/// sends for "no position".
///
/// ```
/// use tusk::proto::replication::Lsn;
///
/// let lsn: Lsn = "16/B374D848".parse()?;
/// assert_eq!(u64::from(lsn), 0x16_B374_D848);
/// assert_eq!(lsn.to_string(), "16/B374D848");
/// assert!(lsn > Lsn::from(0x16_0000_0000));
/// # Ok::<(), tusk::proto::replication::ParseLsnError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

impl Lsn {
    /// `0/0`: no position (PostgreSQL's `InvalidXLogRecPtr`).
    pub const INVALID: Lsn = Lsn(0);

    /// Whether this is [`Lsn::INVALID`].
    pub fn is_invalid(self) -> bool {
        self.0 == 0
    }

    /// The position `bytes` further on, or `None` past the end of the address space.
    pub fn checked_add(self, bytes: u64) -> Option<Lsn> {
        self.0.checked_add(bytes).map(Lsn)
    }
}

impl From<u64> for Lsn {
    fn from(value: u64) -> Lsn {
        Lsn(value)
    }
}

impl From<Lsn> for u64 {
    fn from(lsn: Lsn) -> u64 {
        lsn.0
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 as u32)
    }
}

/// A string that is not a WAL location (`X/Y`, each part 1 to 8 hexadecimal digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLsnError(String);

impl fmt::Display for ParseLsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid WAL location {:?}: expected two hexadecimal numbers of up to 8 digits \
             separated by '/', e.g. \"16/B374D848\"",
            self.0
        )
    }
}

impl std::error::Error for ParseLsnError {}

impl FromStr for Lsn {
    type Err = ParseLsnError;

    fn from_str(s: &str) -> Result<Lsn, ParseLsnError> {
        let error = || ParseLsnError(s.to_owned());
        let (high, low) = s.split_once('/').ok_or_else(error)?;
        // What the server's pg_lsn_in accepts: 1 to 8 hex digits on each side, nothing else
        // (from_str_radix alone would also take a sign).
        let part = |p: &str| {
            if p.is_empty() || p.len() > 8 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(error());
            }
            u32::from_str_radix(p, 16).map_err(|_| error())
        };
        Ok(Lsn((u64::from(part(high)?) << 32) | u64::from(part(low)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_the_server() {
        assert_eq!(Lsn(0).to_string(), "0/0");
        assert_eq!(Lsn(0x1_0000_0000).to_string(), "1/0");
        assert_eq!(Lsn(0x0000_0000_0163_D7E8).to_string(), "0/163D7E8");
        assert_eq!(Lsn(u64::MAX).to_string(), "FFFFFFFF/FFFFFFFF");
    }

    #[test]
    fn parses_what_the_server_accepts() {
        assert_eq!("0/0".parse(), Ok(Lsn(0)));
        assert_eq!("16/b374d848".parse(), Ok(Lsn(0x16_B374_D848)));
        assert_eq!("FFFFFFFF/FFFFFFFF".parse(), Ok(Lsn(u64::MAX)));
        for bad in [
            "",
            "/",
            "0/",
            "/0",
            "0",
            "0/0/0",
            "+1/0",
            "1/-0",
            "123456789/0",
            "g/0",
            " 0/0",
        ] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?} was accepted");
        }
        assert!("x/1"
            .parse::<Lsn>()
            .unwrap_err()
            .to_string()
            .contains("\"x/1\""));
    }

    #[test]
    fn round_trips_and_orders() {
        for v in [
            0,
            1,
            0xFFFF_FFFF,
            0x1_0000_0000,
            0xDEAD_BEEF_0BAD_F00D,
            u64::MAX,
        ] {
            assert_eq!(Lsn(v).to_string().parse(), Ok(Lsn(v)));
        }
        assert!(Lsn(0x1_0000_0000) > Lsn(0xFFFF_FFFF));
        assert_eq!(Lsn(u64::MAX).checked_add(1), None);
        assert_eq!(Lsn(1).checked_add(2), Some(Lsn(3)));
        assert!(Lsn::INVALID.is_invalid() && !Lsn(1).is_invalid());
    }
}
