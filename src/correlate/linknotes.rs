//! The notes on what the links between the gateway and the database show and could
//! not show: statements tied to requests by page or by a quiet login's timing, and the
//! application's statements or database clocks nothing could tie to the gateway.

use super::enrich::Links;
use super::Analysis;
use crate::model::SourceKind;
use rayon::prelude::*;
use std::collections::BTreeSet;

/// What the links between the gateway and the database could not show: statements of the
/// application tied to no request (no request ids in the SQL, no accounts in the gateway
/// records) leave what the attacker changed through the application unattributed, and a
/// database clock never compared with the gateway's stays as logged.
pub fn link_notes(a: &mut Analysis, l: &Links) {
    let ev = &a.ing.events;
    if !ev.iter().any(|e| e.kind() == SourceKind::Gateway) {
        return;
    }
    let app: Vec<usize> = (0..ev.len())
        .into_par_iter()
        .filter(|&i| ev[i].kind() == SourceKind::Db && l.is_app_db(&ev[i]))
        .collect();
    let linked = app.par_iter().any(|&i| l.origin(i).is_some());
    if !app.is_empty() && !linked {
        let in_wave = |i: usize| {
            a.waves
                .iter()
                .any(|w| (w.start..=w.end).contains(&ev[i].ts))
        };
        let open: Vec<&(usize, String, i64, bool)> = a
            .bonus_ops
            .iter()
            .filter(|(i, ..)| a.attr[*i].is_none() && in_wave(*i))
            .collect();
        let accounts: BTreeSet<&str> = open.iter().map(|(_, acc, ..)| acc.as_str()).collect();
        a.notes.push(format!(
            "No statement of the application could be tied to a gateway request (the SQL \
             carries no request ids, and the gateway records name no accounts near it): what \
             the attacker did through the application in the database is not attributed. \
             {} bonus changes on {} accounts fall inside the attack waves; review them with \
             `timeline --source db --since START --until END` over each wave's times.",
            open.len(),
            accounts.len()
        ));
    }
    let paged = (l.paged.iter())
        .filter(|&&i| a.attr.get(i).is_some_and(Option::is_some))
        .count();
    if paged > 0 {
        a.notes.push(format!(
            "{paged} attacker statements that read a page of a table carry no request id \
             and name no account: each was tied to the listing request that asked for that \
             page (its number or offset and size, or its range of keys) just before it, \
             from the only client that asked for it then. These links rest on the page \
             and its timing; review them."
        ));
    }
    if !l.served.is_empty() {
        let who: Vec<String> = (l.served.iter())
            .map(|(u, h)| match h.is_empty() {
                true => u.to_string(),
                false => format!("{u}@{h}"),
            })
            .collect();
        let (s, verb, they) = match who.len() {
            1 => ("", "tags", "it"),
            _ => ("s", "tag", "they"),
        };
        a.notes.push(format!(
            "The database login{s} {} {verb} no statement with a request id and {} too \
             quiet to be the application's pool by volume, but nearly every statement \
             {they} ran came within two seconds after a gateway request, where few moments \
             chosen at random do: counted as the application's (a back office's own \
             login), {their} statements were tied to requests as the pool's are.",
            who.join(", "),
            if who.len() == 1 { "is" } else { "are" },
            their = if who.len() == 1 { "its" } else { "their" },
        ));
    }
    let formats: BTreeSet<&str> = ev
        .iter()
        .filter(|e| e.kind() == SourceKind::Db)
        .map(|e| e.format.as_str())
        .collect();
    for f in formats {
        if !a.skews.iter().any(|s| s.source == format!("db:{f}")) {
            a.notes.push(format!(
                "The clock of the {f} evidence could not be compared with the gateway's (no \
                 request-id or account pairs): its times are as logged; give --clock-skew \
                 {f}=DURATION if its offset is known."
            ));
        }
    }
}
