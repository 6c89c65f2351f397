//! Types resolved by name against the real server: enums, composites, domains and arrays of
//! them read from the catalog and then bound and read in binary; DDL that changes a type under
//! a running pool picked up; the pool's shared path, pipelines and unnamed statements.
//!
//! The composites here use a hand-written `ToSql`/`FromSql` on `tusk::types::__derive` (what
//! the derive macros generate), so the runtime side is tested on its own.

use bytes::BytesMut;
use protocol_tests::live;
use tusk::types::__derive::{composite_accepts, CompositeReader, CompositeWriter};
use tusk::types::{Format, FromSql, IsNull, ToSql, Type, TypeKind};
use tusk::{BoxError, Connection, Pool};

/// A schema of its own for each test (pool connections do not share `pg_temp`), dropped by
/// the caller at the end.
async fn schema(conn: &mut Connection, name: &str) -> String {
    let schema = format!("tusk_ct_{name}_{}", std::process::id());
    conn.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; \
         CREATE TYPE {schema}.mood AS ENUM ('sad', 'ok', 'happy'); \
         CREATE DOMAIN {schema}.posint AS int4 CHECK (VALUE > 0); \
         CREATE DOMAIN {schema}.email AS text CHECK (VALUE LIKE '%@%'); \
         CREATE TYPE {schema}.item AS (name text, qty {schema}.posint, mood {schema}.mood)"
    ))
    .await
    .unwrap();
    schema
}

async fn drop_schema(conn: &mut Connection, schema: &str) {
    conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

async fn connect() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// The composite `item`, written as the derive would generate it.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    name: String,
    qty: Option<i32>,
    mood: String,
}

impl ToSql for Item {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let mut w = CompositeWriter::new(ty, out)?;
        w.write("mood", &self.mood)?;
        w.write("name", &self.name)?;
        w.write("qty", &self.qty)?;
        w.finish()
    }

    fn accepts(ty: &Type) -> bool {
        composite_accepts(
            ty,
            "item",
            &[
                ("name", <String as ToSql>::accepts),
                ("qty", <Option<i32> as ToSql>::accepts),
                ("mood", <String as ToSql>::accepts),
            ],
        )
    }

    tusk::to_sql_checked!();
}

impl<'a> FromSql<'a> for Item {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Item, BoxError> {
        let mut r = CompositeReader::new(ty, raw)?;
        let item = Item {
            qty: r.read("qty")?,
            name: r.read("name")?,
            mood: r.read("mood")?,
        };
        r.finish()?;
        Ok(item)
    }

    fn accepts(ty: &Type) -> bool {
        composite_accepts(
            ty,
            "item",
            &[
                ("name", <String as FromSql>::accepts),
                ("qty", <Option<i32> as FromSql>::accepts),
                ("mood", <String as FromSql>::accepts),
            ],
        )
    }
}

