//! Recording retention: caller recordings older than `[recordings] retention_days`
//! are deleted and their call records stop linking them. `serve` sweeps at start-up and
//! hourly (also when recording is off, so old files still go); the sweep itself takes
//! the time in, so tests need no clock.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Delete every `*.wav` in `dir` last modified more than `max_age` before `now`.
/// Returns the deleted paths; a missing directory is none, not an error.
pub fn sweep(
    dir: &Path,
    max_age: Duration,
    now: SystemTime,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut deleted = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("wav") {
            continue;
        }
        let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        if now.duration_since(modified).unwrap_or_default() > max_age
            && std::fs::remove_file(&path).is_ok()
        {
            deleted.push(path);
        }
    }
    Ok(deleted)
}

/// Sweep `dir` now and every hour until `shutdown` (a no-op when `days` is 0), and
/// clear the record links of what was deleted.
pub async fn run(
    dir: std::path::PathBuf,
    days: u64,
    store: crate::store::Store,
    shutdown: tokio_util::sync::CancellationToken,
) {
    if days == 0 {
        return;
    }
    let max_age = Duration::from_secs(days.saturating_mul(86_400));
    loop {
        let d = dir.clone();
        match tokio::task::spawn_blocking(move || sweep(&d, max_age, SystemTime::now())).await {
            Ok(Ok(paths)) if !paths.is_empty() => {
                tracing::info!(
                    deleted = paths.len(),
                    days,
                    "recordings past retention deleted"
                );
                let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                if let Err(e) = store.recordings_deleted(names).await {
                    tracing::warn!(error = %e, "could not unlink deleted recordings");
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "recording retention sweep failed"),
            _ => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_recordings_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("CA1.wav"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        assert!(
            sweep(dir.path(), day, now).unwrap().is_empty(),
            "fresh file kept"
        );
        assert_eq!(
            sweep(dir.path(), day, now + 2 * day).unwrap(),
            vec![dir.path().join("CA1.wav")]
        );
        assert!(!dir.path().join("CA1.wav").exists());
        assert!(dir.path().join("notes.txt").exists(), "only recordings");
        assert!(sweep(&dir.path().join("missing"), day, now)
            .unwrap()
            .is_empty());
    }
}
