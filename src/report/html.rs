//! The self-contained HTML report: one file, inline CSS and SVG, no scripts, prints well.
//! All text passes through one choke point, `Page::text`, which escapes it; the only raw
//! markup inserted is the SVG our own chart code drew.

use super::doc::{self, ReportDoc};
use crate::sanitize::html;

struct Page(String);

impl Page {
    /// Escaped text.
    fn text(&mut self, s: &str) {
        self.0.push_str(&html(s));
    }
    /// An element with escaped text content. `tag` and `class` are our literals.
    fn el(&mut self, tag: &'static str, class: &'static str, s: &str) {
        if class.is_empty() {
            self.0.push_str(&format!("<{tag}>"));
        } else {
            self.0.push_str(&format!("<{tag} class=\"{class}\">"));
        }
        self.text(s);
        self.0.push_str(&format!("</{tag}>"));
    }
    fn open(&mut self, markup: &'static str) {
        self.0.push_str(markup);
    }
    fn table(
        &mut self,
        head: &[&str],
        rows: Vec<Vec<String>>,
        highlight: impl Fn(&[String]) -> bool,
    ) {
        self.open("<table><thead><tr>");
        for h in head {
            self.el("th", "", h);
        }
        self.open("</tr></thead><tbody>");
        for r in rows {
            self.open(if highlight(&r) {
                "<tr class=\"bad\">"
            } else {
                "<tr>"
            });
            for c in &r {
                self.el("td", "", c);
            }
            self.open("</tr>");
        }
        self.open("</tbody></table>");
    }
    /// Our own chart SVG (never contains evidence text).
    fn svg(&mut self, svg: &str) {
        self.0.push_str(svg);
    }
}