#[tokio::test]
async fn enums_are_read_from_the_catalog_and_travel_in_binary() {
    let mut conn = connect().await;
    let s = schema(&mut conn, "enum").await;
    let stmt = conn
        .prepare(&format!(
            "SELECT $1::{s}.mood, ARRAY['happy', NULL]::{s}.mood[]"
        ))
        .await
        .unwrap();
    let mood = &stmt.params()[0];
    assert_eq!(mood.kind(), TypeKind::Enum);
    assert_eq!((mood.name(), mood.schema()), ("mood", s.as_str()));
    assert_eq!(mood.enum_labels().unwrap(), ["sad", "ok", "happy"]);
    assert_eq!(stmt.columns()[0].format(), Format::Binary);
    let array = stmt.columns()[1].type_();
    assert_eq!(array.kind(), TypeKind::Array);
    assert_eq!(array.array_element().as_ref(), Some(mood));

    let row = conn.query_one(&stmt, &[&"ok"]).await.unwrap();
    assert_eq!(row.get::<_, &str>(0), "ok");
    assert_eq!(
        row.get::<_, Vec<Option<String>>>(1),
        [Some("happy".to_owned()), None]
    );
    // A label the type does not have is the server's error, and the connection goes on.
    let err = conn.query_one(&stmt, &[&"meh"]).await.unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22P02"), "{err}");
    // An array parameter of the enum, checked by the server's own comparison.
    let row = conn
        .query_one(
            &format!("SELECT $1::{s}.mood[] = ARRAY['sad', 'happy']::{s}.mood[]"),
            &[&vec!["sad", "happy"]],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    drop_schema(&mut conn, &s).await;
}

#[tokio::test]
async fn domains_are_bound_and_read_as_their_base_type() {
    let mut conn = connect().await;
    let s = schema(&mut conn, "domain").await;
    let stmt = conn
        .prepare(&format!(
            "SELECT $1::{s}.posint + 1, $2::{s}.email, $3::{s}.posint[]"
        ))
        .await
        .unwrap();
    let posint = &stmt.params()[0];
    assert_eq!(posint.kind(), TypeKind::Domain);
    assert_eq!(posint.domain_base(), Some(&Type::INT4));
    assert_eq!(stmt.params()[2].kind(), TypeKind::Array);
    let row = conn
        .query_one(&stmt, &[&41i32, &"a@b", &vec![1i32, 2]])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
    assert_eq!(row.get::<_, String>(1), "a@b");
    assert_eq!(row.get::<_, Vec<i32>>(2), [1, 2]);
    // The domain's CHECK is the server's: a violation is its error, naming the constraint.
    let err = conn
        .query_one(&stmt, &[&0i32, &"a@b", &vec![1i32]])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("23514"), "{err}");
    // A Rust type the base type does not fit is refused before sending, naming both types.
    let err = conn
        .query_one(&stmt, &[&1i64, &"a@b", &vec![1i32]])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("posint"), "{err}");
    assert!(err.to_string().contains("i64"), "{err}");
    // A column of a domain type (in a table) reads as its base type too.
    conn.batch_execute(&format!(
        "CREATE TABLE {s}.t (n {s}.posint, e {s}.email, ns {s}.posint[]); \
         INSERT INTO {s}.t VALUES (7, 'x@y', '{{3,4}}')"
    ))
    .await
    .unwrap();
    let row = conn
        .query_one(&format!("SELECT n, e, ns FROM {s}.t"), &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 7);
    assert_eq!(row.get::<_, &str>(1), "x@y");
    assert_eq!(row.get::<_, Vec<i32>>(2), [3, 4]);
    drop_schema(&mut conn, &s).await;
}

#[tokio::test]
async fn composites_round_trip_in_binary_with_their_fields_from_the_catalog() {
    let mut conn = connect().await;
    let s = schema(&mut conn, "composite").await;
    let stmt = conn
        .prepare(&format!("SELECT $1::{s}.item, $2::{s}.item[]"))
        .await
        .unwrap();
    let item = &stmt.params()[0];
    assert_eq!(item.kind(), TypeKind::Composite);
    let fields: Vec<(&str, String)> = item
        .fields()
        .unwrap()
        .iter()
        .map(|f| (f.name(), f.type_().name().to_owned()))
        .collect();
    assert_eq!(
        fields,
        [
            ("name", "text".to_owned()),
            ("qty", "posint".to_owned()),
            ("mood", "mood".to_owned())
        ]
    );
    let a = Item {
        name: "bolt, \"m6\"".into(),
        qty: Some(3),
        mood: "happy".into(),
    };
    let b = Item {
        name: String::new(),
        qty: None,
        mood: "sad".into(),
    };
    let row = conn
        .query_one(&stmt, &[&a, &vec![b.clone(), a.clone()]])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Item>(0), a);
    assert_eq!(row.get::<_, Vec<Item>>(1), [b.clone(), a.clone()]);
    // The server is the oracle for what was sent: its own text form of the value.
    let text = conn
        .query_one(&format!("SELECT ($1::{s}.item)::text"), &[&a])
        .await
        .unwrap();
    assert_eq!(text.get::<_, &str>(0), r#"("bolt, ""m6""",3,happy)"#);
    // And for what is read: a literal.
    let row = conn
        .query_one(&format!("SELECT '(x,,ok)'::{s}.item"), &[])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Item>(0),
        Item {
            name: "x".into(),
            qty: None,
            mood: "ok".into()
        }
    );
    drop_schema(&mut conn, &s).await;
}

