//! ONNX Runtime set-up: load `libonnxruntime.so` from the model cache once per
//! process and build sessions with a bounded thread count.
//!
//! `ort` is compiled with `load-dynamic`; nothing is downloaded at build time. The
//! shared library comes from the `onnxruntime` wheel (see the manifest). Sessions
//! default to one intra-op thread: a call-center process runs many small models
//! concurrently, and per-session thread pools on a 2-core box only contend.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

use super::manifest::paths;
use super::models::ModelCache;
use super::SpeechError;

static ENV: OnceLock<Environment> = OnceLock::new();
static INIT_LOCK: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Options for [`load_session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads used inside one operator (default 1).
    pub intra_threads: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { intra_threads: 1 }
    }
}

/// The process-wide ONNX Runtime environment, loading the library from the cache
/// (`onnxruntime/libonnxruntime.so`) on first use.
pub fn environment(cache: &ModelCache) -> Result<Environment, SpeechError> {
    if let Some(env) = ENV.get() {
        return Ok(env.clone());
    }
    let lib = cache.require(paths::ONNXRUNTIME_LIB)?;
    init_from_path(&lib)
}

/// Initialise ONNX Runtime from an explicit library path (first call wins; later
/// calls return the same environment whatever path they name).
pub fn init_from_path(lib: &Path) -> Result<Environment, SpeechError> {
    let mut guard = INIT_LOCK
        .lock()
        .map_err(|_| SpeechError::Model("onnx init lock poisoned".into()))?;
    if let Some(env) = ENV.get() {
        return Ok(env.clone());
    }
    if !lib.is_file() {
        return Err(SpeechError::ModelMissing(format!(
            "ONNX Runtime library {} not found; run `switchboard models fetch`",
            lib.display()
        )));
    }
    let env = ort::init_from(lib)
        .map_err(|e| SpeechError::Model(format!("loading {}: {e}", lib.display())))?
        .with_name("switchboard")
        .build()
        .map_err(|e| SpeechError::Model(format!("ONNX Runtime environment: {e}")))?;
    tracing::info!(lib = %lib.display(), "ONNX Runtime loaded");
    *guard = Some(lib.to_path_buf());
    Ok(ENV.get_or_init(|| env).clone())
}

/// Load an ONNX model into a session on the shared environment.
pub fn load_session(
    env: &Environment,
    model: &Path,
    opts: SessionOptions,
) -> Result<Session, SpeechError> {
    if !model.is_file() {
        return Err(SpeechError::ModelMissing(format!(
            "{} not found; run `switchboard models fetch`",
            model.display()
        )));
    }
    let err = |e: String| SpeechError::Model(format!("{}: {e}", model.display()));
    let started = std::time::Instant::now();
    let session = Session::builder(env)
        .map_err(|e| err(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| err(e.to_string()))?
        .with_intra_threads(opts.intra_threads.max(1))
        .map_err(|e| err(e.to_string()))?
        .with_inter_threads(1)
        .map_err(|e| err(e.to_string()))?
        .commit_from_file(model)
        .map_err(|e| err(e.to_string()))?;
    tracing::info!(model = %model.display(), ms = started.elapsed().as_millis() as u64, "ONNX session loaded");
    Ok(session)
}

/// Map an `ort` error into a [`SpeechError::Model`].
pub(crate) fn ort_err(context: &str) -> impl Fn(ort::Error) -> SpeechError + '_ {
    move |e| SpeechError::Model(format!("{context}: {e}"))
}
