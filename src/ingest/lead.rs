//! Broken lines at the head of a file (binary garbage, a record cut mid-write): how many
//! to look past so that the file's format is detected in the lines after them. The
//! lines themselves are read with the rest of the file and rejected as broken.

use super::{detect, envelope, head_of, Head, ParseOpts};

/// Most broken lines looked past at the start of a file.
const MOST: usize = 3;

/// How many of the head's first lines (none, or one to `MOST`) to leave out: none when a
/// format is detected in the head whole, else the fewest after which one is (a CSV
/// export's header row may follow them).
pub fn broken_lead(head: &str, popts: &ParseOpts) -> usize {
    let known = |text: &str| {
        let h = Head {
            opts: Some(popts),
            ..head_of(text)
        };
        envelope::detect(text).is_some() || detect(&h).is_some()
    };
    if known(head) {
        return 0;
    }
    (1..=MOST)
        .find(|&n| {
            let rest = past(head, n);
            rest.len() < head.len() && !rest.trim().is_empty() && known(rest)
        })
        .unwrap_or(0)
}

/// The head past its first `n` lines.
pub fn past(head: &str, n: usize) -> &str {
    let mut rest = head;
    for _ in 0..n {
        rest = rest.split_once('\n').map_or("", |(_, after)| after);
    }
    rest
}

/// What the inventory says of a file read past `n` broken lines; none for none.
pub fn told(n: usize) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "format detected past {n} broken line{} at the start of the file (rejected with \
             the file's other broken lines)",
            if n == 1 { "" } else { "s" }
        )
    })
}
