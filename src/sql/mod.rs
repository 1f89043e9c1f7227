//! Statement understanding for every DB format: class, tables, whole-table vs selective
//! reads, account ids named, bonus balance changes, sqlcommenter tags and injection
//! markers. The `sqlparser` crate parses what it can (class and tables from the AST); a
//! token-level analysis over its tokenizer reads predicates and values, and is the
//! tolerant fallback for truncated or dialect-specific statements.

mod bonus;
mod canon;
mod cases;
pub mod definitions;
mod evasion;
mod extent;
mod filters;
mod forms;
mod keys;
mod markers;
mod parts;
mod ranges;
mod routines;
mod rowsets;
mod skeleton;
mod slice;
mod text;
mod tokens;

use text::without_tag_comments;
pub use text::{class_filter, command_word, masked, string_literals};

use crate::model::{self, BonusChange, SqlFacts, StmtClass, Text};
pub use canon::{canonical, canonical_into};
pub use evasion::blinds;
pub use markers::{server_tool, trace_id, url_decode};
pub use slice::{slice, Slice};
use sqlparser::ast::{visit_relations, Statement};
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser as SqlParser;
use sqlparser::tokenizer::Tokenizer;
use std::ops::ControlFlow;
pub use tokens::Tok;

/// Which SQL dialect a log speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL (`$1` placeholders, `COPY`).
    Postgres,
    /// MySQL / MariaDB / Percona (`?` placeholders, backticks).
    MySql,
}

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

/// What the parser learned about a statement text, independent of bound parameters;
/// cached per thread because applications repeat the same statements endlessly.
#[derive(Debug)]
struct Shape {
    class: StmtClass,
    tables: Vec<Text>,
    toks: Vec<Tok>,
    fallback: bool,
    injection: Option<Text>,
    /// Several statements in one (an injection marker that literals cannot change).
    stacked: bool,
    /// The class of a transaction or script sent as one query whose statements,
    /// transaction control aside, are all of one class (read or write): `analyze` reads
    /// them one by one.
    script: Option<StmtClass>,
    /// Whether the tokens' literals are exactly the skeleton's masked literals, in order,
    /// so another statement of the same skeleton may put its own values in their place.
    literals_match: bool,
    /// Whether a word of it names a contact column (`is_contact_column`): only then may
    /// it name rows by contacts (`Analysis::contact_keyed`).
    contact_words: bool,
}

thread_local! {
    /// One cache per dialect (indexed by `Dialect as usize`): the same text is another
    /// statement in another dialect (`1=1--%'` ends in a comment in PostgreSQL and opens
    /// a string in MySQL, where `--` needs a space after it). Shared, a shape parsed in
    /// one dialect answered for the other, whichever the thread had read first.
    static SHAPES: std::cell::RefCell<[Shapes; 2]> = std::cell::RefCell::new(Default::default());
}

/// The shape cache: by skeleton, or by whole text for statements that have none (or
/// whose literals the tokenizer reads differently from the skeleton scanner).
#[derive(Default)]
struct Shapes {
    by_skeleton: foldhash::HashMap<String, std::rc::Rc<Shape>>,
    by_text: foldhash::HashMap<String, std::rc::Rc<Shape>>,
}

/// Most shapes a thread keeps (the cache is dropped when full; statements with inline
/// literals rarely repeat and would otherwise grow it without bound).
const SHAPE_CACHE: usize = 20_000;

/// Longest statement text given to the SQL parser, bytes.
const MAX_PARSED: usize = 64 << 10;

