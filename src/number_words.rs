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
    }
}
