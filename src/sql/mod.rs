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
mod vocab;

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
pub use vocab::{
    is_contact_column, is_device_column, is_staff_table, name_words, names_people, same_column,
    Vocab, ACCOUNT_WORDS, DEVICE_COLUMN_WORDS,
};

/// Which SQL dialect a log speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL (`$1` placeholders, `COPY`).
    Postgres,
    /// MySQL / MariaDB / Percona (`?` placeholders, backticks).
    MySql,
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
