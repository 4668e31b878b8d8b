//! CTranslate2 Whisper (spec revision 3) → whisper.cpp ggml converter.
//!
//! Writes the layout of whisper.cpp's `models/convert-pt-to-ggml.py`: magic
//! `0x67676d6c`, eleven `i32` hyper-parameters (vocab, audio ctx/state/head/layer,
//! text ctx/state/head/layer, mels, ftype = 1 for f16), the mel filter bank
//! (`i32` rows, `i32` cols, `f32` data), the byte-level BPE vocabulary (`i32`
//! count, then `u32` length + bytes per token, in rank order) and the tensors
//! (`i32` n_dims, name length, type; dims innermost first; name; data). Matrices
//! stay f16; 1-D tensors, conv biases and positional embeddings are f32.
//!
//! CT2 fuses projections: self-attention Q/K/V live in `linear_0` (split in three)
//! with the output in `linear_1`; cross-attention has the query in `linear_0`, K and V
//! fused in `linear_1` and the output in `linear_2`. Whisper's K projections have no
//! bias, so the (all-zero) K slices of fused biases are dropped.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::ct2::{Ct2Dtype, Ct2Model, Ct2Tensor};
use super::npz::read_npz_array;
use super::{ConvertError, WhisperModel, FETCH_HINT};
use crate::speech::manifest::paths;
use crate::speech::SpeechError;

const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Where [`ensure_ggml`] puts the converted `model` under `cache_root`.
pub fn ggml_path(cache_root: &Path, model: WhisperModel) -> PathBuf {
    model.ggml_path(cache_root)
}

