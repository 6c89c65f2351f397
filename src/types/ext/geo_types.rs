//! `geo_types::Point<f64>` as `point`, `Rect<f64>` as `box` and `LineString<f64>` as `path`
//! (feature `geo-types`).
//!
//! A `LineString` is sent as an open path. A closed path (`((0,0),(1,1))`) reads as a
//! `LineString` whose last point repeats the first, geo's way of closing a line.

use ::geo_types::{Coord, LineString, Point as GeoPoint, Rect as GeoRect};
use bytes::BytesMut;

use crate::types::{FromSql, IsNull, Path, Point, Rect, ToSql, Type};
use crate::BoxError;

fn point(c: Coord<f64>) -> Point {
    Point::new(c.x, c.y)
}

fn coord(p: Point) -> Coord<f64> {
    Coord { x: p.x, y: p.y }
}

impl ToSql for GeoPoint<f64> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        point(self.0).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::POINT
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for GeoPoint<f64> {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<GeoPoint<f64>, BoxError> {
        Ok(GeoPoint(coord(Point::from_sql(ty, raw)?)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::POINT
    }
}

/// The box with the rectangle's maximum corner as `high` and minimum as `low`.
impl ToSql for GeoRect<f64> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let r = Rect {
            high: point(self.max()),
            low: point(self.min()),
        };
        r.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::BOX
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for GeoRect<f64> {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<GeoRect<f64>, BoxError> {
        let r = Rect::from_sql(ty, raw)?;
        Ok(GeoRect::new(coord(r.low), coord(r.high)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::BOX
    }
}

impl ToSql for LineString<f64> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let path = Path {
            closed: false,
            points: self.0.iter().map(|&c| point(c)).collect(),
        };
        path.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::PATH
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for LineString<f64> {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<LineString<f64>, BoxError> {
        let path = Path::from_sql(ty, raw)?;
        let mut coords: Vec<Coord<f64>> = path.points.iter().map(|&p| coord(p)).collect();
        if path.closed {
            if let Some(&first) = coords.first() {
                coords.push(first);
            }
        }
        Ok(LineString(coords))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::PATH
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{dec, hex, vector};

    #[test]
    fn geo_types_vectors() {
        vector(
            &Type::POINT,
            "point_send('(1,-2.5)')",
            "3ff0000000000000c004000000000000",
            GeoPoint::new(1.0, -2.5),
        );
        let rect = GeoRect::new(Coord { x: 2.0, y: 0.0 }, Coord { x: 0.0, y: 3.0 });
        vector(
            &Type::BOX,
            "box_send('(0,0),(2,3)')",
            "4000000000000000400800000000000000000000000000000000000000000000",
            rect,
        );
        let line = LineString::from(vec![(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]);
        vector(
            &Type::PATH,
            "path_send('[(0,0),(1,1),(2,0)]')",
            "0000000003000000000000000000000000000000003ff00000000000003ff000000000000040000000000000000000000000000000",
            line,
        );
        // path_send('((0,0),(1,1))'): closed, so the first point comes again at the end.
        let closed =
            hex("0100000002000000000000000000000000000000003ff00000000000003ff0000000000000");
        let ring: LineString<f64> = dec(&Type::PATH, &closed).unwrap();
        assert_eq!(
            ring,
            LineString::from(vec![(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)])
        );
        assert!(ring.is_closed());
    }
}
