//! SASLprep (RFC 4013) of a SCRAM password, applied the way PostgreSQL applies it.
//!
//! PostgreSQL (`pg_saslprep` in `src/common/saslprep.c`, used both by the server when it stores
//! a SCRAM verifier and by libpq when it answers a challenge) does not treat a failed SASLprep
//! as an error: a password that is not valid UTF-8, or that holds characters SASLprep
//! prohibits, is used as its raw bytes. A client must make the same choice as the server did
//! when it hashed the password, or the proofs differ. So, as PostgreSQL does:
//!
//! 1. a pure-ASCII password is used unchanged (even with control characters, which SASLprep
//!    would prohibit: the fallback gives the same bytes);
//! 2. a password that is not valid UTF-8 is used as raw bytes;
//! 3. otherwise non-ASCII spaces map to U+0020 and the "commonly mapped to nothing" characters
//!    (soft hyphen, zero-width joiners, variation selectors, ...) are removed; an empty result
//!    falls back to the raw bytes;
//! 4. the mapped string is checked for prohibited output, code points unassigned in
//!    Unicode 3.2, and the bidirectional rules; any failure falls back to the raw bytes.
//!    PostgreSQL runs these checks on the mapped string *before* normalization (not after, as
//!    RFC 3454 orders them), and so do we;
//! 5. the result is NFKC-normalized.
//!
//! The tables come from the `stringprep` crate (RFC 3454's tables; bidirectional classes from
//! current Unicode); NFKC from `unicode-normalization`. The normalized form is not re-checked,
//! as in PostgreSQL, so a presentation-form ligature whose expansion starts with a space is
//! hashed in its normalized form by both sides.

use std::borrow::Cow;

use stringprep::tables;
use unicode_normalization::UnicodeNormalization;

/// Returns the bytes PostgreSQL hashes for `password` in SCRAM: its SASLprep form when the
/// password is valid UTF-8 and SASLprep succeeds, the raw bytes otherwise.
pub(crate) fn prepare_password(password: &[u8]) -> Cow<'_, [u8]> {
    if password.is_ascii() {
        return Cow::Borrowed(password);
    }
    let Ok(text) = std::str::from_utf8(password) else {
        return Cow::Borrowed(password);
    };
    match saslprep_like_postgres(text) {
        Some(prepared) => Cow::Owned(prepared.into_bytes()),
        None => Cow::Borrowed(password),
    }
}

/// SASLprep of a non-ASCII string in PostgreSQL's order of steps; `None` where PostgreSQL's
/// `pg_saslprep` reports the string as prohibited.
fn saslprep_like_postgres(text: &str) -> Option<String> {
    // Step 1, map. Non-ASCII spaces are tested first, as in PostgreSQL: U+200B is in both
    // tables and becomes a space.
    let mapped: String = text
        .chars()
        .filter_map(|c| {
            if tables::non_ascii_space_character(c) {
                Some(' ')
            } else if tables::commonly_mapped_to_nothing(c) {
                None
            } else {
                Some(c)
            }
        })
        .collect();
    if mapped.is_empty() {
        // PostgreSQL refuses to prepare a password that maps to nothing.
        return None;
    }

    // Step 3, prohibit (on the mapped, not yet normalized string, like PostgreSQL).
    if mapped
        .chars()
        .any(|c| is_prohibited_output(c) || tables::unassigned_code_point(c))
    {
        return None;
    }

    // Step 4, bidirectional rules: a string with any RandALCat character must hold no LCat
    // character and must begin and end with a RandALCat character.
    if mapped.chars().any(tables::bidi_r_or_al) {
        let first_last_ok = mapped.chars().next().is_some_and(tables::bidi_r_or_al)
            && mapped.chars().next_back().is_some_and(tables::bidi_r_or_al);
        if !first_last_ok || mapped.chars().any(tables::bidi_l) {
            return None;
        }
    }

    // Step 2, normalize (NFKC), last, as PostgreSQL does: what normalization produces is not
    // checked again.
    Some(mapped.nfkc().collect())
}

/// The characters SASLprep prohibits in its output (RFC 4013 section 2.3).
fn is_prohibited_output(c: char) -> bool {
    tables::non_ascii_space_character(c) // C.1.2
        || tables::ascii_control_character(c) // C.2.1
        || tables::non_ascii_control_character(c) // C.2.2
        || tables::private_use(c) // C.3
        || tables::non_character_code_point(c) // C.4
        || tables::surrogate_code(c) // C.5
        || tables::inappropriate_for_plain_text(c) // C.6
        || tables::inappropriate_for_canonical_representation(c) // C.7
        || tables::change_display_properties_or_deprecated(c) // C.8
        || tables::tagging_character(c) // C.9
}

#[cfg(test)]
mod tests {
    use super::prepare_password;

    fn prep(password: &[u8]) -> Vec<u8> {
        prepare_password(password).into_owned()
    }

    #[test]
    fn ascii_is_unchanged() {
        assert_eq!(prep(b"pencil"), b"pencil");
        assert_eq!(prep(b""), b"");
        // Control characters are prohibited by SASLprep, so PostgreSQL uses the raw bytes,
        // which are the same bytes.
        assert_eq!(prep(b"a\x07b\x7f"), b"a\x07b\x7f");
    }

