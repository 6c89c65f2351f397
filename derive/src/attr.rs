//! Parsing of the `#[tusk(...)]` attributes on the container, its fields and its variants.
//!
//! Every derive parses every attribute it knows of, so that one item can derive `FromRow`,
//! `ToSql` and `FromSql` with one set of attributes; each derive then rejects the ones that
//! make no sense for what it generates.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Error, LitStr, Path, Result};

use crate::case::{RenameRule, RULE_NAMES};

/// Collects errors, so that every misuse in an item is reported at once.
#[derive(Default)]
pub struct Errors(Option<Error>);

impl Errors {
    pub fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn spanned(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(Error::new(span, message));
    }

    pub fn finish(self) -> Result<()> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// A flag attribute (`default`): where it was written.
pub type Flag = Option<Span>;

/// `#[tusk(...)]` on the struct or enum.
#[derive(Default)]
pub struct Container {
    /// `crate = "path"`: the path generated code reaches tusk by (default `::tusk`).
    pub krate: Option<Path>,
    /// `rename_all = "..."`.
    pub rename_all: Option<(RenameRule, Span)>,
    /// `name = "..."`: the PostgreSQL type name (enums, composites, domains).
    pub name: Option<LitStr>,
    /// `transparent`: a newtype that is its inner type on the wire.
    pub transparent: Flag,
}

/// `#[tusk(...)]` on a field.
#[derive(Default)]
pub struct Field {
    pub rename: Option<LitStr>,
    pub default: Flag,
    pub flatten: Flag,
    pub skip: Flag,
    pub try_from: Option<(syn::Type, Span)>,
    pub json: Flag,
}

impl Field {
    /// The FromRow-only attributes present, with their names, for the derives that have no use
    /// for them.
    pub fn row_only(&self) -> Vec<(&'static str, Span)> {
        let mut found = Vec::new();
        for (name, span) in [
            ("default", self.default),
            ("flatten", self.flatten),
            ("skip", self.skip),
            ("try_from", self.try_from.as_ref().map(|(_, span)| *span)),
            ("json", self.json),
        ] {
            if let Some(span) = span {
                found.push((name, span));
            }
        }
        found
    }
}

/// `#[tusk(...)]` on an enum variant.
#[derive(Default)]
pub struct Variant {
    pub rename: Option<LitStr>,
}

fn tusk_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("tusk"))
}

fn key(meta: &ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map(|ident| ident.to_string())
        .unwrap_or_else(|| {
            let segments: Vec<String> = meta
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            segments.join("::")
        })
}

fn set<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta, name: &str) -> Result<()> {
    if slot.is_some() {
        return Err(meta.error(format_args!("duplicate tusk attribute `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

fn flag(slot: &mut Flag, meta: &ParseNestedMeta, name: &str) -> Result<()> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!(
            "`{name}` takes no value: write `#[tusk({name})]`"
        )));
    }
    set(slot, meta.path.span(), meta, name)
}

fn string(meta: &ParseNestedMeta, name: &str) -> Result<LitStr> {
    if !meta.input.peek(syn::Token![=]) {
        return Err(meta.error(format_args!(
            "`{name}` needs a value: write `#[tusk({name} = \"...\")]`"
        )));
    }
    meta.value()?.parse::<LitStr>()
}

/// Parses the container's `#[tusk(...)]` attributes.
pub fn container(attrs: &[Attribute], errors: &mut Errors) -> Container {
    let mut out = Container::default();
    for attr in tusk_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            let name = key(&meta);
            match name.as_str() {
                "crate" => {
                    let lit = string(&meta, "crate")?;
                    let path = lit.parse::<Path>().map_err(|_| {
                        Error::new(
                            lit.span(),
                            "`crate` needs the path of the tusk crate, e.g. `crate = \"my::tusk\"`",
                        )
                    })?;
                    set(&mut out.krate, path, &meta, "crate")
                }
                "rename_all" => {
                    let lit = string(&meta, "rename_all")?;
                    let rule = RenameRule::parse(&lit.value()).ok_or_else(|| {
                        Error::new(
                            lit.span(),
                            format_args!(
                                "unknown rename_all value {:?}; expected one of {RULE_NAMES}",
                                lit.value()
                            ),
                        )
                    })?;
                    set(&mut out.rename_all, (rule, lit.span()), &meta, "rename_all")
                }
                "name" => {
                    let lit = string(&meta, "name")?;
                    if lit.value().is_empty() {
                        return Err(Error::new(lit.span(), "the type name cannot be empty"));
                    }
                    set(&mut out.name, lit, &meta, "name")
                }
                "transparent" => flag(&mut out.transparent, &meta, "transparent"),
                _ => Err(meta.error(format_args!(
                    "unknown tusk attribute `{name}` on a struct or enum; expected `crate`, \
                     `rename_all`, `name` or `transparent`"
                ))),
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    out
}

/// Parses a field's `#[tusk(...)]` attributes.
pub fn field(attrs: &[Attribute], errors: &mut Errors) -> Field {
    let mut out = Field::default();
    for attr in tusk_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            let name = key(&meta);
            match name.as_str() {
                "rename" => {
                    let lit = string(&meta, "rename")?;
                    set(&mut out.rename, lit, &meta, "rename")
                }
                "default" => flag(&mut out.default, &meta, "default"),
                "flatten" => flag(&mut out.flatten, &meta, "flatten"),
                "skip" => flag(&mut out.skip, &meta, "skip"),
                "json" => flag(&mut out.json, &meta, "json"),
                "try_from" => {
                    let lit = string(&meta, "try_from")?;
                    let ty = lit.parse::<syn::Type>().map_err(|error| {
                        Error::new(
                            lit.span(),
                            format_args!(
                                "`try_from` needs the type to read the column as, e.g. \
                                 `try_from = \"i64\"`: {error}"
                            ),
                        )
                    })?;
                    set(&mut out.try_from, (ty, meta.path.span()), &meta, "try_from")
                }
                _ => Err(meta.error(format_args!(
                    "unknown tusk attribute `{name}` on a field; expected `rename`, `default`, \
                     `flatten`, `skip`, `try_from` or `json`"
                ))),
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    out
}

/// Parses a variant's `#[tusk(...)]` attributes.
pub fn variant(attrs: &[Attribute], errors: &mut Errors) -> Variant {
    let mut out = Variant::default();
    for attr in tusk_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            let name = key(&meta);
            match name.as_str() {
                "rename" => {
                    let lit = string(&meta, "rename")?;
                    set(&mut out.rename, lit, &meta, "rename")
                }
                _ => Err(meta.error(format_args!(
                    "unknown tusk attribute `{name}` on a variant; expected `rename`"
                ))),
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    out
}

/// The name of a Rust identifier without its `r#` prefix.
pub fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// The path generated code reaches tusk by.
pub fn krate(container: &Container) -> proc_macro2::TokenStream {
    match &container.krate {
        Some(path) => quote::quote!(#path),
        None => quote::quote!(::tusk),
    }
}
