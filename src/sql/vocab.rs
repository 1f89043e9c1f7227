//! The vocabulary of tables and columns: which names hold customers, bonus balances,
//! amounts, devices, contacts and staff, from common words and a site profile's own.

use super::definitions;
use crate::model;

/// Vocabulary that decides which tables and columns matter. Defaults cover common words;
/// a site profile extends them.
#[derive(Debug, Clone)]
pub struct Vocab {
    /// Words that make a table a bonus (loyalty) table.
    pub bonus_words: Vec<String>,
    /// Words that make a table hold customer accounts / personal data.
    pub account_words: Vec<String>,
    /// Columns that hold an account id in any table.
    pub account_columns: Vec<String>,
    /// Columns that hold a bonus balance or amount.
    pub amount_columns: Vec<String>,
    /// Smallest LIMIT that counts as a bulk (whole-table) read.
    pub bulk_limit: u64,
    /// Words that make a table a push / campaign table (its inserted rows are kept).
    pub push_words: Vec<String>,
    /// Words that make a table hold customers' devices (its inserted rows are kept: a
    /// registration names the device and its account).
    pub device_words: Vec<String>,
    /// Routines whose parameters are known (the site profile's; the schema dump's and
    /// the evidence's definitions): a call by position is read by their names.
    pub routines: Vec<definitions::Routine>,
    /// Tables whose columns are known in order (the schema's, the evidence's
    /// definitions): an insert without a column list is read by their names.
    pub tables: Vec<definitions::Table>,
}

/// Words of column names that hold a device: an installation id, a push token, a
/// provider's registration, endpoint, player or subscription id.
pub const DEVICE_COLUMN_WORDS: [&str; 8] = [
    "device",
    "installation",
    "token",
    "registration",
    "endpoint",
    "player",
    "subscription",
    "instance",
];

/// Whether a column's name says it holds a customer's contact or the number of their
/// loyalty card, by which an application may name the customer's rows instead of by the
/// account's key (`phone`, `msisdn`, `email_address`, `card_number`, `barcode`,
/// `external_id`). A card's own `card_id` numbers the card row and is not one.
pub fn is_contact_column(c: &str) -> bool {
    const WHAT: [&str; 7] = [
        "phone",
        "msisdn",
        "mobile",
        "email",
        "barcode",
        "card",
        "cardholder",
    ];
    const LAST: [&str; 11] = [
        "phone", "msisdn", "mobile", "email", "barcode", "card", "number", "no", "num", "address",
        "code",
    ];
    let near =
        |w: &str| (c.as_bytes().windows(w.len())).any(|x| x.eq_ignore_ascii_case(w.as_bytes()));
    if !WHAT.iter().chain(&["external"]).any(|w| near(w)) {
        return false;
    }
    let words = name_words(c);
    match words.as_slice() {
        [x, y] if x == "external" && y == "id" => true,
        [first, .., last] if first == "is" || first == "has" || !LAST.contains(&last.as_str()) => {
            false
        }
        _ => words.iter().any(|w| WHAT.contains(&w.as_str())),
    }
}

/// Whether a column's name says it holds a device (`fcm_token`, `Player_ID`).
pub fn is_device_column(c: &str) -> bool {
    let c = c.to_ascii_lowercase();
    DEVICE_COLUMN_WORDS.iter().any(|w| c.contains(w))
}

impl Default for Vocab {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        Vocab {
            bonus_words: v(&["bonus", "loyalty", "point", "reward", "cashback", "wallet"]),
            account_words: v(ACCOUNT_WORDS),
            account_columns: v(&[
                "account_id",
                "customer_id",
                "user_id",
                "client_id",
                "member_id",
                "to_account_id",
                "from_account_id",
                "target_account_id",
            ]),
            amount_columns: v(&[
                "balance",
                "points",
                "bonus",
                "bonus_points",
                "points_balance",
                "bonus_balance",
                "amount",
                "delta",
                "points_delta",
                "change",
                "value",
            ]),
            bulk_limit: 1000,
            push_words: v(&["push", "notification", "campaign", "broadcast", "message"]),
            device_words: v(&["device", "installation", "push_token", "fcm_token"]),
            routines: Vec::new(),
            tables: Vec::new(),
        }
    }
}

