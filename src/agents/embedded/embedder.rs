//! Sentence embeddings for the embedded brain: all-MiniLM-L6-v2 run with candle
//! (BERT encoder, mean pooling over the attention mask, L2 normalisation).
//!
//! The model directory holds `model.safetensors`, `config.json` and `tokenizer.json`
//! (the layout `switchboard models fetch` writes under `<models dir>/minilm`).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

/// Longest input in tokens; longer caller turns are truncated (MiniLM was trained on 256).
const MAX_TOKENS: usize = 256;

/// Errors loading or running the embedding model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "embedding model file {0} is missing; run `switchboard models fetch` \
         (or set SWITCHBOARD_MODELS_DIR)"
    )]
    Missing(PathBuf),
    #[error("embedding model config: {0}")]
    Config(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}

/// The models directory (see [`crate::cache::models_root`]).
pub fn default_models_dir() -> PathBuf {
    crate::cache::models_root()
}

/// The MiniLM directory inside a models directory.
pub fn minilm_dir(models_dir: &Path) -> PathBuf {
    models_dir.join("minilm")
}

/// A loaded sentence-embedding model (384-dimensional, unit-length vectors).
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads MiniLM from `dir` (containing `model.safetensors`, `config.json`, `tokenizer.json`).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let weights = dir.join("model.safetensors");
        let config_path = dir.join("config.json");
        let tokenizer_path = dir.join("tokenizer.json");
        for p in [&weights, &config_path, &tokenizer_path] {
            if !p.is_file() {
                return Err(EmbedError::Missing(p.clone()));
            }
        }
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| EmbedError::Config(format!("{}: {e}", config_path.display())))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| EmbedError::Config(format!("{}: {e}", config_path.display())))?;
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| EmbedError::Tokenizer(format!("{}: {e}", tokenizer_path.display())))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let device = Device::Cpu;
        // SAFETY-free path: read the file into memory instead of mmap.
        let bytes = std::fs::read(&weights)
            .map_err(|e| EmbedError::Config(format!("{}: {e}", weights.display())))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)?;
        let model = BertModel::load(vb, &config)?;
        Ok(Self {
            model,
            tokenizer,
            device,
        })
    }

    /// Loads MiniLM from the default models directory (see [`default_models_dir`]).
    pub fn load_default() -> Result<Self, EmbedError> {
        Self::load(&minilm_dir(&default_models_dir()))
    }

    /// Embeds one sentence into a unit-length vector.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let ids = encoding.get_ids();
        let n = ids.len();
        let input_ids = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let type_ids = Tensor::new(encoding.get_type_ids(), &self.device)?.unsqueeze(0)?;
        let mask = Tensor::new(encoding.get_attention_mask(), &self.device)?.unsqueeze(0)?;
        let hidden = self.model.forward(&input_ids, &type_ids, Some(&mask))?; // [1, n, 384]
        let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // [1, n, 1]
        let summed = hidden.broadcast_mul(&maskf)?.sum(1)?; // [1, 384]
        let count = maskf.sum(1)?; // [1, 1]
        let mean = summed.broadcast_div(&count)?.squeeze(0)?;
        let mut v: Vec<f32> = mean.to_vec1()?;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
        tracing::trace!(tokens = n, "embedded sentence");
        Ok(v)
    }
}

impl Embedder {
    /// Whether `word` (lower case, letters) is a whole word of the model's vocabulary,
    /// or one with a common English ending ("trimmers", "edged"): the model's
    /// WordPiece vocabulary is English, so other languages' words are mostly not.
    pub fn knows_word(&self, word: &str) -> bool {
        const ENDINGS: &[&str] = &["s", "es", "ed", "d", "er", "ers", "ing", "ly"];
        let stem = word.split('\'').next().unwrap_or(word);
        let vocab = |w: &str| self.tokenizer.token_to_id(w).is_some();
        stem.is_empty()
            || vocab(stem)
            || ENDINGS.iter().any(|e| {
                stem.strip_suffix(e)
                    .is_some_and(|base| base.len() >= 3 && vocab(base))
            })
    }

    /// Embeds many sentences, padded into batches of 32 (much faster than one by one).
    pub fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(32) {
            let encodings = chunk
                .iter()
                .map(|t| self.tokenizer.encode(t.as_str(), true))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
            let len = encodings
                .iter()
                .map(|e| e.get_ids().len())
                .max()
                .unwrap_or(0);
            let n = encodings.len();
            let (mut ids, mut types, mut mask) = (
                vec![0u32; n * len],
                vec![0u32; n * len],
                vec![0u32; n * len],
            );
            for (row, e) in encodings.iter().enumerate() {
                let k = e.get_ids().len();
                ids[row * len..row * len + k].copy_from_slice(e.get_ids());
                types[row * len..row * len + k].copy_from_slice(e.get_type_ids());
                mask[row * len..row * len + k].copy_from_slice(e.get_attention_mask());
            }
            let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
            let types = Tensor::from_vec(types, (n, len), &self.device)?;
            let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
            let hidden = self.model.forward(&ids, &types, Some(&mask))?; // [n, len, 384]
            let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let mean = hidden
                .broadcast_mul(&maskf)?
                .sum(1)?
                .broadcast_div(&maskf.sum(1)?)?;
            for mut v in mean.to_vec2::<f32>()? {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
                out.push(v);
            }
        }
        Ok(out)
    }
}

/// Cosine similarity of two unit-length vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::{Arc, OnceLock};

    /// The shared test embedder, loaded once from the models cache.
    pub(crate) fn test_embedder() -> Arc<Embedder> {
        static E: OnceLock<Arc<Embedder>> = OnceLock::new();
        E.get_or_init(|| match Embedder::load_default() {
            Ok(e) => Arc::new(e),
            Err(e) => panic!(
                "MiniLM weights not found ({e}); run `switchboard models fetch` first \
                 (looked in {})",
                minilm_dir(&default_models_dir()).display()
            ),
        })
        .clone()
    }

    #[test]
    fn matches_sentence_transformers_reference() {
        let e = test_embedder();
        let v = e.embed("This is an example sentence").unwrap();
        assert_eq!(v.len(), 384);
        let want = [0.0677, 0.0635, 0.0487, 0.0793, 0.0374];
        for (got, want) in v.iter().zip(want) {
            assert!((got - want).abs() < 1e-3, "got {:?}", &v[..5]);
        }
        let norm: f32 = v.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }

    #[test]
    fn similar_sentences_are_closer() {
        let e = test_embedder();
        let a = e.embed("I was charged twice").unwrap();
        let b = e.embed("there is a double charge on my bill").unwrap();
        let c = e.embed("my internet is down").unwrap();
        assert!(cosine(&a, &b) > cosine(&a, &c));
    }

    #[test]
    fn batch_matches_single() {
        let e = test_embedder();
        let texts: Vec<String> = [
            "hi",
            "my internet has been down since this morning and I work from home",
            "refund",
        ]
        .map(String::from)
        .to_vec();
        let batch = e.embed_batch(&texts).unwrap();
        for (t, b) in texts.iter().zip(&batch) {
            let single = e.embed(t).unwrap();
            assert!(cosine(&single, b) > 0.9999, "{t}");
        }
    }

    #[test]
    fn missing_dir_names_the_fetch_command() {
        let err = Embedder::load(Path::new("/nonexistent/minilm")).unwrap_err();
        assert!(err.to_string().contains("switchboard models fetch"));
    }
}
