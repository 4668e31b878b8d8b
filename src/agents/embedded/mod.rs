//! The embedded brain: an offline, deterministic `ChatModel` that routes caller turns
//! by sentence embeddings against intents declared in the prompt files (`[brain]`
//! tables), calls tools with arguments read from the conversation, and replies from
//! templates filled with tool results.

pub mod brain;
pub mod choice;
pub mod embedder;
pub mod eval;
pub mod files;
pub mod intents;
pub mod policy;
pub mod slots;
pub mod spec;
pub mod templates;

pub use brain::EmbeddedBrain;
pub use embedder::{default_models_dir, minilm_dir, EmbedError, Embedder};
pub use eval::{evaluate, EvalCase, EvalReport};
pub use policy::{BrainConfig, Decision, Policy};
pub use spec::BrainSpec;

#[cfg(test)]
mod tests;
