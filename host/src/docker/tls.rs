//! The rustls client configuration of a TLS ship.
//!
//! bollard's own TLS connector always verifies the server against the host dialled and
//! loads the system roots; MaestroNG ships may turn verification off (`tls_verify: false`,
//! its default) or be reached by address while their certificate carries a DNS name. So
//! the configuration is built here and handed to bollard as a custom transport.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::spec::TlsSettings;

/// Why a TLS client configuration could not be built; the text names the
/// offending file (or setting).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsSetupError(pub String);

impl From<String> for TlsSetupError {
    fn from(message: String) -> Self {
        TlsSetupError(message)
    }
}

/// Builds the client configuration; the error text names the offending file.
pub(crate) fn client_config(tls: &TlsSettings) -> Result<ClientConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;

    let builder = if tls.verify {
        builder.with_root_certificates(root_store(tls.ca_cert.as_deref())?)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServer {
                algorithms: provider.signature_verification_algorithms,
            }))
    };

    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, "TLS client certificate")?;
            let der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                format!(
                    "TLS client key {}: cannot read a PEM private key: {e}",
                    key.display()
                )
            })?;
            // rustls parses the key only here: a key it cannot use is the key
            // file's fault, so the message names both files.
            builder.with_client_auth_cert(chain, der).map_err(|e| {
                TlsSetupError(format!(
                    "TLS client key {} (for certificate {}): {e}",
                    key.display(),
                    cert.display()
                ))
            })
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(_), None) => Err("TLS client certificate given without its key"
            .to_owned()
            .into()),
        (None, Some(_)) => Err("TLS client key given without its certificate"
            .to_owned()
            .into()),
    }
}

/// The name the server certificate must carry.
pub(crate) fn server_name(name: &str) -> Result<ServerName<'static>, TlsSetupError> {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    ServerName::try_from(bare.to_owned()).map_err(|e| {
        TlsSetupError(format!(
            "TLS server name {name:?} is not a valid DNS name or address: {e}"
        ))
    })
}

fn root_store(ca: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match ca {
        // A directory of CA certificates (OpenSSL's `CApath`, which `requests` takes
        // for `verify`): every certificate of every file in it.
        Some(path) if path.is_dir() => {
            let entries = std::fs::read_dir(path)
                .map_err(|e| format!("TLS CA directory {}: {e}", path.display()))?;
            for entry in entries.flatten() {
                if let Ok(it) = CertificateDer::pem_file_iter(entry.path()) {
                    roots.add_parsable_certificates(it.flatten());
                }
            }
            if roots.is_empty() {
                return Err(format!(
                    "TLS CA directory {}: no certificate in it",
                    path.display()
                ));
            }
        }
        Some(path) => {
            for cert in read_certs(path, "TLS CA certificate")? {
                roots
                    .add(cert)
                    .map_err(|e| format!("TLS CA certificate {}: {e}", path.display()))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err(
                    "TLS verification is on but no CA certificate is configured and the system has none"
                        .into(),
                );
            }
        }
    }
    Ok(roots)
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "{what} {}: cannot read PEM certificates: {e}",
                path.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!("{what} {}: no certificate in it", path.display()));
    }
    Ok(certs)
}

/// `tls_verify: false`: any server certificate is accepted, but the handshake signatures
/// are still checked so the session keys really belong to whoever sent the certificate.
#[derive(Debug)]
struct AcceptAnyServer {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