/// Convert the cached CT2 weights of `model` into ggml once and return the ggml path.
///
/// Fails with [`SpeechError::ModelMissing`] (naming the fetch command) when an input
/// file is absent. Models shipped in parts are joined in memory and checked against
/// their pinned sha256 first. The output is written to a temporary file and renamed
/// into place, so a crash never leaves a half-written model behind.
pub fn ensure_ggml(cache_root: &Path, model: WhisperModel) -> Result<PathBuf, SpeechError> {
    let out = ggml_path(cache_root, model);
    if fs::metadata(&out).map(|m| m.len() > 0).unwrap_or(false) {
        return Ok(out);
    }
    let parts: Vec<PathBuf> = model
        .ct2_parts()
        .iter()
        .map(|p| cache_root.join(p))
        .collect();
    let mel = cache_root.join(paths::WHISPER_MEL_FILTERS);
    let vocab = cache_root.join(model.tiktoken());
    for p in parts.iter().chain([&mel, &vocab]) {
        if !p.is_file() {
            return Err(SpeechError::ModelMissing(format!(
                "{} is missing (Whisper {model}); {FETCH_HINT}",
                p.display()
            )));
        }
    }
    let started = std::time::Instant::now();
    let ct2 = Ct2Model::parse(&read_joined(&parts, model.ct2_sha256())?)?;
    let mel_npz = fs::read(&mel)?;
    let tiktoken = fs::read_to_string(&vocab)?;
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = out.with_extension(format!("bin.tmp-{}", std::process::id()));
    let result = (|| -> Result<(), ConvertError> {
        let mut w = BufWriter::new(fs::File::create(&tmp)?);
        write_ggml(&ct2, &mel_npz, &tiktoken, &mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    fs::rename(&tmp, &out)?;
    tracing::info!(path = %out.display(), %model, elapsed_ms = started.elapsed().as_millis() as u64,
        "converted Whisper CT2 model to ggml");
    Ok(out)
}

/// The concatenation of `parts`, checked against `sha256` (hex) when one is pinned.
pub fn read_joined(parts: &[PathBuf], sha256: Option<&str>) -> Result<Vec<u8>, ConvertError> {
    let mut total = 0u64;
    for p in parts {
        total += fs::metadata(p)?.len();
    }
    let mut joined = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for p in parts {
        fs::File::open(p)?.read_to_end(&mut joined)?;
    }
    if let Some(want) = sha256 {
        let got = hex::encode(Sha256::digest(&joined));
        if !got.eq_ignore_ascii_case(want) {
            return Err(ConvertError::Checksum {
                what: parts
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" + "),
                got,
                want: want.to_string(),
            });
        }
    }
    Ok(joined)
}

/// Hyper-parameters read off the CT2 tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

impl Hparams {
    /// Derive the hyper-parameters from a CT2 Whisper model.
    pub fn from_ct2(m: &Ct2Model) -> Result<Self, ConvertError> {
        let emb = m.get("decoder/embeddings/weight")?;
        let epe = m.get("encoder/position_encodings/encodings")?;
        let dpe = m.get("decoder/position_encodings/encodings")?;
        let conv1 = m.get("encoder/conv1/weight")?;
        let dim = |t: &Ct2Tensor, i: usize| {
            t.shape
                .get(i)
                .copied()
                .ok_or_else(|| ConvertError::Format(format!("tensor of shape {:?}", t.shape)))
        };
        let count = |prefix: &str| {
            (0..)
                .take_while(|i| {
                    m.variables
                        .contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight"))
                })
                .count()
        };
        let heads = |n: &str| -> Result<usize, ConvertError> {
            usize::try_from(m.get(n)?.scalar_int()?)
                .map_err(|_| ConvertError::Format(format!("{n} is negative")))
        };
        Ok(Self {
            n_vocab: dim(emb, 0)?,
            n_audio_ctx: dim(epe, 0)?,
            n_audio_state: dim(epe, 1)?,
            n_audio_head: heads("encoder/num_heads")?,
            n_audio_layer: count("encoder"),
            n_text_ctx: dim(dpe, 0)?,
            n_text_state: dim(dpe, 1)?,
            n_text_head: heads("decoder/num_heads")?,
            n_text_layer: count("decoder"),
            n_mels: dim(conv1, 1)?,
        })
    }
}

/// Parse a `.tiktoken` file (`base64(token) rank` per line) into tokens ordered by rank.
///
/// A token written as padding only (`=`, rank 50256 of `multilingual.tiktoken`) is the
/// empty token, as Python's lenient `base64.b64decode` (used by whisper.cpp's converter)
/// reads it; whisper.cpp relies on it being there to place its special tokens.
pub fn parse_tiktoken(text: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = || ConvertError::Format(format!("tiktoken line {}: `{line}`", i + 1));
        let (tok, rank) = line.split_once(' ').ok_or_else(bad)?;
        let rank: usize = rank.trim().parse().map_err(|_| bad())?;
        let bytes = if tok.bytes().all(|b| b == b'=') {
            Vec::new()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(tok)
                .map_err(|_| bad())?
        };
        pairs.push((rank, bytes));
    }
    pairs.sort_by_key(|(r, _)| *r);
    if pairs.iter().enumerate().any(|(i, (r, _))| *r != i) {
        return Err(ConvertError::Format("tiktoken ranks are not 0..n".into()));
    }
    Ok(pairs.into_iter().map(|(_, b)| b).collect())
}

/// Text tokens whisper.cpp expects ahead of its special tokens for a model of `n_vocab`:
/// it places end-of-text at 50256 for English-only models (`n_vocab` 51864) and at 50257
/// for multilingual ones (`n_vocab` ≥ 51865) and derives every other special token
/// (start, language, task, timestamps) from that. `None` for vocabulary sizes that are
/// not a released Whisper model's.
pub fn text_tokens_for(n_vocab: usize) -> Option<usize> {
    match n_vocab {
        51864 => Some(50256),
        n if n >= 51865 => Some(50257),
        _ => None,
    }
}

/// Refuse a tokenizer that does not fit the model: `gpt2.tiktoken` (50256 tokens) for
/// English-only models, `multilingual.tiktoken` (50257, the last one empty) for
/// multilingual ones. Any other pairing shifts every special token id.
fn check_vocabulary(n_vocab: usize, n_tokens: usize) -> Result<(), ConvertError> {
    match text_tokens_for(n_vocab) {
        Some(want) if n_tokens != want => Err(ConvertError::Format(format!(
            "tokenizer has {n_tokens} tokens but a model with n_vocab {n_vocab} needs {want} \
             ({})",
            if want == 50257 {
                "multilingual.tiktoken"
            } else {
                "gpt2.tiktoken"
            }
        ))),
        None if n_tokens > n_vocab => Err(ConvertError::Format(format!(
            "tokenizer has {n_tokens} tokens, more than n_vocab {n_vocab}"
        ))),
        _ => Ok(()),
    }
}

/// Tensor payload in ggml terms.
enum Data<'a> {
    F32(Vec<f32>),
    F16(&'a [u8]),
}

struct GgmlWriter<'w, W: Write> {
    w: &'w mut W,
    written: usize,
}

impl<W: Write> GgmlWriter<'_, W> {
    fn i32(&mut self, v: usize) -> Result<(), ConvertError> {
        let v = i32::try_from(v).map_err(|_| ConvertError::Format("value exceeds i32".into()))?;
        self.w.write_all(&v.to_le_bytes())?;
        Ok(())
    }

    /// `dims` in row-major (numpy) order; written innermost first as ggml expects.
    fn tensor(&mut self, name: &str, dims: &[usize], data: Data<'_>) -> Result<(), ConvertError> {
        let n: usize = dims.iter().product();
        let (ftype, len) = match &data {
            Data::F32(v) => (0, v.len()),
            Data::F16(b) => (1, b.len() / 2),
        };
        if len != n {
            return Err(ConvertError::Format(format!(
                "{name}: {len} values for dims {dims:?}"
            )));
        }
        self.i32(dims.len())?;
        self.i32(name.len())?;
        self.i32(ftype)?;
        for d in dims.iter().rev() {
            self.i32(*d)?;
        }
        self.w.write_all(name.as_bytes())?;
        match data {
            Data::F32(v) => {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                self.w.write_all(&bytes)?;
            }
            Data::F16(b) => self.w.write_all(b)?,
        }
        self.written += 1;
        Ok(())
    }
}

