//! The environment overlay: `SWITCHBOARD_*` variables set options by path into the
//! TOML tree (`SWITCHBOARD_SERVER__LISTEN` sets `[server] listen`), values parsed as
//! TOML scalars when they look like one. Variables that hold secrets are skipped.

use super::{ServerConfig, ENV_PREFIX};

/// Apply every `SWITCHBOARD_*` pair of `env` to `tree`.
///
/// Errors: a message naming the variable when its path runs through a value that is
/// not a table (`SWITCHBOARD_SERVER__LISTEN__X` when `listen` is a string).
pub(super) fn apply_env(
    tree: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), String> {
    // Variables that hold secrets are read where they are used, never as options,
    // even when their names carry the prefix (the default stream-secret variable
    // does: SWITCHBOARD_STREAM_SECRET).
    let secrets = secret_variables(tree);
    for (name, value) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if path.is_empty() || path == "CONFIG" || path == "MODELS_DIR" {
            continue; // handled elsewhere (clap's --config, the model cache)
        }
        if secrets.contains(&name) {
            continue;
        }
        let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
        set_path(tree, &keys, parse_scalar(&value))
            .map_err(|m| format!("environment variable {name}: {m}"))?;
    }
    Ok(())
}

/// The names of the environment variables that hold secrets (`[server]
/// stream_secret_env` and `admin_token_env`, from the file or their defaults).
fn secret_variables(tree: &toml::Table) -> Vec<String> {
    let defaults = ServerConfig::default();
    let server = tree.get("server").and_then(toml::Value::as_table);
    let named = |key: &str, default: String| {
        server
            .and_then(|t| t.get(key))
            .and_then(toml::Value::as_str)
            .map_or(default, str::to_string)
    };
    vec![
        named("stream_secret_env", defaults.stream_secret_env),
        named("admin_token_env", defaults.admin_token_env),
    ]
}

fn parse_scalar(raw: &str) -> toml::Value {
    let probe = format!("v = {raw}");
    match probe.parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Boolean(_) | toml::Value::Integer(_) | toml::Value::Float(_)),
            ) => v,
            Some(v @ toml::Value::Array(_)) => v,
            _ => toml::Value::String(raw.to_string()),
        },
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn set_path(tree: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = keys.split_last().ok_or("empty key")?;
    let mut node = tree;
    for key in parents {
        let entry = node
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        node = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{key}` is not a table"))?;
    }
    node.insert(last.clone(), value);
    Ok(())
}
