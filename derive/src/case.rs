//! `rename_all`: the case conventions, spelled and applied as serde does.

/// A `rename_all` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

/// The accepted spellings, for the error message of an unknown one.
pub const RULE_NAMES: &str = "\"lowercase\", \"UPPERCASE\", \"PascalCase\", \"camelCase\", \
    \"snake_case\", \"SCREAMING_SNAKE_CASE\", \"kebab-case\", \"SCREAMING-KEBAB-CASE\"";

impl RenameRule {
    pub fn parse(s: &str) -> Option<RenameRule> {
        Some(match s {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            _ => return None,
        })
    }

    /// A variant or type name, written in PascalCase in Rust, in this convention.
    pub fn apply_to_variant(self, variant: &str) -> String {
        match self {
            RenameRule::Pascal => variant.to_owned(),
            RenameRule::Lower => variant.to_ascii_lowercase(),
            RenameRule::Upper => variant.to_ascii_uppercase(),
            RenameRule::Camel => {
                let mut chars = variant.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Snake => {
                let mut out = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        out.push('_');
                    }
                    out.push(ch.to_ascii_lowercase());
                }
                out
            }
            RenameRule::ScreamingSnake => RenameRule::Snake
                .apply_to_variant(variant)
                .to_ascii_uppercase(),
            RenameRule::Kebab => RenameRule::Snake
                .apply_to_variant(variant)
                .replace('_', "-"),
            RenameRule::ScreamingKebab => RenameRule::ScreamingSnake
                .apply_to_variant(variant)
                .replace('_', "-"),
        }
    }

    /// A field name, written in snake_case in Rust, in this convention.
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut out = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        out.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        out.push(ch);
                    }
                }
                out
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule::{self, *};

    #[test]
    fn variants() {
        let cases: &[(&str, RenameRule, &str)] = &[
            ("VeryTasty", Lower, "verytasty"),
            ("VeryTasty", Upper, "VERYTASTY"),
            ("VeryTasty", Pascal, "VeryTasty"),
            ("VeryTasty", Camel, "veryTasty"),
            ("VeryTasty", Snake, "very_tasty"),
            ("VeryTasty", ScreamingSnake, "VERY_TASTY"),
            ("VeryTasty", Kebab, "very-tasty"),
            ("VeryTasty", ScreamingKebab, "VERY-TASTY"),
            ("A", Snake, "a"),
        ];
        for (input, rule, output) in cases {
            assert_eq!(rule.apply_to_variant(input), *output, "{input} {rule:?}");
        }
    }

    #[test]
    fn fields() {
        let cases: &[(&str, RenameRule, &str)] = &[
            ("very_tasty", Lower, "very_tasty"),
            ("very_tasty", Upper, "VERY_TASTY"),
            ("very_tasty", Pascal, "VeryTasty"),
            ("very_tasty", Camel, "veryTasty"),
            ("very_tasty", Snake, "very_tasty"),
            ("very_tasty", ScreamingSnake, "VERY_TASTY"),
            ("very_tasty", Kebab, "very-tasty"),
            ("very_tasty", ScreamingKebab, "VERY-TASTY"),
            ("a", Pascal, "A"),
        ];
        for (input, rule, output) in cases {
            assert_eq!(rule.apply_to_field(input), *output, "{input} {rule:?}");
        }
    }

    #[test]
    fn spellings() {
        for name in super::RULE_NAMES.split(", ") {
            assert!(
                RenameRule::parse(name.trim_matches('"')).is_some(),
                "{name}"
            );
        }
        assert!(RenameRule::parse("snake").is_none());
    }
}
