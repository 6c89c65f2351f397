//! `#[derive(FromRow)]`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_quote, Data, DeriveInput, Fields, Result, WherePredicate};

use crate::attr::{self, Errors};
use crate::generics::{with_predicates, Params};

pub fn expand(input: &DeriveInput) -> Result<TokenStream> {
    let mut errors = Errors::default();
    let container = attr::container(&input.attrs, &mut errors);
    let krate = attr::krate(&container);
    let params = Params::of(&input.generics);
    let row = quote!(__tusk_row);
    let derive = quote!(#krate::types::__derive);

    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => {
            errors.spanned(
                data.enum_token.span,
                "FromRow cannot be derived for an enum: derive it for a struct with named \
                 fields (columns read by name) or a tuple struct (columns read by position)",
            );
            return Err(errors.finish().unwrap_err());
        }
        Data::Union(data) => {
            errors.spanned(
                data.union_token.span,
                "FromRow cannot be derived for a union: derive it for a struct",
            );
            return Err(errors.finish().unwrap_err());
        }
    };

    let mut predicates: Vec<WherePredicate> = Vec::new();
    let body = match fields {
        Fields::Named(named) => {
            let mut inits = Vec::new();
            for field in &named.named {
                let attrs = attr::field(&field.attrs, &mut errors);
                check_field(&attrs, &mut errors);
                let ident = field.ident.as_ref().expect("named field");
                let ty = &field.ty;
                let span = ty.span();
                let generic = params.mentioned_in(ty);
                let column = match (&attrs.rename, container.rename_all) {
                    (Some(lit), _) => lit.value(),
                    (None, Some((rule, _))) => rule.apply_to_field(&attr::unraw(ident)),
                    (None, None) => attr::unraw(ident),
                };
                let value = if attrs.skip.is_some() {
                    if generic {
                        predicates.push(parse_quote!(#ty: ::std::default::Default));
                    }
                    quote_spanned!(span=> <#ty as ::std::default::Default>::default())
                } else if attrs.flatten.is_some() {
                    if generic {
                        predicates.push(parse_quote!(#ty: #krate::FromRow));
                    }
                    quote_spanned!(span=> <#ty as #krate::FromRow>::from_row(#row)?)
                } else if let Some((source, _)) = &attrs.try_from {
                    if generic {
                        predicates.push(parse_quote!(#ty: ::std::convert::TryFrom<#source>));
                        predicates.push(parse_quote!(
                            <#ty as ::std::convert::TryFrom<#source>>::Error: ::std::fmt::Display
                        ));
                    }
                    if params.mentioned_in(source) {
                        predicates
                            .push(parse_quote!(#source: for<'__r> #krate::types::FromSql<'__r>));
                    }
                    quote_spanned!(span=> #derive::get_try_from::<#source, #ty>(#row, #column)?)
                } else if attrs.json.is_some() {
                    // No predicate for a generic type: its `DeserializeOwned` bound is the
                    // user's to write on the struct (tusk does not re-export serde).
                    quote_spanned!(span=> #derive::get_json::<#ty>(#row, #column)?)
                } else if attrs.default.is_some() {
                    if generic {
                        predicates.push(parse_quote!(
                            #ty: for<'__r> #krate::types::FromSql<'__r> + ::std::default::Default
                        ));
                    }
                    quote_spanned!(span=> #derive::get_or_default::<#ty>(#row, #column)?)
                } else {
                    if generic {
                        predicates.push(parse_quote!(#ty: for<'__r> #krate::types::FromSql<'__r>));
                    }
                    quote_spanned!(span=> #derive::get::<#ty>(#row, #column)?)
                };
                inits.push(quote!(#ident: #value));
            }
            quote!(Self { #(#inits,)* })
        }
        Fields::Unnamed(unnamed) => {
            if let Some((_, span)) = container.rename_all {
                errors.spanned(
                    span,
                    "`rename_all` has no effect on a tuple struct: its columns are read by \
                     position",
                );
            }
            let mut values = Vec::new();
            for (index, field) in unnamed.unnamed.iter().enumerate() {
                for attr in field.attrs.iter().filter(|a| a.path().is_ident("tusk")) {
                    errors.spanned(
                        attr.meta.span(),
                        "tusk field attributes are not supported on a tuple struct's fields \
                         (its columns are read by position); use named fields",
                    );
                }
                let ty = &field.ty;
                if params.mentioned_in(ty) {
                    predicates.push(parse_quote!(#ty: for<'__r> #krate::types::FromSql<'__r>));
                }
                values.push(quote_spanned!(ty.span()=> #derive::get_at::<#ty>(#row, #index)?));
            }
            quote!(Self(#(#values,)*))
        }
        Fields::Unit => quote!(Self),
    };
    errors.finish()?;

    let name = &input.ident;
    let generics = with_predicates(&input.generics, predicates);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::FromRow for #name #ty_generics #where_clause {
            fn from_row(
                #row: &#krate::Row,
            ) -> ::std::result::Result<Self, #krate::Error> {
                ::std::result::Result::Ok(#body)
            }
        }
    })
}

/// Rejects the combinations of field attributes that contradict each other.
fn check_field(attrs: &attr::Field, errors: &mut Errors) {
    let rename = attrs.rename.as_ref().map(|lit| lit.span());
    let try_from = attrs.try_from.as_ref().map(|(_, span)| *span);
    let others: [(&str, Option<Span>); 6] = [
        ("rename", rename),
        ("default", attrs.default),
        ("flatten", attrs.flatten),
        ("skip", attrs.skip),
        ("try_from", try_from),
        ("json", attrs.json),
    ];
    // Each exclusive attribute, with why the others cannot go with it.
    let exclusive = [
        ("skip", attrs.skip, "a skipped field is not read"),
        (
            "flatten",
            attrs.flatten,
            "a flattened field is read by its own FromRow from the same row",
        ),
    ];
    for (name, span, why) in exclusive {
        if span.is_none() {
            continue;
        }
        for (other, other_span) in others {
            if other == name || (name == "flatten" && other == "skip") {
                continue;
            }
            if let Some(other_span) = other_span {
                errors.spanned(
                    other_span,
                    format_args!("`{name}` cannot be combined with `{other}`: {why}"),
                );
            }
        }
    }
    if attrs.skip.is_some() || attrs.flatten.is_some() {
        if let (Some(_), Some(flatten)) = (attrs.skip, attrs.flatten) {
            errors.spanned(flatten, "`skip` cannot be combined with `flatten`");
        }
        return;
    }
    // How a read column is decoded: one way at most.
    let decoders = [
        ("default", attrs.default),
        ("try_from", try_from),
        ("json", attrs.json),
    ];
    let present: Vec<_> = decoders
        .iter()
        .filter_map(|(name, span)| span.map(|span| (*name, span)))
        .collect();
    for pair in present.windows(2) {
        errors.spanned(
            pair[1].1,
            format_args!(
                "`{}` cannot be combined with `{}` on one field",
                pair[0].0, pair[1].0
            ),
        );
    }
}
