//! Types defined outside the built-in table, as read from the server's catalog: enums,
//! composites, domains, arrays of them, ranges and multiranges over any subtype, and extension
//! base types (`hstore`, `citext`). A connection looks each such OID up once (see
//! `client/type_cache.rs`) and from then on describes its columns and parameters with the
//! [`Type`] built here, so the codecs can see a composite's fields or a domain's base type.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Inner, Type};

/// What kind of type a [`Type`] is, after `pg_type.typtype` (and `typcategory` for arrays).
///
/// ```
/// use tusk::types::{Type, TypeKind};
///
/// assert_eq!(Type::INT4.kind(), TypeKind::Base);
/// assert_eq!(Type::INT4_ARRAY.kind(), TypeKind::Array);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeKind {
    /// A base (scalar) type: the built-in ones and extension types such as `hstore`.
    Base,
    /// An enum: [`Type::enum_labels`] lists its labels.
    Enum,
    /// A composite (row) type: [`Type::fields`] lists its fields.
    Composite,
    /// A domain: [`Type::domain_base`] is the type it constrains.
    Domain,
    /// An array: [`Type::array_element`] is its element type.
    Array,
    /// A range: [`Type::range_subtype`] is its element type.
    Range,
    /// A multirange: [`Type::multirange_range`] is its range type.
    Multirange,
    /// A pseudo-type (`record`, `void`, `anyelement`, ...).
    Pseudo,
}

/// A field of a composite type: its name and type, in the catalog's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    name: String,
    type_: Type,
}

impl Field {
    pub(crate) fn new(name: String, type_: Type) -> Field {
        Field { name, type_ }
    }

    /// The field's name (`pg_attribute.attname`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's type.
    pub fn type_(&self) -> &Type {
        &self.type_
    }
}

/// What the catalog says about a type outside the built-in table.
#[derive(Debug)]
pub(crate) struct CustomType {
    pub(crate) oid: u32,
    pub(crate) name: String,
    pub(crate) schema: String,
    pub(crate) details: Details,
    /// Whether values of it travel in binary, decided once when it is built (a composite is
    /// binary only when every field is, an array when its element is, ...).
    pub(crate) binary: bool,
    /// Tells this description from an earlier one of the same OID: a value found not to
    /// match it (a composite whose fields changed under DDL) marks this id stale, and the
    /// connection reads the type again before its next statement.
    id: u64,
}

/// The next `CustomType::id`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Whether any description was ever marked stale: the fast path of `Type::is_stale`, which
/// runs for each use of a cached statement with catalog types.
static ANY_STALE: AtomicBool = AtomicBool::new(false);

/// How many times a description was marked stale: a statement that found none of its types
/// stale at one value need not look again until it changes (see `Statement::has_stale_types`).
static STALE_MARKS: AtomicU64 = AtomicU64::new(0);

/// The current count of stale marks.
pub(crate) fn stale_marks() -> u64 {
    STALE_MARKS.load(Ordering::Acquire)
}

/// The ids of the descriptions marked stale. Kept outside `Type` so that a `Type` has no
/// interior mutability (it is a hash key in users' maps); it only grows with DDL that changed
/// a type under running connections, which is rare.
static STALE: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

fn stale_ids() -> std::sync::MutexGuard<'static, Option<HashSet<u64>>> {
    // A poisoned lock only means another thread panicked while inserting; the set is valid.
    STALE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The kind of a catalog type, with what each kind refers to.
#[derive(Debug)]
pub(crate) enum Details {
    Base,
    Pseudo,
    Enum(Vec<String>),
    Composite(Vec<Field>),
    Domain(Type),
    Array(Type),
    Range(Type),
    Multirange(Type),
}

