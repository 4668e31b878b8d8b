//! The months a caller asks bills for: one named ("February's bill", "Sept"), several
//! asked together or each in its own sentence, and "the bill before the latest one".

use crate::agents::confirm::{says_any, words};

/// The month (1–12) the caller asks for: the last one named that is not negated
/// ("not March, the February one" → 2). "May" counts only where it names a month
/// ("the May bill", "for May"), not in "may I".
pub fn month(text: &str) -> Option<u32> {
    months(text).last().copied()
}

/// Every month (1–12) the caller asks for, in the order named, each once ("the
/// January bill and the February bill" → [1, 2]); negated ones left out, as in
/// [`month`].
pub fn months(text: &str) -> Vec<u32> {
    let mut found: Vec<u32> = Vec::new();
    for sentence in text.split_inclusive(['.', '?', '!', ';']) {
        for m in months_in_sentence(sentence) {
            found.retain(|&f| f != m);
            found.push(m);
        }
    }
    found
}

/// The months asked for in one sentence, in order ([`months`]).
fn months_in_sentence(text: &str) -> Vec<u32> {
    let ws = words(text);
    let mut found: Vec<u32> = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        // "February's bill", "Feb", "Sept".
        let w = w.trim_end_matches("'s").trim_end_matches("’s");
        let Some(m) = crate::calendar::MONTHS
            .iter()
            .position(|name| name.eq_ignore_ascii_case(w))
            .or_else(|| {
                MONTH_ABBREVIATIONS
                    .iter()
                    .find(|(short, _)| *short == w)
                    .map(|(_, m)| *m as usize - 1)
            })
        else {
            continue;
        };
        let prev = i.checked_sub(1).map(|p| ws[p].as_str());
        if matches!(prev, Some("not" | "no" | "never")) {
            continue;
        }
        // "The January one I already have", "I already have February's": named, not
        // asked for ("already" in the same sentence, next to the month).
        let is_month = |w: &String| {
            crate::calendar::MONTHS
                .iter()
                .any(|n| n.eq_ignore_ascii_case(w))
        };
        let after = ws[i + 1..(i + 6).min(ws.len())]
            .iter()
            .take_while(|w| !is_month(w))
            .any(|w| w == "already");
        let before = ws[i.saturating_sub(3)..i].iter().any(|w| w == "already");
        if after || before {
            continue;
        }
        if w == "may" {
            let next = ws.get(i + 1).map(String::as_str);
            let names_month = matches!(prev, Some("in" | "for" | "the" | "from" | "of" | "last"))
                || matches!(next, Some("bill" | "invoice" | "statement" | "one"));
            if !names_month {
                continue;
            }
        }
        let m = m as u32 + 1;
        found.retain(|&f| f != m);
        found.push(m);
    }
    found
}

/// Words that take back the months named before them.
const CORRECTS: &[&str] = &["no", "sorry", "mean", "actually", "instead", "wait"];

/// Several months asked for together ("the January bill and the February bill",
/// "both January and February"): every two named in a row are joined by "and",
/// "plus", "both" or "also" within three words, with no correction between ("January, no, sorry, February" asks
/// for one, and so does "February. The January one I already have"). Empty otherwise.
pub fn months_together(text: &str) -> Vec<u32> {
    // "Could you email me the January and February ones? No, sorry, February and
    // March.": the list after the correction is the one asked for.
    for sentence in text.split(['.', '?', '!', ';']).rev() {
        let ws = words(sentence);
        let Some(at) = ws.iter().rposition(|w| CORRECTS.contains(&w.as_str())) else {
            continue;
        };
        let tail = ws[at + 1..].join(" ");
        if months(&tail).len() >= 2 {
            return months_together(&tail);
        }
    }
    let ws = words(text);
    let at: Vec<usize> = (0..ws.len()).filter(|&i| month(&ws[i]).is_some()).collect();
    if at.len() < 2 {
        return Vec::new();
    }
    let joiner = |b: &String| matches!(b.as_str(), "and" | "plus" | "both" | "also");
    // "January, February and March": a list whose last two are joined.
    let listed = at
        .windows(2)
        .last()
        .is_some_and(|w| ws[w[0] + 1..w[1]].iter().any(joiner));
    let joined = at.windows(2).all(|w| {
        let between = &ws[w[0] + 1..w[1]];
        let joins = between.iter().any(joiner) || (between.is_empty() && listed);
        let corrects = between
            .iter()
            .any(|b| CORRECTS.contains(&b.as_str()) || matches!(b.as_str(), "not" | "or"));
        joins && !corrects && between.len() <= 3
    });
    if joined {
        return months(text);
    }
    // "April third, ugh, I was away. Could you email me that March bill, and
    // January's as well?": a month named elsewhere in the turn (a date) leaves the
    // list in its own sentence standing.
    let sentences: Vec<&str> = text
        .split_inclusive(['.', '?', '!', ';'])
        .filter(|s| !words(s).is_empty())
        .collect();
    // (The last sentence naming a month says what is asked: "Only February and
    // March? Then February will do." asks for one.)
    if sentences.len() > 1 {
        if let Some(last) = sentences.iter().rev().find(|s| !months(s).is_empty()) {
            return months_together(last);
        }
    }
    Vec::new()
}

