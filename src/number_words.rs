//! English number words, shared by the text normalisation in front of TTS (42 →
//! "forty-two") and the agents' reading of numbers the caller says ("seventy-three,
//! three oh one" → 73301), so the two never disagree on a word.

/// "zero" … "nineteen" (index = value).
pub const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];

/// The tens (index = tens digit; 0 and 1 have none).
pub const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// "first" … "nineteenth" (index = value; 0 has none).
pub const ORDINAL_ONES: [&str; 20] = [
    "",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];

/// The value of an ordinal word for 1–19, or of a round tens ordinal ("twelfth" →
/// 12, "twentieth" → 20), or of a day written in digits ("12th", "1st", "22nd").
pub fn ordinal_value(word: &str) -> Option<u32> {
    if let Some(p) = ORDINAL_ONES
        .iter()
        .position(|w| !w.is_empty() && *w == word)
    {
        return Some(p as u32);
    }
    if let Some(t) = word.strip_suffix("ieth").map(|w| format!("{w}y")) {
        return tens_digit(&t).map(|d| d * 10);
    }
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| word.strip_suffix(s))?;
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// A word of a figure said aloud or written ("fifty", "nine", "hundred", "oh", "99",
/// "59.99").
pub fn is_figure_word(w: &str) -> bool {
    ones_value(w).is_some()
        || tens_digit(w).is_some()
        || matches!(w, "hundred" | "thousand" | "oh")
        || (!w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The value of a word for 0–19 ("seven" → 7, "twelve" → 12).
pub fn ones_value(word: &str) -> Option<u32> {
    ONES.iter().position(|w| *w == word).map(|p| p as u32)
}

/// The tens digit of "twenty" … "ninety".
pub fn tens_digit(word: &str) -> Option<u32> {
    TENS.iter()
        .position(|w| !w.is_empty() && *w == word)
        .map(|p| p as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_values_agree() {
        assert_eq!(ones_value("zero"), Some(0));
        assert_eq!(ones_value("nineteen"), Some(19));
        assert_eq!(ones_value("twenty"), None);
        assert_eq!(tens_digit("seventy"), Some(7));
        assert_eq!(tens_digit(""), None);
        assert_eq!(tens_digit("ten"), None);
        assert_eq!(ordinal_value("twelfth"), Some(12));
        assert_eq!(ordinal_value("first"), Some(1));
        assert_eq!(ordinal_value("thirtieth"), Some(30));
        assert_eq!(ordinal_value("12th"), Some(12));
        assert_eq!(ordinal_value("22nd"), Some(22));
        assert_eq!(ordinal_value("month"), None);
        assert_eq!(ordinal_value("th"), None);
    }
}
