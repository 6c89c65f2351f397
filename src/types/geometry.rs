//! The geometric types: `point`, `line`, `lseg`, `box`, `path`, `polygon` and `circle`.
//!
//! Their binary formats (`point_send`, `line_send`, ...) are `float8`s in big-endian order:
//! a point is `x, y`; a line `a, b, c` (of `ax + by + c = 0`); a segment its two end points; a
//! box its upper-right then lower-left corner; a path a "closed" byte, an `i32` number of
//! points and the points; a polygon the number of points and the points; a circle its center
//! and radius.

use bytes::{BufMut, BytesMut};

use super::{FromSql, InvalidValue, IsNull, Reader, ToSql, Type};
use crate::BoxError;

/// A `point`: `(x,y)`.
///
/// ```
/// use tusk::types::Point;
///
/// let p = Point::new(1.0, -2.5);
/// assert_eq!((p.x, p.y), (1.0, -2.5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// The x coordinate.
    pub x: f64,
    /// The y coordinate.
    pub y: f64,
}

impl Point {
    /// The point `(x,y)`.
    pub const fn new(x: f64, y: f64) -> Point {
        Point { x, y }
    }
}

/// A `line`: the infinite line `ax + by + c = 0` (`{a,b,c}`); `a` and `b` are not both zero.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Line {
    /// The coefficient of x.
    pub a: f64,
    /// The coefficient of y.
    pub b: f64,
    /// The constant term.
    pub c: f64,
}

/// An `lseg`: the line segment `[(x1,y1),(x2,y2)]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LineSegment {
    /// The first end point.
    pub start: Point,
    /// The second end point.
    pub end: Point,
}

/// A `box`: a rectangle given by two opposite corners, `(x1,y1),(x2,y2)`.
///
/// The server keeps the upper-right corner as `high` and the lower-left as `low`, swapping
/// coordinates it receives in another order; [`Rect::new`] orders them the same way.
///
/// ```
/// use tusk::types::{Point, Rect};
///
/// let r = Rect::new(Point::new(0.0, 3.0), Point::new(2.0, 0.0));
/// assert_eq!(r.high, Point::new(2.0, 3.0));
/// assert_eq!(r.low, Point::new(0.0, 0.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// The upper-right corner (the larger coordinates).
    pub high: Point,
    /// The lower-left corner (the smaller coordinates).
    pub low: Point,
}

impl Rect {
    /// The box with these two opposite corners, in any order.
    pub fn new(a: Point, b: Point) -> Rect {
        Rect {
            high: Point::new(a.x.max(b.x), a.y.max(b.y)),
            low: Point::new(a.x.min(b.x), a.y.min(b.y)),
        }
    }
}

/// A `path`: points joined by segments, open (`[(x1,y1),...]`) or closed (`((x1,y1),...)`).
/// The server takes no empty path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Path {
    /// Whether the last point joins back to the first.
    pub closed: bool,
    /// The points, at least one.
    pub points: Vec<Point>,
}

/// A `polygon`: its vertices, `((x1,y1),...)`. The server takes no empty polygon.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Polygon {
    /// The vertices, at least one.
    pub points: Vec<Point>,
}

/// A `circle`: `<(x,y),r>`. The server takes no negative radius.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Circle {
    /// The center.
    pub center: Point,
    /// The radius.
    pub radius: f64,
}

fn f64_of(r: &mut Reader<'_>, field: &str) -> Result<f64, BoxError> {
    let b = r.take(8, field)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b); // `take` returned 8 bytes.
    Ok(f64::from_bits(u64::from_be_bytes(a)))
}

fn point_of(r: &mut Reader<'_>) -> Result<Point, BoxError> {
    Ok(Point::new(f64_of(r, "x")?, f64_of(r, "y")?))
}

fn put_point(out: &mut BytesMut, p: &Point) {
    out.put_f64(p.x);
    out.put_f64(p.y);
}