/// Words that make a table (`guests`, `loyalty_members`, `people`) or a column
/// (`guest_id`, `patronNumber`) about the customers. Restaurants and shops call them by
/// many names; a site with another lists it in its profile.
pub const ACCOUNT_WORDS: &[&str] = &[
    "customer",
    "client",
    "user",
    "account",
    "profile",
    "member",
    "person",
    "people",
    "guest",
    "patron",
    "diner",
    "subscriber",
    "shopper",
];

/// Last words of a column that holds a row's key (`guest_id`, `customer_uuid`,
/// `account_no`, `member_number`).
const KEY_WORDS: &[&str] = &["id", "uuid", "guid", "no", "nr", "num", "number"];

/// Words of a column that names who acted on a row rather than whom it is about
/// (`created_by_user_id`, `admin_user_id`, `staff_member_id`), each the start of a word.
#[rustfmt::skip]
const ACTOR_WORDS: &[&str] = &[
    "by", "created", "updated", "modified", "approved", "author", "creator", "sender",
    "admin", "staff", "employee", "operator", "agent", "manager", "cashier", "backoffice",
];

/// Words of a column name that say it holds points or a balance.
const AMOUNT_WORDS: &[&str] = &["points", "balance", "bonus", "cashback", "credits"];
/// Words that say so only in a bonus table: a loyalty programme's own unit (Starbucks'
/// stars, a coffee card's stamps), which elsewhere is a review's rating or a trip's
/// length.
const UNIT_WORDS: &[&str] = &["stars", "stamps", "coins", "miles", "crowns"];
/// Words of a column name that say it holds something about them instead (a tier, an
/// expiry, a balance before or after a movement, an id).
#[rustfmt::skip]
const NOT_AMOUNT_WORDS: &[&str] = &[
    "id", "at", "date", "time", "tier", "level", "expire", "expires", "expiry", "expiration",
    "rate", "type", "status", "code", "name", "multiplier", "factor", "percent", "pct",
    "version", "before", "after", "old", "new", "prev", "previous", "initial", "final", "max",
    "min", "limit", "lifetime", "total", "earned", "spent", "redeemed", "cost", "price",
    "required", "threshold", "needed",
];

/// Whether two column names are one name as schemas spell it: in any case, with or
/// without underscores (`customer_id`, `customerId` as Prisma and TypeORM write it,
/// `CustomerID`).
pub fn same_column(a: &str, b: &str) -> bool {
    let mut x = a.bytes().filter(|&c| c != b'_');
    let mut y = b.bytes().filter(|&c| c != b'_');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
            _ => return false,
        }
    }
}