fn shape(text: &str, dialect: Dialect) -> Shape {
    let toks_raw = match dialect {
        Dialect::Postgres => Tokenizer::new(&PostgreSqlDialect {}, text).tokenize(),
        Dialect::MySql => Tokenizer::new(&MySqlDialect {}, text).tokenize(),
    };
    let (toks, parsed) = match toks_raw {
        Ok(raw) => {
            let toks: Vec<Tok> = raw.iter().cloned().filter_map(tokens::convert).collect();
            // The real parser, over the same tokens (no second tokenization), for
            // statements of ordinary size. Its tree costs kilobytes per statement: two
            // megabytes of `SELECT 1;` took 3 GB. Longer text (bulk inserts, generated
            // lists, pasted payloads) is read by the token analysis alone.
            let parsed = (text.len() <= MAX_PARSED).then(|| match dialect {
                Dialect::Postgres => SqlParser::new(&PostgreSqlDialect {})
                    .with_tokens(raw)
                    .parse_statements(),
                Dialect::MySql => SqlParser::new(&MySqlDialect {})
                    .with_tokens(raw)
                    .parse_statements(),
            });
            (toks, parsed.and_then(Result::ok))
        }
        Err(_) => (tokens::fallback_lex(text), None),
    };
    let mut class = tokens::class_of(&toks);
    let mut tables: Vec<String> = Vec::new();
    let stacked;
    let fallback = match parsed {
        Some(stmts) if !stmts.is_empty() => {
            let name_of = |n: &sqlparser::ast::ObjectName| {
                let last = n.0.last()?.to_string();
                Some(last.trim_matches(['"', '`']).to_ascii_lowercase())
            };
            let _ = visit_relations(&stmts, |name| {
                tables.extend(name_of(name));
                ControlFlow::<()>::Continue(())
            });
            // `COPY customers TO …` names its table outside any relation the visitor sees.
            for st in &stmts {
                if let Statement::Copy {
                    source: sqlparser::ast::CopySource::Table { table_name, .. },
                    ..
                } = st
                {
                    tables.extend(name_of(table_name));
                }
            }
            // The parser calls `WITH … UPDATE` and a data-modifying CTE a query.
            if let Some(c) = ast_class(&stmts[0]).filter(|_| class != StmtClass::Write) {
                class = c;
            }
            stacked = stmts.len() > 1;
            false
        }
        _ => {
            tables = tokens::tables(&toks);
            // A `;` with more after it, as the parser's statement count would say.
            stacked = toks
                .iter()
                .position(|x| x.sym(";"))
                .is_some_and(|i| toks[i + 1..].iter().any(|x| !x.sym(";")));
            true
        }
    };
    // A CTE's name is the statement's own relation, not a table of the database; MySQL's
    // `INTO OUTFILE '…'` names a file the parser takes for a table.
    let ctes = parts::cte_names(&toks);
    let file = toks
        .windows(2)
        .any(|w| w[0].kw("INTO") && (w[1].kw("OUTFILE") || w[1].kw("DUMPFILE")));
    let named_file = |t: &str| file && matches!(t, "outfile" | "dumpfile");
    // MySQL's `UPDATE LOW_PRIORITY IGNORE t`: the parser takes the modifier for the
    // table (and the table for its alias); the tokens name the table.
    let modifier = |t: &str| {
        matches!(
            t,
            "low_priority" | "high_priority" | "delayed" | "ignore" | "quick"
        )
    };
    if tables.iter().any(|t| modifier(t)) {
        tables.extend(tokens::tables(&toks));
    }
    tables.retain(|t| !ctes.contains(t) && !named_file(t) && !modifier(t));
    tables.sort();
    tables.dedup();
    let injection = injection(text, &toks, stacked);
    let script = if stacked { script_class(&toks) } else { None };
    let contact_words = toks.iter().filter_map(Tok::word).any(is_contact_column);
    Shape {
        contact_words,
        class,
        tables: tables.iter().map(|t| model::text(t)).collect(),
        toks,
        fallback,
        injection,
        stacked,
        script,
        literals_match: false,
    }
}

/// The statements of a text, split at `;`.
fn statements(toks: &[Tok]) -> impl Iterator<Item = &[Tok]> {
    toks.split(|t| t.sym(";")).filter(|p| !p.is_empty())
}

/// Whether a statement only controls the transaction or the session (`BEGIN`,
/// `COMMIT`, `SET search_path …`): a script's wrapper, not its work.
fn is_control(part: &[Tok]) -> bool {
    matches!(
        part.first(),
        Some(Tok::Word(_, w, false)) if matches!(
            &**w,
            "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE" | "SET"
        )
    )
}

