//! Routing evaluation of the embedded brain on the held-out utterances in
//! `tests/fixtures/brain_eval.toml`; prints the report as markdown.
//!
//! `cargo run --release --example brain_eval [-- PROMPTS_DIR EVAL_FILE]`
//! (MiniLM weights from `switchboard models fetch`, or `SWITCHBOARD_MODELS_DIR`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use switchboard::agents::embedded::{eval, evaluate, files, BrainConfig, EmbeddedBrain, Embedder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let prompts = PathBuf::from(args.next().unwrap_or_else(|| "prompts".into()));
    let cases_file = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "tests/fixtures/brain_eval.toml".into()),
    );
    let t = Instant::now();
    let embedder = Arc::new(Embedder::load_default()?);
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let brain = EmbeddedBrain::new(
        embedder,
        files::brains_from_dir(&prompts)?,
        BrainConfig::default(),
    )?;
    let index_ms = t.elapsed().as_secs_f64() * 1000.0;
    let cases = eval::load_cases(&cases_file)?;
    // One warm-up pass, then the measured one.
    evaluate(&brain, &cases)?;
    let report = evaluate(&brain, &cases)?;
    println!("{} held-out utterances; model load {load_ms:.0} ms, embedding all intent examples {index_ms:.0} ms\n", cases.len());
    println!("{report}");
    Ok(())
}
