//! The scripted server's tiny SQL: splitting a Query into statements, counting `$n`
//! parameters, planning a statement ([`Plan`]: a SELECT expression or a [`Command`]),
//! evaluating a SELECT, and the SQL errors it raises ([`SqlError`]).

/// An error being raised: SQLSTATE and message.
#[derive(Debug)]
pub(super) struct SqlError {
    pub(super) code: String,
    pub(super) message: String,
}

pub(super) fn sql_error(code: &str, message: impl Into<String>) -> SqlError {
    SqlError {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// What a statement does.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    Select(Expr),
    /// Not a SELECT: its command tag and its effect on the transaction.
    Command(Command),
}

#[derive(Debug, Clone)]
pub(super) enum Expr {
    Literal(i32),
    Param(usize),
    Series(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    Insert,
    Begin,
    Commit,
    Rollback,
    /// `SAVEPOINT <name>`.
    Savepoint(String),
    /// `RELEASE [SAVEPOINT] <name>`.
    Release(String),
    /// `ROLLBACK TO [SAVEPOINT] <name>`.
    RollbackTo(String),
    Set,
    CopyIn,
    CopyOut,
}

pub(super) fn aborted() -> SqlError {
    sql_error(
        "25P02",
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

/// The SQL text without surrounding white space and trailing semicolons.
pub(super) fn normalise(sql: &str) -> &str {
    sql.trim().trim_end_matches(';').trim_end()
}

/// The statements of a simple Query (no quoting: this database has no strings).
pub(super) fn split_statements(sql: &str) -> Vec<&str> {
    sql.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The highest `$n` in `sql`.
pub(super) fn count_params(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let digits: String = sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse::<usize>() {
                max = max.max(n);
            }
            i += 1 + digits.len();
        } else {
            i += 1;
        }
    }
    max
}

pub(super) fn first_word(sql: &str) -> String {
    normalise(sql)
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

pub(super) fn ends_transaction(sql: &str) -> bool {
    matches!(
        first_word(sql).as_str(),
        "ROLLBACK" | "ABORT" | "COMMIT" | "END"
    )
}

/// The name a savepoint command ends with.
pub(super) fn last_word(sql: &str) -> Result<String, SqlError> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    match words.as_slice() {
        [_, .., name] if !name.eq_ignore_ascii_case("savepoint") => Ok((*name).to_owned()),
        _ => Err(syntax_error("")),
    }
}

pub(super) fn outside_block(what: &str) -> SqlError {
    sql_error(
        "25P01",
        format!("{what} can only be used in transaction blocks"),
    )
}

pub(super) fn syntax_error(near: &str) -> SqlError {
    sql_error("42601", format!("syntax error at or near \"{near}\""))
}

pub(super) fn plan(sql: &str) -> Result<Plan, SqlError> {
    let sql = normalise(sql);
    let word = first_word(sql);
    let command = match word.as_str() {
        "SELECT" => {
            let mut expr = sql[word.len()..].trim();
            // An alias is allowed; the column is always called "x".
            if let Some(at) = expr.to_ascii_uppercase().rfind(" AS ") {
                expr = expr[..at].trim();
            }
            return parse_expr(expr).map(Plan::Select);
        }
        "INSERT" => Command::Insert,
        "BEGIN" | "START" => Command::Begin,
        "COMMIT" | "END" => Command::Commit,
        "ROLLBACK" | "ABORT" => {
            let words: Vec<String> = sql
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect();
            match words.get(1).map(String::as_str) {
                None | Some("WORK" | "TRANSACTION") => Command::Rollback,
                Some("TO") => Command::RollbackTo(last_word(sql)?),
                Some(other) => return Err(syntax_error(other)),
            }
        }
        "SAVEPOINT" => Command::Savepoint(last_word(sql)?),
        "RELEASE" => Command::Release(last_word(sql)?),
        "SET" => Command::Set,
        "COPY" => {
            let upper = sql.to_ascii_uppercase();
            if upper.ends_with(" FROM STDIN") {
                Command::CopyIn
            } else if upper.ends_with(" TO STDOUT") {
                Command::CopyOut
            } else {
                return Err(syntax_error(sql.rsplit(' ').next().unwrap_or_default()));
            }
        }
        "" => return Err(syntax_error("")),
        _ => {
            return Err(syntax_error(
                sql.split_whitespace().next().unwrap_or_default(),
            ))
        }
    };
    Ok(Plan::Command(command))
}

pub(super) fn parse_expr(expr: &str) -> Result<Expr, SqlError> {
    let expr = expr.trim();
    let expr = expr
        .strip_suffix("::int4")
        .or_else(|| expr.strip_suffix("::integer"))
        .unwrap_or(expr)
        .trim();
    if let Some(inner) = expr
        .strip_prefix("generate_series(")
        .and_then(|e| e.strip_suffix(')'))
    {
        return match inner.split_once(',') {
            Some((start, end)) if start.trim() == "1" => {
                Ok(Expr::Series(Box::new(parse_expr(end)?)))
            }
            _ => Err(syntax_error(expr)),
        };
    }
    if let Some(n) = expr.strip_prefix('$') {
        return match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Expr::Param(n)),
            _ => Err(syntax_error(expr)),
        };
    }
    expr.parse()
        .map(Expr::Literal)
        .map_err(|_| syntax_error(expr.split_whitespace().next().unwrap_or(expr)))
}

pub(super) fn eval(expr: &Expr, params: &[Option<i32>]) -> Result<Vec<Option<i32>>, SqlError> {
    let scalar = |e: &Expr| -> Result<Option<i32>, SqlError> {
        match e {
            Expr::Literal(v) => Ok(Some(*v)),
            Expr::Param(n) => params
                .get(n - 1)
                .copied()
                .ok_or_else(|| sql_error("42P02", format!("there is no parameter ${n}"))),
            Expr::Series(_) => Err(sql_error(
                "0A000",
                "set-returning functions are not allowed here",
            )),
        }
    };
    match expr {
        Expr::Series(end) => Ok(match scalar(end)? {
            Some(end) => (1..=end).map(Some).collect(),
            None => Vec::new(),
        }),
        e => Ok(vec![scalar(e)?]),
    }
}
