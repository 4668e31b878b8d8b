//! Word error rate (WER) with transcript normalisation.
//!
//! Both sides are normalised before alignment: lowercase; hyphens and slashes split
//! words; punctuation dropped (apostrophes inside words kept); integers spelled out
//! ("10" → "ten", "1,250" → "one thousand two hundred fifty"); a few spoken
//! abbreviations expanded ("mr" → "mister"). WER is the word-level Levenshtein
//! distance divided by the number of reference words.

/// Normalise a transcript into comparable lowercase words.
pub fn normalize(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    let mut words = Vec::new();
    for raw in lowered.split(|c: char| c.is_whitespace() || c == '-' || c == '/') {
        // digits with thousands separators stay together ("1,250")
        let kept: String = raw
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == ',' || *c == '.')
            .collect();
        let is_number = kept.chars().any(|c| c.is_ascii_digit())
            && kept
                .trim_end_matches(['.', ','])
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',');
        if is_number {
            let digits: String = kept.chars().filter(char::is_ascii_digit).collect();
            match digits.parse::<u64>() {
                Ok(n) if n < 1_000_000_000 => {
                    words.extend(number_words(n).split(' ').map(str::to_string))
                }
                _ => words.extend(digits.chars().map(digit_word)),
            }
            continue;
        }
        let word: String = kept
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'')
            .collect();
        let word = word.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        let expanded = match word {
            "mr" => "mister",
            "mrs" => "missus",
            "dr" => "doctor",
            "st" => "saint",
            "ok" => "okay",
            w => w,
        };
        words.push(expanded.to_string());
    }
    words
}

fn digit_word(d: char) -> String {
    crate::speech::tts::normalize::cardinal(u64::from(d.to_digit(10).unwrap_or(0)))
}

/// Spell a number in words, without hyphens (the speech normaliser's cardinals).
pub fn number_words(n: u64) -> String {
    crate::speech::tts::normalize::cardinal(n).replace('-', " ")
}

/// Word-level edit distance between two word sequences.
pub fn edit_distance(reference: &[String], hypothesis: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=hypothesis.len()).collect();
    let mut cur = vec![0; hypothesis.len() + 1];
    for (i, r) in reference.iter().enumerate() {
        cur[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let sub = prev[j] + usize::from(r != h);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[hypothesis.len()]
}

/// Errors and reference length for one utterance, so corpora can be pooled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WerCount {
    pub errors: usize,
    pub ref_words: usize,
}

impl WerCount {
    /// Score one hypothesis against its reference.
    pub fn score(reference: &str, hypothesis: &str) -> Self {
        let r = normalize(reference);
        let h = normalize(hypothesis);
        Self {
            errors: edit_distance(&r, &h),
            ref_words: r.len(),
        }
    }

    /// Pooled WER in `[0, ∞)` (0 for an empty reference with an empty hypothesis).
    pub fn wer(&self) -> f64 {
        if self.ref_words == 0 {
            return if self.errors == 0 { 0.0 } else { 1.0 };
        }
        self.errors as f64 / self.ref_words as f64
    }
}

impl std::ops::AddAssign for WerCount {
    fn add_assign(&mut self, o: Self) {
        self.errors += o.errors;
        self.ref_words += o.ref_words;
    }
}

/// WER of one hypothesis against one reference.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    WerCount::score(reference, hypothesis).wer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_handles_case_punctuation_numbers() {
        assert_eq!(
            normalize("Mr. John Dashwood, cold-hearted!"),
            vec!["mister", "john", "dashwood", "cold", "hearted"]
        );
        assert_eq!(normalize("10 of clubs."), vec!["ten", "of", "clubs"]);
        assert_eq!(
            normalize("It's 1,250 dollars"),
            vec!["it's", "one", "thousand", "two", "hundred", "fifty", "dollars"]
        );
        assert_eq!(number_words(0), "zero");
        assert_eq!(number_words(2_000_019), "two million nineteen");
        assert_eq!(number_words(999), "nine hundred ninety nine");
    }

    #[test]
    fn wer_counts_substitutions_insertions_deletions() {
        assert_eq!(wer("ten of clubs", "10 of clubs."), 0.0);
        assert_eq!(wer("ten of clubs", "ten of hearts"), 1.0 / 3.0);
        assert_eq!(wer("ten of clubs", "ten clubs"), 1.0 / 3.0);
        assert_eq!(wer("ten of clubs", "the ten of clubs"), 1.0 / 3.0);
        assert_eq!(wer("a b", ""), 1.0);
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "noise"), 1.0);
    }

    #[test]
    fn pooled_counts_add_up() {
        let mut total = WerCount::default();
        total += WerCount::score("a b c d", "a b c d");
        total += WerCount::score("e f", "e g");
        assert_eq!(
            total,
            WerCount {
                errors: 1,
                ref_words: 6
            }
        );
    }
}
