//! Where model files live: one cache root shared by every embedded provider (speech
//! models, the agent brain's sentence embedder), outside the repository so a clone
//! stays small and a re-clone reuses the downloads.

use std::path::PathBuf;

/// The cache root: `$SWITCHBOARD_MODELS_DIR`, else `$XDG_CACHE_HOME/switchboard/models`,
/// else `~/.cache/switchboard/models`.
pub fn models_root() -> PathBuf {
    root_from(
        std::env::var_os("SWITCHBOARD_MODELS_DIR"),
        std::env::var_os("XDG_CACHE_HOME"),
        std::env::var_os("HOME"),
    )
}

pub(crate) fn root_from(
    explicit: Option<std::ffi::OsString>,
    xdg: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> PathBuf {
    let non_empty = |v: Option<std::ffi::OsString>| v.filter(|s| !s.is_empty()).map(PathBuf::from);
    if let Some(p) = non_empty(explicit) {
        return p;
    }
    if let Some(p) = non_empty(xdg) {
        return p.join("switchboard").join("models");
    }
    non_empty(home)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".cache")
        .join("switchboard")
        .join("models")
}
