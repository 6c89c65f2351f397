//! The geometric types: `point`, `line`, `lseg`, `box`, `path`, `polygon`, `circle`. None of
//! them has an `=` the arrays can use (or at all), so values compare by their text forms.

use tusk::types::{Circle, Line, LineSegment, Path, Point, Polygon, Rect};

use super::{check_decode, check_with_arrays, connect, Ty};

fn p(x: f64, y: f64) -> Point {
    Point::new(x, y)
}

#[tokio::test]
async fn geometric_types() {
    let mut conn = connect().await;
    let conn = &mut conn;
    let points = [
        ("'(1,-2.5)'", p(1.0, -2.5)),
        ("'(0,0)'", p(0.0, 0.0)),
        ("'(1e300,-1e-300)'", p(1e300, -1e-300)),
        ("'(0.1,-0)'", p(0.1, -0.0)),
        ("'(NaN,Infinity)'", p(f64::NAN, f64::INFINITY)),
    ];
    check_with_arrays(conn, &Ty::new("point").no_eq(), &points).await;
    let lines = [
        (
            "'{1,-1,0}'",
            Line {
                a: 1.0,
                b: -1.0,
                c: 0.0,
            },
        ),
        (
            "'{0,1,-2.5}'",
            Line {
                a: 0.0,
                b: 1.0,
                c: -2.5,
            },
        ),
    ];
    check_with_arrays(conn, &Ty::new("line").no_eq(), &lines).await;
    let segments = [(
        "'[(0,0),(1,1)]'",
        LineSegment {
            start: p(0.0, 0.0),
            end: p(1.0, 1.0),
        },
    )];
    check_with_arrays(conn, &Ty::new("lseg").no_eq(), &segments).await;
    let boxes = [
        ("'(2,3),(0,0)'", Rect::new(p(0.0, 0.0), p(2.0, 3.0))),
        ("'(-1,-1),(-1,-1)'", Rect::new(p(-1.0, -1.0), p(-1.0, -1.0))),
    ];
    let boxes_ty = Ty::new("box").no_eq();
    check_with_arrays(conn, &boxes_ty, &boxes).await;
    // The server orders the corners, as Rect::new does.
    check_decode(
        conn,
        &boxes_ty,
        &[("'(0,3),(2,0)'", Rect::new(p(0.0, 3.0), p(2.0, 0.0)))],
    )
    .await;
    let paths = [
        (
            "'[(0,0),(1,1),(2,0)]'",
            Path {
                closed: false,
                points: vec![p(0.0, 0.0), p(1.0, 1.0), p(2.0, 0.0)],
            },
        ),
        (
            "'((0,0),(1,1))'",
            Path {
                closed: true,
                points: vec![p(0.0, 0.0), p(1.0, 1.0)],
            },
        ),
        (
            "'[(5,5)]'",
            Path {
                closed: false,
                points: vec![p(5.0, 5.0)],
            },
        ),
    ];
    check_with_arrays(conn, &Ty::new("path").no_eq(), &paths).await;
    let polygons = [
        (
            "'((0,0),(1,1),(1,0))'",
            Polygon {
                points: vec![p(0.0, 0.0), p(1.0, 1.0), p(1.0, 0.0)],
            },
        ),
        (
            "'((5,5))'",
            Polygon {
                points: vec![p(5.0, 5.0)],
            },
        ),
    ];
    check_with_arrays(conn, &Ty::new("polygon").no_eq(), &polygons).await;
    let circles = [
        (
            "'<(1,2),3>'",
            Circle {
                center: p(1.0, 2.0),
                radius: 3.0,
            },
        ),
        (
            "'<(0,0),0>'",
            Circle {
                center: p(0.0, 0.0),
                radius: 0.0,
            },
        ),
    ];
    check_with_arrays(conn, &Ty::new("circle").no_eq(), &circles).await;
}
