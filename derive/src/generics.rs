//! Where-clause predicates for the fields whose types involve the item's generic parameters.
//!
//! A field of a concrete type gets no predicate: its conversion is checked in the generated body,
//! where a missing trait implementation is reported at the field. A field whose type mentions a
//! type or lifetime parameter gets one, so that the impl holds for exactly the parameters that
//! make it work.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::{GenericParam, Generics, WherePredicate};

/// The names of the item's type and lifetime parameters.
pub struct Params(HashSet<String>);

impl Params {
    pub fn of(generics: &Generics) -> Params {
        let mut names = HashSet::new();
        for param in &generics.params {
            match param {
                GenericParam::Type(ty) => {
                    names.insert(ty.ident.to_string());
                }
                GenericParam::Lifetime(lt) => {
                    names.insert(format!("'{}", lt.lifetime.ident));
                }
                GenericParam::Const(_) => {}
            }
        }
        Params(names)
    }

    /// Whether `ty` mentions one of the parameters.
    pub fn mentioned_in(&self, ty: &syn::Type) -> bool {
        !self.0.is_empty() && self.in_tokens(quote::quote!(#ty))
    }

    fn in_tokens(&self, tokens: TokenStream) -> bool {
        let mut after_quote = false;
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => {
                    let name = if after_quote {
                        format!("'{ident}")
                    } else {
                        ident.to_string()
                    };
                    if self.0.contains(&name) {
                        return true;
                    }
                    after_quote = false;
                }
                TokenTree::Punct(punct) => after_quote = punct.as_char() == '\'',
                TokenTree::Group(group) => {
                    after_quote = false;
                    if self.in_tokens(group.stream()) {
                        return true;
                    }
                }
                TokenTree::Literal(_) => after_quote = false,
            }
        }
        false
    }
}

/// `generics` with `predicates` added to its where clause.
pub fn with_predicates(generics: &Generics, predicates: Vec<WherePredicate>) -> Generics {
    let mut generics = generics.clone();
    if !predicates.is_empty() {
        generics.make_where_clause().predicates.extend(predicates);
    }
    generics
}