/// The class of a script's statements when, transaction control aside, they are all
/// reads or all writes (`BEGIN; UPDATE …; UPDATE …; COMMIT`, a query tool's batch of
/// INSERTs); `None` for a mix (an injected `; DROP …` after a read keeps the read's
/// class and facts).
fn script_class(toks: &[Tok]) -> Option<StmtClass> {
    let mut one = None;
    for part in statements(toks) {
        let c = tokens::class_of(part);
        if c == StmtClass::Other && is_control(part) {
            continue;
        }
        match one {
            None => one = Some(c),
            Some(o) if o == c => {}
            Some(_) => return None,
        }
    }
    one.filter(|c| matches!(c, StmtClass::Read | StmtClass::Write))
}

/// The injection marker of a statement: a payload in its text or tokens, else stacked
/// statements.
fn injection(text: &str, toks: &[Tok], stacked: bool) -> Option<Text> {
    markers::injection(text, toks)
        .or_else(|| stacked.then(|| "stacked statements".to_string()))
        .map(|i| model::text(&i))
}

/// The literal tokens of a token list, in order.
fn literal_toks(toks: &[Tok]) -> impl Iterator<Item = &Tok> {
    toks.iter()
        .filter(|t| matches!(t, Tok::Num(_) | Tok::Str(_)))
}

/// Whether the tokenizer read exactly the skeleton's literals.
fn literals_match(toks: &[Tok], lits: &[skeleton::Lit]) -> bool {
    literal_toks(toks).count() == lits.len()
        && literal_toks(toks).zip(lits).all(|(t, l)| match (t, l) {
            (Tok::Num(a), skeleton::Lit::Num(b)) | (Tok::Str(a), skeleton::Lit::Str(b)) => {
                &**a == *b
            }
            _ => false,
        })
}

/// A statement's tokens, by the dialect's tokenizer or, where it refuses the text, the
/// forgiving lexer.
pub(crate) fn lex(text: &str, dialect: Dialect) -> Vec<Tok> {
    let raw = match dialect {
        Dialect::Postgres => Tokenizer::new(&PostgreSqlDialect {}, text).tokenize(),
        Dialect::MySql => Tokenizer::new(&MySqlDialect {}, text).tokenize(),
    };
    match raw {
        Ok(raw) => raw.into_iter().filter_map(tokens::convert).collect(),
        Err(_) => tokens::fallback_lex(text),
    }
}

/// A cached shape's tokens with this statement's literals in place of the first one's.
fn with_literals(toks: &[Tok], lits: &[skeleton::Lit]) -> Vec<Tok> {
    let mut next = lits.iter();
    toks.iter()
        .map(|t| match t {
            Tok::Num(_) | Tok::Str(_) => match next.next() {
                Some(skeleton::Lit::Num(v)) => Tok::Num((*v).into()),
                Some(skeleton::Lit::Str(v)) => Tok::Str((*v).into()),
                None => t.clone(),
            },
            _ => t.clone(),
        })
        .collect()
}

