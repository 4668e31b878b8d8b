//! Incremental sentence splitting for streaming LLM text, so TTS can start on the
//! first sentence (or first clause) while the rest of the reply is still arriving.
//!
//! Push text deltas as they come; complete sentences pop out. A boundary is a run
//! of `. ! ?` (plus closing quotes/brackets) followed by whitespace and then one more
//! visible character, which lets the splitter see "Dr. Smith", "$4.50", "e.g. this"
//! and "J. Doe" for what they are. Blank lines and line breaks also end a segment.
//! The very first segment of a reply may be cut early at a clause mark (`, ; : —`)
//! once it is long enough, to shorten time-to-first-audio; an over-long run with no
//! boundary is cut at the last clause mark or space.

/// Settings for [`SentenceSplitter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitterConfig {
    /// Emit the first segment of a reply at a clause mark once it has at least this
    /// many characters (0 disables early clauses).
    pub first_clause_min_chars: usize,
    /// Force a cut when this many characters arrive without a boundary.
    pub max_chars: usize,
}

impl Default for SplitterConfig {
    fn default() -> Self {
        SplitterConfig {
            first_clause_min_chars: 24,
            max_chars: 240,
        }
    }
}

/// Words after which a period never ends a sentence.
const NEVER_ENDS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "vs", "e.g", "i.e", "approx", "dept", "no",
    "ave", "mt", "ft", "fig", "ref", "acct", "tel", "ext",
];
/// Words after which a period ends a sentence only if a capital letter follows.
const MAYBE_ENDS: &[&str] = &[
    "etc", "a.m", "p.m", "inc", "ltd", "co", "corp", "jan", "feb", "aug", "sept", "oct", "nov",
    "dec",
];

/// Streaming splitter: [`push`](Self::push) deltas, [`finish`](Self::finish) at the end.
#[derive(Debug, Clone, Default)]
pub struct SentenceSplitter {
    cfg: SplitterConfig,
    buf: String,
    emitted: usize,
}

impl SentenceSplitter {
    pub fn new(cfg: SplitterConfig) -> Self {
        SentenceSplitter {
            cfg,
            buf: String::new(),
            emitted: 0,
        }
    }

    /// Add a delta; returns every segment completed by it (trimmed, never empty).
    pub fn push(&mut self, delta: &str) -> Vec<String> {
        self.buf.push_str(delta);
        let mut out = Vec::new();
        while let Some(end) = self.next_cut() {
            let seg: String = self.buf.drain(..end).collect();
            let seg = seg.trim();
            if !seg.is_empty() {
                out.push(seg.to_string());
                self.emitted += 1;
            }
        }
        out
    }

