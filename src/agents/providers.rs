//! Choosing an agent's chat model from its `[model]` front matter: the embedded brain
//! (default, offline) or an OpenAI-compatible server.
//!
//! ```toml
//! [model]
//! provider = "openai"                 # or "embedded"
//! name = "llama3.1:8b"
//! base_url = "http://localhost:11434/v1"   # Ollama; omit for api.openai.com
//! api_key_env = "OPENAI_API_KEY"      # omit for local servers
//! temperature = 0.3
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::agents::embedded::{minilm_dir, BrainConfig, EmbeddedBrain, Embedder};
use crate::agents::model::{ChatModel, ModelError};
use crate::agents::openai::{OpenAiConfig, OpenAiModel, OPENAI_BASE_URL};

/// Which kind of chat model serves an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The offline deterministic brain (`agents::embedded`).
    #[default]
    Embedded,
    /// Any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama, llama.cpp).
    #[serde(
        alias = "openai-compatible",
        alias = "vllm",
        alias = "ollama",
        alias = "llamacpp"
    )]
    Openai,
}

/// An agent's `[model]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub provider: Provider,
    /// Provider-side model name (e.g. "gpt-4o-mini"; for embedded a label).
    pub name: String,
    /// Base URL of an OpenAI-compatible server, up to `/v1` (default: OpenAI's).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Environment variable holding the API key (default `OPENAI_API_KEY` for OpenAI
    /// itself, none for other servers).
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub temperature: Option<f32>,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            provider: Provider::Embedded,
            name: "embedded".into(),
            base_url: None,
            api_key_env: None,
            temperature: None,
        }
    }
}

impl ModelSpec {
    /// The OpenAI client configuration for this spec, on top of `defaults` (timeouts, retries).
    pub fn openai_config(&self, defaults: &OpenAiConfig) -> OpenAiConfig {
        let base_url = self
            .base_url
            .clone()
            .unwrap_or_else(|| OPENAI_BASE_URL.into());
        let api_key_env = match (&self.api_key_env, &self.base_url) {
            (Some(v), _) => Some(v.clone()),
            (None, None) => Some("OPENAI_API_KEY".into()),
            (None, Some(_)) => None,
        };
        OpenAiConfig {
            base_url,
            model: self.name.clone(),
            api_key_env,
            temperature: self.temperature,
            ..defaults.clone()
        }
    }
}

/// Builds the chat model for one agent. `embedded` is the shared brain (built once for
/// all agents with [`load_embedded`]); it is required only when the spec asks for it.
pub fn build_model(
    spec: &ModelSpec,
    embedded: Option<&Arc<EmbeddedBrain>>,
    openai_defaults: &OpenAiConfig,
) -> Result<Arc<dyn ChatModel>, ModelError> {
    match spec.provider {
        Provider::Embedded => match embedded {
            Some(brain) => Ok(brain.clone() as Arc<dyn ChatModel>),
            None => Err(ModelError::Config(
                "the embedded brain is not loaded".into(),
            )),
        },
        Provider::Openai => Ok(Arc::new(OpenAiModel::new(
            spec.openai_config(openai_defaults),
        )?)),
    }
}

/// Loads MiniLM from `<models_dir>/minilm` and builds the embedded brain over every
/// agent's `[brain]` table.
pub fn load_embedded(
    models_dir: &Path,
    brains: HashMap<String, toml::Value>,
    config: BrainConfig,
) -> Result<Arc<EmbeddedBrain>, ModelError> {
    let embedder =
        Embedder::load(&minilm_dir(models_dir)).map_err(|e| ModelError::Config(e.to_string()))?;
    Ok(Arc::new(EmbeddedBrain::new(
        Arc::new(embedder),
        brains,
        config,
    )?))
}

/// Builds every agent's model (agent → spec), loading the embedded brain only if an
/// agent uses it.
pub fn build_models(
    specs: &HashMap<String, ModelSpec>,
    brains: HashMap<String, toml::Value>,
    models_dir: &Path,
    openai_defaults: &OpenAiConfig,
) -> Result<HashMap<String, Arc<dyn ChatModel>>, ModelError> {
    let embedded = if specs.values().any(|s| s.provider == Provider::Embedded) {
        Some(load_embedded(models_dir, brains, BrainConfig::default())?)
    } else {
        None
    };
    specs
        .iter()
        .map(|(agent, spec)| {
            Ok((
                agent.clone(),
                build_model(spec, embedded.as_ref(), openai_defaults)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_model_tables() {
        let s: ModelSpec = toml::from_str(
            "provider = 'ollama'\nname = 'llama3.1:8b'\nbase_url = 'http://localhost:11434/v1'\ntemperature = 0.3",
        )
        .unwrap();
        assert_eq!(s.provider, Provider::Openai);
        let c = s.openai_config(&OpenAiConfig::default());
        assert_eq!(c.base_url, "http://localhost:11434/v1");
        assert_eq!(c.model, "llama3.1:8b");
        assert_eq!(c.api_key_env, None, "local servers need no key");
        let s: ModelSpec = toml::from_str("provider = 'openai'\nname = 'gpt-4o-mini'").unwrap();
        assert_eq!(
            s.openai_config(&OpenAiConfig::default())
                .api_key_env
                .as_deref(),
            Some("OPENAI_API_KEY")
        );
        assert!(toml::from_str::<ModelSpec>("provider = 'openai'\nname = 'x'\nbogus = 1").is_err());
    }

    #[test]
    fn builds_openai_and_requires_the_brain_for_embedded() {
        let spec = ModelSpec {
            provider: Provider::Openai,
            name: "qwen".into(),
            base_url: Some("http://127.0.0.1:8080/v1".into()),
            ..Default::default()
        };
        let m = build_model(&spec, None, &OpenAiConfig::default()).unwrap();
        assert_eq!(m.name(), "openai:qwen");
        let err = build_model(&ModelSpec::default(), None, &OpenAiConfig::default())
            .err()
            .unwrap();
        assert!(matches!(err, ModelError::Config(_)));
    }

    #[test]
    fn missing_weights_name_the_fetch_command() {
        let err = load_embedded(
            Path::new("/nonexistent"),
            HashMap::new(),
            BrainConfig::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("switchboard models fetch"),
            "{err}"
        );
    }
}