/// The number of points of a path or polygon, as its `i32` count: at least one, as
/// `path_recv` and `poly_recv` require.
fn put_count(out: &mut BytesMut, what: &'static str, points: &[Point]) -> Result<(), BoxError> {
    if points.is_empty() {
        return Err(InvalidValue::boxed(
            what,
            "the server takes no value without points",
        ));
    }
    let n = i32::try_from(points.len()).map_err(|_| {
        InvalidValue::boxed(
            what,
            format!("{} points exceed the 32-bit count", points.len()),
        )
    })?;
    out.put_i32(n);
    for p in points {
        put_point(out, p);
    }
    Ok(())
}

/// Reads an `i32` count of points and the points, refusing what `path_recv` and `poly_recv`
/// refuse (no points) and counts beyond the bytes present.
fn points_of(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<Point>, BoxError> {
    let n = r.i32("number of points")?;
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n > 0 && n <= r.remaining() / 16)
        .ok_or_else(|| {
            InvalidValue::boxed(
                what,
                format!("invalid number of points {n} for {} bytes", r.remaining()),
            )
        })?;
    (0..n).map(|_| point_of(r)).collect()
}

/// Implements ToSql and FromSql for one geometric type: `$enc` writes it, `$dec` reads it from
/// a [`Reader`], which must then be at the end.
macro_rules! geometric {
    ($rust:ty, $sql:ident, $what:literal, |$v:ident, $out:ident| $enc:expr, |$r:ident| $dec:expr) => {
        impl ToSql for $rust {
            fn to_sql(&self, _ty: &Type, $out: &mut BytesMut) -> Result<IsNull, BoxError> {
                let $v = self;
                $enc;
                Ok(IsNull::No)
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::$sql
            }

            crate::to_sql_checked!();
        }

        impl FromSql<'_> for $rust {
            fn from_sql(_ty: &Type, raw: &[u8]) -> Result<$rust, BoxError> {
                let mut reader = Reader::new($what, raw);
                let $r = &mut reader;
                let value = $dec;
                reader.finish()?;
                Ok(value)
            }

            fn accepts(ty: &Type) -> bool {
                *ty == Type::$sql
            }
        }
    };
}

geometric!(Point, POINT, "point", |v, out| put_point(out, v), |r| {
    point_of(r)?
});

geometric!(
    Line,
    LINE,
    "line",
    |v, out| {
        out.put_f64(v.a);
        out.put_f64(v.b);
        out.put_f64(v.c);
    },
    |r| Line {
        a: f64_of(r, "a")?,
        b: f64_of(r, "b")?,
        c: f64_of(r, "c")?,
    }
);

geometric!(
    LineSegment,
    LSEG,
    "lseg",
    |v, out| {
        put_point(out, &v.start);
        put_point(out, &v.end);
    },
    |r| LineSegment {
        start: point_of(r)?,
        end: point_of(r)?,
    }
);

geometric!(
    Rect,
    BOX,
    "box",
    |v, out| {
        put_point(out, &v.high);
        put_point(out, &v.low);
    },
    |r| Rect {
        high: point_of(r)?,
        low: point_of(r)?,
    }
);

geometric!(
    Path,
    PATH,
    "path",
    |v, out| {
        out.put_u8(u8::from(v.closed));
        put_count(out, "path", &v.points)?;
    },
    |r| {
        // `path_recv` takes any nonzero byte as closed.
        let closed = r.take(1, "closed flag")?[0] != 0; // One byte.
        Path {
            closed,
            points: points_of(r, "path")?,
        }
    }
);

geometric!(
    Polygon,
    POLYGON,
    "polygon",
    |v, out| put_count(out, "polygon", &v.points)?,
    |r| Polygon {
        points: points_of(r, "polygon")?,
    }
);

geometric!(
    Circle,
    CIRCLE,
    "circle",
    |v, out| {
        put_point(out, &v.center);
        out.put_f64(v.radius);
    },
    |r| {
        let center = point_of(r)?;
        let radius = f64_of(r, "radius")?;
        // As `circle_recv` refuses.
        if radius < 0.0 {
            return Err(InvalidValue::boxed(
                "circle",
                format!("negative radius {radius}"),
            ));
        }
        Circle { center, radius }
    }
);