impl Vocab {
    /// The known routine a call of `name` with `args` values runs: one of that name
    /// whose parameters take them all, the one that takes exactly that many first; in
    /// the order they were added (the profile's, the schema's, the evidence's).
    pub fn routine(&self, name: &str, args: usize, by_call: bool) -> Option<&definitions::Routine> {
        let fits = self.routines.iter().filter(|r| r.name == name);
        let n = |r: &&definitions::Routine| r.passed(by_call).count();
        (fits.clone().find(|r| n(r) == args)).or_else(|| fits.into_iter().find(|r| n(r) >= args))
    }
    /// Whether a routine changes bonus balances: its name says so, or its definition's
    /// body writes a bonus table.
    pub fn is_bonus_routine(&self, name: &str) -> bool {
        self.is_bonus_table(name)
            || (self.routines.iter()).any(|r| r.name == name && r.writes_bonus)
    }
    /// Whether a column holds an account id in any table (`account_id`, `customerId`).
    /// Besides the listed columns, one whose last word is a key (`id`, `uuid`, `no`,
    /// `number`) after a customer word or its short form (`guest_id`,
    /// `loyalty_account_id`, `customerUUID`, `member_number`, `cust_id`) and that names
    /// no actor (`created_by_user_id`, `admin_user_id`); `customer_phone_number` is a
    /// phone number.
    pub fn is_account_column(&self, col: &str) -> bool {
        if self.account_columns.iter().any(|c| same_column(c, col)) {
            return true;
        }
        // Two words at least: an underscore or a lower-case letter before an upper-case one.
        let b = col.as_bytes();
        let two = b.contains(&b'_')
            || b.windows(2)
                .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
        if !two || col.len() > 64 {
            return false;
        }
        let words = name_words(col);
        let [.., owner, key] = words.as_slice() else {
            return false;
        };
        KEY_WORDS.contains(&key.as_str())
            && (self
                .account_words
                .iter()
                .any(|w| owner.starts_with(w.as_str()))
                || ["cust", "acct", "usr"].contains(&owner.as_str()))
            && !(words.iter()).any(|w| ACTOR_WORDS.iter().any(|a| w.starts_with(a)))
    }
    /// Whether the vocabulary lists a column as a bonus balance or amount (`balance`,
    /// `points_delta`, `pointsDelta`).
    pub fn is_amount_column(&self, col: &str) -> bool {
        self.amount_columns.iter().any(|c| same_column(c, col))
    }
    /// Whether a column's own words say it holds a customer's points or balance
    /// (`loyalty_points`, `rewardBalance`, `cashback`), not a fact about them
    /// (`points_expire_at`, `bonus_tier`, `balance_after`, `lifetime_points`): the
    /// balance of a schema whose column the vocabulary does not list.
    /// In a bonus table, the programme's own units count too (`stars`, `stamps`).
    pub fn names_amount(&self, col: &str, bonus_table: bool) -> bool {
        let words = name_words(col);
        let unit = |w: &String| bonus_table && UNIT_WORDS.contains(&w.as_str());
        words
            .iter()
            .any(|w| AMOUNT_WORDS.contains(&w.as_str()) || unit(w))
            && !words.iter().any(|w| NOT_AMOUNT_WORDS.contains(&w.as_str()))
    }
    /// Whether a table is part of the bonus system: a bonus word in its name, unless the
    /// name ends in a customer word (`loyalty_customer`, a Django app's model table).
    pub fn is_bonus_table(&self, t: &str) -> bool {
        let l = model::lower(t);
        self.bonus_words.iter().any(|w| l.contains(w.as_str()))
            && !names_people(t, &self.account_words)
    }
    /// Whether a table holds customer accounts (personal data). A staff table
    /// (`admin_users`, `staff_accounts`) holds the company's people, not its customers.
    pub fn is_account_table(&self, table: &str) -> bool {
        let t = model::lower(table);
        self.account_words.iter().any(|w| t.contains(w.as_str())) && !is_staff_table(table)
    }
}

/// Whether a table's name ends in a word for people (`loyalty_customer`,
/// `RewardsMember`, `loyalty.app_users`; any of `words` but `account`, or its plural in
/// `s`; not `membership`): its rows are
/// those people, whatever words come before — Django names a model's table after its
/// application (`<app>_<model>`), and an application called `loyalty` has its
/// customers in `loyalty_customer`. A points account (`bonus_accounts`) is no person,
/// and a staff table holds the company's people.
pub fn names_people(table: &str, words: &[String]) -> bool {
    let name = name_words(table);
    name.last().is_some_and(|last| {
        (words.iter()).filter(|w| w.as_str() != "account").any(|w| {
            last.strip_prefix(w.as_str())
                .is_some_and(|s| s.is_empty() || s == "s")
        })
    }) && !is_staff_table(table)
}

/// Words that make a table the staff's: the first letters of a word of its own name
/// (schema left out: a `backoffice.customers` table is still the customers).
const STAFF_TABLE_WORDS: &[&str] = &["admin", "staff", "backoffice", "employee", "internal"];

/// Whether a table's own name says it holds staff (`admin_users`, `staff_accounts`,
/// `employees`, `BackofficeUser`), not customers.
pub fn is_staff_table(t: &str) -> bool {
    name_words(t)
        .iter()
        .any(|w| STAFF_TABLE_WORDS.iter().any(|s| w.starts_with(s)))
}

/// The words of a table's own name, lower-cased (schema and quotes left out): split at
/// what is not a letter or digit, and where a lower-case letter meets an upper-case one
/// (`admin_users` → admin, users; `BackofficeUser` → backoffice, user).
pub fn name_words(t: &str) -> Vec<String> {
    let name = t.rsplit('.').next().unwrap_or(t);
    let name = name.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut cur));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase();
        cur.push(c.to_ascii_lowercase());
    }
    words.push(cur);
    words.retain(|w| !w.is_empty());
    words
}
