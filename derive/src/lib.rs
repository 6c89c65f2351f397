//! Derive macros for [tusk](https://docs.rs/tusk): `FromRow`, `ToSql` and `FromSql`.
//!
//! Use them through tusk (its default feature `derive`): `#[derive(tusk::FromRow)]`,
//! `#[derive(tusk::ToSql, tusk::FromSql)]`. The attributes, under `#[tusk(...)]`, are described
//! in tusk's `docs/derive.md`.
//!
//! The generated code reaches tusk as `::tusk`; `#[tusk(crate = "path")]` on the item changes
//! that path (for a crate that re-exports tusk under another name).

mod attr;
mod case;
mod from_row;
mod generics;
mod sql;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Reads a struct from a result row: named fields by column name, tuple struct fields by
/// position.
///
/// Field attributes: `rename = "column"`, `default`, `flatten`, `skip`, `try_from = "Type"`,
/// `json`. Container attributes: `rename_all = "..."`, `crate = "path"`.
#[proc_macro_derive(FromRow, attributes(tusk))]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    from_row::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Encodes a fieldless enum as a PostgreSQL enum, a struct with named fields as a composite
/// type, a newtype as a domain (`#[tusk(name = "...")]`) or as its inner type
/// (`#[tusk(transparent)]`).
#[proc_macro_derive(ToSql, attributes(tusk))]
pub fn derive_to_sql(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    sql::expand(&input, sql::Direction::To)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Decodes a fieldless enum from a PostgreSQL enum, a struct with named fields from a
/// composite type, a newtype from a domain (`#[tusk(name = "...")]`) or from its inner type
/// (`#[tusk(transparent)]`).
#[proc_macro_derive(FromSql, attributes(tusk))]
pub fn derive_from_sql(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    sql::expand(&input, sql::Direction::From)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
