//! Loading and validating agents from a `prompts/` directory.
//!
//! `persona.md` is the brand voice (plain markdown). Every other `*.md` file (but
//! `README.md`) is one
//! agent: TOML front matter between `+++` lines, then the instructions body.
//! Validation names the offending file: unknown handoff target, tool, hook or
//! filter, duplicate names, malformed front matter.

use std::path::Path;

use serde::Deserialize;

use crate::agents::error::AgentError;
use crate::agents::spec::{AgentSet, AgentSpec, HandoffSpec, ModelSpec, HUMAN};
use crate::agents::{filters, hooks, tools};

/// The persona file name inside the prompts directory.
pub const PERSONA_FILE: &str = "persona.md";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    model: Option<ModelSpec>,
    #[serde(default)]
    handoffs: Vec<HandoffSpec>,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    brain: Option<toml::Value>,
    #[serde(default)]
    vocabulary: Vec<String>,
}

/// Load every agent in `dir` (plus `persona.md`) and validate the set.
pub fn load_dir(dir: &Path) -> Result<AgentSet, AgentError> {
    let io = |path: &Path, source| AgentError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut files: Vec<(String, String)> = Vec::new();
    let mut persona = None;
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if file_name.eq_ignore_ascii_case("README.md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        if path.file_name().and_then(|n| n.to_str()) == Some(PERSONA_FILE) {
            persona = Some(text);
        } else {
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    let persona = persona.ok_or_else(|| {
        AgentError::prompt(
            dir.join(PERSONA_FILE).display().to_string(),
            "missing persona file",
        )
    })?;
    load_sources(&persona, &files)
}

/// Build an agent set from in-memory sources: `(file name, text)` per agent.
pub fn load_sources(persona: &str, files: &[(String, String)]) -> Result<AgentSet, AgentError> {
    let mut agents = Vec::new();
    for (file, text) in files {
        agents.push(parse_agent(file, text)?);
    }
    if agents.is_empty() {
        return Err(AgentError::prompt("prompts", "no agent files found"));
    }
    let set = AgentSet::new(strip_front_matter(persona).trim().to_string(), agents)?;
    validate(&set)?;
    Ok(set)
}

/// Parse one agent file (front matter + body), checking only what the file alone shows.
pub fn parse_agent(file: &str, text: &str) -> Result<AgentSpec, AgentError> {
    let (front, body) = split_front_matter(text)
        .ok_or_else(|| AgentError::prompt(file, "missing `+++` TOML front matter"))?;
    let fm: FrontMatter = toml::from_str(front)
        .map_err(|e| AgentError::prompt(file, format!("invalid front matter: {e}")))?;
    let name = fm.name.trim().to_string();
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
        return Err(AgentError::prompt(
            file,
            format!("invalid agent name `{name}` (use lowercase letters, digits, _)"),
        ));
    }
    if name == HUMAN {
        return Err(AgentError::prompt(
            file,
            "`human` is reserved for escalation",
        ));
    }
    let model = fm.model.unwrap_or_default();
    if let Some(t) = model.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(AgentError::prompt(
                file,
                format!("model temperature {t} is outside 0..=2"),
            ));
        }
    }
    let brain = fm
        .brain
        .unwrap_or_else(|| toml::Value::Table(Default::default()));
    if !brain.is_table() {
        return Err(AgentError::prompt(file, "`brain` must be a table"));
    }
    let body = body.trim();
    if body.is_empty() {
        return Err(AgentError::prompt(file, "empty instructions body"));
    }
    Ok(AgentSpec {
        name,
        description: fm.description.trim().to_string(),
        model,
        handoffs: fm.handoffs,
        tools: fm.tools,
        brain,
        vocabulary: fm.vocabulary,
        instructions: body.to_string(),
        source: file.to_string(),
    })
}

fn validate(set: &AgentSet) -> Result<(), AgentError> {
    for a in set.agents() {
        let err = |m: String| Err(AgentError::prompt(a.source.clone(), m));
        let mut seen = Vec::new();
        for h in &a.handoffs {
            if h.target == a.name {
                return err(format!("agent `{}` hands off to itself", a.name));
            }
            if h.target != HUMAN && set.get(&h.target).is_none() {
                return err(format!(
                    "unknown handoff target `{}` (known: {}, human)",
                    h.target,
                    set.names().join(", ")
                ));
            }
            if seen.contains(&h.target) {
                return err(format!("duplicate handoff to `{}`", h.target));
            }
            seen.push(h.target.clone());
            if let Some(hook) = &h.on_handoff {
                if !hooks::KNOWN_HOOKS.contains(&hook.as_str()) {
                    return err(format!(
                        "unknown on_handoff hook `{hook}` (known: {})",
                        hooks::KNOWN_HOOKS.join(", ")
                    ));
                }
            }
            if let Some(f) = &h.input_filter {
                if !filters::KNOWN_FILTERS.contains(&f.as_str()) {
                    return err(format!(
                        "unknown input_filter `{f}` (known: {})",
                        filters::KNOWN_FILTERS.join(", ")
                    ));
                }
            }
        }
        for (i, t) in a.tools.iter().enumerate() {
            if !tools::KNOWN_TOOLS.contains(&t.as_str()) {
                return err(format!(
                    "unknown tool `{t}` (known: {})",
                    tools::KNOWN_TOOLS.join(", ")
                ));
            }
            if a.tools[..i].contains(t) {
                return err(format!("tool `{t}` listed twice"));
            }
        }
    }
    Ok(())
}

/// Split `+++\n<toml>\n+++\n<body>`; `None` if there is no front matter.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let rest = text.strip_prefix("+++")?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn strip_front_matter(text: &str) -> &str {
    split_front_matter(text)
        .map(|(_, body)| body)
        .unwrap_or(text)
}
