//! Provider selection: builds what the configuration names — the agent runtime (with
//! each agent's own chat model) and the voice stack (VAD, STT, TTS) — loading model
//! files from the cache.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::agents::embedded::default_models_dir;
use crate::agents::openai::OpenAiConfig;
use crate::agents::providers::build_models;
use crate::agents::{prompts, Runtime, RuntimeConfig};
use crate::app::{greeting_only, AppError};
use crate::call::VoiceStack;
use crate::config::Config;
use crate::store::Store;

/// The model cache directory: `[models] dir`, else the default cache.
pub fn models_dir(config: &Config) -> PathBuf {
    config.models.dir.clone().unwrap_or_else(default_models_dir)
}

/// The agent runtime: agents from `[agents] prompts_dir`, each with the chat model its
/// prompt file names, limits from `[agents]`.
pub fn agent_runtime(config: &Config, store: &Store) -> Result<Arc<Runtime>, AppError> {
    let err = |e: &dyn std::fmt::Display| AppError::Provider(format!("agents: {e}"));
    let agents = prompts::load_dir(&config.agents.prompts_dir).map_err(|e| err(&e))?;
    let runtime_config: RuntimeConfig = toml::Value::Table(config.agents.runtime.clone())
        .try_into()
        .map_err(|e| err(&e))?;
    let specs: HashMap<String, _> = agents
        .agents()
        .map(|a| (a.name.clone(), a.model.clone()))
        .collect();
    let brains: HashMap<String, toml::Value> = agents
        .agents()
        .map(|a| (a.name.clone(), a.brain.clone()))
        .collect();
    let models = build_models(
        &specs,
        brains,
        &models_dir(config),
        &OpenAiConfig::default(),
    )
    .map_err(|e| err(&e))?;
    let runtime =
        Runtime::new(agents, models, store.clone(), runtime_config).map_err(|e| err(&e))?;
    Ok(Arc::new(runtime))
}

/// The voice stack for `config`. With `speech.stt = "none"` and `speech.tts = "none"`
/// the server runs in foundation mode (greeting + recording only).
pub fn voice_stack(config: &Config, _store: &Store) -> Result<VoiceStack, AppError> {
    if config.speech.stt == "none" && config.speech.tts == "none" {
        return greeting_only(config);
    }
    // Until the speech stack is wired, every configuration runs in foundation mode.
    greeting_only(config)
}
