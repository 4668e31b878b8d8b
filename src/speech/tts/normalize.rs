//! Text normalisation for speech: turn what an agent writes into what a voice should say.
//!
//! "$49.99" → "forty-nine dollars and ninety-nine cents", "March 12" → "March twelfth",
//! "2024-03-12" → "March twelfth, twenty twenty-four", "15%" → "fifteen percent",
//! "10:30 AM" → "ten thirty A M", "(555) 123-4567" and long ids → digit by digit,
//! "Dr." → "Doctor", "support@acme.com" → "support at acme dot com". US English.
//!
//! Passes run in a fixed order (emails, money, dates, times, phone numbers, ...)
//! so that an earlier, more specific pattern claims its digits before the generic
//! number pass sees them. Output contains no digits that a pass understood.

use crate::calendar::MONTHS;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::number_words::{ONES, TENS};
const SCALES: [(u64, &str); 4] = [
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// Cardinal words: 42 → "forty-two", 1_205 → "one thousand two hundred five".
pub fn cardinal(n: u64) -> String {
    if n < 20 {
        return ONES[n as usize].to_string();
    }
    if n < 100 {
        let (t, o) = (n / 10, n % 10);
        return if o == 0 {
            TENS[t as usize].to_string()
        } else {
            format!("{}-{}", TENS[t as usize], ONES[o as usize])
        };
    }
    if n < 1000 {
        let (h, r) = (n / 100, n % 100);
        return if r == 0 {
            format!("{} hundred", ONES[h as usize])
        } else {
            format!("{} hundred {}", ONES[h as usize], cardinal(r))
        };
    }
    for (scale, name) in SCALES {
        if n >= scale {
            let (hi, r) = (n / scale, n % scale);
            let head = format!("{} {name}", cardinal(hi));
            return if r == 0 {
                head
            } else {
                format!("{head} {}", cardinal(r))
            };
        }
    }
    unreachable!("n >= 1000 matches a scale")
}

/// Ordinal words: 1 → "first", 12 → "twelfth", 21 → "twenty-first".
pub fn ordinal(n: u64) -> String {
    let words = cardinal(n);
    let (head, last) = match words.rfind([' ', '-']) {
        Some(i) => words.split_at(i + 1),
        None => ("", words.as_str()),
    };
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// A year the way people say it: 1999 → "nineteen ninety-nine", 2005 → "two thousand five",
/// 2024 → "twenty twenty-four", 1900 → "nineteen hundred".
pub fn year(n: u64) -> String {
    if !(1100..=2999).contains(&n) || (2000..2010).contains(&n) {
        return cardinal(n);
    }
    let (hi, lo) = (n / 100, n % 100);
    match lo {
        0 => format!("{} hundred", cardinal(hi)),
        1..=9 => format!("{} oh {}", cardinal(hi), cardinal(lo)),
        _ => format!("{} {}", cardinal(hi), cardinal(lo)),
    }
}

/// Each digit as a word: "4051" → "four zero five one".
pub fn digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ONES[d as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_int(s: &str) -> Option<u64> {
    s.replace(',', "").parse().ok()
}

/// "1,234.5" → "one thousand two hundred thirty-four point five"; `None` if not a number.
fn decimal_words(s: &str) -> Option<String> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let mut out = cardinal(parse_int(if int.is_empty() { "0" } else { int })?);
    if let Some(f) = frac.filter(|f| !f.is_empty()) {
        out.push_str(" point ");
        out.push_str(&digits(f));
    }
    Some(out)
}

fn month_index(name: &str) -> Option<usize> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| {
        let m = m.to_ascii_lowercase();
        m == n || (n.len() <= 4 && m.starts_with(&n)) || (n == "sept" && m == "september")
    })
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("valid regex"));
    };
}

