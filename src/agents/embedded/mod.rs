//! The embedded brain: an offline, deterministic `ChatModel` that routes caller turns
//! by sentence embeddings against intents declared in the prompt files, calls tools
//! and replies from templates.

pub mod embedder;

pub use embedder::{default_models_dir, minilm_dir, EmbedError, Embedder};
