//! Reading `[brain]` tables straight from prompt files (`+++` TOML front matter), for
//! tests, the evaluation and tools that run without the full agent loader.

use std::collections::HashMap;
use std::path::Path;

/// Errors reading prompt files.
#[derive(Debug, thiserror::Error)]
pub enum PromptFileError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

fn invalid(path: &Path, message: impl Into<String>) -> PromptFileError {
    PromptFileError::Invalid {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// The front matter of one prompt file as TOML.
pub fn front_matter(path: &Path) -> Result<toml::Table, PromptFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| invalid(path, e.to_string()))?;
    let rest = text
        .trim_start()
        .strip_prefix("+++")
        .ok_or_else(|| invalid(path, "no +++ front matter"))?;
    let end = rest
        .find("\n+++")
        .ok_or_else(|| invalid(path, "front matter is not closed with +++"))?;
    rest[..end]
        .parse::<toml::Table>()
        .map_err(|e| invalid(path, e.to_string()))
}

/// Agent name → `[brain]` table for every `*.md` agent file in `dir` that has one.
pub fn brains_from_dir(dir: &Path) -> Result<HashMap<String, toml::Value>, PromptFileError> {
    let mut out = HashMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| invalid(dir, e.to_string()))?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let Ok(fm) = front_matter(&path) else {
            continue;
        };
        let (Some(name), Some(brain)) = (fm.get("name").and_then(|n| n.as_str()), fm.get("brain"))
        else {
            continue;
        };
        out.insert(name.to_string(), brain.clone());
    }
    Ok(out)
}
