//! Text-format arrays: the arrays of element types without a binary codec.

use std::borrow::Cow;

use super::*;
use crate::types::{Array, Dimension};

fn strings(ty: &Type, text: &str) -> Result<Vec<Option<String>>, BoxError> {
    dec(ty, text.as_bytes())
}

#[test]
fn parses_text_arrays() {
    let t = Type::TSVECTOR_ARRAY;
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(strings(&t, "{}").unwrap(), []);
    assert_eq!(
        strings(&t, r#"{a,"b c",NULL,"NULL",null,"",  x y  ,"q\"\\"}"#).unwrap(),
        [
            s("a"),
            s("b c"),
            None,
            s("NULL"),
            None,
            s(""),
            s("x y"),
            s("q\"\\")
        ]
    );
    // Backslashes escape in unquoted elements too; an escaped space is kept.
    assert_eq!(strings(&t, r"{a\,b,c\ }").unwrap(), [s("a,b"), s("c ")]);
    let plain: Vec<String> = dec(&t, b"{'a' 'b','c'}").unwrap();
    assert_eq!(plain, ["'a' 'b'", "'c'"]);
    // Borrowed where nothing was unescaped, owned otherwise.
    let cows: Vec<Cow<str>> = dec(&t, br#"{a,"b\"c"}"#).unwrap();
    assert!(matches!(cows[0], Cow::Borrowed("a")));
    assert_eq!(cows[1], "b\"c");
    let strs: Vec<&str> = dec(&t, b"{a,\"b c\"}").unwrap();
    assert_eq!(strs, ["a", "b c"]);
    fails_with(dec::<Vec<&str>>(&t, br#"{"b\"c"}"#), "read it as String");
    // The whole text still reads as one string.
    assert_eq!(dec::<String>(&t, b"{a}").unwrap(), "{a}");
}

#[test]
fn text_arrays_with_dimensions() {
    let t = Type::XML_ARRAY;
    let a: Array<Option<String>> = dec(&t, b"{{a,NULL},{c,d}}").unwrap();
    assert_eq!(
        a.dimensions(),
        [
            Dimension {
                len: 2,
                lower_bound: 1
            },
            Dimension {
                len: 2,
                lower_bound: 1
            }
        ]
    );
    assert_eq!(a.get(&[2, 1]), Some(&Some("c".to_owned())));
    let a: Array<String> = dec(&t, b"[0:1][-1:-1]={{a},{b}}").unwrap();
    assert_eq!(
        a.dimensions()[0],
        Dimension {
            len: 2,
            lower_bound: 0
        }
    );
    assert_eq!(
        a.dimensions()[1],
        Dimension {
            len: 1,
            lower_bound: -1
        }
    );
    fails_with(dec::<Vec<String>>(&t, b"{{a},{b}}"), "has 2 dimensions");
    fails_with(
        dec::<Vec<String>>(&t, b"{{a},{b,c}}"),
        "sub-arrays of different lengths",
    );
    fails_with(
        dec::<Vec<String>>(&t, b"{a,{b}}"),
        "elements at different depths",
    );
    fails_with(dec::<Vec<String>>(&t, b"{a"), "unterminated");
    fails_with(dec::<Vec<String>>(&t, b"{\"a}"), "unterminated");
    fails_with(dec::<Vec<String>>(&t, b"{a\\"), "unterminated escape");
    fails_with(dec::<Vec<String>>(&t, b"{a}x"), "unexpected bytes after");
    fails_with(dec::<Vec<String>>(&t, b"a"), "expected '{'");
    fails_with(
        dec::<Vec<String>>(&t, b"[1:3]={a}"),
        "declared array bounds do not match",
    );
    fails_with(
        dec::<Vec<String>>(&t, b"[3:1]={a}"),
        "invalid array bounds [3:1]",
    );
    fails_with(
        dec::<Vec<String>>(&t, b"{{{{{{{a}}}}}}}"),
        "more than 6 dimensions",
    );
    fails_with(dec::<Vec<String>>(&t, b"{a\"b}"), "unexpected '\"'");
    fails_with(dec::<Vec<i32>>(&t, b"{1}"), "cannot convert");
}

#[test]
fn writes_text_arrays() {
    let t = Type::TSVECTOR_ARRAY;
    let v = vec![Some("a b"), None, Some(r#"q"\"#), Some("NULL")];
    assert_eq!("x".encode_format(&t), crate::types::Format::Text);
    assert_eq!(v.encode_format(&t), crate::types::Format::Text);
    assert_eq!(
        String::from_utf8(encode(&v, &t).unwrap()).unwrap(),
        r#"{"a b",NULL,"q\"\\","NULL"}"#
    );
    assert_eq!(encode(&Vec::<String>::new(), &t).unwrap(), b"{}");
    let dims = vec![
        Dimension {
            len: 2,
            lower_bound: 0,
        },
        Dimension {
            len: 2,
            lower_bound: 1,
        },
    ];
    let a = Array::new(dims, vec!["a", "b", "c", "d"]).unwrap();
    assert_eq!(
        encode(&a, &t).unwrap(),
        br#"[0:1][1:2]={{"a","b"},{"c","d"}}"#
    );
    // What is written parses back.
    let back: Array<String> = dec(&t, &encode(&a, &t).unwrap()).unwrap();
    assert_eq!(back.dimensions(), a.dimensions());
    assert_eq!(back.elements(), ["a", "b", "c", "d"]);
    let three = Array::new(vec![dim(2), dim(1), dim(2)], vec!["1", "2", "3", "4"]).unwrap();
    assert_eq!(encode(&three, &t).unwrap(), br#"{{{"1","2"}},{{"3","4"}}}"#);
}

fn dim(len: i32) -> Dimension {
    Dimension {
        len,
        lower_bound: 1,
    }
}