impl CustomType {
    /// A catalog type; whether it is sent in binary follows from what it is made of.
    pub(crate) fn new(oid: u32, name: String, schema: String, details: Details) -> CustomType {
        let binary = match &details {
            // enum_send is the label's bytes: the binary and the text forms are the same.
            Details::Enum(_) => true,
            Details::Composite(fields) => fields.iter().all(|f| f.type_.binary_supported()),
            Details::Domain(inner)
            | Details::Array(inner)
            | Details::Range(inner)
            | Details::Multirange(inner) => inner.binary_supported(),
            Details::Base => super::hstore::is_hstore_name(&name),
            Details::Pseudo => false,
        };
        CustomType {
            oid,
            name,
            schema,
            details,
            binary,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Type {
    /// A type read from the catalog.
    pub(crate) fn custom(custom: CustomType) -> Type {
        Type {
            oid: custom.oid,
            inner: Inner::Custom(Arc::new(custom)),
        }
    }

    pub(crate) fn as_custom(&self) -> Option<&CustomType> {
        match &self.inner {
            Inner::Custom(custom) => Some(custom),
            _ => None,
        }
    }

    /// The schema the type lives in (`pg_catalog` for the built-in types); the empty string
    /// for an OID whose catalog entry was not read.
    pub fn schema(&self) -> &str {
        match &self.inner {
            Inner::Known(_) => "pg_catalog",
            Inner::Custom(custom) => &custom.schema,
            Inner::Unknown | Inner::Named(_) => "",
        }
    }

    /// What kind of type this is. A type whose catalog entry was not read counts as
    /// [`TypeKind::Base`].
    pub fn kind(&self) -> TypeKind {
        match &self.inner {
            Inner::Known(info) => match info.kind {
                _ if info.is_array => TypeKind::Array,
                b'r' => TypeKind::Range,
                b'm' => TypeKind::Multirange,
                b'p' => TypeKind::Pseudo,
                // The system catalogs' row types. (pg_catalog has no enums or domains.)
                b'c' => TypeKind::Composite,
                _ => TypeKind::Base,
            },
            Inner::Custom(custom) => match custom.details {
                Details::Base => TypeKind::Base,
                Details::Pseudo => TypeKind::Pseudo,
                Details::Enum(_) => TypeKind::Enum,
                Details::Composite(_) => TypeKind::Composite,
                Details::Domain(_) => TypeKind::Domain,
                Details::Array(_) => TypeKind::Array,
                Details::Range(_) => TypeKind::Range,
                Details::Multirange(_) => TypeKind::Multirange,
            },
            Inner::Unknown | Inner::Named(_) => TypeKind::Base,
        }
    }

    /// An enum's labels, in their sort order; `None` for other types.
    pub fn enum_labels(&self) -> Option<&[String]> {
        match self.as_custom().map(|c| &c.details) {
            Some(Details::Enum(labels)) => Some(labels),
            _ => None,
        }
    }

    /// A composite's fields, in the catalog's order; `None` for other types (and for the
    /// built-in composites of `pg_catalog`, whose fields tusk does not read).
    pub fn fields(&self) -> Option<&[Field]> {
        match self.as_custom().map(|c| &c.details) {
            Some(Details::Composite(fields)) => Some(fields),
            _ => None,
        }
    }

    /// The type a domain constrains (itself possibly a domain); `None` for other types.
    pub fn domain_base(&self) -> Option<&Type> {
        match self.as_custom().map(|c| &c.details) {
            Some(Details::Domain(base)) => Some(base),
            _ => None,
        }
    }

    /// The type under any number of domains: the type itself when it is not a domain.
    pub fn without_domains(&self) -> &Type {
        let mut ty = self;
        while let Some(base) = ty.domain_base() {
            ty = base;
        }
        ty
    }

    /// The element type of an array read from the catalog.
    pub(crate) fn custom_array_element(&self) -> Option<&Type> {
        match self.as_custom().map(|c| &c.details) {
            Some(Details::Array(element)) => Some(element),
            _ => None,
        }
    }

    /// The subtype of a range read from the catalog.
    pub(crate) fn custom_range_subtype(&self) -> Option<&Type> {
        match self.as_custom().map(|c| &c.details) {
            Some(Details::Range(subtype)) => Some(subtype),
            _ => None,
        }
    }

    /// The range type of a multirange read from the catalog.
    pub(crate) fn custom_multirange_range(&self) -> Option<&Type> {
        match self.as_custom().map(|c| &c.details) {
            Some(Details::Multirange(range)) => Some(range),
            _ => None,
        }
    }

    /// Marks a catalog type as no longer matching the server's values (see
    /// `CustomType::stale`); a no-op for the built-in types.
    pub(crate) fn mark_stale(&self) {
        if let Some(custom) = self.as_custom() {
            stale_ids()
                .get_or_insert_with(HashSet::new)
                .insert(custom.id);
            ANY_STALE.store(true, Ordering::Release);
            STALE_MARKS.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Whether this type, or one it is made of, was marked stale.
    pub(crate) fn is_stale(&self) -> bool {
        let Some(custom) = self.as_custom() else {
            return false;
        };
        if !ANY_STALE.load(Ordering::Acquire) {
            return false;
        }
        if stale_ids()
            .as_ref()
            .is_some_and(|ids| ids.contains(&custom.id))
        {
            return true;
        }
        match &custom.details {
            Details::Composite(fields) => fields.iter().any(|f| f.type_.is_stale()),
            Details::Domain(inner)
            | Details::Array(inner)
            | Details::Range(inner)
            | Details::Multirange(inner) => inner.is_stale(),
            Details::Base | Details::Pseudo | Details::Enum(_) => false,
        }
    }

    /// Whether `name` names this type: its bare name, or `schema.name`.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        match name.split_once('.') {
            Some((schema, bare)) => self.schema() == schema && self.name() == bare,
            None => self.name() == name,
        }
    }
}

/// The type a value of a Rust type that `accepts` is converted through for `ty`: `ty` itself
/// when accepted, else the first domain base under it that is. Domains are bound and read as
/// their base type, so a `String` fits a domain over `text`.
#[inline]
pub(crate) fn codec_type(ty: &Type, accepts: impl Fn(&Type) -> bool) -> Option<&Type> {
    if accepts(ty) {
        return Some(ty);
    }
    let mut ty = ty;
    while let Some(base) = ty.domain_base() {
        if accepts(base) {
            return Some(base);
        }
        ty = base;
    }
    None
}
