//! Who is calling: the caller's identity for one stream, taken from the stream token
//! `/twiml` issued ([`crate::telephony::stream_token`]), never from client-supplied
//! `customParameters` when tokens are required (production mode).

use crate::telephony::stream_token::{self, StreamTokens, TokenError};
use crate::telephony::StartMeta;

/// How streams are authenticated, fixed at start-up.
#[derive(Debug, Clone)]
pub struct StreamAuth {
    pub tokens: StreamTokens,
    /// Refuse a stream without a valid token (production mode). In development mode a
    /// stream without a token takes `From`/`To` from its parameters; a token that is
    /// present must still verify.
    pub require_token: bool,
}

/// The verified numbers of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub from: String,
    pub to: String,
    /// Whether a stream token vouched for these numbers.
    pub verified: bool,
}

impl StreamAuth {
    /// The caller's identity for `start`, or why the stream must be refused.
    pub fn identify(&self, start: &StartMeta, now_unix: u64) -> Result<CallerIdentity, TokenError> {
        let params = &start.custom_parameters;
        match params.get(stream_token::PARAMETER) {
            Some(token) => {
                let claims = self.tokens.verify(token, &start.call_sid, now_unix)?;
                Ok(CallerIdentity {
                    from: claims.from,
                    to: claims.to,
                    verified: true,
                })
            }
            None if self.require_token => Err(TokenError::Missing),
            None => {
                let param = |k: &str| params.get(k).cloned().unwrap_or_default();
                Ok(CallerIdentity {
                    from: param("From"),
                    to: param("To"),
                    verified: false,
                })
            }
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::{MediaFormat, Track};

    fn start(call_sid: &str, params: &[(&str, &str)]) -> StartMeta {
        StartMeta {
            stream_sid: "MZ1".into(),
            account_sid: "AC1".into(),
            call_sid: call_sid.into(),
            tracks: vec![Track::Inbound],
            custom_parameters: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            media_format: MediaFormat::mulaw_8k_mono(),
        }
    }

    #[test]
    fn production_takes_the_caller_only_from_a_verified_token() {
        let auth = StreamAuth {
            tokens: StreamTokens::new(b"k".to_vec(), 60),
            require_token: true,
        };
        let token = auth
            .tokens
            .issue("CA1", "+15551230001", "+18005550000", 100, "n");
        let id = auth
            .identify(
                &start("CA1", &[("StreamToken", &token), ("From", "+15551230002")]),
                110,
            )
            .unwrap();
        assert_eq!(id.from, "+15551230001", "client-supplied From ignored");
        assert!(id.verified);
        let forged_from = start("CA1", &[("From", "+15551230002")]);
        assert_eq!(auth.identify(&forged_from, 110), Err(TokenError::Missing));
        let other = start("CA2", &[("StreamToken", &token)]);
        assert_eq!(auth.identify(&other, 110), Err(TokenError::OtherCall));
        let dev = StreamAuth {
            require_token: false,
            ..auth
        };
        assert_eq!(
            dev.identify(&forged_from, 110).unwrap().from,
            "+15551230002"
        );
        let bad = start("CA1", &[("StreamToken", "v1.x.y")]);
        assert!(
            dev.identify(&bad, 110).is_err(),
            "a present token must verify"
        );
    }
}