    /// End of the reply: whatever is left (if anything visible).
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        let rest = rest.trim();
        let out = (!rest.is_empty()).then(|| rest.to_string());
        self.emitted = 0;
        out
    }

    /// Text held back, waiting for a boundary.
    pub fn pending(&self) -> &str {
        &self.buf
    }

    /// Byte offset just after the next complete segment in `buf`, if any.
    fn next_cut(&self) -> Option<usize> {
        let chars: Vec<(usize, char)> = self.buf.char_indices().collect();
        let n = chars.len();
        let mut i = 0;
        while i < n {
            let (pos, c) = chars[i];
            if c == '\n' {
                return Some(pos + 1);
            }
            if matches!(c, '.' | '!' | '?') {
                // the run of marks and closing quotes/brackets
                let mut j = i + 1;
                while j < n
                    && matches!(
                        chars[j].1,
                        '.' | '!' | '?' | '"' | '\'' | ')' | ']' | '”' | '’'
                    )
                {
                    j += 1;
                }
                // need whitespace, then a visible character, to decide
                let mut k = j;
                while k < n && chars[k].1.is_whitespace() && chars[k].1 != '\n' {
                    k += 1;
                }
                if j < n && chars[j].1.is_whitespace() {
                    let next = if k < n { Some(chars[k].1) } else { None };
                    if k < n && chars[k].1 == '\n' {
                        return Some(chars[k].0 + 1);
                    }
                    match next {
                        None => return None, // wait for more text
                        Some(next) => {
                            if c != '.' || self.period_ends_sentence(i, &chars, next) {
                                return Some(chars[j].0);
                            }
                        }
                    }
                }
                i = j;
                continue;
            }
            if self.emitted == 0
                && self.cfg.first_clause_min_chars > 0
                && matches!(c, ',' | ';' | ':' | '—')
                && i >= self.cfg.first_clause_min_chars
                && i + 1 < n
                && chars[i + 1].1.is_whitespace()
            {
                return Some(chars[i + 1].0);
            }
            i += 1;
        }
        if n > self.cfg.max_chars.max(16) {
            // no boundary in a long run: cut at the last clause mark, else the last space
            let limit = &chars[..self.cfg.max_chars.max(16)];
            let cut = limit
                .iter()
                .rposition(|(_, c)| matches!(c, ',' | ';' | ':'))
                .or_else(|| limit.iter().rposition(|(_, c)| c.is_whitespace()))
                .unwrap_or(limit.len() - 1);
            return Some(chars[cut].0 + chars[cut].1.len_utf8());
        }
        None
    }

    /// Decide whether the period at `i` ends a sentence, given the next visible char.
    fn period_ends_sentence(&self, i: usize, chars: &[(usize, char)], next: char) -> bool {
        // the word before the period (letters, digits and inner periods)
        let mut s = i;
        while s > 0 && (chars[s - 1].1.is_alphanumeric() || chars[s - 1].1 == '.') {
            s -= 1;
        }
        let word: String = chars[s..i]
            .iter()
            .map(|(_, c)| c.to_ascii_lowercase())
            .collect();
        let word = word.trim_matches('.');
        if word.is_empty() {
            return true;
        }
        // "1. Unplug it" at the start of a line is a list marker
        if word.chars().all(|c| c.is_ascii_digit()) && (s == 0 || chars[s - 1].1 == '\n') {
            return false;
        }
        if NEVER_ENDS.contains(&word) {
            // "No. 5" is an abbreviation; "I said no. Then" is not
            return word == "no" && !next.is_ascii_digit() && next.is_uppercase();
        }
        if MAYBE_ENDS.contains(&word) {
            return next.is_uppercase();
        }
        // a single capital initial: "J. Doe"
        let mut wc = chars[s..i].iter().map(|(_, c)| *c);
        if let (Some(only), None) = (wc.next(), wc.next()) {
            if only.is_uppercase() && next.is_uppercase() {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(deltas: &[&str], cfg: SplitterConfig) -> Vec<String> {
        let mut s = SentenceSplitter::new(cfg);
        let mut out = Vec::new();
        for d in deltas {
            out.extend(s.push(d));
        }
        out.extend(s.finish());
        out
    }

    fn no_early() -> SplitterConfig {
        SplitterConfig {
            first_clause_min_chars: 0,
            ..Default::default()
        }
    }

    /// Feed one character at a time: the hardest streaming case.
    fn by_char(text: &str, cfg: SplitterConfig) -> Vec<String> {
        let chars: Vec<String> = text.chars().map(String::from).collect();
        let refs: Vec<&str> = chars.iter().map(|s| s.as_str()).collect();
        split_all(&refs, cfg)
    }

    #[test]
    fn sentence_table() {
        let table: &[(&str, &[&str])] = &[
            (
                "Hello there. How are you?",
                &["Hello there.", "How are you?"],
            ),
            (
                "Dr. Smith will call you. Bye!",
                &["Dr. Smith will call you.", "Bye!"],
            ),
            (
                "It costs $4.50 per month. Okay?",
                &["It costs $4.50 per month.", "Okay?"],
            ),
            (
                "Use a router, e.g. the blue one. Done.",
                &["Use a router, e.g. the blue one.", "Done."],
            ),
            (
                "That's ticket No. 5 for you. Thanks.",
                &["That's ticket No. 5 for you.", "Thanks."],
            ),
            (
                "Ask J. Doe now. Then wait.",
                &["Ask J. Doe now.", "Then wait."],
            ),
            (
                "Cables, adapters, etc. Then restart.",
                &["Cables, adapters, etc.", "Then restart."],
            ),
            (
                "We open at 9 a.m. tomorrow. See you.",
                &["We open at 9 a.m. tomorrow.", "See you."],
            ),
            ("Wait... What? Really?!", &["Wait...", "What?", "Really?!"]),
            (
                "He said \"yes.\" Then left.",
                &["He said \"yes.\"", "Then left."],
            ),
            ("Line one\nLine two", &["Line one", "Line two"]),
            (
                "Steps:\n\n1. Unplug it.\n2. Wait.",
                &["Steps:", "1. Unplug it.", "2. Wait."],
            ),
            (
                "Version 2.5.1 is out. Update.",
                &["Version 2.5.1 is out.", "Update."],
            ),
            ("No trailing punctuation", &["No trailing punctuation"]),
        ];
        for (text, want) in table {
            assert_eq!(split_all(&[text], no_early()), *want, "{text:?} whole");
            assert_eq!(by_char(text, no_early()), *want, "{text:?} by char");
        }
    }

    #[test]
    fn waits_for_the_next_character_before_deciding() {
        let mut s = SentenceSplitter::new(no_early());
        assert!(s.push("It costs $4.").is_empty());
        assert!(
            s.push("50 a month. ").is_empty(),
            "needs the next visible char"
        );
        assert_eq!(s.push("S"), vec!["It costs $4.50 a month."]);
        assert!(s.push("ee you").is_empty());
        assert_eq!(s.finish().as_deref(), Some("See you"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn first_clause_is_emitted_early_once_long_enough() {
        let cfg = SplitterConfig {
            first_clause_min_chars: 20,
            max_chars: 240,
        };
        let out = by_char(
            "Sure, I can help. Thanks for waiting on the line, I found your order, it ships today.",
            cfg,
        );
        assert_eq!(
            out,
            vec![
                // "Sure," is too short for an early cut; the sentence ends first
                "Sure, I can help.",
                // only the first segment of a reply is cut early
                "Thanks for waiting on the line, I found your order, it ships today.",
            ]
        );
        let out = by_char(
            "Thanks for waiting on the line, I found your order. It ships today.",
            cfg,
        );
        assert_eq!(
            out,
            vec![
                "Thanks for waiting on the line,",
                "I found your order.",
                "It ships today."
            ]
        );
        // a thousands separator is not a clause mark
        let out = by_char("Your balance is now exactly 1,250 dollars. Ok.", cfg);
        assert_eq!(
            out,
            vec!["Your balance is now exactly 1,250 dollars.", "Ok."]
        );
    }

    #[test]
    fn over_long_runs_are_cut() {
        let cfg = SplitterConfig {
            first_clause_min_chars: 0,
            max_chars: 40,
        };
        let text = "word ".repeat(30);
        let out = split_all(&[&text], cfg);
        assert!(out.len() >= 3, "{out:?}");
        assert!(out.iter().all(|s| s.len() <= 40));
        assert_eq!(out.join(" ").split_whitespace().count(), 30);
    }

    #[test]
    fn whitespace_only_input_yields_nothing() {
        assert!(split_all(&["  ", "\n", " "], SplitterConfig::default()).is_empty());
    }
}
