//! A real headless Chromium for page tests (Debian `chromium`, installed by
//! `scripts/setup.sh --tests`), driven over the Chrome DevTools Protocol: launch
//! with a fake microphone file, open a page, evaluate JavaScript, take screenshots.
//!
//! Only what the tests use of CDP (https://chromedevtools.github.io/devtools-protocol/):
//! `Target.createTarget`, `Target.attachToTarget` (flattened sessions),
//! `Page.navigate`, `Runtime.evaluate`, `Page.captureScreenshot`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The Chromium binary, when installed.
pub fn binary() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

pub struct Browser {
    _child: Child,
    _profile: tempfile::TempDir,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

/// One page (tab) with its flattened CDP session.
pub struct Page {
    session: String,
}

impl Browser {
    /// Start headless Chromium; `fake_mic` (a WAV file) is the microphone, played
    /// once from the moment a page opens it.
    pub async fn launch(bin: &Path, fake_mic: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
                "--window-size=1280,900",
            ])
            .arg(format!(
                "--use-file-for-fake-audio-capture={}%noloop",
                fake_mic.display()
            ))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let url = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("ws://") {
                    return line[at..].trim().to_string();
                }
            }
            panic!("chromium exited before it listened for DevTools");
        })
        .await
        .expect("chromium's DevTools endpoint");
        // Keep draining its log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("connect to DevTools");
        Browser {
            _child: child,
            _profile: profile,
            ws,
            next_id: 1,
        }
    }

    /// Send one command (on a page's session, or the browser's) and wait for its
    /// result; events in between are skipped.
    async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .await
            .expect("send to DevTools");
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(60), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method}"))
                .expect("DevTools closed")
                .expect("DevTools socket");
            let Message::Text(text) = frame else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == json!(id) {
                if let Some(err) = v.get("error") {
                    panic!("{method} failed: {err}");
                }
                return v["result"].clone();
            }
        }
    }

    /// Open `url` in a new tab.
    pub async fn open(&mut self, url: &str) -> Page {
        let target = self
            .call(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        let page = Page {
            session: attached["sessionId"].as_str().unwrap().to_string(),
        };
        self.call(Some(&page.session), "Page.enable", json!({}))
            .await;
        self.navigate(&page, url).await;
        page
    }

    pub async fn navigate(&mut self, page: &Page, url: &str) {
        self.call(Some(&page.session), "Page.navigate", json!({"url": url}))
            .await;
    }

    /// Evaluate `expression` in the page (promises awaited); its JSON value.
    pub async fn eval(&mut self, page: &Page, expression: &str) -> Value {
        let r = self
            .call(
                Some(&page.session),
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{expression} threw: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Evaluate `expression` every 250 ms until it is truthy; its value, or a panic
    /// naming `what` after `within`.
    pub async fn wait_for(
        &mut self,
        page: &Page,
        what: &str,
        expression: &str,
        within: Duration,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let v = self
                .call(
                    Some(&page.session),
                    "Runtime.evaluate",
                    json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
                )
                .await;
            let value = v["result"]["value"].clone();
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy && v.get("exceptionDetails").is_none() {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                let state = self
                    .eval(
                        page,
                        "document.body ? document.body.innerText.slice(0, 2000) : ''",
                    )
                    .await;
                panic!("timed out waiting for {what}; the page says:\n{state}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A PNG of the page as shown.
    pub async fn screenshot(&mut self, page: &Page, path: &Path) {
        let r = self
            .call(
                Some(&page.session),
                "Page.captureScreenshot",
                json!({"format": "png"}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}
