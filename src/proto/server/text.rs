//! [`Text`]: a string field of a decoded frontend message, checked to be UTF-8 once and kept in
//! the read buffer.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

use crate::proto::backend::reader::Reader;
use crate::proto::ProtoError;

/// A string field of a frontend message (a statement or portal name, SQL text, a startup
/// parameter): a slice of the message body, checked to be UTF-8 when the message was decoded.
///
/// It derefs to `&str` and compares with `str`. Reading it re-runs the UTF-8 check (tusk has no
/// unsafe code to skip it), which costs a fraction of what copying the text would.
///
/// ```
/// use tusk::proto::server::Text;
///
/// let name = Text::from("portal_1");
/// assert_eq!(name, "portal_1");
/// assert!(name.starts_with("portal")); // any `str` method, through Deref
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(Bytes);

impl Text {
    /// A `Text` of a string known at compile time, without copying it.
    pub const fn from_static(s: &'static str) -> Text {
        Text(Bytes::from_static(s.as_bytes()))
    }

    /// Reads a NUL-terminated UTF-8 string from `r` as a slice of `body` (the body `r` reads).
    pub(super) fn read(r: &mut Reader<'_>, body: &Bytes, what: &str) -> Result<Text, ProtoError> {
        let start = r.position();
        let len = r.cstr(what)?.len();
        Ok(Text(body.slice(start..start + len)))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // Checked to be UTF-8 when built (`read` and the `From` impls), so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The string's bytes (without a terminating NUL).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The string's bytes, sharing the message's buffer.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Bytes::from(s.into_bytes()))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
