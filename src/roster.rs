//! The customer roster (`--roster FILE.csv`): the export a company holds. Headers matched
//! case-insensitively with common synonyms, delimiter sniffed, BOM tolerated, devices in a
//! `;`-separated column or one row per device. Maps push recipients to accounts and
//! supplies contact details; malformed rows are counted like evidence lines.

mod dates;

use crate::model::Rejection;
use crate::timeparse::{parse_any, AssumeTz};
use std::collections::BTreeMap;
use std::path::Path;

/// One customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Customer {
    /// Account id.
    pub account_id: String,
    /// Creation time, µs UTC.
    pub created: Option<i64>,
    /// The creation time carried no zone and was read as UTC (`correlate::rosterzone`
    /// may learn its zone from the evidence).
    pub created_zoneless: bool,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// External user id (push providers).
    pub external_id: Option<String>,
    /// Device / installation / subscription ids, endpoint ARNs.
    pub devices: Vec<String>,
}

/// A loaded roster.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    /// Customers by account id.
    pub customers: BTreeMap<String, Customer>,
    /// Device id → account id.
    pub by_device: BTreeMap<String, String>,
    /// External id → account id.
    pub by_external: BTreeMap<String, String>,
    /// Phone number (digits only) and e-mail address (lower case) → account id, for
    /// messages sent by SMS or e-mail. A number or address two accounts share is left out.
    pub by_contact: BTreeMap<String, Option<String>>,
    /// Data rows read.
    pub rows: u64,
    /// Malformed rows.
    pub rejected: Vec<Rejection>,
    /// Bytes of the file were neither UTF-8 nor UTF-16 (an ANSI code page's export) and
    /// were replaced: names and contacts with letters outside ASCII are damaged.
    pub not_utf8: bool,
    /// Creation times no form was read from: (line, value). Their accounts count as
    /// existing at every time.
    pub unread_created: Vec<(u64, String)>,
    /// The file.
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Col {
    Account,
    Created,
    Name,
    First,
    Last,
    Email,
    Phone,
    External,
    Device,
}

/// Header synonyms (lower-case, `_`/`-`/space-insensitive).
const SYNONYMS: &[(Col, &[&str])] = &[
    (
        Col::Account,
        &[
            "accountid",
            "account",
            "customerid",
            "userid",
            "clientid",
            "memberid",
            "accountnumber",
            "customernumber",
            "membernumber",
            "loyaltyid",
            "id",
            "customer",
        ],
    ),
    (
        Col::Created,
        &[
            "createdat",
            "created",
            "registeredat",
            "registrationdate",
            "signupdate",
            "createdutc",
            "createdon",
            "createdtime",
            "creationdate",
            "datejoined",
            "joinedat",
            "signupat",
            "signedupat",
            "registered",
            "registeredon",
        ],
    ),
    (
        Col::Name,
        &["name", "fullname", "customername", "displayname"],
    ),
    (Col::First, &["firstname", "givenname"]),
    (Col::Last, &["lastname", "surname", "familyname"]),
    (Col::Email, &["email", "emailaddress", "mail"]),
    (
        Col::Phone,
        &[
            "phone",
            "phonenumber",
            "phoneno",
            "mobile",
            "mobilephone",
            "mobilenumber",
            "msisdn",
            "tel",
        ],
    ),
    (Col::External, &["externalid", "externaluserid"]),
    (
        Col::Device,
        &[
            "deviceids",
            "devices",
            "deviceid",
            "installationid",
            "installationids",
            "fcmtoken",
            "pushtoken",
            "endpointarn",
            "subscriptionid",
            "playerid",
            "instanceid",
        ],
    ),
];

/// A header no synonym names that still holds push devices: `push_tokens`,
/// `fcm_registration_tokens`, `apns_device_token`, `onesignal_subscription_ids` — but
/// not `device_type` or `device_count`.
fn device_like(h: &str) -> bool {
    const TOKENS: [&str; 5] = [
        "pushtoken",
        "fcmtoken",
        "apnstoken",
        "registrationtoken",
        "endpointarn",
    ];
    const THINGS: [&str; 3] = ["device", "installation", "subscription"];
    const ENDS: [&str; 4] = ["id", "ids", "token", "tokens"];
    TOKENS.iter().any(|p| h.contains(p))
        || (THINGS.iter().any(|p| h.contains(p)) && ENDS.iter().any(|e| h.ends_with(e)))
}

