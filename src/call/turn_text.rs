//! Word-level heuristics for turn-taking: does the caller sound unfinished, is an
//! interruption only a backchannel, and how much of a sentence has been spoken.

/// Words after which a pause is probably mid-sentence.
const UNFINISHED_TAIL: &[&str] = &[
    "and", "or", "but", "so", "because", "the", "a", "an", "my", "to", "of", "for", "with", "um",
    "uh", "is", "was", "i", "in", "on", "that", "which", "if", "then", "like", "our", "your", "me",
    "it's", "i'm", "by",
];

/// Listener noises that acknowledge without asking for anything.
const BACKCHANNEL: &[&str] = &[
    "uh-huh", "uh", "huh", "mm-hmm", "mhm", "mm", "hmm", "um", "ok", "okay", "right", "yeah",
    "alright", "sure", "i", "see", "got", "it", "cool", "ah", "oh",
];

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether the caller's words so far look like they will go on after a pause.
pub fn looks_unfinished(partial: &str) -> bool {
    let trimmed = partial.trim_end();
    if trimmed.ends_with(',') || trimmed.ends_with("...") {
        return true;
    }
    words(trimmed)
        .last()
        .is_some_and(|w| UNFINISHED_TAIL.contains(&w.as_str()))
}

/// Whether `text` is only a backchannel ("uh-huh", "okay", "I see") — at most three
/// words, all acknowledgements.
pub fn is_backchannel(text: &str) -> bool {
    let w = words(text);
    !w.is_empty() && w.len() <= 3 && w.iter().all(|x| BACKCHANNEL.contains(&x.as_str()))
}

/// How many of `text`'s words have been spoken once `fraction` of its audio has
/// played, weighting words by length (longer words take longer to say).
pub fn words_spoken(text: &str, fraction: f32) -> usize {
    let ws: Vec<&str> = text.split_whitespace().collect();
    let total: usize = ws.iter().map(|w| w.len() + 1).sum();
    if total == 0 {
        return 0;
    }
    let budget = (fraction.clamp(0.0, 1.0) * total as f32).floor() as usize;
    let mut used = 0;
    for (i, w) in ws.iter().enumerate() {
        used += w.len() + 1;
        if used > budget {
            return i;
        }
    }
    ws.len()
}

/// Words `from..to` of `text`, joined by single spaces.
pub fn word_range(text: &str, from: usize, to: usize) -> String {
    let ws: Vec<&str> = text.split_whitespace().collect();
    let to = to.min(ws.len());
    if from >= to {
        return String::new();
    }
    ws[from..to].join(" ")
}

/// Number of words in `text`.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_tails() {
        assert!(looks_unfinished("I was charged twice and"));
        assert!(looks_unfinished("my account number is,"));
        assert!(looks_unfinished("I need help with my"));
        assert!(!looks_unfinished("I was charged twice."));
        assert!(!looks_unfinished(""));
    }

    #[test]
    fn backchannels() {
        for b in [
            "uh-huh",
            "Okay.",
            "mm-hmm",
            "I see",
            "yeah okay",
            "Right, right",
        ] {
            assert!(is_backchannel(b), "{b}");
        }
        for n in [
            "",
            "okay but I was charged twice",
            "no",
            "stop",
            "wait what about my refund",
        ] {
            assert!(!is_backchannel(n), "{n}");
        }
    }

    #[test]
    fn words_spoken_by_fraction() {
        let t = "I can see two charges";
        assert_eq!(words_spoken(t, 0.0), 0);
        assert_eq!(words_spoken(t, 1.0), 5);
        let half = words_spoken(t, 0.5);
        assert!((2..=3).contains(&half), "{half}");
        assert_eq!(word_range(t, 1, 3), "can see");
        assert_eq!(word_range(t, 4, 9), "charges");
        assert_eq!(word_range(t, 5, 9), "");
    }
}