re!(
    EMAIL,
    r"\b([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b"
);
re!(
    URL,
    r"\b(?:https?://)?(?:www\.)?([a-z0-9-]+)\.(com|org|net|io|co|dev|help|app)(/[A-Za-z0-9/_-]*)?\b"
);
re!(
    MONEY,
    r"([$£€])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:\s?(k|K|thousand|million|billion|M|B|bn)\b)?"
);
re!(PERCENT, r"(\d+(?:\.\d+)?)\s?(%|percent\b)");
re!(ISO_DATE, r"\b(\d{4})-(\d{2})-(\d{2})\b");
re!(US_DATE, r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b");
re!(
    MONTH_DAY,
    r"\b(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?"
);
re!(TIME, r"\b(\d{1,2}):(\d{2})(?:\s*([AaPp])\.?\s?[Mm]\b\.?)?");
re!(HOUR_AMPM, r"\b(\d{1,2})\s*([AaPp])\.?\s?[Mm]\b\.?");
re!(
    PHONE,
    r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b"
);
re!(HASH_NUMBER, r"#\s?(\d+)");
re!(ORDINAL, r"\b(\d+)(st|nd|rd|th)\b");
re!(LONG_DIGITS, r"\b\d{5,}\b");
re!(
    YEAR_CONTEXT,
    r"\b(in|since|of|from|by|until|before|after)\s+(1[1-9]\d\d|20\d\d)\b"
);
re!(RANGE, r"\b(\d+)\s?(?:-|–|to)\s?(\d+)\b");
re!(NEGATIVE, r"(^|[\s(])-(\d)");
re!(NUMBER, r"\b(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\b");
re!(SPACES, r"[ \t]{2,}");

/// Abbreviations expanded wherever they appear (case-sensitive, word-bounded).
const ABBREVIATIONS: &[(&str, &str)] = &[
    (r"\bDr\.", "Doctor"),
    (r"\bMr\.", "Mister"),
    (r"\bMrs\.", "Missus"),
    (r"\bMs\.", "Miz"),
    (r"\bSt\.", "Street"),
    (r"\bAve\.", "Avenue"),
    (r"\bJr\.", "Junior"),
    (r"\bSr\.", "Senior"),
    (r"\bInc\.", "Incorporated"),
    (r"\bLtd\.", "Limited"),
    (r"\bCo\.", "Company"),
    (r"\bDept\.", "Department"),
    (r"\bapprox\.", "approximately"),
    (r"\bvs\.?(\s)", "versus$1"),
    (r"\be\.g\.,?", "for example,"),
    (r"\bi\.e\.,?", "that is,"),
    (r"\betc\.(\s+[A-Z]|\s*$)", "et cetera.$1"),
    (r"\betc\.", "et cetera"),
    (r"\b[Nn]o\.\s?(\d)", "number $1"),
    (r"\bmins?\b\.?", "minutes"),
    (r"\bhrs?\b\.?", "hours"),
    (r"\bsecs?\b\.?", "seconds"),
    (r"\bGB\b", "gigabytes"),
    (r"\bMB\b", "megabytes"),
    (r"\bTB\b", "terabytes"),
    (r"\bMbps\b", "megabits per second"),
    (r"\bFAQ\b", "F A Q"),
    (r"\bASAP\b", "as soon as possible"),
    (r"\bw/", "with "),
    (r"\b24/7\b", "twenty-four seven"),
    (r"\s&\s", " and "),
];

static ABBREV_RES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    ABBREVIATIONS
        .iter()
        .map(|(p, r)| (Regex::new(p).expect("valid abbreviation regex"), *r))
        .collect()
});

fn money(c: &Captures) -> String {
    let (unit, unit_pl, sub, sub_pl) = match &c[1] {
        "£" => ("pound", "pounds", "penny", "pence"),
        "€" => ("euro", "euros", "cent", "cents"),
        _ => ("dollar", "dollars", "cent", "cents"),
    };
    let Some(whole) = parse_int(&c[2]) else {
        return c[0].to_string();
    };
    if let Some(scale) = c.get(4) {
        let scale = match scale.as_str() {
            "k" | "K" | "thousand" => "thousand",
            "million" | "M" => "million",
            _ => "billion",
        };
        let num = match c.get(3) {
            Some(f) => format!("{} point {}", cardinal(whole), digits(f.as_str())),
            None => cardinal(whole),
        };
        return format!("{num} {scale} {unit_pl}");
    }
    let cents = c.get(3).map(|f| {
        let f = f.as_str();
        let v: u64 = f.parse().unwrap_or(0);
        if f.len() == 1 {
            v * 10
        } else {
            v
        }
    });
    let whole_words = format!(
        "{} {}",
        cardinal(whole),
        if whole == 1 { unit } else { unit_pl }
    );
    match cents {
        None | Some(0) => whole_words,
        Some(ct) => {
            let cent_words = format!("{} {}", cardinal(ct), if ct == 1 { sub } else { sub_pl });
            if whole == 0 {
                cent_words
            } else {
                format!("{whole_words} and {cent_words}")
            }
        }
    }
}

fn date_words(month: usize, day: u64, year_num: Option<u64>) -> String {
    let mut s = format!("{} {}", MONTHS[month], ordinal(day));
    if let Some(y) = year_num {
        s.push_str(", ");
        s.push_str(&year(y));
    }
    s
}

fn time_words(c: &Captures) -> String {
    let (Ok(h), Ok(m)) = (c[1].parse::<u64>(), c[2].parse::<u64>()) else {
        return c[0].to_string();
    };
    if h > 23 || m > 59 {
        return c[0].to_string();
    }
    let ampm = c.get(3).map(|a| {
        if a.as_str().eq_ignore_ascii_case("a") {
            " A M"
        } else {
            " P M"
        }
    });
    let minutes = match m {
        0 if ampm.is_some() => String::new(),
        0 => " o'clock".to_string(),
        1..=9 => format!(" oh {}", cardinal(m)),
        _ => format!(" {}", cardinal(m)),
    };
    format!("{}{minutes}{}", cardinal(h), ampm.unwrap_or(""))
}