/// A header that names the account in a form the synonyms do not list: a person's or
/// account's id, uid, uuid or number (`UID` of a Firebase Auth export, `customer_uuid`,
/// `member_no`).
fn account_like(h: &str) -> bool {
    const WHOSE: [&str; 7] = [
        "", "user", "customer", "client", "member", "account", "firebase",
    ];
    const IDS: [&str; 5] = ["uid", "uuid", "guid", "no", "ref"];
    WHOSE.iter().any(|w| {
        h.strip_prefix(w)
            .is_some_and(|rest| IDS.contains(&rest) || (!w.is_empty() && rest == "number"))
    })
}

/// A header that names when the account was made in a form the synonyms do not list
/// (`Creation Time` of a Firebase Auth export, Phoenix's `inserted_at`, `date_created`,
/// `member_since`).
fn created_like(h: &str) -> bool {
    const WHEN: [&str; 9] = [
        "created",
        "creation",
        "create",
        "registered",
        "registration",
        "signup",
        "signedup",
        "joined",
        "inserted",
    ];
    const AS: [&str; 6] = ["", "at", "on", "date", "time", "timestamp"];
    WHEN.iter().any(|w| {
        h.strip_prefix(w)
            .is_some_and(|rest| AS.contains(&rest) || rest == "ts")
    }) || [
        "datecreated",
        "dateregistered",
        "datejoined",
        "membersince",
        "customersince",
    ]
    .contains(&h)
}