/// Months asked for in sentences of their own ("January by text, that one's for me.
/// And February by email."): each sentence's month (as [`month`] reads it) with the
/// sentence, in order, each month once. Fewer than two: empty.
pub fn months_by_sentence(text: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for sentence in text.split_inclusive(['.', '?', '!', ';']) {
        let Some(m) = month(sentence) else {
            continue;
        };
        match out.iter_mut().find(|(seen, _)| *seen == m) {
            // The month's latest sentence says most about it ("January by text").
            Some(entry) => entry.1 = sentence.trim().to_string(),
            None => out.push((m, sentence.trim().to_string())),
        }
    }
    if out.len() < 2 {
        out.clear();
    }
    out
}

/// Short month names as recognisers write them; "jan", "mar" and "may" are words or
/// names too often to count.
const MONTH_ABBREVIATIONS: &[(&str, u32)] = &[
    ("feb", 2),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

/// Phrases that ask for the bill before the latest one.
const PREVIOUS_BILL: &[&str] = &[
    "before the latest",
    "before the last one",
    "before the most recent",
    "the one before",
    "previous bill",
    "previous invoice",
    "previous statement",
    "previous one",
    "prior bill",
    "prior invoice",
    "second to last",
    "second last",
];

/// Words that ask for a bill by its being paid ("the most recent paid one").
const PAID_BILL: &[&str] = &[
    "paid one",
    "been paid",
    "paid bill",
    "paid invoice",
    "paid statement",
    "one that's paid",
    "one that is paid",
    "one that's been paid",
    "marked paid",
    "shows paid",
    "says paid",
];

/// The caller asks for the latest bill that is paid ("it has to be one that's been
/// paid… can you email me the most recent paid one?").
pub fn paid_bill(text: &str) -> bool {
    // (Not "my bill's not been paid": a negation just before it.)
    let ws = crate::agents::confirm::words(text);
    PAID_BILL.iter().any(|p| {
        let target: Vec<&str> = p.split(' ').collect();
        (0..ws.len().saturating_sub(target.len() - 1)).any(|i| {
            ws[i..i + target.len()]
                .iter()
                .zip(&target)
                .all(|(w, t)| w == t)
                && !ws[i.saturating_sub(4)..i]
                    .iter()
                    .any(|w| crate::agents::confirm::negates(w))
        })
    })
}

/// Words that ask for an older bill without saying which one.
const OLDER_BILL: &[&str] = &[
    "old statement",
    "old statements",
    "old bill",
    "old bills",
    "old invoice",
    "old invoices",
    "older statement",
    "older statements",
    "older bill",
    "older bills",
    "older invoice",
    "older invoices",
    "earlier statement",
    "earlier bill",
    "earlier invoice",
    "past statement",
    "past statements",
    "past bill",
    "past invoice",
    "back statement",
    "previous statements",
    "previous bills",
    "previous invoices",
];

/// The caller wants an older bill but has not said which ("a copy of one of my old
/// statements"); [`month`] and [`previous_bill`] find none in `text`.
pub fn older_bill_unnamed(text: &str) -> bool {
    says_any(text, OLDER_BILL) && month(text).is_none() && !previous_bill(text)
}

/// The caller asks for the bill before the latest ("the bill before the latest one",
/// "my previous invoice").
pub fn previous_bill(text: &str) -> bool {
    says_any(text, PREVIOUS_BILL)
}

/// How many of the latest bills the caller asks for ("the last two months? No, sorry…
/// the last three" → 3): the number (2–12, in words or digits) after the last "last",
/// "past" or "latest" that names bills ("…months", "…bills") or ends its sentence. "The
/// last four digits are…" and "with you the last ten years" ask for none.
pub fn last_count(text: &str) -> Option<usize> {
    const UNITS: &[&str] = &[
        "months",
        "bills",
        "invoices",
        "statements",
        "ones",
        "month's",
    ];
    text.split(['.', '?', '!', ';'])
        .flat_map(|sentence| {
            let ws = crate::agents::confirm::words(sentence);
            (0..ws.len().saturating_sub(1))
                .filter(|&i| matches!(ws[i].as_str(), "last" | "past" | "latest"))
                .filter(|&i| ws.get(i + 2).is_none_or(|u| UNITS.contains(&u.as_str())))
                .filter_map(|i| {
                    crate::number_words::ones_value(&ws[i + 1])
                        .or_else(|| ws[i + 1].parse().ok())
                        .filter(|n| (2..=12).contains(n))
                })
                .collect::<Vec<_>>()
        })
        .last()
        .map(|n| n as usize)
}

/// How many of the latest bills the caller asks for without naming months: "the last
/// three" ([`last_count`]), "both of them" (2), or every one ("every bill I've had",
/// "all my invoices": `usize::MAX`, as many as there are).
pub fn bills_counted(text: &str) -> Option<usize> {
    const EVERY: &[&str] = &[
        "every bill",
        "every invoice",
        "every statement",
        "every single bill",
        "every one of my bills",
        "all my bills",
        "all of my bills",
        "all the bills",
        "all of the bills",
        "all bills",
        "all my invoices",
        "all the invoices",
        "all of my invoices",
        "all my statements",
        "all the statements",
        "each bill",
        "each invoice",
    ];
    const BOTH: &[&str] = &[
        "both of them",
        "both bills",
        "both invoices",
        "both of those",
        "both statements",
        "the two of them",
    ];
    let says = |p: &[&str]| crate::agents::confirm::says_any(text, p);
    last_count(text)
        .or_else(|| says(EVERY).then_some(usize::MAX))
        .or_else(|| says(BOTH).then_some(2))
}
