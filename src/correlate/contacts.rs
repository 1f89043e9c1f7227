//! Accounts of statements that name their rows by a customer's phone number, e-mail
//! address or loyalty card rather than by an account key — loyalty programmes often key
//! a card by the phone it was issued to:
//!
//! ```sql
//! UPDATE loyalty_cards SET bonus_balance = bonus_balance + 50000 WHERE phone = '+380671234567'
//! ```
//!
//! The statement analysis keeps those values in place of account ids
//! (`SqlFacts::contact_ids`); the roster, which lists each customer's phone, e-mail and
//! external id, names their accounts. Values it does not hold (or all, without a roster)
//! name no account: their balance changes count among those whose rows the logs cannot
//! name, as before.

use crate::model::{Event, SourceKind, Text};
use crate::roster::Roster;
use std::collections::BTreeSet;

/// What the pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Contacts {
    /// Statements whose contacts all named accounts.
    pub named: usize,
    /// Statements with a contact the roster does not hold, and those values.
    pub unnamed: usize,
    pub unknown: BTreeSet<Text>,
    /// A roster was there to ask.
    pub roster: bool,
}

/// Replaces the contact values of statements that name rows by them with the accounts
/// the roster gives; values it cannot name are dropped, their bonus changes counted as
/// changes of rows the text does not name.
pub fn resolve(events: &mut [Box<Event>], roster: Option<&Roster>) -> Contacts {
    let mut out = Contacts {
        roster: roster.is_some(),
        ..Default::default()
    };
    for e in events.iter_mut() {
        if e.kind() != SourceKind::Db {
            continue;
        }
        let Some(f) = e.sql.as_deref_mut().filter(|f| f.contact_ids) else {
            continue;
        };
        let table = f.tables.first().map_or("", |t| t.as_str()).to_string();
        let of = |v: &Text| roster.and_then(|r| r.account_by_contact(v));
        let mut ids = Vec::new();
        let mut said = Vec::new();
        let mut missing = false;
        for v in f.account_ids.iter() {
            match of(v) {
                Some((acc, field)) => {
                    ids.push(crate::model::text(acc));
                    said.push(format!(
                        "{table} row of {v} is account {acc}'s (the roster's {field})"
                    ));
                }
                None => {
                    missing = true;
                    out.unknown.insert(v.clone());
                }
            }
        }
        let changes: Vec<_> = (f.bonus_changes.iter())
            .filter_map(|c| {
                let (acc, _) = of(&c.account_id)?;
                let mut c = c.clone();
                c.account_id = crate::model::text(acc);
                Some(c)
            })
            .collect();
        if changes.len() < f.bonus_changes.len() {
            f.bonus_unnamed = true;
        }
        f.bonus_changes = changes.into();
        ids.sort();
        ids.dedup();
        f.account_ids = ids.into();
        f.contact_ids = false;
        if missing {
            out.unnamed += 1;
        } else {
            out.named += 1;
        }
        if !said.is_empty() {
            e.extra.insert("row_owner", said.join("; "));
        }
    }
    out
}

impl Contacts {
    /// The note the pass gives, if it met any such statement.
    pub fn note(&self) -> Option<String> {
        if self.named + self.unnamed == 0 {
            return None;
        }
        let mut n = format!(
            "{} statements name their rows by a customer's phone number, e-mail address or \
             card rather than by an account key",
            self.named + self.unnamed
        );
        if self.named > 0 {
            n.push_str(&format!(
                "; {} were named through the roster's phone numbers, e-mail addresses and \
                 external ids",
                self.named
            ));
        }
        if self.unnamed > 0 {
            let examples: Vec<&str> = self.unknown.iter().take(3).map(Text::as_str).collect();
            n.push_str(&format!(
                "; {} name {} values {} (e.g. {}): those rows' accounts are unknown, and \
                 their balance changes count among those whose rows the logs cannot name",
                self.unnamed,
                self.unknown.len(),
                if self.roster {
                    "the roster does not hold"
                } else {
                    "only a roster can name (give --roster)"
                },
                examples.join(", ")
            ));
        }
        n.push('.');
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> Box<Event> {
        Box::new(crate::correlate::test_statement(sql))
    }

    fn roster() -> Roster {
        Roster::parse(
            "account_id,phone,email,external_id\n\
             7232,+380670007232,olha@x.test,CARD-0007\n\
             7233,+380670007233,petro@x.test,\n",
            "roster.csv",
        )
    }

    #[test]
    fn contacts_name_accounts_through_the_roster() {
        let mut ev = vec![
            stmt("UPDATE loyalty_cards SET bonus_balance = bonus_balance + 50000 WHERE phone = '+380670007232'"),
            stmt("UPDATE loyalty_cards SET bonus_balance = 99999 WHERE phone = '380670007233'"),
            stmt("INSERT INTO points_log (card_number, delta) VALUES ('CARD-0007', 700)"),
            stmt("SELECT full_name, birth_date FROM members WHERE email = 'Petro@x.test'"),
            stmt("UPDATE loyalty_cards SET bonus_balance = bonus_balance + 5 WHERE phone = '+380999999999'"),
        ];
        assert!(ev.iter().all(|e| e.sql.as_ref().unwrap().contact_ids));
        let got = resolve(&mut ev, Some(&roster()));
        assert_eq!((got.named, got.unnamed), (4, 1));
        let f = |i: usize| ev[i].sql.as_deref().unwrap();
        let change = |i: usize| {
            let c = &f(i).bonus_changes[0];
            (c.account_id.to_string(), c.delta, c.absolute)
        };
        assert_eq!(change(0), ("7232".into(), 50000, false));
        assert_eq!(change(1), ("7233".into(), 99999, true));
        assert_eq!(change(2), ("7232".into(), 700, false));
        assert_eq!(&*f(3).account_ids, &[Text::from("7233")]);
        assert!(f(4).bonus_changes.is_empty() && f(4).bonus_unnamed);
        assert!(f(4).account_ids.is_empty());
        assert!(ev.iter().all(|e| !e.sql.as_ref().unwrap().contact_ids));
        assert_eq!(
            ev[0].extra["row_owner"],
            "loyalty_cards row of +380670007232 is account 7232's (the roster's phone number)"
        );
        let note = got.note().unwrap();
        assert!(note.contains("5 statements name their rows by"), "{note}");
        assert!(note.contains("1 name 1 values the roster does not hold (e.g. +380999999999)"));
    }

    #[test]
    fn without_a_roster_the_changes_name_no_account() {
        let mut ev = vec![stmt(
            "UPDATE loyalty_cards SET bonus_balance = bonus_balance + 50000 WHERE phone = '+380670007232'",
        )];
        let got = resolve(&mut ev, None);
        assert_eq!((got.named, got.unnamed), (0, 1));
        let f = ev[0].sql.as_deref().unwrap();
        assert!(f.bonus_changes.is_empty() && f.bonus_unnamed && f.account_ids.is_empty());
        assert!(got
            .note()
            .unwrap()
            .contains("only a roster can name (give --roster)"));
    }

    #[test]
    fn an_account_key_wins_over_a_contact() {
        for sql in [
            "UPDATE loyalty_cards SET bonus_balance = bonus_balance + 5 WHERE member_id = 7232 AND phone = '+380670007232'",
            "SELECT member_id, pwd_hash FROM members WHERE phone = '+380670007232'",
            "UPDATE members SET email_verified = true WHERE id = 7232",
        ] {
            let e = stmt(sql);
            assert!(!e.sql.as_ref().unwrap().contact_ids, "{sql}");
        }
    }
}
