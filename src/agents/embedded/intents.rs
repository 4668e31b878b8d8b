//! The intent index: every agent's intent examples embedded once, and nearest-intent
//! scoring of a caller's words (max cosine over each intent's examples).

use std::collections::HashMap;

use super::embedder::{cosine, EmbedError, Embedder};
use super::spec::BrainSpec;

/// Who handles an intent: the agent that declares it, or `human` for `route = "human"`.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentRef {
    /// The agent whose prompt file declares the intent.
    pub agent: String,
    /// Position in that agent's `intents`.
    pub index: usize,
    /// Intent name.
    pub name: String,
    /// The agent (or `human`) that must handle it.
    pub owner: String,
}

/// An intent with its similarity to the caller's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub intent: IntentRef,
    pub score: f32,
}

/// All agents' intents with their embedded examples.
pub struct IntentIndex {
    intents: Vec<IntentRef>,
    /// (intent position, example embedding)
    examples: Vec<(usize, Vec<f32>)>,
}

impl std::fmt::Debug for IntentIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentIndex")
            .field("intents", &self.intents.len())
            .field("examples", &self.examples.len())
            .finish()
    }
}

/// Normalises caller text before embedding: whitespace, letters spelled out one by
/// one joined into the acronym they spell ("the A P I" → "the API", as recognisers
/// write spoken acronyms), then lower case.
pub fn normalise(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut letters = String::new();
    let flush = |letters: &mut String, out: &mut Vec<String>| {
        if !letters.is_empty() {
            out.push(std::mem::take(letters));
        }
    };
    for w in text.split_whitespace() {
        let bare = w.trim_end_matches([',', '.', '?', '!', ';', ':']);
        // "I" starts no run ("I I can't get online", "Plan B I think"): it joins a
        // run of two or more letters only.
        let single = bare.len() == 1
            && bare.chars().all(|c| c.is_ascii_uppercase())
            && (bare != "I" || letters.len() >= 2);
        if single && bare == w {
            letters.push_str(bare);
            continue;
        }
        if single && !letters.is_empty() {
            // The last letter, with its punctuation: "… the A P I."
            letters.push_str(bare);
            letters.push_str(&w[bare.len()..]);
            flush(&mut letters, &mut out);
            continue;
        }
        flush(&mut letters, &mut out);
        out.push(w.to_string());
    }
    flush(&mut letters, &mut out);
    out.join(" ").to_lowercase()
}

impl IntentIndex {
    /// Embeds every example of every agent's intents (agents in name order, so the
    /// index is deterministic).
    pub fn build(
        embedder: &Embedder,
        brains: &HashMap<String, BrainSpec>,
    ) -> Result<Self, EmbedError> {
        let mut agents: Vec<&String> = brains.keys().collect();
        agents.sort();
        let mut intents = Vec::new();
        let mut owners = Vec::new();
        let mut texts = Vec::new();
        for agent in agents {
            for (index, spec) in brains[agent].intents.iter().enumerate() {
                let owner = spec.route.clone().unwrap_or_else(|| agent.clone());
                let pos = intents.len();
                intents.push(IntentRef {
                    agent: agent.clone(),
                    index,
                    name: spec.name.clone(),
                    owner,
                });
                for ex in &spec.examples {
                    owners.push(pos);
                    texts.push(normalise(ex));
                }
            }
        }
        let vectors = embedder.embed_batch(&texts)?;
        let examples = owners.into_iter().zip(vectors).collect();
        Ok(Self { intents, examples })
    }

    /// Number of intents.
    pub fn len(&self) -> usize {
        self.intents.len()
    }

    /// True when no agent declares intents.
    pub fn is_empty(&self) -> bool {
        self.intents.is_empty()
    }

    /// Every intent's score for an embedded utterance, best first (ties by declaration order).
    pub fn rank(&self, embedding: &[f32]) -> Vec<Scored> {
        let mut best = vec![f32::MIN; self.intents.len()];
        for (pos, ex) in &self.examples {
            let s = cosine(embedding, ex);
            if s > best[*pos] {
                best[*pos] = s;
            }
        }
        let mut out: Vec<Scored> = self
            .intents
            .iter()
            .zip(best)
            .map(|(intent, score)| Scored {
                intent: intent.clone(),
                score,
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}

#[cfg(test)]
mod normalise_tests {
    use super::normalise;

    #[test]
    fn spelled_out_acronyms_are_joined() {
        assert_eq!(
            normalise("a script on your A P I for my account"),
            "a script on your api for my account"
        );
        assert_eq!(normalise("errors from the A P I."), "errors from the api.");
        assert_eq!(normalise("I  want a   refund"), "i want a refund");
        assert_eq!(normalise("I think I was charged"), "i think i was charged");
        assert_eq!(normalise("Plan A or plan B"), "plan a or plan b");
        assert_eq!(normalise("I I can't get online"), "i i can't get online");
        assert_eq!(normalise("Plan B I think"), "plan b i think");
    }
}
