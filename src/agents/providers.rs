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
//! first_token_timeout_ms = 2000       # optional; [agents] model_* give the defaults
//! # Served instead when this model fails before replying (any model spec; chains).
//! fallback = { provider = "embedded", name = "intent-router" }
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::agents::embedded::{minilm_dir, BrainConfig, EmbeddedBrain, Embedder};
use crate::agents::fallback::{Breaker, BreakerConfig, FallbackModel, Link};
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
    /// Most tokens in one reply (spoken replies are short); default: the server's.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Connect timeout (ms); default `[agents] model_connect_timeout_ms`.
    #[serde(default)]
    pub connect_timeout_ms: Option<u64>,
    /// First streamed token (ms); default `[agents] model_first_token_timeout_ms`.
    #[serde(default)]
    pub first_token_timeout_ms: Option<u64>,
    /// Whole reply (ms); default `[agents] model_total_timeout_ms`.
    #[serde(default)]
    pub total_timeout_ms: Option<u64>,
    /// The model that serves a request this one fails before replying
    /// ([`crate::agents::fallback`]); may have a fallback of its own.
    #[serde(default)]
    pub fallback: Option<Box<ModelSpec>>,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            provider: Provider::Embedded,
            name: "embedded".into(),
            base_url: None,
            api_key_env: None,
            temperature: None,
            max_tokens: None,
            connect_timeout_ms: None,
            first_token_timeout_ms: None,
            total_timeout_ms: None,
            fallback: None,
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
        let ms = |v: Option<u64>, d: std::time::Duration| {
            v.map(|ms| std::time::Duration::from_millis(ms.max(1)))
                .unwrap_or(d)
        };
        OpenAiConfig {
            base_url,
            model: self.name.clone(),
            api_key_env,
            temperature: self.temperature,
            max_tokens: self.max_tokens.or(defaults.max_tokens),
            connect_timeout: ms(self.connect_timeout_ms, defaults.connect_timeout),
            first_token_timeout: ms(self.first_token_timeout_ms, defaults.first_token_timeout),
            total_timeout: ms(self.total_timeout_ms, defaults.total_timeout),
            // A chain retries by falling through: no waiting on a failing server.
            max_retries: if self.fallback.is_some() {
                0
            } else {
                defaults.max_retries
            },
            ..defaults.clone()
        }
    }

    /// This spec and its fallbacks, primary first.
    pub fn chain(&self) -> Vec<&ModelSpec> {
        let mut out = vec![self];
        let mut next = self.fallback.as_deref();
        while let Some(spec) = next {
            out.push(spec);
            next = spec.fallback.as_deref();
        }
        out
    }
}

/// Builds the chat model for one agent. `embedded` is the shared brain (built once for
/// all agents with [`load_embedded`]); it is required only when the spec asks for it.
pub fn build_model(
    spec: &ModelSpec,
    embedded: Option<&Arc<EmbeddedBrain>>,
    openai_defaults: &OpenAiConfig,
) -> Result<Arc<dyn ChatModel>, ModelError> {
    let mut breakers = Breakers::new(BreakerConfig::default());
    build_chain(spec, embedded, openai_defaults, &mut breakers)
}

/// One circuit breaker per server and model, shared by every agent's chain.
pub struct Breakers {
    config: BreakerConfig,
    by_endpoint: HashMap<String, Arc<Breaker>>,
}

impl Breakers {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            by_endpoint: HashMap::new(),
        }
    }

    fn get(&mut self, spec: &ModelSpec) -> Arc<Breaker> {
        let key = format!(
            "{:?} {} {}",
            spec.provider,
            spec.base_url.as_deref().unwrap_or(""),
            spec.name
        );
        let config = self.config;
        self.by_endpoint
            .entry(key)
            .or_insert_with(|| Arc::new(Breaker::new(config)))
            .clone()
    }
}

/// The model of `spec`, wrapped with its fallbacks ([`FallbackModel`]) if it has any.
pub fn build_chain(
    spec: &ModelSpec,
    embedded: Option<&Arc<EmbeddedBrain>>,
    openai_defaults: &OpenAiConfig,
    breakers: &mut Breakers,
) -> Result<Arc<dyn ChatModel>, ModelError> {
    if spec.fallback.is_none() {
        return build_one(spec, embedded, openai_defaults);
    }
    let fallback_after = breakers.config.fallback_after;
    let links = spec
        .chain()
        .into_iter()
        .map(|s| {
            let first_event_timeout = match s.provider {
                Provider::Openai => {
                    let own = s.openai_config(openai_defaults).first_token_timeout;
                    if s.fallback.is_some() {
                        own.min(fallback_after)
                    } else {
                        own
                    }
                }
                // The embedded brain answers in milliseconds; this only catches a fault.
                Provider::Embedded => std::time::Duration::from_secs(5),
            };
            Ok(Link {
                model: build_one(s, embedded, openai_defaults)?,
                first_event_timeout,
                breaker: breakers.get(s),
            })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    Ok(Arc::new(FallbackModel::new(links)))
}

fn build_one(
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
    breaker: BreakerConfig,
) -> Result<HashMap<String, Arc<dyn ChatModel>>, ModelError> {
    let mut breakers = Breakers::new(breaker);
    let embedded = if specs
        .values()
        .flat_map(ModelSpec::chain)
        .any(|s| s.provider == Provider::Embedded)
    {
        Some(load_embedded(models_dir, brains, BrainConfig::default())?)
    } else {
        None
    };
    specs
        .iter()
        .map(|(agent, spec)| {
            Ok((
                agent.clone(),
                build_chain(spec, embedded.as_ref(), openai_defaults, &mut breakers)?,
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
    fn a_model_table_names_its_fallback_and_timeouts() {
        let s: ModelSpec = toml::from_str(
            "provider = 'openai'\nname = 'qwen'\nbase_url = 'http://10.0.0.9:8000/v1'\n\
             first_token_timeout_ms = 900\n\
             fallback = { provider = 'embedded', name = 'intent-router' }",
        )
        .unwrap();
        let chain: Vec<_> = s
            .chain()
            .iter()
            .map(|m| (m.provider, m.name.clone()))
            .collect();
        assert_eq!(
            chain,
            [
                (Provider::Openai, "qwen".to_string()),
                (Provider::Embedded, "intent-router".to_string())
            ]
        );
        let c = s.openai_config(&OpenAiConfig::default());
        assert_eq!(c.first_token_timeout, std::time::Duration::from_millis(900));
        assert_eq!(
            c.max_retries, 0,
            "a chain falls through instead of retrying"
        );
        // Built as a chain (the embedded brain is not loaded here: that is an error).
        assert!(build_model(&s, None, &OpenAiConfig::default()).is_err());
        let remote_only = ModelSpec {
            fallback: Some(Box::new(ModelSpec {
                provider: Provider::Openai,
                name: "backup".into(),
                base_url: Some("http://10.0.0.10:8000/v1".into()),
                ..Default::default()
            })),
            ..s.clone()
        };
        let m = build_model(&remote_only, None, &OpenAiConfig::default()).unwrap();
        assert_eq!(m.name(), "openai:qwen > openai:backup");
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
