//! psycopg's client-side cursor: execute a statement, then fetch its rows one, several or all
//! at a time from a buffer, with `rowcount` and `rownumber` as psycopg defines them.

use std::collections::VecDeque;

use crate::client::connection::Connection;
use crate::client::query::{Params, ToStatement};
use crate::client::row::Row;
use crate::client::statement::{Column, SharedColumns};
use crate::error::Error;
use crate::trace;
use crate::types::ToSql;

/// A buffered cursor: [`execute`](Cursor::execute) runs a statement and keeps its whole
/// result; the `fetch_*` methods hand the rows out.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tusk::Error> {
/// # let url = std::env::var("TUSK_PG_URL").expect("run under scripts/with-test-server");
/// # let mut conn = tusk::Connection::connect(&url).await?;
/// # let conn = &mut conn;
/// let mut cur = conn.cursor();
/// cur.execute("SELECT name FROM pg_timezone_names", &[]).await?;
/// println!("{} rows", cur.rowcount());
/// let first = cur.fetch_one().await?;          // Option<Row>
/// let next_two = cur.fetch_many(2).await?;     // Vec<Row>
/// assert_eq!(cur.rownumber(), Some(3));
/// let rest = cur.fetch_all().await?;           // Vec<Row>
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Cursor<'c> {
    conn: &'c mut Connection,
    result: Option<CursorResult>,
    rowcount: i64,
}

#[derive(Debug)]
struct CursorResult {
    columns: SharedColumns,
    rows: VecDeque<Row>,
    position: usize,
}

impl Connection {
    /// A buffered cursor on this connection.
    pub fn cursor(&mut self) -> Cursor<'_> {
        Cursor {
            conn: self,
            result: None,
            rowcount: -1,
        }
    }
}

impl<'c> Cursor<'c> {
    /// Runs a statement, replacing any previous result.
    pub async fn execute<Q>(&mut self, query: &Q, params: Params<'_>) -> Result<(), Error>
    where
        Q: ToStatement + ?Sized,
    {
        self.result = None;
        self.rowcount = -1;
        let outcome = trace::traced!(
            trace::statement_ref(&self.conn.trace, query.query_ref()),
            self.conn.run(query.query_ref(), params).await
        )?;
        self.rowcount = match outcome.rows_affected {
            Some(n) => i64::try_from(n).unwrap_or(i64::MAX),
            None if outcome.columns.is_some() => outcome.rows.len() as i64,
            None => -1,
        };
        self.result = outcome.columns.map(|columns| CursorResult {
            columns,
            rows: outcome.rows.into(),
            position: 0,
        });
        Ok(())
    }

    /// [`execute`](Cursor::execute) with `:name` placeholders.
    pub async fn execute_named(
        &mut self,
        sql: &str,
        params: &[(&str, &(dyn ToSql + Sync))],
    ) -> Result<(), Error> {
        let named = crate::client::named::rewrite(sql)?;
        let ordered = crate::client::named::order_args(&named.names, params)?;
        self.execute(named.sql.as_str(), &ordered).await
    }

    /// Rows returned by the last SELECT (or affected by the last INSERT, UPDATE, DELETE,
    /// MERGE, ...); -1 before any execute or for a statement that reports no count.
    pub fn rowcount(&self) -> i64 {
        self.rowcount
    }

    /// The index of the next row to fetch; `None` when the last statement returned no result
    /// set (or nothing was executed).
    pub fn rownumber(&self) -> Option<usize> {
        self.result.as_ref().map(|r| r.position)
    }

    /// The columns of the current result set (empty without one).
    pub fn columns(&self) -> &[Column] {
        self.result.as_ref().map_or(&[], |r| &r.columns[..])
    }

    fn result_mut(&mut self) -> Result<&mut CursorResult, Error> {
        self.result.as_mut().ok_or_else(|| {
            Error::usage("the last operation did not produce a result set to fetch from")
        })
    }

    /// The next row, or `None` at the end of the result.
    pub async fn fetch_one(&mut self) -> Result<Option<Row>, Error> {
        let result = self.result_mut()?;
        let row = result.rows.pop_front();
        if row.is_some() {
            result.position += 1;
        }
        Ok(row)
    }

    /// Up to `n` next rows (fewer at the end of the result, none past it).
    pub async fn fetch_many(&mut self, n: usize) -> Result<Vec<Row>, Error> {
        let result = self.result_mut()?;
        let take = n.min(result.rows.len());
        result.position += take;
        Ok(result.rows.drain(..take).collect())
    }

    /// Every remaining row.
    pub async fn fetch_all(&mut self) -> Result<Vec<Row>, Error> {
        let result = self.result_mut()?;
        result.position += result.rows.len();
        Ok(result.rows.drain(..).collect())
    }

    /// The connection under this cursor.
    pub fn connection(&mut self) -> &mut Connection {
        self.conn
    }
}
