//! Recording retention: caller recordings older than `[recordings] retention_days`
//! are deleted. `serve` sweeps at start-up and hourly; the sweep itself takes the time
//! in, so tests need no clock.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Delete every `*.wav` in `dir` last modified more than `max_age` before `now`.
/// Returns how many were deleted; a missing directory is zero, not an error.
pub fn sweep(dir: &Path, max_age: Duration, now: SystemTime) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut deleted = 0;
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
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Sweep `dir` now and every hour until `shutdown` (a no-op when `days` is 0).
pub async fn run(
    dir: std::path::PathBuf,
    days: u64,
    shutdown: tokio_util::sync::CancellationToken,
) {
    if days == 0 {
        return;
    }
    let max_age = Duration::from_secs(days.saturating_mul(86_400));
    loop {
        let d = dir.clone();
        match tokio::task::spawn_blocking(move || sweep(&d, max_age, SystemTime::now())).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(deleted = n, days, "recordings past retention deleted"),
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
        assert_eq!(sweep(dir.path(), day, now).unwrap(), 0, "fresh file kept");
        assert_eq!(sweep(dir.path(), day, now + 2 * day).unwrap(), 1);
        assert!(!dir.path().join("CA1.wav").exists());
        assert!(dir.path().join("notes.txt").exists(), "only recordings");
        assert_eq!(sweep(&dir.path().join("missing"), day, now).unwrap(), 0);
    }
}