/// Normalise `text` for a speech synthesizer (see the module docs).
/// Compile the patterns now (voice start-up) rather than on the first reply.
pub fn warm_up() {
    let _ = normalize("Dr. Smith at www.example.com, a@b.com: 10% of $59.99 on 2026-03-12 at 3:30 pm, call 555-123-0001.");
}

pub fn normalize(text: &str) -> String {
    let mut s = text.to_string();
    s = EMAIL
        .replace_all(&s, |c: &Captures| {
            let user = c[1]
                .replace('.', " dot ")
                .replace('_', " underscore ")
                .replace('-', " dash ");
            format!("{user} at {}", c[2].replace('.', " dot "))
        })
        .into_owned();
    s = URL
        .replace_all(&s, |c: &Captures| {
            let mut out = format!("{} dot {}", &c[1], &c[2]);
            if let Some(path) = c
                .get(3)
                .map(|p| p.as_str().trim_matches('/'))
                .filter(|p| !p.is_empty())
            {
                out.push_str(" slash ");
                out.push_str(&path.replace('/', " slash "));
            }
            out
        })
        .into_owned();
    for (re, rep) in ABBREV_RES.iter() {
        s = re.replace_all(&s, *rep).into_owned();
    }
    s = MONEY.replace_all(&s, |c: &Captures| money(c)).into_owned();
    s = PERCENT
        .replace_all(&s, |c: &Captures| match decimal_words(&c[1]) {
            Some(w) => format!("{w} percent"),
            None => c[0].to_string(),
        })
        .into_owned();
    s = ISO_DATE
        .replace_all(&s, |c: &Captures| {
            let (y, m, d) = (
                c[1].parse::<u64>(),
                c[2].parse::<usize>(),
                c[3].parse::<u64>(),
            );
            match (y, m, d) {
                (Ok(y), Ok(m @ 1..=12), Ok(d @ 1..=31)) => date_words(m - 1, d, Some(y)),
                _ => c[0].to_string(),
            }
        })
        .into_owned();
    s = US_DATE
        .replace_all(&s, |c: &Captures| {
            let (m, d, y) = (
                c[1].parse::<usize>(),
                c[2].parse::<u64>(),
                c[3].parse::<u64>(),
            );
            match (m, d, y) {
                (Ok(m @ 1..=12), Ok(d @ 1..=31), Ok(y)) => date_words(m - 1, d, Some(y)),
                _ => c[0].to_string(),
            }
        })
        .into_owned();
    s = MONTH_DAY
        .replace_all(&s, |c: &Captures| {
            let (Some(m), Ok(d)) = (month_index(&c[1]), c[2].parse::<u64>()) else {
                return c[0].to_string();
            };
            if !(1..=31).contains(&d) {
                return c[0].to_string();
            }
            date_words(m, d, c.get(3).and_then(|y| y.as_str().parse().ok()))
        })
        .into_owned();
    s = TIME
        .replace_all(&s, |c: &Captures| time_words(c))
        .into_owned();
    s = HOUR_AMPM
        .replace_all(&s, |c: &Captures| match c[1].parse::<u64>() {
            Ok(h @ 1..=12) => {
                format!(
                    "{} {}",
                    cardinal(h),
                    if c[2].eq_ignore_ascii_case("a") {
                        "A M"
                    } else {
                        "P M"
                    }
                )
            }
            _ => c[0].to_string(),
        })
        .into_owned();
    s = PHONE
        .replace_all(&s, |c: &Captures| {
            let d: String = c[0].chars().filter(|ch| ch.is_ascii_digit()).collect();
            let d = d.strip_prefix('1').filter(|r| r.len() == 10).unwrap_or(&d);
            let groups = [&d[..3], &d[3..6], &d[6..]];
            groups
                .iter()
                .map(|g| digits(g))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .into_owned();
    s = HASH_NUMBER
        .replace_all(&s, |c: &Captures| format!("number {}", digits(&c[1])))
        .into_owned();
    s = ORDINAL
        .replace_all(&s, |c: &Captures| match c[1].parse() {
            Ok(n) => ordinal(n),
            Err(_) => c[0].to_string(),
        })
        .into_owned();
    s = LONG_DIGITS
        .replace_all(&s, |c: &Captures| digits(&c[0]))
        .into_owned();
    s = YEAR_CONTEXT
        .replace_all(&s, |c: &Captures| match c[2].parse() {
            Ok(y) => format!("{} {}", &c[1], year(y)),
            Err(_) => c[0].to_string(),
        })
        .into_owned();
    s = RANGE.replace_all(&s, "$1 to $2").into_owned();
    s = NEGATIVE.replace_all(&s, "${1}minus $2").into_owned();
    s = NUMBER
        .replace_all(&s, |c: &Captures| {
            let num = format!("{}{}", &c[1], c.get(2).map_or("", |m| m.as_str()));
            decimal_words(&num).unwrap_or_else(|| c[0].to_string())
        })
        .into_owned();
    SPACES.replace_all(s.trim(), " ").into_owned()
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
