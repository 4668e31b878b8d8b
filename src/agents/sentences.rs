//! Splitting a streamed reply into complete sentences (or long clauses) so speech
//! synthesis can start on the first one while the model is still writing.

/// Words whose trailing period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "no", "approx", "ave", "apt",
];
/// A clause boundary (`,` `;` `:` `—`) ends a piece only once it is this long.
const CLAUSE_MIN_CHARS: usize = 60;

/// Incremental sentence splitter.
#[derive(Debug, Default)]
pub struct SentenceSplitter {
    buf: String,
}

impl SentenceSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add streamed text; returns the pieces completed by it.
    pub fn push(&mut self, delta: &str) -> Vec<String> {
        self.buf.push_str(delta);
        let mut out = Vec::new();
        while let Some(end) = self.boundary() {
            let piece: String = self.buf[..end].trim().to_string();
            self.buf.drain(..end);
            if !piece.is_empty() {
                out.push(piece);
            }
        }
        out
    }

    /// The stream ended: whatever is left.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        let rest = rest.trim();
        (!rest.is_empty()).then(|| rest.to_string())
    }

    /// Byte index just past the first boundary whose following whitespace has arrived.
    fn boundary(&self) -> Option<usize> {
        let chars: Vec<(usize, char)> = self.buf.char_indices().collect();
        for (k, &(i, c)) in chars.iter().enumerate() {
            if c == '\n' {
                if self.buf[..i].trim().is_empty() {
                    continue;
                }
                return Some(i + 1);
            }
            let terminal = matches!(c, '.' | '!' | '?' | '…');
            let clause = matches!(c, ',' | ';' | ':' | '—')
                && self.buf[..i].trim().chars().count() >= CLAUSE_MIN_CHARS;
            if !terminal && !clause {
                continue;
            }
            // Skip closing quotes/brackets, then require whitespace.
            let mut j = k + 1;
            while j < chars.len() && matches!(chars[j].1, '"' | '\'' | '”' | '’' | ')') {
                j += 1;
            }
            // Not yet known whether whitespace follows: wait for more text.
            let &(ws_at, next) = chars.get(j)?;
            if !next.is_whitespace() {
                continue;
            }
            if c == '.' && self.is_abbreviation(i) {
                continue;
            }
            return Some(ws_at);
        }
        None
    }

    fn is_abbreviation(&self, dot: usize) -> bool {
        let before = &self.buf[..dot];
        let word = before
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        let word = word
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .to_ascii_lowercase();
        ABBREVIATIONS.contains(&word.as_str())
            || (word.len() == 1 && word.chars().all(|c| c.is_ascii_alphabetic()))
    }
}

/// Split a complete text into pieces (non-streaming convenience).
pub fn split_all(text: &str) -> Vec<String> {
    let mut s = SentenceSplitter::new();
    let mut out = s.push(text);
    out.extend(s.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_streamed_sentences_but_not_prices_or_titles() {
        let mut s = SentenceSplitter::new();
        let mut out = Vec::new();
        for d in [
            "I can see a charge of $59.",
            "99 on March 12. Dr. Smith said",
            " hi! Is that right?",
            " Ok",
        ] {
            out.extend(s.push(d));
        }
        out.extend(s.finish());
        assert_eq!(
            out,
            vec![
                "I can see a charge of $59.99 on March 12.",
                "Dr. Smith said hi!",
                "Is that right?",
                "Ok"
            ]
        );
    }

    #[test]
    fn long_clauses_are_split_early() {
        let text = "I checked your account and everything on the network side looks healthy, so the slowdown is most likely your plan's speed cap.";
        let pieces = split_all(text);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(pieces[0].ends_with("healthy,"));
    }

    #[test]
    fn waits_for_whitespace_after_terminator() {
        let mut s = SentenceSplitter::new();
        assert!(s.push("Done.").is_empty());
        assert_eq!(s.push(" Next"), vec!["Done."]);
    }
}
