//! Types resolved by name: the catalog lookup of OIDs outside the built-in table (enums,
//! composites, domains, arrays of them, ranges, multiranges, extension types), done once per
//! connection and kept in a cache that a pool's connections to the same server share.
//!
//! A statement's description gives OIDs; before the statement is used, every OID that is
//! neither built in nor cached is read from `pg_type` (with `pg_enum`, `pg_attribute` and
//! `pg_range`) in one simple query, repeated for the OIDs those rows refer to (a composite's
//! field of another user type, an array's element, a domain's base). A catalog type found not
//! to match the server's values (a composite altered by DDL, see `types/__derive.rs`) is
//! marked stale: statements using it are prepared again and it is read afresh.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::client::simple::SimpleQueryMessage;
use crate::client::statement::Column;
use crate::types::custom::{CustomType, Details};
use crate::types::{Field, Type};
use crate::{Connection, Error};

/// How many rounds of references a lookup follows (a composite of an array of a domain of a
/// range... is four); beyond that, the remaining OIDs stay unresolved (read as text).
const MAX_ROUNDS: usize = 8;

/// The types read from the catalog, by OID.
#[derive(Debug, Default)]
pub(crate) struct TypeCache {
    types: Mutex<HashMap<u32, Type>>,
}

impl TypeCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Type>> {
        // A poisoned lock only means another thread panicked while inserting; the map itself
        // is still valid.
        self.types.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The type with this OID: built in, read from the catalog, or unknown (text format).
    pub(crate) fn type_of(&self, oid: u32) -> Type {
        let ty = Type::from_oid(oid);
        if ty.is_known() {
            return ty;
        }
        self.lock().get(&oid).cloned().unwrap_or(ty)
    }

    /// Whether `ty` should be read from the catalog: not built in, and not cached or stale.
    fn needs_lookup(&self, ty: &Type) -> bool {
        if ty.is_known() {
            return false;
        }
        match self.lock().get(&ty.oid()) {
            Some(cached) => cached.is_stale(),
            None => true,
        }
    }

    /// Forgets every type, so the next statements read them again. Each is marked stale too,
    /// so that cached statements and pool descriptions holding it are prepared again (on
    /// every connection sharing the cache) rather than kept with the old description.
    pub(crate) fn clear(&self) {
        let mut types = self.lock();
        for ty in types.values() {
            ty.mark_stale();
        }
        types.clear();
    }
}

/// The caches of a pool, one per server and database: OIDs of user types differ between
/// clusters, so connections share a cache only when they reach the same database.
#[derive(Debug, Default)]
pub(crate) struct SharedTypeCaches {
    by_server: Mutex<HashMap<String, Arc<TypeCache>>>,
}

impl SharedTypeCaches {
    /// Gives `conn` the cache its server and database share.
    pub(crate) fn attach(&self, conn: &mut Connection) {
        let key = conn.server_key();
        let mut by_server = self.by_server.lock().unwrap_or_else(|e| e.into_inner());
        conn.types = by_server.entry(key).or_default().clone();
    }

    /// Forgets every cached type of every server.
    pub(crate) fn clear(&self) {
        let by_server = self.by_server.lock().unwrap_or_else(|e| e.into_inner());
        for cache in by_server.values() {
            cache.clear();
        }
    }
}

/// One row of the catalog query.
#[derive(Debug, Default)]
struct TypeRow {
    name: String,
    schema: String,
    typtype: String,
    category: String,
    element: u32,
    base: u32,
    range_subtype: u32,
    multirange_range: u32,
    labels: Vec<String>,
    fields: Vec<(String, u32)>,
}

impl Connection {
    /// A key naming the server and database this connection reached.
    pub(crate) fn server_key(&self) -> String {
        let target = &self.cancel_target().target;
        format!(
            "{:?}/{:?}/{}/{}",
            target.host,
            target.hostaddr,
            target.port,
            self.cancel_target().resolved.dbname
        )
    }

    /// Forgets the user-defined types this connection (and, in a pool, every connection to
    /// the same database) read from the catalog, so that they are read again: after DDL that
    /// changed an enum's labels or a composite's fields.
    ///
    /// tusk notices a composite whose fields changed by itself (the value that showed it
    /// fails, the next statement reads the type again); this is for changes no value shows,
    /// such as an enum's new label in [`Type::enum_labels`](crate::types::Type::enum_labels).
    /// Cached statements that use a forgotten type are prepared again at their next use.
    pub fn reload_types(&mut self) {
        self.types.clear();
    }

    /// The OIDs among `params` and `columns` to read from the catalog.
    pub(crate) fn types_to_look_up(&self, params: &[Type], columns: &[Column]) -> Vec<u32> {
        let mut oids: Vec<u32> = params
            .iter()
            .chain(columns.iter().map(Column::type_))
            .filter(|ty| self.types.needs_lookup(ty))
            .map(Type::oid)
            .collect();
        oids.sort_unstable();
        oids.dedup();
        oids
    }

