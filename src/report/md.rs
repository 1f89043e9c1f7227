//! The Markdown report. Every string from evidence goes through `sanitize::markdown`.

use super::doc::{self, ReportDoc};
use crate::sanitize::markdown as m;
use std::fmt::Write;

fn o(s: &Option<String>) -> String {
    s.as_deref().map(m).unwrap_or_default()
}

/// Writes a Markdown table: the header, its separator and one line per row.
fn table(s: &mut String, head: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for r in rows {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
}

/// Renders report.md.
pub fn render(d: &ReportDoc) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", m(&d.title));
    if let Some(g) = &d.generated_at {
        let _ = writeln!(s, "Generated {}.\n", m(g));
    }
    let _ = writeln!(s, "## 1. Executive summary\n");
    for x in &d.summary {
        let _ = writeln!(s, "{}\n", m(x));
    }
    let _ = writeln!(s, "## 2. Waves\n");
    table(
        &mut s,
        doc::WAVE_COLUMNS,
        d.waves.iter().map(|w| {
            vec![
                w.id.to_string(),
                w.start_utc.clone(),
                w.end_utc.clone(),
                format!("{} min", w.duration_s / 60),
                w.targets.join(", "),
                w.techniques.join(", "),
                m(&w.attacker_ips.join(", ")),
                m(&w.principals.join(", ")),
                w.events.to_string(),
                w.accounts_affected.to_string(),
            ]
        }),
    );
    for (w, n) in d.waves.iter().zip(&d.narratives) {
        let _ = writeln!(s, "\n### Wave {}\n", w.id);
        for x in n {
            let _ = writeln!(s, "- {}", m(x));
        }
    }
    let _ = writeln!(s, "\n## 3. Charts\n\nThe HTML report draws activity over time per source (attacker activity highlighted, waves shaded) and each wave's events by target.\n");
    let i = &d.impact;
    let _ = writeln!(s, "## 4. Impact\n");
    let mut rows: Vec<Vec<String>> = [
        ("customers affected (total)", i.customers_total.to_string()),
        ("bonus_tampered", i.bonus_tampered.to_string()),
        ("data_exposed", i.data_exposed.to_string()),
        ("malicious_push", i.malicious_push.to_string()),
        (
            "bonus points moved (total)",
            i.points_moved_total.to_string(),
        ),
        ("points credited to accounts", i.points_credited.to_string()),
        ("points debited from accounts", i.points_debited.to_string()),
        ("messages malicious", i.messages_malicious.to_string()),
        ("messages legitimate", i.messages_legitimate.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| vec![k.to_string(), v])
    .collect();
    rows.extend(
        i.points_moved_by_wave
            .iter()
            .map(|(w, p)| vec![format!("points moved in wave {w}"), p.to_string()]),
    );
    table(&mut s, &["measure", "value"], rows);
    let _ = writeln!(s, "\n### Messages\n");
    table(
        &mut s,
        doc::MESSAGE_COLUMNS,
        d.messages.iter().map(|x| {
            vec![
                m(&x.id),
                x.provider.to_string(),
                x.sent_utc.clone(),
                format!("**{}**", x.verdict),
                o(&x.title),
                o(&x.body),
                o(&x.sender),
                o(&x.source_ip),
                x.recipients.to_string(),
                x.delivered.to_string(),
                x.failed.to_string(),
                m(&x.reason),
            ]
        }),
    );
    let _ = writeln!(s, "\n## 5. Actors\n\n### Indicators\n");
    table(
        &mut s,
        doc::IOC_COLUMNS,
        d.iocs.iter().map(|x| {
            vec![
                x.kind.to_string(),
                m(&x.value),
                x.first_utc.clone(),
                x.last_utc.clone(),
                x.waves
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join(";"),
                x.events.to_string(),
            ]
        }),
    );
    let _ = writeln!(s, "\n### Principals\n");
    for p in &d.principals {
        let _ = writeln!(
            s,
            "- **{}** — {} ({} attacker events)",
            m(&p.principal),
            p.assessment,
            p.attacker_events
        );
        for pl in &p.places {
            let _ = writeln!(
                s,
                "  - {} {} – {}, {} events, {}",
                m(&pl.address),
                pl.first_utc,
                pl.last_utc,
                pl.events,
                if pl.usual { "usual place" } else { "new place" }
            );
        }
    }
    let _ = writeln!(s, "\n### Findings\n");
    for f in &d.findings {
        let _ = writeln!(
            s,
            "- `{}` {}: {} (e.g. {})",
            f.technique,
            m(&f.subject),
            m(&f.explanation),
            m(&f.example)
        );
    }
    let c = &d.counts;
    let _ = writeln!(s, "\n## 6. Evidence inventory and completeness\n");
    let _ = writeln!(s, "{} files, {} lines, {} records, {} events, {} duplicates, {} rejected, {} skipped; {} files with problems; roster rows {} ({} rejected).\n", c.files, c.lines, c.records, c.events, c.duplicates, c.rejected, c.skipped, c.files_with_errors, c.roster_rows, c.roster_rejected);
    table(
        &mut s,
        &[
            "file",
            "format",
            "sha256",
            "lines",
            "events",
            "duplicates",
            "rejected",
            "skipped",
            "first (UTC)",
            "last (UTC)",
            "clock correction (s)",
            "problem",
        ],
        d.files.iter().map(|f| {
            vec![
                m(&f.path),
                f.format.clone(),
                format!("`{}`", f.sha256),
                f.lines.to_string(),
                f.events.to_string(),
                f.duplicates.to_string(),
                f.rejected.to_string(),
                f.skipped.to_string(),
                f.first_utc.clone().unwrap_or_default(),
                f.last_utc.clone().unwrap_or_default(),
                f.skew_correction_s.to_string(),
                o(&f.error),
            ]
        }),
    );
    let _ = writeln!(s, "\n### Gaps longer than expected\n");
    if d.gaps.is_empty() {
        let _ = writeln!(s, "None found.");
    }
    for g in &d.gaps {
        let _ = writeln!(
            s,
            "- {}: {} – {} ({} h)",
            g.source, g.from_utc, g.to_utc, g.hours
        );
    }
    let _ = writeln!(s, "\n### Clock skew\n");
    if d.skews.is_empty() {
        let _ = writeln!(
            s,
            "No linked pairs between sources; skew could not be estimated."
        );
    }
    for k in &d.skews {
        let _ = writeln!(
            s,
            "- {} vs {}: median offset {:+.3} s over {} linked pairs; {}",
            k.source,
            k.against,
            k.median_s,
            k.pairs,
            if k.applied {
                format!("corrected by {:+.3} s", -k.correction_s)
            } else {
                "not corrected".into()
            }
        );
    }
    let _ = writeln!(s, "\n### What could not be determined\n");
    if d.undetermined.is_empty() {
        let _ = writeln!(s, "Nothing noted.");
    }
    for x in &d.undetermined {
        let _ = writeln!(s, "- {}", m(x));
    }
    let _ = writeln!(s, "\n## 7. Method and limits\n");
    for x in &d.method {
        let _ = writeln!(s, "{}\n", m(x));
    }
    s
}