/// Rows `[from, to)` of a matrix or vector whose first dimension is fused.
fn rows(t: &Ct2Tensor, from: usize, to: usize) -> Result<(Vec<usize>, &[u8]), ConvertError> {
    let first = *t.shape.first().unwrap_or(&0);
    if to > first || from >= to {
        return Err(ConvertError::Format(format!(
            "cannot take rows {from}..{to} of {:?}",
            t.shape
        )));
    }
    let row_elems: usize = t.shape[1..].iter().product();
    let es = t.dtype.size();
    let mut dims = t.shape.clone();
    dims[0] = to - from;
    Ok((dims, &t.data[from * row_elems * es..to * row_elems * es]))
}

fn as_f16<'a>(name: &str, t: &'a Ct2Tensor, bytes: &'a [u8]) -> Result<Data<'a>, ConvertError> {
    if t.dtype != Ct2Dtype::F16 {
        return Err(ConvertError::Format(format!(
            "{name}: weights are {:?}; only float16 CT2 models are supported",
            t.dtype
        )));
    }
    Ok(Data::F16(bytes))
}

fn as_f32(t: &Ct2Tensor, bytes: &[u8]) -> Result<Data<'static>, ConvertError> {
    let part = Ct2Tensor {
        shape: vec![bytes.len() / t.dtype.size()],
        dtype: t.dtype,
        data: bytes.to_vec(),
    };
    Ok(Data::F32(part.to_f32()?))
}

/// Writes the ggml tensors of one model; knows the CT2 → whisper.cpp name mapping.
struct TensorMap<'m, 'w, W: Write> {
    m: &'m Ct2Model,
    out: GgmlWriter<'w, W>,
}

impl<W: Write> TensorMap<'_, '_, W> {
    /// Whole tensor: matrices (≥ 2 dims) as f16, vectors as f32.
    fn copy(&mut self, dst: &str, src: &str) -> Result<(), ConvertError> {
        let t = self.m.get(src)?;
        let data = if t.shape.len() >= 2 {
            as_f16(dst, t, &t.data)?
        } else {
            as_f32(t, &t.data)?
        };
        self.out.tensor(dst, &t.shape, data)
    }

    /// Whole tensor forced to f32 with explicit dims (positional embeddings, conv biases).
    fn copy_f32(
        &mut self,
        dst: &str,
        src: &str,
        dims: Option<Vec<usize>>,
    ) -> Result<(), ConvertError> {
        let t = self.m.get(src)?;
        let dims = dims.unwrap_or_else(|| t.shape.clone());
        self.out.tensor(dst, &dims, Data::F32(t.to_f32()?))
    }

    /// Part `k` of `parts` equal slices of a fused weight (and its bias unless `no_bias`).
    fn split(
        &mut self,
        dst: &str,
        src: &str,
        k: usize,
        parts: usize,
        no_bias: bool,
    ) -> Result<(), ConvertError> {
        let w = self.m.get(&format!("{src}/weight"))?;
        let d = w.shape.first().copied().unwrap_or(0) / parts;
        let (dims, bytes) = rows(w, k * d, (k + 1) * d)?;
        self.out
            .tensor(&format!("{dst}.weight"), &dims, as_f16(dst, w, bytes)?)?;
        let b = self.m.get(&format!("{src}/bias"))?;
        let (dims, bytes) = rows(b, k * d, (k + 1) * d)?;
        if no_bias {
            let data = as_f32(b, bytes)?;
            if let Data::F32(v) = &data {
                if v.iter().any(|x| *x != 0.0) {
                    tracing::warn!(tensor = dst, "dropping a non-zero key bias");
                }
            }
            return Ok(());
        }
        self.out
            .tensor(&format!("{dst}.bias"), &dims, as_f32(b, bytes)?)
    }

    fn linear(&mut self, dst: &str, src: &str) -> Result<(), ConvertError> {
        self.copy(&format!("{dst}.weight"), &format!("{src}/weight"))?;
        self.copy(&format!("{dst}.bias"), &format!("{src}/bias"))
    }

    fn norm(&mut self, dst: &str, src: &str) -> Result<(), ConvertError> {
        self.copy(&format!("{dst}.weight"), &format!("{src}/gamma"))?;
        self.copy(&format!("{dst}.bias"), &format!("{src}/beta"))
    }