/// Analyzes one statement. `params` are bound parameters (`$1`…, or `?` in order).
pub fn analyze(
    text: &str,
    params: &[String],
    dialect: Dialect,
    vocab: &Vocab,
) -> (StmtClass, SqlFacts) {
    let mut facts = SqlFacts::default();
    let (req, app) = markers::sqlcommenter(text);
    facts.request_id = req.map(|r| Text::from(&*r));
    facts.application = app.map(|a| model::text(&a));
    let text = without_tag_comments(text);
    let skel = skeleton::skeleton(&text);
    // A hit by skeleton shares the shape of other values; a hit by text is this very
    // statement (or one written identically) seen before.
    let (by_skeleton, by_text) = SHAPES.with(|c| {
        let c = &c.borrow()[dialect as usize];
        match skel.as_ref().and_then(|(k, _)| c.by_skeleton.get(k)) {
            Some(sh) => (Some(sh.clone()), None),
            None => (None, c.by_text.get(text.as_ref()).cloned()),
        }
    });
    // (shape, this statement's own tokens when they differ from the shape's, injection)
    let (sh, own, injection) = match (by_skeleton, by_text, &skel) {
        // Same skeleton, literals read exactly: this statement's values in the cached
        // tokens; the injection test sees them (and the text) as a fresh parse would.
        (Some(sh), _, Some((_, lits))) => {
            let toks = with_literals(&sh.toks, lits);
            let inj = injection(&text, &toks, sh.stacked);
            (sh, Some(toks), inj)
        }
        (_, Some(sh), _) => {
            let inj = sh.injection.clone();
            (sh, None, inj)
        }
        _ => {
            let mut s = shape(&text, dialect);
            if let Some((_, lits)) = &skel {
                s.literals_match = literals_match(&s.toks, lits);
            }
            let s = std::rc::Rc::new(s);
            // A skeleton whose literals the tokenizer read differently is not shared:
            // its statements keep their own parse (under their own text).
            SHAPES.with(|c| {
                let c = &mut c.borrow_mut()[dialect as usize];
                if c.by_skeleton.len() + c.by_text.len() >= SHAPE_CACHE {
                    c.by_skeleton.clear();
                    c.by_text.clear();
                }
                match skel {
                    Some((k, _)) if s.literals_match => c.by_skeleton.insert(k, s.clone()),
                    _ => c.by_text.insert(text.to_string(), s.clone()),
                };
            });
            let inj = s.injection.clone();
            (s, None, inj)
        }
    };
    let toks = own.as_deref().unwrap_or(&sh.toks);
    // An insert without a column list into a table whose columns are known.
    let filled = definitions::with_columns(toks, vocab);
    let toks = filled.as_deref().unwrap_or(toks);
    facts.tables = sh.tables.as_slice().into();
    facts.fallback = sh.fallback;
    facts.injection = injection;
    // A script's statements are read one by one (bound values, numbered across the
    // whole text or by position, keep it whole).
    let (class, parts): (StmtClass, Vec<&[Tok]>) = match sh.script {
        Some(c) if params.is_empty() => (
            c,
            statements(toks)
                .filter(|p| tokens::class_of(p) == c)
                .collect(),
        ),
        _ => (sh.class, vec![toks]),
    };
    // A call of a bonus routine writes balances (`CALL loyalty.credit_points(…)`).
    let class = match class {
        StmtClass::Other | StmtClass::Read
            if routines::called_routine(toks, vocab)
                .is_some_and(|r| vocab.is_bonus_routine(&r)) =>
        {
            StmtClass::Write
        }
        c => c,
    };
    // Even one write inside `BEGIN; …; COMMIT` is a script: pgaudit logs the text with
    // each statement's record.
    facts.script = sh.script.is_some() && params.is_empty();
    let row_table = class == StmtClass::Write
        && facts.tables.iter().any(|t| {
            // Table names are lower-cased already, as the vocabulary's words are.
            vocab
                .push_words
                .iter()
                .chain(&vocab.device_words)
                .any(|w| t.contains(w.as_str()))
        });
    // A write's statements inside it: a WITH's CTE bodies and main statement, a
    // MERGE's actions.
    let parts: Vec<parts::Part> = if class == StmtClass::Write {
        parts.into_iter().flat_map(parts::parts).collect()
    } else {
        parts
            .into_iter()
            .map(|p| parts::Part {
                toks: std::borrow::Cow::Borrowed(p),
                qmarks_before: Some(0),
            })
            .collect()
    };
    let mut ids: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    // Whether every part that names rows names them by their own id.
    let (mut by_id, mut by_key, mut by_contact) = (false, false, false);
    // The values parts name their rows by contacts with (`SqlFacts::contact_ids`).
    let mut contacts: Vec<String> = Vec::new();
    for part in &parts {
        // Positional values bind in order: a part sees those after the ones before it.
        let params = match part.qmarks_before {
            Some(n) => params.get(n..).unwrap_or_default(),
            None if part
                .toks
                .iter()
                .any(|x| matches!(x, Tok::Param(q) if &**q == "?")) =>
            {
                &[]
            }
            None => params,
        };
        let an = tokens::Analysis::new(&part.toks, params, vocab, &facts.tables);
        if !sh.contact_words && filled.is_none() {
            let _ = an.contact.set(false);
        }
        let (keys, row_ids) = an.keys();
        let contact = !row_ids && !keys.is_empty() && an.contact_keyed();
        by_id |= row_ids;
        by_contact |= contact;
        by_key |= !row_ids && !contact && !keys.is_empty();
        if contact {
            contacts.extend(keys.iter().cloned());
        }
        for a in keys {
            if !ids.contains(&a) {
                ids.push(a);
            }
        }
        if class == StmtClass::Read {
            let (whole, page) = an.read_extent();
            facts.whole_table_read |= whole;
            facts.page_rows = facts.page_rows.max(u16::try_from(page).unwrap_or(u16::MAX));
            // The accounts of a read of a table or a page of one, by key.
            if (whole || page > 0) && facts.key_range.is_none() {
                facts.key_range = an.key_range().map(Box::new);
            }
        } else if matches!(class, StmtClass::Write | StmtClass::Ddl) {
            facts.whole_table_read |= an.copies_whole_table() || an.returns_whole_table();
        }
        // Emptying a bonus table changes every balance it held.
        if class == StmtClass::Ddl && part.toks.first().is_some_and(|x| x.kw("TRUNCATE")) {
            facts.bonus_unnamed |= an.bonus_table;
        }
        if class == StmtClass::Write {
            let (named, unnamed, step) = an.bonus_writes();
            // Rows of a balance update the filter names by a range of keys only, each
            // changed by the amount it states; bonus rows a DELETE of such a range removes.
            let delete = part.toks.first().is_some_and(|x| x.kw("DELETE")) && an.bonus_table;
            if unnamed && facts.key_range.is_none() && (step.is_some() || delete) {
                facts.key_range = an.write_range().map(|r| {
                    Box::new(model::KeyRange {
                        points: step.map(|(p, _)| p),
                        sets: step.is_some_and(|(_, s)| s),
                        ..r
                    })
                });
            }
            // The accounts whose balance it changes are named, however (rows of arrays
            // an INSERT … SELECT unnests).
            for c in &named {
                if !ids.iter().any(|a| **a == *c.account_id) {
                    ids.push(c.account_id.to_string());
                    by_key |= !contact;
                    if contact {
                        contacts.push(c.account_id.to_string());
                    }
                }
            }
            changes.extend(named);
            facts.bonus_unnamed |= unnamed;
            if facts.row.is_none() {
                // The first row written to a push or device table; else the assignments
                // of a token refresh, where an app keeps the token on the customer's own
                // row (`UPDATE users SET fcm_token = $1 WHERE id = $2`).
                let row = (row_table.then(|| an.first_row()))
                    .filter(|r| !r.is_empty())
                    .or_else(|| {
                        Some(an.set_values()).filter(|r| r.keys().any(|c| is_device_column(c)))
                    });
                facts.row = row.map(Box::new);
            }
        }
    }
    facts.row_ids = by_id && !by_key && facts.tables.len() == 1;
    facts.contact_ids = by_contact && !by_key && !by_id;
    if by_contact && !facts.contact_ids {
        // A text that names rows by contacts in one statement and by account keys or row
        // ids in another (`BEGIN; UPDATE … WHERE phone = …; INSERT … (account_id, …)`):
        // its contacts are no account ids, and their changes are of rows it does not name.
        ids.retain(|v| !contacts.contains(v));
        let before = changes.len();
        changes.retain(|c: &BonusChange| !contacts.iter().any(|v| **v == *c.account_id));
        facts.bonus_unnamed |= changes.len() < before;
    }
    facts.account_ids = ids.iter().map(|a| model::text(a)).collect();
    facts.bonus_changes = changes.into();
    (class, facts)
}

fn ast_class(s: &Statement) -> Option<StmtClass> {
    Some(match s {
        Statement::Query(_) => StmtClass::Read,
        Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => StmtClass::Write,
        Statement::Copy { to, .. } => {
            if *to {
                StmtClass::Read
            } else {
                StmtClass::Write
            }
        }
        Statement::Grant { .. } | Statement::Revoke { .. } => StmtClass::Role,
        _ => return None,
    })
}

/// Keeps only bonus changes that count: a balance UPDATE per account wins over a ledger
/// INSERT for the same operation (both are logged for one transfer in many schemas).
pub fn effective_changes(changes: &[BonusChange]) -> Vec<BonusChange> {
    let has_balance = changes.iter().any(|c| !c.ledger);
    changes
        .iter()
        .filter(|c| !has_balance || !c.ledger)
        .cloned()
        .collect()
}

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod definition_tests;
#[cfg(test)]
mod extent_tests;
#[cfg(test)]
mod range_tests;
#[cfg(test)]
mod rowset_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod update_tests;
#[cfg(test)]
mod vocab_tests;
