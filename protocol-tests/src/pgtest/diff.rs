//! A line diff of an expected output against the actual one, for the report of a failed step.

/// The largest table the subsequence search fills (cells); longer outputs are compared line by
/// line instead, which costs no memory.
const MAX_TABLE: usize = 4_000_000;

/// The lines of `expected` and `actual` as a diff: common lines prefixed `  `, lines only
/// expected `- `, lines only received `+ ` (a longest common subsequence, so one wrong, missing
/// or extra message shows as exactly that).
///
/// ```
/// use protocol_tests::pgtest::diff::diff;
///
/// let d = diff("a\nb\nc\n", "a\nx\nc\nd\n");
/// assert_eq!(d, "  a\n- b\n+ x\n  c\n+ d\n");
/// ```
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    if a.len().saturating_mul(b.len()) > MAX_TABLE {
        return positional(&a, &b);
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str("  ");
            out.push_str(a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str("- ");
            out.push_str(a[i]);
            i += 1;
        } else {
            out.push_str("+ ");
            out.push_str(b[j]);
            j += 1;
        }
        out.push('\n');
    }
    out
}

/// Line `i` against line `i`: for outputs too long for [`diff`]'s table.
fn positional(a: &[&str], b: &[&str]) -> String {
    let mut out = String::new();
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!("  {x}\n")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("- {x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("+ {y}\n"));
                }
            }
        }
    }
    out
}
