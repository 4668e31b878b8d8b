//! Twilio request validation (`X-Twilio-Signature`): HMAC-SHA1 over the full
//! URL followed by the sorted form parameters, base64, compared in constant time.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

fn mac_for(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps
    // the function total anyway.
    let mut mac = match HmacSha1::new_from_slice(auth_token.as_bytes()) {
        Ok(m) => m,
        Err(_) => HmacSha1::new(&Default::default()),
    };
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio would send for a request to `full_url` (scheme, host,
/// path and query exactly as requested) with these form `params` (any order;
/// they are sorted by name, then value). Use `&[]` for GET requests and the
/// websocket upgrade.
pub fn compute_signature(auth_token: &str, full_url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(
        mac_for(auth_token, full_url, params)
            .finalize()
            .into_bytes(),
    )
}

/// Check an `X-Twilio-Signature` header in constant time.
///
/// Like Twilio's own helpers, also accepts the URL with the default port added
/// or removed (`https://h/` vs `https://h:443/`), since proxies disagree on it.
pub fn validate(
    auth_token: &str,
    full_url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let Ok(expected) = STANDARD.decode(signature.trim().as_bytes()) else {
        return false;
    };
    std::iter::once(full_url.to_string())
        .chain(port_variant(full_url))
        .any(|url| {
            mac_for(auth_token, &url, params)
                .verify_slice(&expected)
                .is_ok()
        })
}

/// `full_url` with its scheme's default port removed if present, or added if absent.
fn port_variant(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => "443",
        "http" | "ws" => "80",
        _ => return None,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let (userinfo, host_port) = authority.split_at(host_start);
    let bracket_end = host_port.rfind(']').map_or(0, |i| i + 1);
    let new_host_port = match host_port[bracket_end..].rfind(':') {
        Some(i) => {
            let colon = bracket_end + i;
            if &host_port[colon + 1..] != default_port {
                return None;
            }
            host_port[..colon].to_string()
        }
        None => format!("{host_port}:{default_port}"),
    };
    Some(format!("{scheme}://{userinfo}{new_host_port}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params() -> Vec<(String, String)> {
        [
            ("Digits", "1234"),
            ("To", "+18005551212"),
            ("From", "+12349013030"),
            ("Caller", "+12349013030"),
            ("CallSid", "CA1234567890ABCDE"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn twilio_reference_vector() {
        assert_eq!(
            compute_signature("12345", URL, &params()),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(validate(
            "12345",
            URL,
            &params(),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn rejects_tampering() {
        let sig = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        assert!(!validate("12346", URL, &params(), sig));
        assert!(!validate(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &params(),
            sig
        ));
        let mut p = params();
        p[0].1 = "1235".into();
        assert!(!validate("12345", URL, &p, sig));
        assert!(!validate("12345", URL, &params(), "not base64!"));
        assert!(!validate("12345", URL, &params(), ""));
        assert!(!validate(
            "12345",
            URL,
            &params(),
            "0/KCTR6DLpKmkAf8muzZqo1nDg"
        ));
    }

    #[test]
    fn default_port_variants_accepted() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let sig = compute_signature("12345", with_port, &params());
        assert!(validate("12345", URL, &params(), &sig));
        let sig = compute_signature("12345", URL, &params());
        assert!(validate("12345", with_port, &params(), &sig));
        let other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
        assert!(!validate("12345", other_port, &params(), &sig));
    }

    #[test]
    fn port_variant_shapes() {
        assert_eq!(
            port_variant("wss://h/media").as_deref(),
            Some("wss://h:443/media")
        );
        assert_eq!(
            port_variant("http://u:p@h:80?x").as_deref(),
            Some("http://u:p@h?x")
        );
        assert_eq!(
            port_variant("https://[::1]").as_deref(),
            Some("https://[::1]:443")
        );
        assert_eq!(port_variant("https://h:8443/"), None);
        assert_eq!(port_variant("ftp://h/"), None);
        assert_eq!(port_variant("nonsense"), None);
    }

    #[test]
    fn websocket_upgrade_has_no_params() {
        let sig = compute_signature("tok", "wss://h/media", &[]);
        assert!(validate("tok", "wss://h/media", &[], &sig));
    }
}