    /// Reads the types `oids` and every type they refer to from the catalog into the cache.
    /// The connection must be idle (no group open): this is a simple query.
    pub(crate) async fn look_up_types(&mut self, oids: Vec<u32>) -> Result<(), Error> {
        let mut rows: HashMap<u32, TypeRow> = HashMap::new();
        let mut wanted = oids;
        let multiranges = self.server_major() >= 14;
        for _ in 0..MAX_ROUNDS {
            if wanted.is_empty() {
                break;
            }
            let sql = catalog_query(&wanted, multiranges);
            self.write_simple(&sql)?;
            let messages = self.read_simple(true).await?;
            read_catalog_rows(&messages, &mut rows)?;
            // The OIDs the rows refer to that are neither built in, cached, nor read already.
            let mut next: Vec<u32> = Vec::new();
            for row in rows.values() {
                let refs = row.fields.iter().map(|(_, oid)| *oid).chain([
                    row.element,
                    row.base,
                    row.range_subtype,
                    row.multirange_range,
                ]);
                for oid in refs {
                    if oid != 0
                        && !rows.contains_key(&oid)
                        && self.types.needs_lookup(&Type::from_oid(oid))
                    {
                        next.push(oid);
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            // An OID the catalog does not have (a type dropped meanwhile) is asked once.
            next.retain(|oid| !wanted.contains(oid));
            wanted = next;
        }
        let mut built: HashMap<u32, Type> = HashMap::new();
        let mut building = HashSet::new();
        let oids: Vec<u32> = rows.keys().copied().collect();
        for oid in oids {
            build(oid, &rows, &self.types, &mut built, &mut building);
        }
        self.types.lock().extend(built);
        Ok(())
    }

    /// The server's major version (`server_version` 15.4 -> 15); 0 when not reported.
    fn server_major(&self) -> u32 {
        self.parameter("server_version")
            .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|major| major.parse().ok())
            .unwrap_or(0)
    }
}

/// The catalog query for `oids`: one row per type (`t`), per enum label (`e`, in sort order)
/// and per composite field (`a`, in attribute order).
fn catalog_query(oids: &[u32], multiranges: bool) -> String {
    let list = oids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    // pg_range.rngmultitypid exists from PostgreSQL 14.
    let (multirange_join, multirange_col) = if multiranges {
        (
            "LEFT JOIN pg_catalog.pg_range m ON m.rngmultitypid = t.oid",
            "coalesce(m.rngtypid, 0)",
        )
    } else {
        ("", "0::oid")
    };
    format!(
        "SELECT 't', t.oid, t.typname::text, n.nspname::text, t.typtype::text, \
         t.typcategory::text, t.typelem, t.typbasetype, coalesce(r.rngsubtype, 0), \
         {multirange_col}, 0::float8 \
         FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid {multirange_join} \
         WHERE t.oid IN ({list}) \
         UNION ALL \
         SELECT 'e', e.enumtypid, e.enumlabel::text, '', '', '', 0, 0, 0, 0, \
         e.enumsortorder::float8 \
         FROM pg_catalog.pg_enum e WHERE e.enumtypid IN ({list}) \
         UNION ALL \
         SELECT 'a', t.oid, a.attname::text, '', '', '', a.atttypid, 0, 0, 0, a.attnum::float8 \
         FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = t.typrelid \
         WHERE t.oid IN ({list}) AND t.typrelid <> 0 AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY 1 DESC, 2, 11"
    )
}

/// Adds the rows of one catalog query to `rows`. `t` rows come first (`ORDER BY 1 DESC`), so
/// the labels and fields find their type.
fn read_catalog_rows(
    messages: &[SimpleQueryMessage],
    rows: &mut HashMap<u32, TypeRow>,
) -> Result<(), Error> {
    let bad = |what: &str| Error::conversion(format!("unexpected catalog row: {what}"));
    for message in messages {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let text = |i: usize| row.try_get(i).map(|v| v.unwrap_or("").to_owned());
        let oid = |i: usize| -> Result<u32, Error> {
            let value = text(i)?;
            value.parse().map_err(|_| bad(&format!("oid {value:?}")))
        };
        let type_oid = oid(1)?;
        match text(0)?.as_str() {
            "t" => {
                rows.insert(
                    type_oid,
                    TypeRow {
                        name: text(2)?,
                        schema: text(3)?,
                        typtype: text(4)?,
                        category: text(5)?,
                        element: oid(6)?,
                        base: oid(7)?,
                        range_subtype: oid(8)?,
                        multirange_range: oid(9)?,
                        ..TypeRow::default()
                    },
                );
            }
            "e" => {
                if let Some(t) = rows.get_mut(&type_oid) {
                    t.labels.push(text(2)?);
                }
            }
            "a" => {
                if let Some(t) = rows.get_mut(&type_oid) {
                    t.fields.push((text(2)?, oid(6)?));
                }
            }
            other => return Err(bad(other)),
        }
    }
    Ok(())
}

/// Builds the type `oid` from its catalog row, building what it refers to first. A reference
/// back to a type being built (which the catalog does not allow for composites) and OIDs
/// without a row become unknown types.
fn build(
    oid: u32,
    rows: &HashMap<u32, TypeRow>,
    cache: &TypeCache,
    built: &mut HashMap<u32, Type>,
    building: &mut HashSet<u32>,
) -> Type {
    if let Some(ty) = built.get(&oid) {
        return ty.clone();
    }
    let Some(row) = rows.get(&oid) else {
        return cache.type_of(oid);
    };
    if !building.insert(oid) {
        return Type::from_oid(oid);
    }
    let mut refer = |oid: u32| build(oid, rows, cache, built, building);
    let details = match row.typtype.as_str() {
        "e" => Details::Enum(row.labels.clone()),
        "c" => Details::Composite(
            row.fields
                .iter()
                .map(|(name, oid)| Field::new(name.clone(), refer(*oid)))
                .collect(),
        ),
        "d" => Details::Domain(refer(row.base)),
        "r" => Details::Range(refer(row.range_subtype)),
        "m" => Details::Multirange(refer(row.multirange_range)),
        "p" => Details::Pseudo,
        _ if row.category == "A" && row.element != 0 => Details::Array(refer(row.element)),
        _ => Details::Base,
    };
    let ty = Type::custom(CustomType::new(
        oid,
        row.name.clone(),
        row.schema.clone(),
        details,
    ));
    building.remove(&oid);
    built.insert(oid, ty.clone());
    ty
}
