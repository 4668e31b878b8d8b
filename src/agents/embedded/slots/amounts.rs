//! Dollar amounts a caller says or we said, in cents: "$59.99", "59.99", "fifty-nine
//! ninety-nine" (dollars, then cents as a second group), "thirty-nine", "forty
//! dollars". Used to tell a caller checking a figure we gave ("so the next bill is
//! fifty-nine ninety-nine then?") from one asking something new.

use crate::agents::confirm::words;
use crate::number_words::{ones_value, ordinal_value, tens_digit};

/// A number of 1–99 said in words at `ws[i..]` (with `ordinals`, an ordinal too: "the
/// twelfth", "twenty first" — a day, never money), and how many words it took.
fn spoken_number(ws: &[String], i: usize, ordinals: bool) -> Option<(u32, usize)> {
    let w = ws.get(i)?;
    let ordinal = |o: &str| ordinals.then(|| ordinal_value(o)).flatten();
    if let Some(t) = tens_digit(w) {
        let ones = ws
            .get(i + 1)
            .and_then(|o| ones_value(o).or_else(|| ordinal(o)))
            .filter(|o| (1..=9).contains(o));
        return Some(match ones {
            Some(o) => (t * 10 + o, 2),
            None => (t * 10, 1),
        });
    }
    ones_value(w)
        .or_else(|| ordinal(w))
        .filter(|v| *v >= 1)
        .map(|v| (v, 1))
}

/// Every amount in `text`, in cents, in order. Digits count with or without "$"
/// ("59.99", "$40"); words count from twenty up ("fifty-nine ninety-nine" is
/// $59.99, "thirty-nine" $39.00), so "one business day" or "two things" are no money.
pub fn amounts(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    // Digits: "$59.99", "59.99", "40".
    let lower = text.to_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let dollars: u32 = lower[start..i].parse().unwrap_or(0);
            let mut cents = 0;
            if bytes.get(i) == Some(&b'.')
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_digit)
            {
                cents = lower[i + 1..i + 3].parse().unwrap_or(0);
                i += 3;
            }
            let money = (start > 0 && bytes[start - 1] == b'$') || cents > 0;
            if money && dollars < 100_000 {
                out.push(dollars * 100 + cents);
            }
            continue;
        }
        i += 1;
    }
    // Words: a number from twenty up, then an optional second group for the cents.
    let ws = words(text);
    let mut i = 0;
    while i < ws.len() {
        match spoken_number(&ws, i, false) {
            Some((dollars, n)) if dollars >= 20 => {
                let mut cents = 0;
                let mut used = n;
                if let Some((c, m)) = spoken_number(&ws, i + n, false).filter(|(c, _)| *c >= 10) {
                    cents = c;
                    used += m;
                }
                out.push(dollars * 100 + cents);
                i += used;
            }
            Some((_, n)) => i += n,
            None => i += 1,
        }
    }
    out
}

/// Whether every amount in `question` is one in `said` (whole dollars match their
/// price: "thirty-nine" is $39.99), and it names at least one.
pub fn amounts_match(question: &str, said: &str) -> bool {
    let asked = amounts(question);
    let mut known = amounts(said);
    // ("…that's thirty on top of what I pay now, right?" after "$89.99 … instead of
    // $59.99": the difference of two figures we gave in one sentence is checked too.)
    for sentence in said.split_inclusive(['!', '?']).flat_map(|s| s.split(". ")) {
        let given = amounts(sentence);
        for (i, a) in given.iter().enumerate() {
            for b in &given[i + 1..] {
                if a != b {
                    known.push(a.abs_diff(*b));
                }
            }
        }
    }
    !asked.is_empty()
        && asked.iter().all(|a| {
            known
                .iter()
                .any(|k| k == a || (a % 100 == 0 && k / 100 == a / 100))
        })
}

/// Every whole number of 1–99 in `text`, in digits ("1 to 3 am") or words ("between
/// one and three"), in order: the hours and counts a caller checks back.
pub fn small_numbers(text: &str) -> Vec<u32> {
    let ws = words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        if let Ok(n) = ws[i].parse::<u32>() {
            if (1..100).contains(&n) {
                out.push(n);
            }
            i += 1;
            continue;
        }
        match spoken_number(&ws, i, true) {
            Some((n, used)) => {
                out.push(n);
                i += used;
            }
            None => i += 1,
        }
    }
    out
}

/// Whether `question` names numbers and every one is among those `said` holds ("and
/// tonight it'll drop between one and three, yes?" after "from 1 to 3 am").
pub fn numbers_match(question: &str, said: &str) -> bool {
    let asked = small_numbers(question);
    let known = small_numbers(said);
    !asked.is_empty() && asked.iter().all(|a| known.contains(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_digits_and_words() {
        assert_eq!(
            amounts("Plus is $59.99 a month, instead of $39.99 now."),
            vec![5999, 3999]
        );
        assert_eq!(
            amounts("So the next bill comes in at fifty-nine ninety-nine then, instead of the thirty-nine?"),
            vec![5999, 3900]
        );
        assert_eq!(amounts("eighty nine ninety nine"), vec![8999]);
        assert!(amounts("one business day, two things, ticket 2").is_empty());
        assert!(amounts("valid for 30 minutes").is_empty());
    }

    #[test]
    fn hours_checked_back_match_the_ones_we_gave() {
        let said = "There's planned maintenance in Austin: tonight from 1 to 3 am.";
        assert!(numbers_match(
            "And tonight it'll drop between one and three, yes?",
            said
        ));
        assert!(!numbers_match("Between two and four, yes?", said));
        assert!(!numbers_match("Tonight, yes?", said));
    }

    #[test]
    fn a_check_matches_only_the_figures_we_gave() {
        let said = "You're now on Plus at $59.99 a month, instead of $39.99.";
        assert!(amounts_match(
            "So fifty-nine ninety-nine instead of the thirty-nine?",
            said
        ));
        assert!(!amounts_match("So forty-nine ninety-nine then?", said));
        assert!(!amounts_match("So the next bill, then?", said));
        // A difference of two figures we gave.
        assert!(amounts_match(
            "So that's twenty more than now, right?",
            said
        ));
        assert!(!amounts_match(
            "So that's twenty-five more than now, right?",
            said
        ));
        // Not a difference of figures said apart.
        let apart = "Your latest bill is $39.99. Plus is $59.99 a month.";
        assert!(!amounts_match("So I'm paying twenty now, right?", apart));
    }
}
