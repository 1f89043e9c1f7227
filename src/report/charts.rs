//! Inline SVG charts drawn with plotters' SVG backend: activity over time per source with
//! attacker activity highlighted and waves shaded, and each wave's events by target.
//! Only our own numbers and labels reach the charts, never evidence text.

use super::doc::ReportDoc;
use plotters::prelude::*;

const SOURCES: [(&str, RGBColor); 3] = [
    ("gateway", RGBColor(31, 119, 180)),
    ("db", RGBColor(44, 160, 44)),
    ("push", RGBColor(148, 103, 189)),
];
const ATTACK: RGBColor = RGBColor(214, 39, 40);

/// Activity over time; waves shaded.
pub fn activity(d: &ReportDoc) -> String {
    let mut s = String::new();
    let n = d.activity.len().max(1) as i64;
    let max = d
        .activity
        .iter()
        .flat_map(|b| b.events.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    {
        let root = SVGBackend::with_string(&mut s, (960, 320)).into_drawing_area();
        if root.fill(&WHITE).is_err() {
            return String::new();
        }
        let chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0i64..n, 0f64..max);
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let labels: Vec<String> = d
            .activity
            .iter()
            .map(|b| b.start_utc.get(5..16).unwrap_or("").replace('T', " "))
            .collect();
        let _ = chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|x| labels.get(*x as usize).cloned().unwrap_or_default())
            .y_desc("events per interval")
            .light_line_style(RGBColor(235, 235, 235))
            .draw();
        let idx = |t: &str| {
            d.activity
                .iter()
                .rposition(|b| b.start_utc.as_str() <= t)
                .unwrap_or(0) as i64
        };
        for w in &d.waves {
            let (a, b) = (idx(&w.start_utc), idx(&w.end_utc) + 1);
            let _ = chart.draw_series(std::iter::once(Rectangle::new(
                [(a, 0.0), (b, max)],
                RGBColor(255, 210, 210).filled(),
            )));
        }
        for (src, color) in SOURCES {
            let pts: Vec<(i64, f64)> = d
                .activity
                .iter()
                .enumerate()
                .map(|(k, b)| (k as i64, *b.events.get(src).unwrap_or(&0) as f64))
                .collect();
            if pts.iter().all(|p| p.1 == 0.0) {
                continue;
            }
            if let Ok(a) = chart.draw_series(LineSeries::new(pts, color.stroke_width(2))) {
                a.label(src).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
        }
        let att: Vec<(i64, f64)> = d
            .activity
            .iter()
            .enumerate()
            .map(|(k, b)| (k as i64, b.attacker.values().sum::<u64>() as f64))
            .collect();
        if let Ok(a) = chart.draw_series(LineSeries::new(att, ATTACK.stroke_width(3))) {
            a.label("attacker").legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], ATTACK.stroke_width(3))
            });
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    s
}

/// Each wave's attacker events by target.
pub fn per_wave(d: &ReportDoc, per_target: &[Vec<(&'static str, usize)>]) -> String {
    let mut s = String::new();
    if d.waves.is_empty() {
        return s;
    }
    let targets = ["bonus", "customer_data", "push"];
    let colors = [
        RGBColor(255, 127, 14),
        RGBColor(31, 119, 180),
        RGBColor(148, 103, 189),
    ];
    let max = per_target
        .iter()
        .flat_map(|v| v.iter().map(|x| x.1))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.15;
    {
        let root = SVGBackend::with_string(&mut s, (640, 280)).into_drawing_area();
        if root.fill(&WHITE).is_err() {
            return String::new();
        }
        let n = d.waves.len() as f64;
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..n, 0f64..max)
        else {
            return String::new();
        };
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(d.waves.len() + 1)
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 && *x < n {
                    format!("wave {}", *x as usize + 1)
                } else {
                    String::new()
                }
            })
            .y_desc("attacker events")
            .draw();
        for (k, (t, c)) in targets.iter().zip(colors).enumerate() {
            let bars: Vec<Rectangle<(f64, f64)>> = per_target
                .iter()
                .enumerate()
                .map(|(w, v)| {
                    let val = v.iter().find(|x| x.0 == *t).map(|x| x.1).unwrap_or(0) as f64;
                    let x0 = w as f64 - 0.35 + k as f64 * 0.23;
                    Rectangle::new([(x0, 0.0), (x0 + 0.2, val)], c.filled())
                })
                .collect();
            if let Ok(a) = chart.draw_series(bars) {
                a.label(*t).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
                });
            }
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    s
}
