//! The derive macros against the real server: `#[derive(FromRow)]` with every attribute on real
//! rows, `#[derive(ToSql, FromSql)]` for enums, composites and domains (created in `pg_temp`, so
//! each connection has its own and nothing is left behind), tuples by position, `query_as` and
//! its siblings, and the errors of a Rust type that does not match the catalog.

use protocol_tests::live;
use tusk::types::{FromSql, ToSql, Type};
use tusk::{Connection, Error, FromRow, Kind};

async fn connect() -> Connection {
    Connection::connect(&live::admin()).await.unwrap()
}

/// The error's text, including its sources, for the assertions on what it says.
fn text(err: &Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

#[track_caller]
fn says(err: &Error, parts: &[&str]) {
    let text = text(err);
    for part in parts {
        assert!(
            text.contains(part),
            "expected {part:?} in the error: {text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// FromRow

#[derive(Debug, PartialEq, FromRow)]
struct User {
    id: i32,
    #[tusk(rename = "user_name")]
    name: String,
    email: Option<String>,
    #[tusk(default)]
    nickname: Option<String>,
    #[tusk(default)]
    logins: i64,
    #[tusk(flatten)]
    address: Address,
    #[tusk(skip)]
    cached: Vec<u8>,
    #[tusk(try_from = "i64")]
    age: u8,
    #[tusk(json)]
    settings: Settings,
    r#type: String,
}

#[derive(Debug, PartialEq, FromRow)]
#[tusk(rename_all = "camelCase")]
struct Address {
    street_name: String,
    #[tusk(rename = "ZIP")]
    zip: String,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Settings {
    theme: String,
    sizes: Vec<u32>,
}

const USER_COLUMNS: &str = "1::int4 AS id, 'ann'::text AS user_name, NULL::text AS email, \
     'Main St'::text AS \"streetName\", '12345'::text AS \"ZIP\", 42::int8 AS age, \
     '{\"theme\": \"dark\", \"sizes\": [1, 2]}'::jsonb AS settings, 'admin'::text AS type";

fn ann() -> User {
    User {
        id: 1,
        name: "ann".into(),
        email: None,
        nickname: None,
        logins: 0,
        address: Address {
            street_name: "Main St".into(),
            zip: "12345".into(),
        },
        cached: Vec::new(),
        age: 42,
        settings: Settings {
            theme: "dark".into(),
            sizes: vec![1, 2],
        },
        r#type: "admin".into(),
    }
}

#[tokio::test]
async fn from_row_every_attribute() {
    let mut conn = connect().await;
    // `default` columns absent: their Default.
    let user: User = conn
        .query_one_as(&format!("SELECT {USER_COLUMNS}") as &str, &[])
        .await
        .unwrap();
    assert_eq!(user, ann());

    // `default` columns present: read (a NULL into the Option, a value into the i64).
    let user: User = conn
        .query_one_as(
            &format!("SELECT {USER_COLUMNS}, NULL::text AS nickname, 7::int8 AS logins") as &str,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(user, User { logins: 7, ..ann() });
    let user: User = conn
        .query_one_as(
            &format!("SELECT {USER_COLUMNS}, 'annie'::text AS nickname") as &str,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        user,
        User {
            nickname: Some("annie".into()),
            ..ann()
        }
    );

    // The row as a plain Row, read with FromRow::from_row.
    let row = conn
        .query_one(&format!("SELECT {USER_COLUMNS}") as &str, &[])
        .await
        .unwrap();
    assert_eq!(User::from_row(&row).unwrap(), ann());
    assert_eq!(
        Address::from_row(&row).unwrap(),
        Address {
            street_name: "Main St".into(),
            zip: "12345".into()
        }
    );
}

#[tokio::test]
async fn from_row_errors_name_the_column() {
    let mut conn = connect().await;
    // A column missing without `default`.
    let err = conn
        .query_one_as::<User, _>("SELECT 1::int4 AS id", &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Usage);
    says(&err, &["no column user_name"]);

    // A NULL into a `default` field that is not an Option: `default` is for an absent column.
    let err = conn
        .query_one_as::<User, _>(
            &format!("SELECT {USER_COLUMNS}, NULL::int8 AS logins") as &str,
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    says(&err, &["logins", "NULL"]);

    // try_from: the conversion fails for 300 (no u8), the error names the column and both types.
    let columns = USER_COLUMNS.replace("42::int8", "300::int8");
    let err = conn
        .query_one_as::<User, _>(&format!("SELECT {columns}") as &str, &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    says(&err, &["\"age\"", "int8", "`i64`", "`u8`", "out of range"]);

    // The wrong SQL type for a field.
    let columns = USER_COLUMNS.replace("1::int4 AS id", "'one'::text AS id");
    let err = conn
        .query_one_as::<User, _>(&format!("SELECT {columns}") as &str, &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    says(&err, &["\"id\"", "text", "i32"]);

    // json that does not fit the field's type.
    let columns = USER_COLUMNS.replace("\"sizes\": [1, 2]", "\"sizes\": \"big\"");
    let err = conn
        .query_one_as::<User, _>(&format!("SELECT {columns}") as &str, &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    says(&err, &["\"settings\"", "Settings", "expected a sequence"]);

    // A NULL json column: `None` for an Option field, an error naming the column otherwise.
    #[derive(Debug, FromRow)]
    struct MaybeSettings {
        #[tusk(json)]
        settings: Option<Settings>,
    }
    let row: MaybeSettings = conn
        .query_one_as("SELECT NULL::jsonb AS settings", &[])
        .await
        .unwrap();
    assert!(row.settings.is_none());
    let columns = USER_COLUMNS.replace(
        "'{\"theme\": \"dark\", \"sizes\": [1, 2]}'::jsonb",
        "NULL::jsonb",
    );
    assert_ne!(columns, USER_COLUMNS);
    let err = conn
        .query_one_as::<User, _>(&format!("SELECT {columns}") as &str, &[])
        .await
        .unwrap_err();
    says(&err, &["\"settings\"", "NULL"]);
}

#[derive(Debug, PartialEq, FromRow)]
#[tusk(rename_all = "SCREAMING_SNAKE_CASE")]
struct Generic<T, U: Default> {
    value: T,
    #[tusk(default)]
    other: U,
    #[tusk(flatten)]
    nested: Nested<T>,
}

#[derive(Debug, PartialEq, FromRow)]
struct Nested<T> {
    list: Vec<T>,
}

#[derive(Debug, PartialEq, FromRow)]
struct Pair(i32, Option<String>);

#[tokio::test]
async fn generics_tuples_and_query_as() {
    let mut conn = connect().await;
    let rows: Vec<Generic<i64, String>> = conn
        .query_as(
            "SELECT v::int8 AS \"VALUE\", ARRAY[v, v + 1]::int8[] AS list \
             FROM generate_series(1, $1::int4) AS v",
            &[&3i32],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[2],
        Generic {
            value: 3,
            other: String::new(),
            nested: Nested { list: vec![3, 4] }
        }
    );

    // Tuple structs and tuples read by position, whatever the columns are called.
    let pairs: Vec<Pair> = conn
        .query_as(
            "SELECT 1::int4 AS x, 'a'::text UNION ALL SELECT 2, NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(pairs, [Pair(1, Some("a".into())), Pair(2, None)]);
    let tuple: (i32, String, Option<bool>) = conn
        .query_one_as("SELECT 7::int4, 'b'::text, NULL::bool", &[])
        .await
        .unwrap();
    assert_eq!(tuple, (7, "b".to_owned(), None));

    // query_opt_as: none, one, and more than one row.
    let none: Option<Pair> = conn
        .query_opt_as("SELECT 1::int4, 'a'::text WHERE false", &[])
        .await
        .unwrap();
    assert_eq!(none, None);
    let one: Option<Pair> = conn
        .query_opt_as("SELECT $1::int4, 'a'::text", &[&5i32])
        .await
        .unwrap();
    assert_eq!(one, Some(Pair(5, Some("a".into()))));
    assert!(conn
        .query_opt_as::<Pair, _>("SELECT 1::int4, 'a'::text FROM generate_series(1, 2)", &[])
        .await
        .is_err());

    // A tuple struct with more fields than the row has columns.
    let err = conn
        .query_one_as::<Pair, _>("SELECT 1::int4", &[])
        .await
        .unwrap_err();
    says(&err, &["1"]);
}

// ---------------------------------------------------------------------------------------------
// Enums

/// Labels `sad`, `meh`, `Happy`: `rename` wins over `rename_all`.
#[derive(Debug, Clone, Copy, PartialEq, ToSql, FromSql)]
#[tusk(name = "mood", rename_all = "lowercase")]
enum Mood {
    Sad,
    #[tusk(rename = "meh")]
    Ok,
    #[tusk(rename = "Happy")]
    Happy,
}

/// Labels from rename_all, the type name defaulting to the Rust name in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, ToSql, FromSql)]
#[tusk(rename_all = "SCREAMING_SNAKE_CASE")]
enum TrafficLight {
    BrightRed,
    Amber,
    #[tusk(rename = "go")]
    Green,
}

async fn with_enums() -> Connection {
    let mut conn = connect().await;
    conn.batch_execute(
        "CREATE TYPE pg_temp.mood AS ENUM ('sad', 'meh', 'Happy'); \
         CREATE TYPE pg_temp.traffic_light AS ENUM ('go', 'AMBER', 'BRIGHT_RED'); \
         CREATE TYPE pg_temp.mood_plus AS ENUM ('sad', 'meh', 'Happy', 'ecstatic')",
    )
    .await
    .unwrap();
    conn
}

#[tokio::test]
async fn enums_round_trip() {
    let mut conn = with_enums().await;
    for mood in [Mood::Sad, Mood::Ok, Mood::Happy] {
        let row = conn
            .query_one("SELECT $1::mood, $1::mood::text", &[&mood])
            .await
            .unwrap();
        assert_eq!(row.get::<_, Mood>(0), mood);
        let label: &str = row.get(1);
        assert_eq!(
            label,
            match mood {
                Mood::Sad => "sad",
                Mood::Ok => "meh",
                Mood::Happy => "Happy",
            }
        );
    }
    let row = conn
        .query_one(
            "SELECT 'BRIGHT_RED'::traffic_light, 'go'::traffic_light, $1::traffic_light = 'AMBER'",
            &[&TrafficLight::Amber],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, TrafficLight>(0), TrafficLight::BrightRed);
    assert_eq!(row.get::<_, TrafficLight>(1), TrafficLight::Green);
    assert!(row.get::<_, bool>(2));

    // NULL, arrays, arrays with NULL elements.
    let row = conn
        .query_one(
            "SELECT NULL::mood, ARRAY['sad', 'Happy']::mood[], ARRAY['meh', NULL]::mood[], $1::mood[]",
            &[&vec![Mood::Happy, Mood::Sad]],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<Mood>>(0), None);
    assert!(row.try_get::<_, Mood>(0).is_err());
    assert_eq!(row.get::<_, Vec<Mood>>(1), [Mood::Sad, Mood::Happy]);
    assert_eq!(row.get::<_, Vec<Option<Mood>>>(2), [Some(Mood::Ok), None]);
    assert_eq!(row.get::<_, Vec<Mood>>(3), [Mood::Happy, Mood::Sad]);
    let none: Option<Mood> = None;
    let row = conn
        .query_one("SELECT $1::mood IS NULL", &[&none])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));

    // In a table and through FromRow.
    #[derive(Debug, PartialEq, FromRow)]
    struct Feeling {
        who: String,
        mood: Option<Mood>,
        history: Vec<Mood>,
    }
    conn.batch_execute("CREATE TEMP TABLE feelings (who text, mood mood, history mood[])")
        .await
        .unwrap();
    conn.execute(
        "INSERT INTO feelings VALUES ($1, $2, $3), ($4, $5, $6)",
        &[
            &"ann",
            &Mood::Happy,
            &vec![Mood::Sad, Mood::Ok],
            &"bob",
            &None::<Mood>,
            &Vec::<Mood>::new(),
        ],
    )
    .await
    .unwrap();
    let feelings: Vec<Feeling> = conn
        .query_as("SELECT * FROM feelings ORDER BY who", &[])
        .await
        .unwrap();
    assert_eq!(
        feelings,
        [
            Feeling {
                who: "ann".into(),
                mood: Some(Mood::Happy),
                history: vec![Mood::Sad, Mood::Ok]
            },
            Feeling {
                who: "bob".into(),
                mood: None,
                history: vec![]
            },
        ]
    );
}

#[tokio::test]
async fn enum_mismatches_are_clear_errors() {
    let mut conn = with_enums().await;
    // Another enum with more labels than the Rust enum: not accepted, either way.
    let err = conn
        .query_one("SELECT 'ecstatic'::mood_plus", &[])
        .await
        .unwrap()
        .try_get::<_, Mood>(0)
        .unwrap_err();
    says(&err, &["mood_plus"]);
    let err = conn
        .query_one("SELECT $1::mood_plus", &[&Mood::Sad])
        .await
        .unwrap_err();
    says(&err, &["mood_plus"]);
    // A built-in type.
    let err = conn
        .query_one("SELECT $1::text", &[&Mood::Sad])
        .await
        .unwrap_err();
    says(&err, &["text"]);
    // An enum of another name with the same labels.
    let err = conn
        .query_one("SELECT 'go'::traffic_light", &[])
        .await
        .unwrap()
        .try_get::<_, Mood>(0)
        .unwrap_err();
    says(&err, &["traffic_light"]);
}

#[tokio::test]
async fn labels_the_rust_enum_and_the_type_do_not_share() {
    let mut conn = with_enums().await;
    let row = conn.query_one("SELECT 'sad'::mood", &[]).await.unwrap();
    assert_eq!(row.get::<_, Mood>(0), Mood::Sad);
    // The type gains a label (a migration ahead of the code): the type is still accepted, the
    // labels the Rust enum knows still read, and the new one is an error naming it.
    conn.batch_execute("ALTER TYPE pg_temp.mood ADD VALUE 'angry'")
        .await
        .unwrap();
    let row = conn
        .query_one("SELECT 'meh'::mood, 'angry'::mood", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Mood>(0), Mood::Ok);
    let err = row.try_get::<_, Mood>(1).unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    says(&err, &["\"angry\"", "Mood", "no variant"]);

    // A variant whose label the type lacks: the server refuses the value.
    conn.batch_execute("CREATE TYPE pg_temp.small_mood AS ENUM ('sad')")
        .await
        .unwrap();
    #[derive(Debug, ToSql)]
    #[tusk(name = "small_mood", rename_all = "lowercase")]
    enum SmallMood {
        Sad,
        Happy,
    }
    let row = conn
        .query_one("SELECT $1::small_mood::text", &[&SmallMood::Sad])
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "sad");
    let err = conn
        .query_one("SELECT $1::small_mood", &[&SmallMood::Happy])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Kind::Db);
    says(&err, &["invalid input value for enum small_mood"]);
}

// ---------------------------------------------------------------------------------------------
// Composites

#[derive(Debug, Clone, PartialEq, ToSql, FromSql)]
#[tusk(name = "inventory_item")]
struct InventoryItem {
    name: String,
    #[tusk(rename = "supplier_id")]
    supplier: i32,
    price: Option<f64>,
    mood: Mood,
}

#[derive(Debug, Clone, PartialEq, ToSql, FromSql)]
#[tusk(rename_all = "camelCase")]
struct OrderLine {
    line_item: InventoryItem,
    quantity: i64,
    tags: Vec<String>,
}

async fn with_composites() -> Connection {
    let mut conn = with_enums().await;
    conn.batch_execute(
        "CREATE TYPE pg_temp.inventory_item AS (name text, supplier_id int4, price float8, mood mood); \
         CREATE TYPE pg_temp.order_line AS (\"lineItem\" inventory_item, quantity int8, tags text[]); \
         CREATE TYPE pg_temp.item_missing AS (name text, supplier_id int4, price float8); \
         CREATE TYPE pg_temp.item_wrong AS (name text, supplier_id text, price float8, mood mood); \
         CREATE TYPE pg_temp.item_extra AS (name text, supplier_id int4, price float8, mood mood, x int4)",
    )
    .await
    .unwrap();
    conn
}

fn widget() -> InventoryItem {
    InventoryItem {
        name: "widget".into(),
        supplier: 42,
        price: Some(1.5),
        mood: Mood::Happy,
    }
}

#[tokio::test]
async fn composites_round_trip() {
    let mut conn = with_composites().await;
    let row = conn
        .query_one(
            "SELECT ROW('widget', 42, 1.5, 'Happy')::inventory_item, $1::inventory_item, \
             ($1::inventory_item).supplier_id, ROW('gadget', 1, NULL, 'sad')::inventory_item",
            &[&widget()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, InventoryItem>(0), widget());
    assert_eq!(row.get::<_, InventoryItem>(1), widget());
    assert_eq!(row.get::<_, i32>(2), 42);
    assert_eq!(
        row.get::<_, InventoryItem>(3),
        InventoryItem {
            name: "gadget".into(),
            supplier: 1,
            price: None,
            mood: Mood::Sad
        }
    );

    // Nested composites, arrays inside and arrays of composites, NULLs.
    let line = OrderLine {
        line_item: widget(),
        quantity: 3,
        tags: vec!["a".into(), "b".into()],
    };
    let row = conn
        .query_one(
            "SELECT $1::order_line, ($1::order_line).\"lineItem\".name, $2::inventory_item[], \
             ARRAY[ROW('x', 1, 2, 'meh')::inventory_item, NULL], NULL::inventory_item",
            &[&line, &vec![widget(), widget()]],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, OrderLine>(0), line);
    assert_eq!(row.get::<_, &str>(1), "widget");
    assert_eq!(row.get::<_, Vec<InventoryItem>>(2), [widget(), widget()]);
    assert_eq!(
        row.get::<_, Vec<Option<InventoryItem>>>(3),
        [
            Some(InventoryItem {
                name: "x".into(),
                supplier: 1,
                price: Some(2.0),
                mood: Mood::Ok
            }),
            None
        ]
    );
    assert_eq!(row.get::<_, Option<InventoryItem>>(4), None);

    // Fields borrowed from the value.
    #[derive(Debug, PartialEq, FromSql)]
    #[tusk(name = "inventory_item")]
    struct ItemRef<'a> {
        name: &'a str,
        supplier_id: i32,
        price: Option<f64>,
        mood: Mood,
    }
    let row = conn
        .query_one("SELECT $1::inventory_item", &[&widget()])
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, ItemRef>(0),
        ItemRef {
            name: "widget",
            supplier_id: 42,
            price: Some(1.5),
            mood: Mood::Happy
        }
    );

    // In a table, through FromRow.
    #[derive(Debug, PartialEq, FromRow)]
    struct Stock {
        item: InventoryItem,
        lines: Vec<OrderLine>,
    }
    conn.batch_execute("CREATE TEMP TABLE stock (item inventory_item, lines order_line[])")
        .await
        .unwrap();
    conn.execute(
        "INSERT INTO stock VALUES ($1, $2)",
        &[&widget(), &vec![line.clone()]],
    )
    .await
    .unwrap();
    let stock: Stock = conn
        .query_one_as("SELECT item, lines FROM stock", &[])
        .await
        .unwrap();
    assert_eq!(
        stock,
        Stock {
            item: widget(),
            lines: vec![line]
        }
    );
}

#[tokio::test]
async fn composite_mismatches_are_clear_errors() {
    let mut conn = with_composites().await;
    for (sql, parts) in [
        // A field of the Rust struct missing from the type.
        ("SELECT ROW('w', 1, 2)::item_missing", &["item_missing"][..]),
        // A field of the wrong type.
        (
            "SELECT ROW('w', '1', 2, 'sad')::item_wrong",
            &["item_wrong"][..],
        ),
        // A field of the type missing from the Rust struct.
        (
            "SELECT ROW('w', 1, 2, 'sad', 5)::item_extra",
            &["item_extra"][..],
        ),
        // An anonymous record.
        ("SELECT ROW('w', 1, 2, 'sad')", &["record"][..]),
    ] {
        let row = conn.query_one(sql, &[]).await.unwrap();
        let err = row.try_get::<_, InventoryItem>(0).unwrap_err();
        assert_eq!(err.kind(), Kind::Conversion);
        says(&err, parts);
        says(&err, &["InventoryItem"]);
    }
    let err = conn
        .query_one("SELECT $1::item_missing", &[&widget()])
        .await
        .unwrap_err();
    says(&err, &["item_missing"]);
    let err = conn
        .query_one("SELECT $1::item_wrong", &[&widget()])
        .await
        .unwrap_err();
    says(&err, &["item_wrong"]);
}

// ---------------------------------------------------------------------------------------------
// Domains and transparent newtypes

#[derive(Debug, Clone, PartialEq, ToSql, FromSql)]
#[tusk(transparent)]
struct UserId(i64);

#[derive(Debug, Clone, PartialEq, ToSql, FromSql)]
#[tusk(transparent)]
struct Nickname {
    inner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, ToSql, FromSql)]
#[tusk(name = "email")]
struct Email(String);

#[derive(Debug, Clone, PartialEq, ToSql, FromSql)]
#[tusk(name = "contact")]
struct Contact {
    id: UserId,
    email: Email,
}

async fn with_domains() -> Connection {
    let mut conn = connect().await;
    conn.batch_execute(
        "CREATE DOMAIN pg_temp.email AS text CHECK (VALUE LIKE '%@%'); \
         CREATE DOMAIN pg_temp.user_id AS int8 CHECK (VALUE > 0); \
         CREATE DOMAIN pg_temp.other_text AS text; \
         CREATE TYPE pg_temp.contact AS (id user_id, email email)",
    )
    .await
    .unwrap();
    conn
}

#[tokio::test]
async fn transparent_newtypes() {
    let mut conn = with_domains().await;
    let row = conn
        .query_one(
            "SELECT $1::int8, $1::user_id, 5::user_id, $2::text, NULL::text",
            &[
                &UserId(7),
                &Nickname {
                    inner: Some("n".into()),
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, UserId>(0), UserId(7));
    assert_eq!(row.get::<_, UserId>(1), UserId(7));
    assert_eq!(row.get::<_, UserId>(2), UserId(5));
    assert_eq!(
        row.get::<_, Nickname>(3),
        Nickname {
            inner: Some("n".into())
        }
    );
    assert_eq!(row.get::<_, Nickname>(4), Nickname { inner: None });
    // The domain's check runs on the server.
    assert!(conn
        .query_one("SELECT $1::user_id", &[&UserId(-1)])
        .await
        .is_err());
    // Not a type the inner type accepts.
    let err = conn
        .query_one("SELECT $1::text", &[&UserId(1)])
        .await
        .unwrap_err();
    says(&err, &["text"]);
}

#[tokio::test]
async fn domain_newtypes() {
    let mut conn = with_domains().await;
    let email = Email("a@b.c".into());
    let contact = Contact {
        id: UserId(3),
        email: email.clone(),
    };
    // As a parameter of the domain, and inside a composite and an array, where values keep the
    // domain's type. (A result column of a domain type is described as its base type by the
    // server, so it is read with the inner type or a transparent newtype.)
    let row = conn
        .query_one(
            "SELECT $1::email::text, $2::contact, ARRAY['x@y', 'z@w']::email[], $1::email",
            &[&email, &contact],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "a@b.c");
    assert_eq!(row.get::<_, Contact>(1), contact);
    assert_eq!(
        row.get::<_, Vec<Email>>(2),
        [Email("x@y".into()), Email("z@w".into())]
    );
    // A column of the domain comes described as `text`: read it as the inner type (or a
    // transparent newtype); the domain newtype accepts only the domain.
    assert_eq!(row.columns()[3].type_(), &Type::TEXT);
    assert_eq!(row.get::<_, String>(3), "a@b.c");
    let err = row.try_get::<_, Email>(3).unwrap_err();
    assert_eq!(err.kind(), Kind::Conversion);
    says(&err, &["text", "Email"]);

    // The domain's check runs on the server.
    assert!(conn
        .query_one("SELECT $1::email", &[&Email("nope".into())])
        .await
        .is_err());
    // Another domain over the same base type, or the base type itself: not accepted.
    for sql in ["SELECT $1::other_text", "SELECT $1::text"] {
        let err = conn.query_one(sql, &[&email]).await.unwrap_err();
        says(&err, &["Email"]);
    }
}
