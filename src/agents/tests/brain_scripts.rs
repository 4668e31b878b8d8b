//! The embedded brain inside the real runtime on every `prompts/scripts/*.txt`: each
//! script must follow its `# expect-path:`. Needs the MiniLM files
//! (`switchboard models fetch`). Declare it with `mod brain_scripts;` in
//! `src/agents/tests/mod.rs` when merging (the runtime is not on the brain branch).
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::agents::chat::{run_script, script_meta};
use crate::agents::embedded::{BrainConfig, EmbeddedBrain, Embedder};
use crate::agents::model::ChatModel;
use crate::agents::{Runtime, RuntimeConfig};
use crate::store::Store;

#[tokio::test(flavor = "multi_thread")]
async fn scripts_with_embedded_brain() {
    let agents = super::agent_set();
    let brains: HashMap<String, toml::Value> = agents
        .agents()
        .map(|a| (a.name.clone(), a.brain.clone()))
        .collect();
    let brain: Arc<dyn ChatModel> = Arc::new(
        EmbeddedBrain::new(
            Arc::new(Embedder::load_default().unwrap()),
            brains,
            BrainConfig::default(),
        )
        .unwrap(),
    );
    let models = agents
        .names()
        .into_iter()
        .map(|n| (n, brain.clone()))
        .collect();
    let store = Store::open_in_memory().unwrap();
    let runtime = Runtime::new(agents, models, store, RuntimeConfig::default()).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/scripts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut bad = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let meta = script_meta(&text);
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let report = run_script(&runtime, meta.caller.as_deref(), &lines)
            .await
            .unwrap();
        let path: Vec<String> = serde_json::from_value(report["agents"].clone()).unwrap();
        println!(
            "=== {} path {:?} expected {:?} outcome {}",
            f.display(),
            path,
            meta.expect_path,
            report["outcome"]
        );
        for t in report["transcript"].as_array().unwrap() {
            println!("   {t}");
        }
        for h in report["trace"]["handoffs"].as_array().unwrap() {
            println!("   handoff {h}");
        }
        if Some(&path) != meta.expect_path.as_ref() {
            bad.push(f.display().to_string());
        }
    }
    assert!(bad.is_empty(), "{bad:?}");
}