    #[test]
    fn non_ascii_spaces_map_to_space() {
        assert_eq!(prep("a\u{00A0}b".as_bytes()), b"a b");
        assert_eq!(prep("a\u{3000}b\u{2003}c".as_bytes()), b"a b c");
        // U+200B is both a non-ASCII space and "mapped to nothing": PostgreSQL makes it a space.
        assert_eq!(prep("a\u{200B}b".as_bytes()), b"a b");
    }

    #[test]
    fn mapped_to_nothing_is_removed() {
        // RFC 4013 section 3, example 1: soft hyphen.
        assert_eq!(prep("I\u{00AD}X".as_bytes()), b"IX");
        assert_eq!(prep("a\u{FE0F}b\u{200D}c".as_bytes()), b"abc");
    }

    #[test]
    fn nfkc_is_applied() {
        // RFC 4013 examples 3 and 4: U+00AA -> "a", U+2168 -> "IX".
        assert_eq!(prep("\u{00AA}".as_bytes()), b"a");
        assert_eq!(prep("\u{2168}".as_bytes()), b"IX");
        // Already-normal non-ASCII text passes through unchanged.
        assert_eq!(prep("p\u{e4}ss".as_bytes()), "p\u{e4}ss".as_bytes());
        // A decomposed "a" + combining diaeresis composes.
        assert_eq!(prep("pa\u{0308}ss".as_bytes()), "p\u{e4}ss".as_bytes());
    }

    #[test]
    fn prohibited_characters_fall_back_to_raw_bytes() {
        // A non-ASCII control character (U+0085) next to a non-ASCII letter.
        let raw = "\u{e9}\u{0085}".as_bytes();
        assert_eq!(prep(raw), raw);
        // Private use area.
        let raw = "x\u{E000}\u{00A0}".as_bytes();
        assert_eq!(prep(raw), raw, "no partial mapping when prohibited");
        // Unassigned in Unicode 3.2 (an emoji), even though assigned today.
        let raw = "pw\u{1F600}".as_bytes();
        assert_eq!(prep(raw), raw);
        // Unassigned in 3.2 but NFKC-decomposable today (U+1F100 -> "0."): PostgreSQL checks
        // before normalizing, so it is prohibited and the raw bytes are used.
        let raw = "\u{1F100}".as_bytes();
        assert_eq!(prep(raw), raw);
    }

    #[test]
    fn bidi_rules() {
        // RFC 4013 example 7: RandALCat first and last is fine (Hebrew letters).
        assert_eq!(
            prep("\u{05D0}\u{05D1}".as_bytes()),
            "\u{05D0}\u{05D1}".as_bytes()
        );
        // Mixing RandALCat with LCat is prohibited: raw bytes.
        let raw = "\u{05D0}a\u{05D1}".as_bytes();
        assert_eq!(prep(raw), raw);
        // RandALCat not at both ends is prohibited: raw bytes.
        let raw = "\u{05D0}1".as_bytes();
        assert_eq!(prep(raw), raw);
    }

    /// One character of each class RFC 4013 section 2.3 prohibits (RFC 3454 tables C.2.1 to
    /// C.9; C.1.2 spaces are mapped before the check and C.5 surrogates are not `char`s),
    /// after a no-break space: prepared, the space would become U+0020, so getting the raw
    /// bytes back shows the character was refused.
    #[test]
    fn each_prohibited_class_falls_back_to_raw_bytes() {
        for (class, c) in [
            ("C.2.1 ASCII control", '\u{07}'),
            ("C.2.2 non-ASCII control", '\u{0085}'),
            ("C.3 private use", '\u{E000}'),
            ("C.4 non-character", '\u{FDD0}'),
            ("C.6 inappropriate for plain text", '\u{FFFD}'),
            ("C.7 inappropriate for canonical representation", '\u{2FF0}'),
            ("C.8 change display properties", '\u{0340}'),
            ("C.9 tagging", '\u{E0001}'),
        ] {
            let raw = format!("a\u{00A0}{c}");
            assert_eq!(prep(raw.as_bytes()), raw.as_bytes(), "{class}");
        }
        // The no-break space alone is mapped, so the fallback above is the prohibition's.
        assert_eq!(prep("a\u{00A0}b".as_bytes()), b"a b");
    }

    /// The bidirectional rules (RFC 3454 section 6) with a no-break space inside, which is
    /// mapped to U+0020 when the string is allowed.
    #[test]
    fn bidi_violations_fall_back_to_raw_bytes() {
        // RandALCat first but not last (ends with a European digit), no LCat.
        let raw = "\u{05D0}\u{00A0}1".as_bytes();
        assert_eq!(prep(raw), raw);
        // RandALCat at both ends with an LCat inside.
        let raw = "\u{05D0}a\u{00A0}\u{05D1}".as_bytes();
        assert_eq!(prep(raw), raw);
        // RandALCat at both ends, nothing LCat: allowed, and the space is mapped.
        assert_eq!(
            prep("\u{05D0}\u{00A0}\u{05D1}".as_bytes()),
            "\u{05D0} \u{05D1}".as_bytes()
        );
    }

    #[test]
    fn mapped_to_empty_falls_back_to_raw_bytes() {
        let raw = "\u{00AD}".as_bytes();
        assert_eq!(prep(raw), raw);
    }

    #[test]
    fn invalid_utf8_is_used_raw() {
        assert_eq!(prep(b"\xff\xfepass"), b"\xff\xfepass");
        // Latin-1 "é" is not UTF-8.
        assert_eq!(prep(b"caf\xe9"), b"caf\xe9");
    }
}
