//! The embedded brain inside the real runtime on every `prompts/scripts/*.txt`: each
//! script must follow its `# expect-path:`. Needs the MiniLM files
//! (`switchboard models fetch`). Declare it with `mod brain_scripts;` in
//! `src/agents/tests/mod.rs` when merging (the runtime is not on the brain branch).
use std::path::Path;

use crate::agents::chat::{run_script, script_meta};

#[tokio::test(flavor = "multi_thread")]
async fn scripts_with_embedded_brain() {
    let runtime = super::conversations::runtime(&super::conversations::brain());
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