const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}\
h1{border-bottom:3px solid #d62728;padding-bottom:.3rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.6rem 0}th,td{border:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top;word-break:break-word}\
th{background:#f3f3f3}tr.bad td{background:#fdecea}.kpi{display:flex;flex-wrap:wrap;gap:.8rem}.kpi div{border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:9rem}\
.kpi b{display:block;font-size:1.5rem}.note{color:#555;font-size:.9rem}svg{max-width:100%;height:auto}code{font-size:.8rem}\
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table{page-break-inside:auto}tr{page-break-inside:avoid}}";

/// Renders report.html.
pub fn render(d: &ReportDoc, activity_svg: &str, waves_svg: &str) -> String {
    let mut p = Page(String::with_capacity(64 * 1024));
    p.open("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    p.open("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">");
    p.el("title", "", &d.title);
    p.open("<style>");
    p.open(CSS);
    p.open("</style></head><body>");
    p.el("h1", "", &d.title);
    if let Some(g) = &d.generated_at {
        p.el("p", "note", &format!("Generated {g}"));
    }
    p.el("h2", "", "1. Executive summary");
    for s in &d.summary {
        p.el("p", "", s);
    }
    let i = &d.impact;
    p.open("<div class=\"kpi\">");
    for (k, v) in [
        ("customers affected", i.customers_total.to_string()),
        ("bonus tampered", i.bonus_tampered.to_string()),
        ("data exposed", i.data_exposed.to_string()),
        ("malicious push", i.malicious_push.to_string()),
        ("points moved", i.points_moved_total.to_string()),
        ("malicious messages", i.messages_malicious.to_string()),
    ] {
        p.open("<div>");
        p.el("b", "", &v);
        p.text(k);
        p.open("</div>");
    }
    p.open("</div>");
    p.el("h2", "", "2. Waves");
    p.table(
        doc::WAVE_COLUMNS,
        d.waves
            .iter()
            .map(|w| {
                vec![
                    w.id.to_string(),
                    w.start_utc.clone(),
                    w.end_utc.clone(),
                    format!("{} min", w.duration_s / 60),
                    w.targets.join(", "),
                    w.techniques.join(", "),
                    w.attacker_ips.join(", "),
                    w.principals.join(", "),
                    w.events.to_string(),
                    w.accounts_affected.to_string(),
                ]
            })
            .collect(),
        |_| false,
    );
    for (w, n) in d.waves.iter().zip(&d.narratives) {
        p.el("h3", "", &format!("Wave {}", w.id));
        p.open("<ul>");
        for x in n {
            p.el("li", "", x);
        }
        p.open("</ul>");
    }
    p.el("h2", "", "3. Charts");
    p.el("p", "note", "Events per interval and source; the red line is attacker activity; shaded bands are waves.");
    p.svg(activity_svg);
    p.el("p", "note", "Attacker events per wave by target.");
    p.svg(waves_svg);
    p.el("h2", "", "4. Impact");
    let mut rows = vec![
        vec![
            "customers affected (total)".to_string(),
            i.customers_total.to_string(),
        ],
        vec!["bonus_tampered".into(), i.bonus_tampered.to_string()],
        vec!["data_exposed".into(), i.data_exposed.to_string()],
        vec!["malicious_push".into(), i.malicious_push.to_string()],
        vec![
            "bonus points moved (total)".into(),
            i.points_moved_total.to_string(),
        ],
        vec![
            "points credited to accounts".into(),
            i.points_credited.to_string(),
        ],
        vec![
            "points debited from accounts".into(),
            i.points_debited.to_string(),
        ],
        vec![
            "messages malicious".into(),
            i.messages_malicious.to_string(),
        ],
        vec![
            "messages legitimate".into(),
            i.messages_legitimate.to_string(),
        ],
    ];
    for (w, v) in &i.points_moved_by_wave {
        rows.push(vec![format!("points moved in wave {w}"), v.to_string()]);
    }
    p.table(&["measure", "value"], rows, |_| false);
    p.el("h3", "", "Messages");
    p.table(
        doc::MESSAGE_COLUMNS,
        d.messages
            .iter()
            .map(|m| {
                vec![
                    m.id.clone(),
                    m.provider.clone(),
                    m.sent_utc.clone(),
                    m.verdict.into(),
                    m.title.clone().unwrap_or_default(),
                    m.body.clone().unwrap_or_default(),
                    m.sender.clone().unwrap_or_default(),
                    m.source_ip.clone().unwrap_or_default(),
                    m.recipients.to_string(),
                    m.delivered.to_string(),
                    m.failed.to_string(),
                    m.reason.clone(),
                ]
            })
            .collect(),
        |r| r[3] == "malicious",
    );
    p.el("h2", "", "5. Actors");
    p.table(
        doc::IOC_COLUMNS,
        d.iocs
            .iter()
            .map(|x| {
                vec![
                    x.kind.into(),
                    x.value.clone(),
                    x.first_utc.clone(),
                    x.last_utc.clone(),
                    x.waves
                        .iter()
                        .map(|w| w.to_string())
                        .collect::<Vec<_>>()
                        .join(";"),
                    x.events.to_string(),
                ]
            })
            .collect(),
        |_| false,
    );
    p.el("h3", "", "Principals and their places");
    p.table(
        &[
            "principal",
            "assessment",
            "address",
            "first (UTC)",
            "last (UTC)",
            "events",
            "place",
        ],
        d.principals
            .iter()
            .flat_map(|pr| {
                pr.places.iter().map(move |pl| {
                    vec![
                        pr.principal.clone(),
                        pr.assessment.into(),
                        pl.address.clone(),
                        pl.first_utc.clone(),
                        pl.last_utc.clone(),
                        pl.events.to_string(),
                        if pl.usual {
                            "usual".into()
                        } else {
                            "new".into()
                        },
                    ]
                })
            })
            .collect(),
        |r| r[6] == "new",
    );
    p.el("h3", "", "Findings");
    p.table(
        &[
            "technique",
            "subject",
            "explanation",
            "events",
            "example evidence",
        ],
        d.findings
            .iter()
            .map(|f| {
                vec![
                    f.technique.into(),
                    f.subject.clone(),
                    f.explanation.clone(),
                    f.events.to_string(),
                    f.example.clone(),
                ]
            })
            .collect(),
        |_| false,
    );
    p.el("h2", "", "6. Evidence inventory and completeness");
    let c = &d.counts;
    p.el("p", "", &format!("{} files, {} lines, {} records, {} events, {} duplicates, {} rejected, {} skipped; {} files with problems; roster rows {} ({} rejected).", c.files, c.lines, c.records, c.events, c.duplicates, c.rejected, c.skipped, c.files_with_errors, c.roster_rows, c.roster_rejected));
    p.table(
        &[
            "file",
            "format",
            "sha256",
            "lines",
            "events",
            "dup",
            "rejected",
            "skipped",
            "first (UTC)",
            "last (UTC)",
            "clock corr. (s)",
            "problem",
        ],
        d.files
            .iter()
            .map(|f| {
                vec![
                    f.path.clone(),
                    f.format.clone(),
                    f.sha256.clone(),
                    f.lines.to_string(),
                    f.events.to_string(),
                    f.duplicates.to_string(),
                    f.rejected.to_string(),
                    f.skipped.to_string(),
                    f.first_utc.clone().unwrap_or_default(),
                    f.last_utc.clone().unwrap_or_default(),
                    f.skew_correction_s.to_string(),
                    f.error.clone().unwrap_or_default(),
                ]
            })
            .collect(),
        |r| !r[11].is_empty(),
    );
    p.el("h3", "", "Gaps longer than expected");
    if d.gaps.is_empty() {
        p.el("p", "", "None found.");
    }
    p.table(
        &["source", "from (UTC)", "to (UTC)", "hours"],
        d.gaps
            .iter()
            .map(|g| {
                vec![
                    g.source.clone(),
                    g.from_utc.clone(),
                    g.to_utc.clone(),
                    g.hours.to_string(),
                ]
            })
            .collect(),
        |_| false,
    );
    p.el("h3", "", "Clock skew");
    p.table(
        &[
            "source",
            "against",
            "median offset (s)",
            "pairs",
            "correction (s)",
        ],
        d.skews
            .iter()
            .map(|k| {
                vec![
                    k.source.clone(),
                    k.against.clone(),
                    format!("{:+.3}", k.median_s),
                    k.pairs.to_string(),
                    if k.applied {
                        format!("{:+.3}", -k.correction_s)
                    } else {
                        "not corrected".into()
                    },
                ]
            })
            .collect(),
        |_| false,
    );
    p.el("h3", "", "What could not be determined");
    p.open("<ul>");
    for x in &d.undetermined {
        p.el("li", "", x);
    }
    p.open("</ul>");
    p.el("h2", "", "7. Method and limits");
    for x in &d.method {
        p.el("p", "", x);
    }
    p.open("</body></html>\n");
    p.0
}
