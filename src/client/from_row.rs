//! Rows as Rust values: the [`FromRow`] trait (derived with `#[derive(tusk::FromRow)]`,
//! implemented for tuples by position), the typed query methods (`query_as`, `query_one_as`,
//! `query_opt_as`) of connections, transactions and pools, and a [`RowStream`] mapped to a
//! row type.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::client::query::{Params, ToStatement};
use crate::types::FromSqlOwned;
use crate::{Connection, Error, Pool, Row, RowStream, Transaction};

/// A Rust value built from a whole row.
///
/// Derive it (`#[derive(tusk::FromRow)]`, fields read by column name; see `docs/derive.md`),
/// implement it by hand, or use a tuple, read by position:
///
/// ```no_run
/// # async fn demo(conn: &mut tusk::Connection) -> Result<(), tusk::Error> {
/// use tusk::{FromRow, Row};
///
/// #[derive(FromRow)]
/// struct User {
///     id: i64,
///     #[tusk(rename = "user_name")]
///     name: String,
/// }
///
/// // The same by hand:
/// struct Account {
///     id: i64,
///     name: String,
/// }
///
/// impl FromRow for Account {
///     fn from_row(row: &Row) -> Result<Account, tusk::Error> {
///         Ok(Account { id: row.try_get("id")?, name: row.try_get("user_name")? })
///     }
/// }
///
/// let users: Vec<User> = conn.query_as("SELECT 1::int8 AS id, 'ann' AS user_name", &[]).await?;
/// let (id, name): (i64, String) = conn.query_one_as("SELECT 1::int8, 'ann'", &[]).await?;
/// # let _ = (users, id, name);
/// # Ok(())
/// # }
/// ```
pub trait FromRow: Sized {
    /// Builds the value from `row`; an error names the column and the types that did not fit.
    fn from_row(row: &Row) -> Result<Self, Error>;
}

/// A row is itself.
impl FromRow for Row {
    fn from_row(row: &Row) -> Result<Row, Error> {
        Ok(row.clone())
    }
}

macro_rules! tuple_from_row {
    ($n:literal: $($t:ident $i:tt),+) => {
        /// By position: the row must have exactly as many columns as the tuple.
        impl<$($t: FromSqlOwned),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row) -> Result<Self, Error> {
                if row.len() != $n {
                    return Err(Error::usage(format!(
                        "a row of {} columns cannot be read into a tuple of {}",
                        row.len(),
                        $n
                    )));
                }
                Ok(($(row.try_get::<_, $t>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(1: A 0);
tuple_from_row!(2: A 0, B 1);
tuple_from_row!(3: A 0, B 1, C 2);
tuple_from_row!(4: A 0, B 1, C 2, D 3);
tuple_from_row!(5: A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(6: A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(7: A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(9: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(10: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(11: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(12: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

fn all_from<T: FromRow>(rows: Vec<Row>) -> Result<Vec<T>, Error> {
    rows.iter().map(T::from_row).collect()
}

/// The typed query methods, the same on a connection and a transaction.
macro_rules! typed_queries {
    ($target:ty) => {
        impl $target {
            /// [`query`](Self::query), each row read into `T` ([`FromRow`]).
            pub async fn query_as<T, Q>(
                &mut self,
                query: &Q,
                params: Params<'_>,
            ) -> Result<Vec<T>, Error>
            where
                T: FromRow,
                Q: ToStatement + ?Sized,
            {
                all_from(self.query(query, params).await?)
            }

            /// [`query_one`](Self::query_one), the row read into `T` ([`FromRow`]).
            pub async fn query_one_as<T, Q>(
                &mut self,
                query: &Q,
                params: Params<'_>,
            ) -> Result<T, Error>
            where
                T: FromRow,
                Q: ToStatement + ?Sized,
            {
                T::from_row(&self.query_one(query, params).await?)
            }

            /// [`query_opt`](Self::query_opt), the row read into `T` ([`FromRow`]).
            pub async fn query_opt_as<T, Q>(
                &mut self,
                query: &Q,
                params: Params<'_>,
            ) -> Result<Option<T>, Error>
            where
                T: FromRow,
                Q: ToStatement + ?Sized,
            {
                self.query_opt(query, params)
                    .await?
                    .as_ref()
                    .map(T::from_row)
                    .transpose()
            }
        }
    };
}

typed_queries!(Connection);
typed_queries!(Transaction<'_>);

impl Pool {
    /// [`Pool::query`], each row read into `T` ([`FromRow`]).
    pub async fn query_as<T: FromRow>(
        &self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<T>, Error> {
        all_from(self.query(sql, params).await?)
    }

    /// [`Pool::query_one`], the row read into `T` ([`FromRow`]).
    pub async fn query_one_as<T: FromRow>(
        &self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<T, Error> {
        T::from_row(&self.query_one(sql, params).await?)
    }

    /// [`Pool::query_opt`], the row read into `T` ([`FromRow`]).
    pub async fn query_opt_as<T: FromRow>(
        &self,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<T>, Error> {
        self.query_opt(sql, params)
            .await?
            .as_ref()
            .map(T::from_row)
            .transpose()
    }
}

impl<'c> RowStream<'c> {
    /// The same stream with each row read into `T` ([`FromRow`]).
    ///
    /// ```no_run
    /// # async fn demo(conn: &mut tusk::Connection) -> Result<(), tusk::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let stream = conn.query_stream("SELECT g, g * 2 FROM generate_series(1, 3) g", &[]).await?;
    /// let pairs: Vec<(i32, i32)> = stream.typed::<(i32, i32)>().try_collect().await?;
    /// # let _ = pairs;
    /// # Ok(())
    /// # }
    /// ```
    pub fn typed<T: FromRow>(self) -> TypedRowStream<'c, T> {
        TypedRowStream {
            rows: self,
            _row: PhantomData,
        }
    }
}

/// A [`RowStream`] whose rows are read into `T`; see [`RowStream::typed`].
pub struct TypedRowStream<'c, T> {
    rows: RowStream<'c>,
    // `fn() -> T`: the stream makes values of `T`, it holds none (so it is Send and Unpin
    // whatever `T` is).
    _row: PhantomData<fn() -> T>,
}

impl<'c, T> TypedRowStream<'c, T> {
    /// The untyped stream underneath (its columns, rows affected, ...).
    pub fn rows(&self) -> &RowStream<'c> {
        &self.rows
    }
}

impl<T: FromRow> Stream for TypedRowStream<'_, T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match Pin::new(&mut this.rows).poll_next(cx) {
            Poll::Ready(Some(Ok(row))) => Poll::Ready(Some(T::from_row(&row))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> std::fmt::Debug for TypedRowStream<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedRowStream")
            .field("rows", &self.rows)
            .field("row_type", &std::any::type_name::<T>())
            .finish()
    }
}
