//! The MD5 password exchange (`AuthenticationMD5Password`).
//!
//! The server stores `"md5" + hex(md5(password + user))` and sends a random 4-byte salt; the
//! client answers with `"md5" + hex(md5(hex(md5(password + user)) + salt))` in a
//! PasswordMessage. The method is deprecated in PostgreSQL (SCRAM-SHA-256 is the default since
//! PostgreSQL 14) but still met on older installations.

use ::md5::{Digest, Md5};

/// Computes the answer to an MD5 password challenge:
/// `"md5" + hex(md5(hex(md5(password + user)) + salt))`.
///
/// `user` is the role name sent in the startup message and `salt` the four bytes of the
/// server's `AuthenticationMD5Password` message. The result is always 35 ASCII characters
/// (`"md5"` and 32 lowercase hex digits), ready for a PasswordMessage.
///
/// ```
/// use tusk::proto::auth::md5_password;
///
/// let answer = md5_password(b"postgres", b"secret", [0x01, 0x02, 0x03, 0x04]);
/// assert_eq!(answer, "md5bb41a296aab6baccb36ff243a562abff");
/// ```
pub fn md5_password(user: &[u8], password: &[u8], salt: [u8; 4]) -> String {
    let mut inner = Md5::new();
    inner.update(password);
    inner.update(user);
    let inner_hex = hex_lower(&inner.finalize());

    let mut outer = Md5::new();
    outer.update(inner_hex.as_bytes());
    outer.update(salt);
    let outer_hex = hex_lower(&outer.finalize());

    let mut answer = String::with_capacity(3 + outer_hex.len());
    answer.push_str("md5");
    answer.push_str(&outer_hex);
    answer
}

/// Lowercase hexadecimal, two digits a byte, the form PostgreSQL compares against.
fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python's hashlib:
    //   inner = hashlib.md5(password + user).hexdigest().encode()
    //   'md5' + hashlib.md5(inner + salt).hexdigest()
    #[test]
    fn matches_independent_computation() {
        assert_eq!(
            md5_password(b"postgres", b"secret", [0x01, 0x02, 0x03, 0x04]),
            "md5bb41a296aab6baccb36ff243a562abff"
        );
        // Non-ASCII password bytes are hashed as they are (no SASLprep for MD5).
        assert_eq!(
            md5_password(b"alice", "pa\u{e9}ss".as_bytes(), [0xde, 0xad, 0xbe, 0xef]),
            "md5bcd8985842ce62e19c5d6c1d5f2a9171"
        );
        assert_eq!(
            md5_password(b"", b"", [0, 0, 0, 0]),
            "md591b86670dcd47857d222fa05653500aa"
        );
    }

    /// Recorded against PostgreSQL 15: role `md5user` with password `secret`, stored as
    /// `md52aea419619857e8a27f0f7aa641db0c6`; the server sent salt ce 98 68 ea and answered
    /// AuthenticationOk to this response (which Python's hashlib computes too).
    #[test]
    fn matches_a_recorded_postgres_exchange() {
        assert_eq!(
            md5_password(b"md5user", b"secret", [0xce, 0x98, 0x68, 0xea]),
            "md5056308745ddec61f2690350df61bf9b1"
        );
    }

    #[test]
    fn answer_has_the_wire_shape() {
        let answer = md5_password(b"u", b"p", [9, 8, 7, 6]);
        assert_eq!(answer.len(), 35);
        assert!(answer.starts_with("md5"));
        assert!(answer[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }

    #[test]
    fn salt_changes_the_answer() {
        assert_ne!(
            md5_password(b"u", b"p", [0, 0, 0, 0]),
            md5_password(b"u", b"p", [0, 0, 0, 1])
        );
    }
}
