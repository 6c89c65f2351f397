//! `#[derive(ToSql)]` and `#[derive(FromSql)]`: PostgreSQL enums, composite types, domains and
//! transparent newtypes.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    parse_quote, Data, DeriveInput, Fields, GenericParam, Generics, Ident, Lifetime, LifetimeParam,
    Member, Result, WherePredicate,
};

use crate::attr::{self, Errors};
use crate::case::RenameRule;
use crate::generics::{with_predicates, Params};

/// Which of the two derives is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    To,
    From,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::To => "ToSql",
            Direction::From => "FromSql",
        }
    }
}

/// What the item maps to.
enum Shape<'a> {
    /// A PostgreSQL enum: the variants and their labels.
    Enum {
        name: String,
        variants: Vec<(&'a Ident, String)>,
    },
    /// A composite type: the fields and their attribute names.
    Composite {
        name: String,
        fields: Vec<(&'a Ident, String, &'a syn::Type)>,
    },
    /// A newtype that is its inner type on the wire.
    Transparent { member: Member, ty: &'a syn::Type },
    /// A newtype for the domain `name` over a type its inner type accepts.
    Domain {
        name: String,
        member: Member,
        ty: &'a syn::Type,
    },
}

pub fn expand(input: &DeriveInput, direction: Direction) -> Result<TokenStream> {
    let mut errors = Errors::default();
    let container = attr::container(&input.attrs, &mut errors);
    let shape = analyse(input, &container, direction, &mut errors);
    errors.finish()?;
    let shape = shape.expect("no errors, so a shape");
    let krate = attr::krate(&container);
    Ok(match direction {
        Direction::To => to_sql(input, &krate, &shape),
        Direction::From => from_sql(input, &krate, &shape),
    })
}

/// The default type name: the Rust name in snake_case (`InventoryItem` -> `inventory_item`).
fn type_name(input: &DeriveInput, container: &attr::Container) -> String {
    match &container.name {
        Some(lit) => lit.value(),
        None => RenameRule::Snake.apply_to_variant(&attr::unraw(&input.ident)),
    }
}

fn analyse<'a>(
    input: &'a DeriveInput,
    container: &attr::Container,
    direction: Direction,
    errors: &mut Errors,
) -> Option<Shape<'a>> {
    let derive = direction.name();
    match &input.data {
        Data::Union(data) => {
            errors.spanned(
                data.union_token.span,
                format_args!("{derive} cannot be derived for a union"),
            );
            None
        }
        Data::Enum(data) => {
            if let Some(span) = container.transparent {
                errors.spanned(
                    span,
                    "`transparent` applies to a struct with one field, not to an enum",
                );
            }
            let mut variants = Vec::new();
            let mut seen: HashMap<String, &Ident> = HashMap::new();
            for variant in &data.variants {
                let attrs = attr::variant(&variant.attrs, errors);
                if !matches!(variant.fields, Fields::Unit) {
                    errors.spanned(
                        variant.fields.span(),
                        format_args!(
                            "{derive} on an enum needs variants without fields: the enum maps \
                             to a PostgreSQL enum, one label per variant"
                        ),
                    );
                }
                let label = match (&attrs.rename, container.rename_all) {
                    (Some(lit), _) => lit.value(),
                    (None, Some((rule, _))) => rule.apply_to_variant(&attr::unraw(&variant.ident)),
                    (None, None) => attr::unraw(&variant.ident),
                };
                if let Some(first) = seen.insert(label.clone(), &variant.ident) {
                    errors.spanned(
                        variant.ident.span(),
                        format_args!("the label {label:?} is already the label of `{first}`"),
                    );
                }
                variants.push((&variant.ident, label));
            }
            Some(Shape::Enum {
                name: type_name(input, container),
                variants,
            })
        }
        Data::Struct(data) => {
            let fields: Vec<&syn::Field> = data.fields.iter().collect();
            if let Some(span) = container.transparent {
                if let Some(lit) = &container.name {
                    errors.spanned(
                        lit.span(),
                        "`name` cannot be combined with `transparent`: a transparent newtype \
                         accepts exactly what its inner type accepts (domains over it included)",
                    );
                }
                if let Some((_, span)) = container.rename_all {
                    errors.spanned(span, "`rename_all` has no effect on a transparent newtype");
                }
                if fields.len() != 1 {
                    errors.spanned(
                        if fields.is_empty() {
                            span
                        } else {
                            data.fields.span()
                        },
                        format_args!(
                            "`transparent` needs a struct with exactly one field, found {}",
                            fields.len()
                        ),
                    );
                    return None;
                }
                no_field_attrs(fields[0], "a transparent newtype's field", errors);
                return Some(Shape::Transparent {
                    member: member(fields[0], 0),
                    ty: &fields[0].ty,
                });
            }
            match &data.fields {
                Fields::Named(_) => {
                    let mut out = Vec::new();
                    let mut seen: HashMap<String, &Ident> = HashMap::new();
                    for field in fields {
                        let attrs = attr::field(&field.attrs, errors);
                        for (name, span) in attrs.row_only() {
                            errors.spanned(
                                span,
                                format_args!(
                                    "`{name}` applies to #[derive(FromRow)] only: {derive} \
                                     {} every field of a composite type",
                                    match direction {
                                        Direction::To => "writes",
                                        Direction::From => "reads",
                                    }
                                ),
                            );
                        }
                        let ident = field.ident.as_ref().expect("named field");
                        let name = match (&attrs.rename, container.rename_all) {
                            (Some(lit), _) => lit.value(),
                            (None, Some((rule, _))) => rule.apply_to_field(&attr::unraw(ident)),
                            (None, None) => attr::unraw(ident),
                        };
                        if let Some(first) = seen.insert(name.clone(), ident) {
                            errors.spanned(
                                ident.span(),
                                format_args!(
                                    "the attribute name {name:?} is already the name of `{first}`"
                                ),
                            );
                        }
                        out.push((ident, name, &field.ty));
                    }
                    Some(Shape::Composite {
                        name: type_name(input, container),
                        fields: out,
                    })
                }
                Fields::Unnamed(_) => {
                    if fields.len() != 1 {
                        errors.spanned(
                            data.fields.span(),
                            format_args!(
                                "{derive} on a tuple struct needs exactly one field (a domain \
                                 newtype, or `#[tusk(transparent)]`), found {}; use named \
                                 fields for a composite type",
                                fields.len()
                            ),
                        );
                        return None;
                    }
                    if let Some((_, span)) = container.rename_all {
                        errors.spanned(span, "`rename_all` has no effect on a domain newtype");
                    }
                    no_field_attrs(fields[0], "a domain newtype's field", errors);
                    Some(Shape::Domain {
                        name: type_name(input, container),
                        member: member(fields[0], 0),
                        ty: &fields[0].ty,
                    })
                }
                Fields::Unit => {
                    errors.spanned(
                        input.ident.span(),
                        format_args!(
                            "{derive} cannot be derived for a unit struct: derive it for an \
                             enum (a PostgreSQL enum), a struct with named fields (a composite \
                             type) or a newtype (a domain, or `#[tusk(transparent)]`)"
                        ),
                    );
                    None
                }
            }
        }
    }
}

