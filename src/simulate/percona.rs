//! Percona / MySQL Enterprise audit records for the simulator: the plugin's CSV and the
//! XML shapes (Percona `OLD` attributes, Percona `NEW` elements, MySQL Enterprise
//! elements), escaped as the plugins escape them.

use super::db::{inline, Clock};
use super::scenario::{SKind, Stmt};

/// The fields of a record in the order Percona writes them.
fn fields(s: &Stmt, c: &Clock, n: u64) -> Vec<(&'static str, String)> {
    let ts = c.utc(s.ts, "%Y-%m-%dT%H:%M:%S UTC");
    let record = format!("{n}_2025-10-01T00:00:00");
    let status = if s.kind == SKind::AuthFail {
        "1045"
    } else {
        "0"
    };
    let name = match s.kind {
        SKind::Stmt => "Query",
        SKind::Connect | SKind::AuthFail => "Connect",
        SKind::Disconnect => "Quit",
    };
    let mut f = vec![
        ("NAME", name.to_string()),
        ("RECORD", record),
        ("TIMESTAMP", ts),
    ];
    if s.kind == SKind::Stmt {
        f.push((
            "COMMAND_CLASS",
            s.command.to_ascii_lowercase().replace(' ', "_"),
        ));
        f.push(("CONNECTION_ID", s.pid.to_string()));
        f.push(("STATUS", status.into()));
        f.push(("SQLTEXT", inline(s)));
        f.push(("USER", format!("{}[{}] @  [{}]", s.user, s.user, s.host)));
        f.push(("HOST", String::new()));
        f.push(("OS_USER", String::new()));
    } else {
        f.push(("CONNECTION_ID", s.pid.to_string()));
        f.push(("STATUS", status.into()));
        f.push(("USER", s.user.into()));
        f.push(("PRIV_USER", s.user.into()));
        f.push(("OS_LOGIN", String::new()));
        f.push(("PROXY_USER", String::new()));
        f.push(("HOST", String::new()));
    }
    f.push(("IP", s.host.clone()));
    f.push(("DB", "loyalty".into()));
    f
}

/// `audit_log_format=CSV`: every field quoted but the status, quotes doubled, nothing
/// else escaped.
pub fn csv(s: &Stmt, c: &Clock, n: u64) -> String {
    let cells: Vec<String> = fields(s, c, n)
        .into_iter()
        .map(|(k, v)| {
            if k == "STATUS" {
                v
            } else {
                format!("\"{}\"", v.replace('"', "\"\""))
            }
        })
        .collect();
    cells.join(",")
}

fn xml_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\0' => out.push('?'),
            c if (c as u32) < 32 => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// An XML record: `style` 0 is Percona `OLD`, 1 Percona `NEW`, 2 MySQL Enterprise.
pub fn xml(s: &Stmt, c: &Clock, n: u64, style: u8) -> String {
    let mut f = fields(s, c, n);
    match style {
        0 => {
            let attrs: Vec<String> = f
                .iter()
                .map(|(k, v)| format!("  {k}=\"{}\"\n", xml_escape(v)))
                .collect();
            format!("<AUDIT_RECORD\n{}/>", attrs.concat())
        }
        1 => {
            let els: Vec<String> = f
                .iter()
                .map(|(k, v)| format!("  <{k}>{}</{k}>\n", xml_escape(v)))
                .collect();
            format!("<AUDIT_RECORD>\n{}</AUDIT_RECORD>", els.concat())
        }
        _ => {
            // Enterprise: the time first, RECORD_ID, a status code, empty elements closed.
            f.swap(0, 2);
            f[1].0 = "RECORD_ID";
            let code = if f.iter().any(|(k, v)| *k == "STATUS" && v != "0") {
                "1"
            } else {
                "0"
            };
            f.push(("STATUS_CODE", code.into()));
            let els: Vec<String> = f
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() {
                        format!("  <{k}/>\n")
                    } else {
                        format!("  <{k}>{}</{k}>\n", xml_escape(v))
                    }
                })
                .collect();
            format!(" <AUDIT_RECORD>\n{} </AUDIT_RECORD>", els.concat())
        }
    }
}