fn norm(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

fn sniff_delimiter(first_line: &str) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

impl Roster {
    /// Loads a roster file.
    pub fn load(path: &Path) -> std::io::Result<Roster> {
        let raw = std::fs::read(path)?;
        // Excel's "Unicode Text" export is UTF-16 (tab-separated: the delimiter is
        // sniffed); other bytes that are not UTF-8 are replaced and said.
        let (text, lossy) = match crate::ingest::decode::utf16(&raw) {
            Some(enc) => {
                let (t, _, bad) = enc.decode(&raw);
                (t.into_owned(), bad)
            }
            None => match String::from_utf8(raw) {
                Ok(t) => (t, false),
                Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
            },
        };
        let mut r = Roster::parse(&text, &path.display().to_string());
        r.not_utf8 = lossy;
        Ok(r)
    }

    /// Parses roster text.
    pub fn parse(text: &str, name: &str) -> Roster {
        let text = text.trim_start_matches('\u{feff}');
        let delim = sniff_delimiter(text.lines().next().unwrap_or(""));
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delim)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut r = Roster {
            path: name.to_string(),
            ..Default::default()
        };
        let headers: Vec<String> = match rdr.headers() {
            Ok(h) => h.iter().map(norm).collect(),
            Err(_) => return r,
        };
        let mut cols: Vec<Option<Col>> = headers
            .iter()
            .map(|h| {
                SYNONYMS
                    .iter()
                    .find(|(_, ws)| ws.contains(&h.as_str()))
                    .map(|(c, _)| *c)
                    .or_else(|| device_like(h).then_some(Col::Device))
            })
            .collect();
        // Other names for the account and its creation, where no synonym names them: a
        // CRM's `customer_id` beside its `uuid` stays the account.
        for (col, like) in [
            (Col::Account, account_like as fn(&str) -> bool),
            (Col::Created, created_like),
        ] {
            if !cols.contains(&Some(col)) {
                for (c, h) in cols.iter_mut().zip(&headers) {
                    if c.is_none() && like(h) {
                        *c = Some(col);
                    }
                }
            }
        }
        // `id` only means the account when nothing better names it.
        if cols.iter().filter(|c| **c == Some(Col::Account)).count() > 1 {
            for (i, h) in headers.iter().enumerate() {
                if h == "id" || h == "customer" {
                    cols[i] = None;
                }
            }
        }
        // Creation times in a spreadsheet's or CRM's form: (line, account, value).
        let mut spreadsheet: Vec<(u64, String, String)> = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            r.rows += 1;
            let rec = match rec {
                Ok(x) => x,
                Err(e) => {
                    r.reject(line, format!("unreadable row: {e}"));
                    continue;
                }
            };
            if rec.iter().all(|f| f.trim().is_empty()) {
                r.rows -= 1;
                continue;
            }
            let mut c = Customer::default();
            let (mut first, mut last) = (None, None);
            let mut raw_created = None;
            for (k, f) in rec.iter().enumerate() {
                let f = f.trim();
                if f.is_empty() {
                    continue;
                }
                match cols.get(k).copied().flatten() {
                    Some(Col::Account) => c.account_id = f.to_string(),
                    Some(Col::Created) => {
                        let t = parse_any(f, &AssumeTz::Fixed(0));
                        c.created = t.map(|p| p.us);
                        c.created_zoneless = t.is_some_and(|p| p.assumed);
                        raw_created = t.is_none().then(|| f.to_string());
                    }
                    Some(Col::Name) => c.name = Some(f.to_string()),
                    Some(Col::First) => first = Some(f.to_string()),
                    Some(Col::Last) => last = Some(f.to_string()),
                    Some(Col::Email) => c.email = Some(f.to_string()),
                    Some(Col::Phone) => c.phone = Some(f.to_string()),
                    Some(Col::External) => c.external_id = Some(f.to_string()),
                    Some(Col::Device) => c.devices.extend(
                        f.split([';', ' '])
                            .filter(|d| !d.is_empty())
                            .map(str::to_string),
                    ),
                    None => {}
                }
            }
            if c.name.is_none() && (first.is_some() || last.is_some()) {
                c.name = Some(
                    [first, last]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
            if c.account_id.is_empty() {
                r.reject(line, "no account id".into());
                continue;
            }
            if rec.len() != headers.len() {
                r.reject(
                    line,
                    format!("{} fields, header has {}", rec.len(), headers.len()),
                );
                continue;
            }
            let entry = r
                .customers
                .entry(c.account_id.clone())
                .or_insert_with(|| Customer {
                    account_id: c.account_id.clone(),
                    ..Default::default()
                });
            if entry.created.is_none() {
                entry.created = c.created;
                entry.created_zoneless = c.created_zoneless;
            }
            if let Some(raw) = raw_created {
                spreadsheet.push((line, c.account_id.clone(), raw));
            }
            entry.name = entry.name.take().or(c.name);
            entry.email = entry.email.take().or(c.email);
            entry.phone = entry.phone.take().or(c.phone);
            entry.external_id = entry.external_id.take().or(c.external_id);
            entry.devices.extend(c.devices);
        }
        r.read_spreadsheet_times(spreadsheet);
        for c in r.customers.values() {
            for d in &c.devices {
                r.by_device.insert(d.clone(), c.account_id.clone());
            }
            if let Some(x) = &c.external_id {
                r.by_external.insert(x.clone(), c.account_id.clone());
            }
            let contacts = [
                c.phone.as_deref().and_then(phone_key),
                c.email.as_deref().and_then(email_key),
            ];
            for k in contacts.into_iter().flatten() {
                r.by_contact
                    .entry(k)
                    .and_modify(|a| {
                        if a.as_deref() != Some(c.account_id.as_str()) {
                            *a = None;
                        }
                    })
                    .or_insert_with(|| Some(c.account_id.clone()));
            }
        }
        r
    }

    /// Reads the creation times no timestamp form read as a spreadsheet or CRM writes
    /// them, in the day/month order the column's values allow (`dates`); those still
    /// unread are kept to be said.
    fn read_spreadsheet_times(&mut self, raw: Vec<(u64, String, String)>) {
        let order = dates::order(raw.iter().map(|(_, _, v)| v.as_str()));
        for (line, acc, v) in raw {
            let Some(t) = dates::parse(&v, order) else {
                self.unread_created.push((line, v));
                continue;
            };
            if let Some(c) = self.customers.get_mut(&acc).filter(|c| c.created.is_none()) {
                c.created = Some(t);
                c.created_zoneless = true;
            }
        }
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.rejected.push(Rejection {
            path: self.path.clone(),
            line,
            reason,
        });
    }

    /// The account of a push recipient (device id, endpoint ARN, external id, account
    /// id, or the phone number or e-mail address a message was sent to).
    pub fn account_of(&self, device_or_user: &str) -> Option<&str> {
        self.by_device
            .get(device_or_user)
            .or_else(|| self.by_external.get(device_or_user))
            .map(String::as_str)
            .or_else(|| {
                self.customers
                    .get(device_or_user)
                    .map(|c| c.account_id.as_str())
            })
            .or_else(|| {
                let k = phone_key(device_or_user).or_else(|| email_key(device_or_user))?;
                self.by_contact.get(&k)?.as_deref()
            })
    }
}

impl Roster {
    /// The account whose contact or card a statement named its rows by (`WHERE phone =
    /// '+380671234567'`, `card_number = 'C-0042'`): the roster's external id (a loyalty
    /// card's number), phone number (its digits, with or without the `+`) or e-mail
    /// address that one account holds; and which of those it was.
    pub fn account_by_contact(&self, v: &str) -> Option<(&str, &'static str)> {
        if let Some(a) = self.by_external.get(v.trim()) {
            return Some((a, "external id"));
        }
        let t = v.trim();
        let plus = if t.starts_with('+') {
            t.to_string()
        } else {
            format!("+{t}")
        };
        if let Some(k) = phone_key(&plus) {
            return Some((self.by_contact.get(&k)?.as_deref()?, "phone number"));
        }
        let k = email_key(v)?;
        Some((self.by_contact.get(&k)?.as_deref()?, "e-mail address"))
    }
}

/// A phone number as its digits, when it is written as one (`+380 67 123-45-67`).
fn phone_key(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = s.starts_with('+')
        && s[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b" -().".contains(&b));
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (ok && digits.len() >= 7).then(|| format!("tel:{digits}"))
}

/// An e-mail address in lower case.
fn email_key(s: &str) -> Option<String> {
    let s = s.trim();
    let (user, host) = s.split_once('@')?;
    (!user.is_empty() && host.contains('.') && !s.contains(char::is_whitespace))
        .then(|| format!("mail:{}", s.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_and_email_recipients_by_contact() {
        let r = Roster::parse(
            "account_id,phone,email\n1,+380 67 123-45-67,Olena@Mail.example\n2,+380671110000,shared@x.example\n3,,shared@x.example\n",
            "r.csv",
        );
        assert_eq!(r.account_of("+380671234567"), Some("1"));
        assert_eq!(r.account_of("olena@mail.example"), Some("1"));
        assert_eq!(r.account_of("+380671110000"), Some("2"));
        assert_eq!(
            r.account_of("shared@x.example"),
            None,
            "two accounts share it"
        );
        assert_eq!(r.account_of("+380999999999"), None);
        assert_eq!(r.account_of("380671234567"), None, "digits alone are an id");
    }

    #[test]
    fn synonyms_bom_semicolons_and_devices() {
        let t = "\u{feff}Customer_ID;Phone_Number;E-mail;First Name;Last Name;Installation_Id;Created_At\n\
                 7;+380671234512;a@x.example;Olena;K;dev1;2025-01-01T00:00:00Z\n\
                 7;;;;;dev2;\n\
                 ;+1;;;;;\n";
        let r = Roster::parse(t, "r.csv");
        let c = &r.customers["7"];
        assert_eq!(c.phone.as_deref(), Some("+380671234512"));
        assert_eq!(c.name.as_deref(), Some("Olena K"));
        assert_eq!(c.devices, vec!["dev1", "dev2"]);
        assert_eq!(r.account_of("dev2"), Some("7"));
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rows, 3);
    }

    #[test]
    fn a_firebase_auth_export_names_its_columns_its_own_way() {
        let t = "UID,Email,Email Verified,Display Name,Phone Number,Creation Time,Last Sign-In Time\n\
                 kX9bQ2mZpRfT7wY3nC5vL8jH1dA2,a@x.example,true,Olena K,+380671234512,1731940408000,\n";
        let r = Roster::parse(t, "users.csv");
        // A synonym first: the CRM's own number stays the account beside a uuid.
        let both = Roster::parse(
            "customer_id,uuid,signup_ts,created_at\n7,u-1,0,2025-01-01\n",
            "c.csv",
        );
        assert!(both.customers.contains_key("7"));
        assert_eq!(both.customers["7"].created, Some(1_735_689_600_000_000));
        let c = &r.customers["kX9bQ2mZpRfT7wY3nC5vL8jH1dA2"];
        assert_eq!(c.created, Some(1_731_940_408_000_000));
        assert_eq!(c.name.as_deref(), Some("Olena K"));
        assert!(r.rejected.is_empty());
        for h in [
            "uid",
            "customeruuid",
            "memberno",
            "usernumber",
            "accountref",
        ] {
            assert!(account_like(h), "{h}");
        }
        for h in ["deviceuid", "number", "orderno", "referrer", "uidtoken"] {
            assert!(!account_like(h), "{h}");
        }
        for h in [
            "creationtime",
            "insertedat",
            "signupts",
            "datecreated",
            "membersince",
        ] {
            assert!(created_like(h), "{h}");
        }
        for h in [
            "createdby",
            "lastsignintime",
            "registrationtoken",
            "joinedvia",
        ] {
            assert!(!created_like(h), "{h}");
        }
    }

    #[test]
    fn excel_s_unicode_text_and_a_code_page_s_bytes() {
        let dir = std::env::temp_dir().join(format!("bl-roster-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // "Unicode Text": UTF-16LE with its mark, tab-separated.
        let text = "account_id\tname\n7\tОлена Коваль\n";
        let mut raw = vec![0xFF, 0xFE];
        raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let p = dir.join("u.txt");
        std::fs::write(&p, raw).unwrap();
        let r = Roster::load(&p).unwrap();
        assert_eq!(r.customers["7"].name.as_deref(), Some("Олена Коваль"));
        assert!(!r.not_utf8);
        // Windows-1251 bytes: replaced, and said.
        let p = dir.join("a.csv");
        std::fs::write(&p, b"account_id,name\n7,\xce\xeb\xe5\xed\xe0\n").unwrap();
        let r = Roster::load(&p).unwrap();
        assert!(r.customers.contains_key("7") && r.not_utf8);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn creation_times_a_spreadsheet_wrote_and_those_no_form_reads() {
        // Excel's US form: month first, as the 18th of November says; an ISO time beside
        // them keeps its zone; a value that is no time is kept to be said.
        let t = "account_id,created_at\n\
                 1,11/18/2024 2:33 PM\n\
                 2,03/04/2025 09:00\n\
                 3,2025-01-01T00:00:00Z\n\
                 4,n/a\n";
        let r = Roster::parse(t, "r.csv");
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_micros()
        };
        assert_eq!(r.customers["1"].created, Some(at("2024-11-18T14:33:00Z")));
        assert_eq!(r.customers["2"].created, Some(at("2025-03-04T09:00:00Z")));
        assert!(r.customers["1"].created_zoneless && !r.customers["3"].created_zoneless);
        assert_eq!(r.customers["4"].created, None);
        assert_eq!(r.unread_created, vec![(5, "n/a".to_string())]);
        // Day or month first, nothing says: unread, not guessed.
        let r = Roster::parse(
            "account_id,created_at\n1,03/04/2025\n2,11/12/2024\n",
            "r.csv",
        );
        assert_eq!(r.customers["1"].created, None);
        assert_eq!(r.unread_created.len(), 2);
    }

    #[test]
    fn device_columns_named_otherwise_and_device_facts_that_are_not_ids() {
        let r = Roster::parse(
            "customer_id,push_tokens,device_type,apns_device_token,device_count\n\
             1,tok-a;tok-b,ios,apns-1,3\n",
            "r",
        );
        assert_eq!(r.customers["1"].devices, vec!["tok-a", "tok-b", "apns-1"]);
        assert_eq!(r.account_of("ios"), None);
        assert_eq!(r.account_of("3"), None);
    }

    #[test]
    fn multi_device_column() {
        let r = Roster::parse(
            "account_id,device_ids,external_id\n1,a;b,ext-1\n2,c,\n",
            "r",
        );
        assert_eq!(r.account_of("b"), Some("1"));
        assert_eq!(r.account_of("ext-1"), Some("1"));
        assert_eq!(r.account_of("zzz"), None);
    }
}
