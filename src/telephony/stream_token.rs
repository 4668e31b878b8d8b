//! Stream tokens: `/twiml` binds the media stream it asks Twilio to open to the call it
//! was asked about, so `/media` takes the caller's identity only from what the signed
//! webhook said, never from client-supplied `customParameters`.
//!
//! A token is `v1.<claims>.<mac>`: `claims` is base64url (no padding) of a JSON object
//! `{"sid": CallSid, "from": From, "to": To, "exp": unix seconds, "n": nonce}`, `mac` is
//! base64url of HMAC-SHA256 (RFC 2104) over `v1.<claims>` with the server's secret.
//! It travels as the `<Parameter name="StreamToken">` of the `<Stream>` and comes back
//! in `start.customParameters`. Sans-IO: the caller passes the time in.
//!
//! Single use is enforced where the call record is created (one record per CallSid,
//! never restarted), so it holds across replicas sharing a store.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Name of the `<Parameter>` (and `customParameters` key) carrying the token.
pub const PARAMETER: &str = "StreamToken";
const VERSION: &str = "v1";

/// What a token vouches for: the call and its numbers, as the signed webhook gave them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamClaims {
    #[serde(rename = "sid")]
    pub call_sid: String,
    pub from: String,
    pub to: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Random, so two tokens for the same call differ.
    #[serde(rename = "n")]
    pub nonce: String,
}

/// Why a token was refused (the close reason sent to the client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("stream token missing")]
    Missing,
    #[error("stream token malformed")]
    Malformed,
    #[error("stream token signature invalid")]
    Forged,
    #[error("stream token expired")]
    Expired,
    #[error("stream token issued for another call")]
    OtherCall,
}

impl TokenError {
    /// Short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenError::Missing => "token_missing",
            TokenError::Malformed => "token_malformed",
            TokenError::Forged => "token_forged",
            TokenError::Expired => "token_expired",
            TokenError::OtherCall => "token_other_call",
        }
    }
}

/// Issues and verifies stream tokens with one secret (share it across replicas).
#[derive(Clone)]
pub struct StreamTokens {
    secret: Vec<u8>,
    /// Lifetime of a token, seconds.
    pub ttl_s: u64,
}

impl std::fmt::Debug for StreamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTokens")
            .field("ttl_s", &self.ttl_s)
            .finish_non_exhaustive()
    }
}

impl StreamTokens {
    pub fn new(secret: impl Into<Vec<u8>>, ttl_s: u64) -> Self {
        Self {
            secret: secret.into(),
            ttl_s,
        }
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        // HMAC takes keys of any length; the fallback only keeps this total.
        let mut mac = HmacSha256::new_from_slice(&self.secret)
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()));
        mac.update(signed.as_bytes());
        mac
    }

    /// A token for this call, valid for `ttl_s` from `now_unix` (seconds).
    pub fn issue(
        &self,
        call_sid: &str,
        from: &str,
        to: &str,
        now_unix: u64,
        nonce: &str,
    ) -> String {
        let claims = StreamClaims {
            call_sid: call_sid.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            exp: now_unix.saturating_add(self.ttl_s),
            nonce: nonce.to_string(),
        };
        let json = serde_json::to_vec(&claims).unwrap_or_default();
        let signed = format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&signed).finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// The claims of `token` if its MAC verifies (constant time), it has not expired at
    /// `now_unix` and it names `call_sid`.
    pub fn verify(
        &self,
        token: &str,
        call_sid: &str,
        now_unix: u64,
    ) -> Result<StreamClaims, TokenError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (version, body) = signed.split_once('.').ok_or(TokenError::Malformed)?;
        if version != VERSION {
            return Err(TokenError::Malformed);
        }
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        self.mac(signed)
            .verify_slice(&tag)
            .map_err(|_| TokenError::Forged)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        let claims: StreamClaims =
            serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if now_unix >= claims.exp {
            return Err(TokenError::Expired);
        }
        if claims.call_sid != call_sid {
            return Err(TokenError::OtherCall);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> StreamTokens {
        StreamTokens::new(b"server secret".to_vec(), 60)
    }

    #[test]
    fn a_token_verifies_for_its_call_until_it_expires() {
        let t = tokens();
        let tok = t.issue("CA1", "+15551230001", "+15550000000", 1000, "n1");
        let c = t.verify(&tok, "CA1", 1059).unwrap();
        assert_eq!(
            (c.from.as_str(), c.to.as_str()),
            ("+15551230001", "+15550000000")
        );
        assert_eq!(t.verify(&tok, "CA1", 1060), Err(TokenError::Expired));
        assert_eq!(t.verify(&tok, "CA2", 1001), Err(TokenError::OtherCall));
    }

    #[test]
    fn forged_and_malformed_tokens_are_refused() {
        let t = tokens();
        let tok = t.issue("CA1", "+15551230001", "+1", 1000, "n1");
        let other = StreamTokens::new(b"another secret".to_vec(), 60);
        assert_eq!(other.verify(&tok, "CA1", 1001), Err(TokenError::Forged));
        // Claims swapped for another caller's number, MAC kept.
        let (_, tag) = tok.rsplit_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD
            .encode(br#"{"sid":"CA1","from":"+15551230002","to":"+1","exp":9999999999,"n":"x"}"#);
        let forged = format!("v1.{forged_claims}.{tag}");
        assert_eq!(t.verify(&forged, "CA1", 1001), Err(TokenError::Forged));
        assert_eq!(t.verify("", "CA1", 1001), Err(TokenError::Missing));
        for bad in ["abc", "v2.a.b", "v1.a.!!", "v1..", "v1.e30"] {
            assert!(t.verify(bad, "CA1", 1001).is_err(), "{bad}");
        }
        let two = t.issue("CA1", "+1", "+1", 1000, "n2");
        assert_ne!(tok, two, "the nonce makes tokens unique");
    }
}
