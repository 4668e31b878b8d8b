//! The slice of Twilio's REST API a call needs: update a live call with new TwiML
//! (transfer to a person with `<Dial>`, or end it). Replacing the TwiML of a call
//! that is inside `<Connect><Stream>` ends the stream; Twilio then sends `stop`.

use std::time::Duration;

/// Errors from the Twilio REST API.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("twilio request failed: {0}")]
    Http(String),
    #[error("twilio answered {status}: {body}")]
    Status { status: u16, body: String },
}

/// A Twilio REST client for one account.
#[derive(Clone)]
pub struct TwilioRest {
    http: reqwest::Client,
    api_base: String,
    account_sid: String,
    auth_token: String,
    retries: u32,
}

impl TwilioRest {
    /// `api_base` is `https://api.twilio.com` in production (a fake server in tests).
    pub fn new(
        api_base: &str,
        account_sid: &str,
        auth_token: &str,
        timeout: Duration,
    ) -> Result<Self, RestError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| RestError::Http(e.to_string()))?;
        Ok(Self {
            http,
            api_base: api_base.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            retries: 2,
        })
    }

    /// Replace the live call's instructions with `twiml`
    /// (`POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`, form `Twiml=…`).
    /// Retries connection failures and 5xx answers; 4xx answers are final.
    pub async fn update_call_twiml(&self, call_sid: &str, twiml: &str) -> Result<(), RestError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{}.json",
            self.api_base, self.account_sid, call_sid
        );
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .http
                .post(&url)
                .basic_auth(&self.account_sid, Some(&self.auth_token))
                .form(&[("Twiml", twiml)])
                .send()
                .await;
            let retryable = match result {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.text().await.unwrap_or_default();
                    let err = RestError::Status { status, body };
                    if status < 500 || attempt > self.retries {
                        return Err(err);
                    }
                    err
                }
                Err(e) => {
                    let err = RestError::Http(e.to_string());
                    if attempt > self.retries {
                        return Err(err);
                    }
                    err
                }
            };
            tracing::warn!(error = %retryable, attempt, "twilio update failed; retrying");
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use axum::{Form, Router};

    use super::*;

    type Seen = Arc<Mutex<Vec<(String, String, String, Vec<(String, String)>)>>>;

    async fn fake_twilio(fail_first: usize) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let failures = Arc::new(Mutex::new(fail_first));
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Calls/{call}",
                post(
                    |State((seen, failures)): State<(Seen, Arc<Mutex<usize>>)>,
                     Path((account, call)): Path<(String, String)>,
                     headers: HeaderMap,
                     Form(form): Form<Vec<(String, String)>>| async move {
                        let auth = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        seen.lock().unwrap().push((account, call, auth, form));
                        let mut f = failures.lock().unwrap();
                        if *f > 0 {
                            *f -= 1;
                            return (StatusCode::SERVICE_UNAVAILABLE, "busy");
                        }
                        (StatusCode::OK, "{}")
                    },
                ),
            )
            .with_state((seen.clone(), failures));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), seen)
    }

    #[tokio::test]
    async fn update_posts_twiml_with_basic_auth_and_retries_5xx() {
        let (base, seen) = fake_twilio(1).await;
        let rest = TwilioRest::new(&base, "AC123", "secret", Duration::from_secs(5)).unwrap();
        let twiml =
            crate::telephony::twiml::dial("+15550001111", None, Some("https://x/whisper/CA1"));
        rest.update_call_twiml("CA1", &twiml).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "one 503, then success");
        let (account, call, auth, form) = &seen[1];
        assert_eq!(account, "AC123");
        assert_eq!(call, "CA1.json");
        assert_eq!(auth, "Basic QUMxMjM6c2VjcmV0"); // base64("AC123:secret")
        assert_eq!(form[0].0, "Twiml");
        assert!(form[0]
            .1
            .contains("<Dial><Number url=\"https://x/whisper/CA1\">+15550001111</Number></Dial>"));
    }

    #[tokio::test]
    async fn client_errors_are_final() {
        let (base, seen) = fake_twilio(0).await;
        let rest =
            TwilioRest::new(&format!("{base}/nope"), "AC1", "t", Duration::from_secs(5)).unwrap();
        let err = rest
            .update_call_twiml("CA1", "<Response/>")
            .await
            .unwrap_err();
        assert!(
            matches!(err, RestError::Status { status: 404, .. }),
            "{err}"
        );
        assert!(seen.lock().unwrap().is_empty());
    }
}