#[tokio::test]
async fn an_altered_composite_is_read_again_after_the_value_that_showed_it() {
    let pool = Pool::builder(live::admin().parse().unwrap())
        .max_size(2)
        .build();
    let mut setup = connect().await;
    let s = schema(&mut setup, "altered").await;
    let sql = format!("SELECT ROW('n', 1, 'ok')::{s}.item");
    let row = pool.query_one(&sql, &[]).await.unwrap();
    assert_eq!(row.get::<_, Item>(0).qty, Some(1));

    setup
        .batch_execute(&format!("ALTER TYPE {s}.item ADD ATTRIBUTE note text"))
        .await
        .unwrap();
    // The cached statement's description no longer matches what the server sends: the
    // value says so (and names the type)...
    let row = pool
        .query_one(&format!("SELECT ROW('n', 2, 'ok', 'x')::{s}.item"), &[])
        .await
        .unwrap();
    let err = row.try_get::<_, Item>(0).unwrap_err();
    assert!(err.to_string().contains("item"), "{err}");
    // ...and from the next statement on, the type has its new field: `Item` no longer
    // matches it (a field missing), which is a type error, not a misread value.
    let row = pool
        .query_one(&format!("SELECT ROW('n', 3, 'ok', 'x')::{s}.item"), &[])
        .await
        .unwrap();
    assert_eq!(row.columns()[0].type_().fields().unwrap().len(), 4);
    assert!(row.try_get::<_, Item>(0).is_err());
    let mut conn = pool.get().await.unwrap();
    let row = conn
        .query_one(&format!("SELECT ROW('n', 4, 'ok', 'x')::{s}.item"), &[])
        .await
        .unwrap();
    assert_eq!(row.columns()[0].type_().fields().unwrap()[3].name(), "note");
    drop(conn);
    drop_schema(&mut setup, &s).await;
}

#[tokio::test]
async fn a_label_added_under_a_running_pool_is_seen_after_reload_types() {
    let pool = Pool::builder(live::admin().parse().unwrap())
        .max_size(1)
        .build();
    let mut setup = connect().await;
    let s = schema(&mut setup, "relabel").await;
    let sql = format!("SELECT $1::{s}.mood");
    let row = pool.query_one(&sql, &[&"ok"]).await.unwrap();
    let labels = row.columns()[0].type_().enum_labels().unwrap().to_vec();
    assert_eq!(labels, ["sad", "ok", "happy"]);
    setup
        .batch_execute(&format!("ALTER TYPE {s}.mood ADD VALUE 'meh' BEFORE 'ok'"))
        .await
        .unwrap();
    // An enum's value is its label: the new one reads and binds at once.
    let row = pool.query_one(&sql, &[&"meh"]).await.unwrap();
    assert_eq!(row.get::<_, &str>(0), "meh");
    // The label list itself is read again after reload_types, for the statements cached
    // before it too.
    pool.reload_types();
    for sql in [sql.clone(), format!("SELECT $1::{s}.mood AS again")] {
        let row = pool.query_one(&sql, &[&"meh"]).await.unwrap();
        let labels = row.columns()[0].type_().enum_labels().unwrap().to_vec();
        assert_eq!(labels, ["sad", "meh", "ok", "happy"], "{sql}");
    }
    // The same on a connection of its own.
    let mut conn = connect().await;
    let before = conn.query_one(&sql, &[&"ok"]).await.unwrap();
    setup
        .batch_execute(&format!("ALTER TYPE {s}.mood ADD VALUE 'ecstatic'"))
        .await
        .unwrap();
    let cached = conn.query_one(&sql, &[&"ok"]).await.unwrap();
    assert_eq!(
        cached.columns()[0].type_().enum_labels(),
        before.columns()[0].type_().enum_labels(),
        "until reload_types, the cached description"
    );
    conn.reload_types();
    let row = conn.query_one(&sql, &[&"ecstatic"]).await.unwrap();
    assert_eq!(
        row.columns()[0]
            .type_()
            .enum_labels()
            .unwrap()
            .last()
            .unwrap(),
        "ecstatic"
    );
    drop_schema(&mut setup, &s).await;
}

