//! The `affected` CSV files (a public contract: names and headers are fixed and documented
//! in the README). Every cell goes through the spreadsheet-formula guard; files holding
//! personal data are created with mode 0600; `--excel` adds a UTF-8 BOM.

use crate::correlate::{impact_kind, Analysis};
use crate::sanitize::csv_cell;
use crate::timeparse::fmt_utc;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Output options.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOpts {
    /// Mask names, emails, phones.
    pub mask_pii: bool,
    /// UTF-8 BOM for Excel.
    pub excel: bool,
}

/// File names, in the order written.
pub const FILES: &[&str] = &[
    "affected-customers.csv",
    "bonus-adjustments.csv",
    "messages.csv",
    "iocs.csv",
    "evidence.csv",
    "message-recipients.csv",
];

fn create(dir: &Path, name: &str, private: bool, o: CsvOpts) -> std::io::Result<csv::Writer<File>> {
    let p: PathBuf = dir.join(name);
    let mut oo = OpenOptions::new();
    oo.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        oo.mode(0o600);
    }
    let mut f = oo.open(&p)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    if o.excel {
        f.write_all("\u{feff}".as_bytes())?;
    }
    Ok(csv::WriterBuilder::new().from_writer(f))
}

fn row<W: Write>(w: &mut csv::Writer<W>, cells: &[String]) -> csv::Result<()> {
    w.write_record(cells.iter().map(|c| csv_cell(c)))
}

/// Writes a header row given as the public contract spells it: `a,b,c`.
fn header<W: Write>(w: &mut csv::Writer<W>, names: &str) -> csv::Result<()> {
    w.write_record(names.split(','))
}

/// Masks an email: `o***@example.com`.
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((u, d)) => format!("{}***@{d}", u.chars().next().unwrap_or('*')),
        None => mask_name(s),
    }
}

/// Masks a phone: `+380*****12` (country prefix and last two digits kept).
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let keep_head = if s.starts_with('+') { 4 } else { 3 };
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep_head || i >= n - 2 { *c } else { '*' })
        .collect()
}