    /// Self-attention: fused QKV in `linear_0`, output in `linear_1`.
    fn self_attention(&mut self, dst: &str, src: &str) -> Result<(), ConvertError> {
        self.norm(&format!("{dst}_ln"), &format!("{src}/layer_norm"))?;
        let fused = format!("{src}/linear_0");
        self.split(&format!("{dst}.query"), &fused, 0, 3, false)?;
        self.split(&format!("{dst}.key"), &fused, 1, 3, true)?;
        self.split(&format!("{dst}.value"), &fused, 2, 3, false)?;
        self.linear(&format!("{dst}.out"), &format!("{src}/linear_1"))
    }

    /// Cross-attention: query `linear_0`, fused KV `linear_1`, output `linear_2`.
    fn cross_attention(&mut self, dst: &str, src: &str) -> Result<(), ConvertError> {
        self.norm(&format!("{dst}_ln"), &format!("{src}/layer_norm"))?;
        self.linear(&format!("{dst}.query"), &format!("{src}/linear_0"))?;
        let fused = format!("{src}/linear_1");
        self.split(&format!("{dst}.key"), &fused, 0, 2, true)?;
        self.split(&format!("{dst}.value"), &fused, 1, 2, false)?;
        self.linear(&format!("{dst}.out"), &format!("{src}/linear_2"))
    }

    fn ffn(&mut self, dst: &str, src: &str) -> Result<(), ConvertError> {
        self.norm(&format!("{dst}.mlp_ln"), &format!("{src}/ffn/layer_norm"))?;
        self.linear(&format!("{dst}.mlp.0"), &format!("{src}/ffn/linear_0"))?;
        self.linear(&format!("{dst}.mlp.2"), &format!("{src}/ffn/linear_1"))
    }
}

/// Write a complete ggml Whisper model to `w`.
pub fn write_ggml<W: Write>(
    m: &Ct2Model,
    mel_npz: &[u8],
    tiktoken: &str,
    w: &mut W,
) -> Result<(), ConvertError> {
    if m.spec != "WhisperSpec" {
        return Err(ConvertError::Format(format!(
            "not a Whisper model: {}",
            m.spec
        )));
    }
    let hp = Hparams::from_ct2(m)?;
    let mel = read_npz_array(mel_npz, &format!("mel_{}", hp.n_mels))?;
    if mel.shape.len() != 2 || mel.shape[0] != hp.n_mels {
        return Err(ConvertError::Format(format!(
            "mel filters of shape {:?}",
            mel.shape
        )));
    }
    let tokens = parse_tiktoken(tiktoken)?;
    check_vocabulary(hp.n_vocab, tokens.len())?;

    let mut out = GgmlWriter { w, written: 0 };
    out.w.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
        1,
    ] {
        out.i32(v)?;
    }
    out.i32(mel.shape[0])?;
    out.i32(mel.shape[1])?;
    let mel_bytes: Vec<u8> = mel.data.iter().flat_map(|x| x.to_le_bytes()).collect();
    out.w.write_all(&mel_bytes)?;
    out.i32(tokens.len())?;
    for t in &tokens {
        out.i32(t.len())?;
        out.w.write_all(t)?;
    }

    let mut t = TensorMap { m, out };
    let state = hp.n_audio_state;
    t.copy_f32(
        "encoder.positional_embedding",
        "encoder/position_encodings/encodings",
        None,
    )?;
    t.copy("encoder.conv1.weight", "encoder/conv1/weight")?;
    t.copy_f32(
        "encoder.conv1.bias",
        "encoder/conv1/bias",
        Some(vec![state, 1]),
    )?;
    t.copy("encoder.conv2.weight", "encoder/conv2/weight")?;
    t.copy_f32(
        "encoder.conv2.bias",
        "encoder/conv2/bias",
        Some(vec![state, 1]),
    )?;
    for i in 0..hp.n_audio_layer {
        let (dst, src) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        t.self_attention(&format!("{dst}.attn"), &format!("{src}/self_attention"))?;
        t.ffn(&dst, &src)?;
    }
    t.norm("encoder.ln_post", "encoder/layer_norm")?;

    t.copy_f32(
        "decoder.positional_embedding",
        "decoder/position_encodings/encodings",
        None,
    )?;
    t.copy(
        "decoder.token_embedding.weight",
        "decoder/embeddings/weight",
    )?;
    for i in 0..hp.n_text_layer {
        let (dst, src) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        t.self_attention(&format!("{dst}.attn"), &format!("{src}/self_attention"))?;
        t.cross_attention(&format!("{dst}.cross_attn"), &format!("{src}/attention"))?;
        t.ffn(&dst, &src)?;
    }
    t.norm("decoder.ln", "decoder/layer_norm")?;
    tracing::debug!(tensors = t.out.written, ?hp, "wrote ggml tensors");
    t.out.w.flush()?;
    Ok(())
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
