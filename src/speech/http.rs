//! HTTP plumbing shared by model downloads and cloud speech providers: the client
//! builder (with extra CA roots), the timeout/retry policy, and decoding of streamed
//! 16-bit PCM response bodies into `f32` chunks.
//!
//! reqwest is built with rustls and its bundled web PKI roots. Machines behind a
//! TLS-intercepting egress proxy (and some corporate networks) need the system's
//! extra CA: when `SSL_CERT_FILE` names a PEM bundle, its certificates are added
//! as roots too.

use std::time::Duration;

use futures::StreamExt;

use super::{SpeechError, TtsStream};

/// A reqwest client builder with the extra roots from `SSL_CERT_FILE`, if any.
pub fn client_builder() -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder();
    if let Some(path) = std::env::var_os("SSL_CERT_FILE") {
        match std::fs::read(&path) {
            Ok(pem) => match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) => {
                    for cert in certs {
                        builder = builder.add_root_certificate(cert);
                    }
                }
                Err(e) => {
                    tracing::warn!(file = ?path, error = %e, "SSL_CERT_FILE is not a PEM bundle")
                }
            },
            Err(e) => tracing::warn!(file = ?path, error = %e, "cannot read SSL_CERT_FILE"),
        }
    }
    builder
}

/// Timeouts and retries for one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpPolicy {
    /// TCP + TLS connect.
    pub connect_timeout: Duration,
    /// From sending the request to the response headers.
    pub first_byte_timeout: Duration,
    /// Longest silence between two body chunks once audio is flowing.
    pub read_timeout: Duration,
    /// Attempts before giving up (connect errors, timeouts, 429 and 5xx are retried,
    /// and only before any audio was delivered).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles after each failure.
    pub backoff: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            max_attempts: 3,
            backoff: Duration::from_millis(250),
        }
    }
}

impl HttpPolicy {
    /// A client honouring the connect and read timeouts.
    pub fn client(&self) -> Result<reqwest::Client, SpeechError> {
        client_builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .build()
            .map_err(|e| SpeechError::Provider(format!("http client: {e}")))
    }

    /// Send the request built by `make` until a 2xx arrives, retrying transient failures.
    pub async fn send(
        &self,
        provider: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SpeechError> {
        let mut delay = self.backoff;
        let attempts = self.max_attempts.max(1);
        let mut last = SpeechError::Provider(format!("{provider}: no attempt made"));
        for attempt in 1..=attempts {
            let res = tokio::time::timeout(self.first_byte_timeout, make().send()).await;
            let retryable = match res {
                Err(_) => {
                    last = SpeechError::Timeout(self.first_byte_timeout.as_millis() as u64);
                    true
                }
                Ok(Err(e)) => {
                    let timeout = e.is_timeout();
                    last = if timeout {
                        SpeechError::Timeout(self.connect_timeout.as_millis() as u64)
                    } else {
                        SpeechError::Provider(format!("{provider}: {e}"))
                    };
                    timeout || e.is_connect() || e.is_request()
                }
                Ok(Ok(resp)) if resp.status().is_success() => return Ok(resp),
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let body = resp.text().await.unwrap_or_default();
                    let body: String = body.chars().take(300).collect();
                    last = SpeechError::Provider(format!("{provider}: HTTP {status}: {body}"));
                    status.as_u16() == 429 || status.is_server_error()
                }
            };
            if !retryable || attempt == attempts {
                break;
            }
            tracing::warn!(provider, attempt, error = %last, "retrying speech provider request");
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
        Err(last)
    }
}

/// Decode a streamed body of signed 16-bit little-endian mono PCM into `f32` chunks.
/// Dropping the returned stream drops the response and closes the connection.
pub fn pcm16_stream(
    provider: &'static str,
    resp: reqwest::Response,
    read_timeout: Duration,
) -> TtsStream {
    let body = resp.bytes_stream();
    futures::stream::unfold(
        (body, None::<u8>, false),
        move |(mut body, mut carry, done)| async move {
            if done {
                return None;
            }
            loop {
                let next = match tokio::time::timeout(read_timeout, body.next()).await {
                    Err(_) => {
                        let err = SpeechError::Timeout(read_timeout.as_millis() as u64);
                        return Some((Err(err), (body, carry, true)));
                    }
                    Ok(n) => n,
                };
                match next {
                    None => return None,
                    Some(Err(e)) => {
                        let err = if e.is_timeout() {
                            SpeechError::Timeout(read_timeout.as_millis() as u64)
                        } else {
                            SpeechError::Provider(format!("{provider}: {e}"))
                        };
                        return Some((Err(err), (body, carry, true)));
                    }
                    Some(Ok(bytes)) => {
                        let samples = decode_pcm16(&mut carry, &bytes);
                        if !samples.is_empty() {
                            return Some((Ok(samples), (body, carry, false)));
                        }
                    }
                }
            }
        },
    )
    .boxed()
}

/// Decode bytes to samples, keeping an odd trailing byte in `carry` for the next call.
pub fn decode_pcm16(carry: &mut Option<u8>, bytes: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(bytes.len() / 2 + 1);
    let mut rest = bytes;
    if let Some(lo) = carry.take() {
        match rest.split_first() {
            Some((&hi, tail)) => {
                out.push(f32::from(i16::from_le_bytes([lo, hi])) / 32768.0);
                rest = tail;
            }
            None => {
                *carry = Some(lo);
                return out;
            }
        }
    }
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        out.push(f32::from(i16::from_le_bytes([p[0], p[1]])) / 32768.0);
    }
    if let [odd] = pairs.remainder() {
        *carry = Some(*odd);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm_decoding_survives_odd_splits() {
        let samples: Vec<i16> = vec![0, 1, -1, 32767, -32768, 1234];
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        for split in [1usize, 3, 5, 7] {
            let mut carry = None;
            let mut out = Vec::new();
            for chunk in bytes.chunks(split) {
                out.extend(decode_pcm16(&mut carry, chunk));
            }
            assert!(carry.is_none());
            let back: Vec<i16> = out.iter().map(|f| (f * 32768.0).round() as i16).collect();
            assert_eq!(back, samples, "split {split}");
        }
    }
}