/// Masks a name: initials kept (`O*** K***`).
pub fn mask_name(s: &str) -> String {
    s.split_whitespace()
        .map(|w| format!("{}***", w.chars().next().unwrap_or('*')))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes the six files.
pub fn write_all(a: &Analysis, dir: &Path, o: CsvOpts) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let ev = &a.ing.events;
    let path_of = |i: usize| {
        a.ing
            .files
            .get(ev[i].file as usize)
            .map(|f| f.path.clone())
            .unwrap_or_default()
    };
    // affected-customers.csv
    let mut w = create(dir, FILES[0], true, o)?;
    let base = "account_id,impacts,waves,bonus_points_delta,messages_received,first_seen_utc,last_seen_utc,evidence_count";
    if a.roster.is_some() {
        header(
            &mut w,
            &format!("{base},name,email,phone,created_utc,devices"),
        )?;
    } else {
        header(&mut w, base)?;
    }
    for x in a.affected.values() {
        let mut r = vec![
            x.account.clone(),
            x.impacts.iter().copied().collect::<Vec<_>>().join(";"),
            x.waves
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(";"),
            if x.impacts.contains(impact_kind::BONUS) {
                x.bonus_points().map(|d| d.to_string()).unwrap_or_default()
            } else {
                String::new()
            },
            x.messages.iter().cloned().collect::<Vec<_>>().join(";"),
            fmt_utc(x.first),
            fmt_utc(x.last),
            x.evidence.len().to_string(),
        ];
        if let Some(ro) = &a.roster {
            let c = ro.customers.get(&x.account);
            let m = |v: Option<&String>, f: fn(&str) -> String| {
                v.map(|s| if o.mask_pii { f(s) } else { s.clone() })
                    .unwrap_or_default()
            };
            r.push(m(c.and_then(|c| c.name.as_ref()), mask_name));
            r.push(m(c.and_then(|c| c.email.as_ref()), mask_email));
            r.push(m(c.and_then(|c| c.phone.as_ref()), mask_phone));
            r.push(c.and_then(|c| c.created).map(fmt_utc).unwrap_or_default());
            r.push(c.map(|c| c.devices.len().to_string()).unwrap_or_default());
        }
        row(&mut w, &r)?;
    }
    w.flush()?;
    // bonus-adjustments.csv
    let mut w = create(dir, FILES[1], false, o)?;
    header(
        &mut w,
        "account_id,fraudulent_delta,correction,operations,first_utc,last_utc,waves",
    )?;
    for x in a
        .affected
        .values()
        .filter(|x| x.impacts.contains(impact_kind::BONUS))
    {
        // A balance set with no earlier one in the evidence: delta and correction are
        // unknown, left empty (the report names the accounts to restore).
        let d = x.bonus_points();
        let (f, l) = x.bonus_span.unwrap_or((x.first, x.last));
        row(
            &mut w,
            &[
                x.account.clone(),
                d.map(|d| d.to_string()).unwrap_or_default(),
                d.map(|d| (-d).to_string()).unwrap_or_default(),
                x.bonus_ops.to_string(),
                fmt_utc(f),
                fmt_utc(l),
                x.bonus_waves
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join(";"),
            ],
        )?;
    }
    w.flush()?;
    // messages.csv
    let mut w = create(dir, FILES[2], false, o)?;
    header(
        &mut w,
        "message_id,provider,sent_utc,title,body,sender,source_ip,wave,verdict,reason,recipients,delivered,failed",
    )?;
    for m in &a.messages {
        row(
            &mut w,
            &[
                m.id.clone(),
                m.provider.clone(),
                fmt_utc(m.sent),
                m.title.clone().unwrap_or_default(),
                m.body.clone().unwrap_or_default(),
                m.sender.clone().unwrap_or_default(),
                m.source_ip.clone().unwrap_or_default(),
                m.wave.map(|w| w.to_string()).unwrap_or_default(),
                if m.malicious {
                    "malicious"
                } else {
                    "legitimate"
                }
                .to_string(),
                m.reason.clone(),
                m.recipient_count.to_string(),
                m.delivered.to_string(),
                m.failed.to_string(),
            ],
        )?;
    }
    w.flush()?;
    // iocs.csv
    let mut w = create(dir, FILES[3], false, o)?;
    header(
        &mut w,
        "type,value,first_seen_utc,last_seen_utc,waves,events",
    )?;
    for i in &a.iocs {
        row(
            &mut w,
            &[
                i.kind.to_string(),
                i.value.clone(),
                fmt_utc(i.first),
                fmt_utc(i.last),
                i.waves
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join(";"),
                i.events.to_string(),
            ],
        )?;
    }
    w.flush()?;
    // evidence.csv
    let mut w = create(dir, FILES[4], true, o)?;
    header(&mut w, "subject,kind,time_utc,source,file,line,reason")?;
    for x in a.affected.values() {
        for (i, kind, why) in &x.evidence {
            row(
                &mut w,
                &[
                    x.account.clone(),
                    kind.to_string(),
                    fmt_utc(ev[*i].ts),
                    ev[*i].kind().as_str().into(),
                    path_of(*i),
                    ev[*i].line.to_string(),
                    why.clone(),
                ],
            )?;
        }
    }
    for m in a.messages.iter().filter(|m| m.malicious) {
        let mut idx: Vec<usize> = m.origin.into_iter().collect();
        idx.extend(m.events.iter().copied().take(50));
        for i in idx {
            let why = if Some(i) == m.origin {
                m.reason.clone()
            } else {
                format!("record of malicious message {}", m.id)
            };
            row(
                &mut w,
                &[
                    m.id.clone(),
                    "malicious_message".into(),
                    fmt_utc(ev[i].ts),
                    ev[i].kind().as_str().into(),
                    path_of(i),
                    ev[i].line.to_string(),
                    why,
                ],
            )?;
        }
    }
    w.flush()?;
    // message-recipients.csv: every device a malicious message reached or failed on,
    // with its account where known, for the team that tells customers (and for a
    // follow-up send to the same devices where no account is known).
    let mut w = create(dir, FILES[5], true, o)?;
    header(
        &mut w,
        "message_id,wave,device_id,account_id,outcome,time_utc,file,line",
    )?;
    for m in a.messages.iter().filter(|m| m.malicious) {
        let first = m.first_event_per_device(ev);
        for r in &m.recipients {
            let at = first.get(r.device.as_str()).copied();
            row(
                &mut w,
                &[
                    m.id.clone(),
                    m.wave.map(|w| w.to_string()).unwrap_or_default(),
                    r.device.clone(),
                    r.account.clone().unwrap_or_default(),
                    if r.ok { "delivered" } else { "failed" }.to_string(),
                    at.map(|i| fmt_utc(ev[i].ts)).unwrap_or_default(),
                    at.map(path_of).unwrap_or_default(),
                    at.map(|i| ev[i].line.to_string()).unwrap_or_default(),
                ],
            )?;
        }
    }
    w.flush()?;
    Ok(FILES.iter().map(|f| dir.join(f)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_things_recognizable() {
        assert_eq!(mask_email("olena@example.com"), "o***@example.com");
        assert_eq!(mask_phone("+380671234512"), "+380*******12");
        assert_eq!(mask_name("Olena Kovalenko"), "O*** K***");
    }
}
