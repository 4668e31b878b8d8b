//! The agent runtime: text in, text out, with invisible handoffs between agents.
//!
//! Knows nothing of audio or transport; `switchboard chat` drives it directly.

pub mod embedded;
pub mod model;
pub mod openai;
pub mod providers;