fn member(field: &syn::Field, index: u32) -> Member {
    match &field.ident {
        Some(ident) => Member::Named(ident.clone()),
        None => Member::Unnamed(syn::Index {
            index,
            span: field.ty.span(),
        }),
    }
}

fn no_field_attrs(field: &syn::Field, what: &str, errors: &mut Errors) {
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("tusk")) {
        errors.spanned(
            attr.meta.span(),
            format_args!("tusk attributes are not supported on {what}"),
        );
    }
}

fn to_sql(input: &DeriveInput, krate: &TokenStream, shape: &Shape) -> TokenStream {
    let derive = quote!(#krate::types::__derive);
    let params = Params::of(&input.generics);
    let mut predicates: Vec<WherePredicate> = Vec::new();
    let mut bound = |ty: &syn::Type| {
        if params.mentioned_in(ty) {
            predicates.push(parse_quote!(#ty: #krate::types::ToSql));
        }
    };
    let (to_sql, accepts, extra) = match shape {
        Shape::Enum { name, variants } => {
            let arms = variants
                .iter()
                .map(|(ident, label)| quote!(Self::#ident => #label,));
            let labels = variants.iter().map(|(_, label)| label);
            let body = if variants.is_empty() {
                // No value to write: an empty enum has none.
                quote!(match *self {})
            } else {
                quote! {
                    let label: &str = match *self { #(#arms)* };
                    #derive::write_label(label, out)
                }
            };
            (
                body,
                quote!(#derive::enum_accepts(ty, #name, &[#(#labels),*])),
                quote!(),
            )
        }
        Shape::Composite { name, fields } => {
            let writes = fields.iter().map(|(ident, name, ty)| {
                bound(ty);
                quote_spanned!(ty.span()=> writer.write(#name, &self.#ident)?;)
            });
            let writes: Vec<_> = writes.collect();
            let checks = fields.iter().map(|(_, name, ty)| {
                quote_spanned!(ty.span()=>
                    (#name, <#ty as #krate::types::ToSql>::accepts
                        as fn(&#krate::types::Type) -> bool)
                )
            });
            (
                quote! {
                    let mut writer = #derive::CompositeWriter::new(ty, out)?;
                    #(#writes)*
                    writer.finish()
                },
                quote!(#derive::composite_accepts(ty, #name, &[#(#checks),*])),
                quote!(),
            )
        }
        Shape::Transparent { member, ty } => {
            bound(ty);
            (
                quote_spanned!(ty.span()=> <#ty as #krate::types::ToSql>::to_sql(&self.#member, ty, out)),
                quote_spanned!(ty.span()=> <#ty as #krate::types::ToSql>::accepts(ty)),
                quote_spanned! {ty.span()=>
                    fn encode_format(&self, ty: &#krate::types::Type) -> #krate::types::Format {
                        <#ty as #krate::types::ToSql>::encode_format(&self.#member, ty)
                    }
                },
            )
        }
        Shape::Domain { name, member, ty } => {
            bound(ty);
            (
                quote_spanned!(ty.span()=>
                    <#ty as #krate::types::ToSql>::to_sql(&self.#member, #derive::domain_base(ty), out)
                ),
                quote_spanned!(ty.span()=>
                    #derive::domain_accepts(ty, #name, <#ty as #krate::types::ToSql>::accepts)
                ),
                quote_spanned! {ty.span()=>
                    fn encode_format(&self, ty: &#krate::types::Type) -> #krate::types::Format {
                        <#ty as #krate::types::ToSql>::encode_format(
                            &self.#member,
                            #derive::domain_base(ty),
                        )
                    }
                },
            )
        }
    };
    let name = &input.ident;
    let generics = with_predicates(&input.generics, predicates);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::types::ToSql for #name #ty_generics #where_clause {
            fn to_sql(
                &self,
                ty: &#krate::types::Type,
                out: &mut #derive::BytesMut,
            ) -> ::std::result::Result<#krate::types::IsNull, #krate::BoxError> {
                #to_sql
            }

            fn accepts(ty: &#krate::types::Type) -> bool {
                #accepts
            }

            #krate::to_sql_checked!();

            #extra
        }
    }
}

fn from_sql(input: &DeriveInput, krate: &TokenStream, shape: &Shape) -> TokenStream {
    let derive = quote!(#krate::types::__derive);
    let params = Params::of(&input.generics);
    let lt = Lifetime::new("'__tusk", Span::call_site());
    let mut predicates: Vec<WherePredicate> = Vec::new();
    let mut bound = |ty: &syn::Type| {
        if params.mentioned_in(ty) {
            predicates.push(parse_quote!(#ty: #krate::types::FromSql<#lt>));
        }
    };
    let result = quote!(::std::result::Result);
    let (methods, accepts) = match shape {
        Shape::Enum { name, variants } => {
            let arms = variants
                .iter()
                .map(|(ident, label)| quote!(#label => #result::Ok(Self::#ident),));
            let labels = variants.iter().map(|(_, label)| label);
            (
                quote! {
                    fn from_sql(
                        ty: &#krate::types::Type,
                        raw: &#lt [u8],
                    ) -> #result<Self, #krate::BoxError> {
                        match #derive::enum_label(ty, raw)? {
                            #(#arms)*
                            other => #result::Err(#derive::unknown_label(
                                ty,
                                other,
                                ::std::any::type_name::<Self>(),
                            )),
                        }
                    }
                },
                quote!(#derive::enum_accepts(ty, #name, &[#(#labels),*])),
            )
        }
        Shape::Composite { name, fields } => {
            let reads: Vec<_> = fields
                .iter()
                .map(|(ident, name, ty)| {
                    bound(ty);
                    quote_spanned!(ty.span()=> #ident: reader.read::<#ty>(#name)?)
                })
                .collect();
            let checks = fields.iter().map(|(_, name, ty)| {
                quote_spanned!(ty.span()=>
                    (#name, <#ty as #krate::types::FromSql<#lt>>::accepts
                        as fn(&#krate::types::Type) -> bool)
                )
            });
            (
                quote! {
                    fn from_sql(
                        ty: &#krate::types::Type,
                        raw: &#lt [u8],
                    ) -> #result<Self, #krate::BoxError> {
                        let mut reader = #derive::CompositeReader::new(ty, raw)?;
                        let value = Self { #(#reads,)* };
                        reader.finish()?;
                        #result::Ok(value)
                    }
                },
                quote!(#derive::composite_accepts(ty, #name, &[#(#checks),*])),
            )
        }
        Shape::Transparent { member, ty } => {
            bound(ty);
            let inner = quote_spanned!(ty.span()=> <#ty as #krate::types::FromSql<#lt>>);
            (
                quote! {
                    fn from_sql(
                        ty: &#krate::types::Type,
                        raw: &#lt [u8],
                    ) -> #result<Self, #krate::BoxError> {
                        #inner::from_sql(ty, raw).map(|inner| Self { #member: inner })
                    }

                    fn from_sql_null(
                        ty: &#krate::types::Type,
                    ) -> #result<Self, #krate::BoxError> {
                        #inner::from_sql_null(ty).map(|inner| Self { #member: inner })
                    }

                    fn from_sql_nullable(
                        ty: &#krate::types::Type,
                        raw: ::std::option::Option<&#lt [u8]>,
                    ) -> #result<Self, #krate::BoxError> {
                        #inner::from_sql_nullable(ty, raw).map(|inner| Self { #member: inner })
                    }
                },
                quote!(#inner::accepts(ty)),
            )
        }
        Shape::Domain { name, member, ty } => {
            bound(ty);
            let inner = quote_spanned!(ty.span()=> <#ty as #krate::types::FromSql<#lt>>);
            (
                quote! {
                    fn from_sql(
                        ty: &#krate::types::Type,
                        raw: &#lt [u8],
                    ) -> #result<Self, #krate::BoxError> {
                        #inner::from_sql(#derive::domain_base(ty), raw)
                            .map(|inner| Self { #member: inner })
                    }

                    fn from_sql_null(
                        ty: &#krate::types::Type,
                    ) -> #result<Self, #krate::BoxError> {
                        #inner::from_sql_null(#derive::domain_base(ty))
                            .map(|inner| Self { #member: inner })
                    }
                },
                quote!(#derive::domain_accepts(ty, #name, #inner::accepts)),
            )
        }
    };
    let name = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let generics = with_lifetime(&input.generics, &lt);
    let generics = with_predicates(&generics, predicates);
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::types::FromSql<#lt> for #name #ty_generics #where_clause {
            #methods

            fn accepts(ty: &#krate::types::Type) -> bool {
                #accepts
            }
        }
    }
}

/// `generics` with the lifetime `lt` of the decoded bytes first, outliving the item's own
/// lifetimes (a value borrowing from the bytes lives no longer than they do).
fn with_lifetime(generics: &Generics, lt: &Lifetime) -> Generics {
    let mut generics = generics.clone();
    let mut param = LifetimeParam::new(lt.clone());
    for existing in generics.lifetimes() {
        param.bounds.push(existing.lifetime.clone());
    }
    generics.params.insert(0, GenericParam::Lifetime(param));
    generics
}
