//! Shared HTTP client setup for model downloads and cloud speech providers.
//!
//! reqwest is built with rustls and its bundled web PKI roots. Machines behind a
//! TLS-intercepting egress proxy (and some corporate networks) need the system's
//! extra CA: when `SSL_CERT_FILE` names a PEM bundle, its certificates are added
//! as roots too.

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