#[tokio::test]
async fn the_shared_path_pipelines_and_unnamed_statements_resolve_types_too() {
    let mut setup = connect().await;
    let s = schema(&mut setup, "paths").await;
    let item = Item {
        name: "p".into(),
        qty: Some(9),
        mood: "sad".into(),
    };
    let sql = format!("SELECT $1::{s}.item, $2::{s}.mood");

    // The pool's shared path (batched onto a connection it did not describe on).
    let pool = Pool::builder(live::admin().parse().unwrap())
        .max_size(2)
        .build();
    let row = pool.query_one(&sql, &[&item, &"ok"]).await.unwrap();
    assert_eq!(row.get::<_, Item>(0), item);

    // A pipeline on a fresh connection.
    let mut conn = connect().await;
    let mut pipeline = conn.pipeline();
    pipeline.query(sql.as_str(), &[&item, &"happy"]);
    let results = pipeline.run().await.unwrap();
    let rows = results[0].as_ref().unwrap().rows();
    assert_eq!(rows[0].get::<_, Item>(0), item);
    assert_eq!(rows[0].get::<_, &str>(1), "happy");

    // No statement cache: unnamed statements, parsed again after the catalog lookup.
    let config: tusk::Config = live::admin().parse().unwrap();
    let config = config.statement_cache_capacity(0);
    let mut unnamed = config.clone().connect().await.unwrap();
    let row = unnamed.query_one(&sql, &[&item, &"ok"]).await.unwrap();
    assert_eq!(row.get::<_, Item>(0), item);
    let unnamed_pool = Pool::builder(config).max_size(1).build();
    let row = unnamed_pool.query_one(&sql, &[&item, &"ok"]).await.unwrap();
    assert_eq!(row.get::<_, Item>(0), item);

    // Inside a transaction, the lookup does not disturb it.
    let mut tx = conn.transaction().await.unwrap();
    tx.execute(&format!("CREATE TABLE {s}.items (i {s}.item)"), &[])
        .await
        .unwrap();
    tx.execute(&format!("INSERT INTO {s}.items VALUES ($1)"), &[&item])
        .await
        .unwrap();
    let back: Item = tx
        .query_one(&format!("SELECT i FROM {s}.items"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(back, item);
    tx.commit().await.unwrap();
    drop_schema(&mut setup, &s).await;
}

#[tokio::test]
async fn a_server_cursor_reads_catalog_types_met_first_in_its_declare() {
    let mut setup = connect().await;
    let s = schema(&mut setup, "cursor").await;
    // A fresh connection: the cursor's DECLARE is where it meets the types first.
    let mut conn = connect().await;
    let mut tx = conn.transaction().await.unwrap();
    let mut cur = tx.server_cursor("items").itersize(2);
    cur.execute(
        &format!(
            "SELECT ROW('n' || g, g, 'ok')::{s}.item, 'happy'::{s}.mood \
             FROM generate_series(1, 3) g"
        ),
        &[],
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    while let Some(row) = cur.fetch_one().await.unwrap() {
        assert_eq!(row.columns()[0].format(), Format::Binary);
        assert_eq!(row.get::<_, &str>(1), "happy");
        seen.push(row.get::<_, Item>(0).qty.unwrap());
    }
    assert_eq!(seen, [1, 2, 3]);
    cur.close().await.unwrap();
    tx.commit().await.unwrap();
    drop_schema(&mut setup, &s).await;
}

#[tokio::test]
async fn user_defined_ranges_and_multiranges_travel_in_binary_over_their_subtype() {
    use tusk::types::{Bound, Multirange, Range};
    let mut conn = connect().await;
    let s = schema(&mut conn, "range").await;
    conn.batch_execute(&format!(
        "CREATE TYPE {s}.floatrange AS RANGE (subtype = float8, \
         multirange_type_name = {s}.floatmultirange)"
    ))
    .await
    .unwrap();
    let stmt = conn
        .prepare(&format!(
            "SELECT $1::{s}.floatrange, $1::{s}.floatrange::text, \
             $2::{s}.floatmultirange, '[1.5,2.5)'::{s}.floatrange = $1"
        ))
        .await
        .unwrap();
    let range = &stmt.params()[0];
    assert_eq!(range.kind(), TypeKind::Range);
    assert_eq!(range.range_subtype(), Some(Type::FLOAT8));
    assert_eq!(stmt.params()[1].kind(), TypeKind::Multirange);
    assert_eq!(stmt.params()[1].multirange_range().as_ref(), Some(range));
    assert_eq!(stmt.columns()[0].format(), Format::Binary);
    let value = Range::from(1.5f64..2.5);
    let multi: Multirange<f64> = vec![
        Range::from(0.0f64..1.0),
        Range::new(Bound::Included(3.0), Bound::Unbounded),
    ]
    .into();
    let row = conn.query_one(&stmt, &[&value, &multi]).await.unwrap();
    assert_eq!(row.get::<_, Range<f64>>(0), value);
    assert_eq!(row.get::<_, &str>(1), "[1.5,2.5)");
    assert_eq!(row.get::<_, Multirange<f64>>(2), multi);
    assert!(row.get::<_, bool>(3), "the server reads the same range");
    drop_schema(&mut conn, &s).await;
}
