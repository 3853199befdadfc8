//! Where the database is and how to log in: `DATABASE_URL`, or RDS Proxy with the password from a
//! Secrets Manager secret or an IAM auth token, over TLS that is checked against the RDS CAs.

use settings::{ConfigError, Env, SecretUrl};

use crate::tls::ExtraCa;

/// How the connection to PostgreSQL is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// Encrypted, but the server's certificate is not checked.
    Require,
    /// The certificate must chain to a trusted root and name the host (see `crate::tls` for the roots).
    VerifyFull,
}

/// How the function logs in to RDS Proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbAuth {
    /// User and password from the RDS secret `DB_SECRET_ARN`, read at cold start and again after a
    /// rotation.
    Secret { arn: String },
    /// `DB_IAM_AUTH=true`: an IAM auth token for `DB_USER`, signed for `AWS_REGION` with the function's
    /// credentials. The secret is not read (the infra passes `DB_SECRET_ARN` in both modes).
    Iam { user: String, region: String },
}

/// Where the database is and how to log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbSource {
    /// `DATABASE_URL`: local runs and tests (any backend SeaORM supports).
    Url(SecretUrl),
    /// Production: RDS Proxy at `DB_HOST`.
    Proxy {
        host: String,
        port: u16,
        name: Option<String>,
        auth: DbAuth,
        tls: TlsMode,
        /// `DB_TLS_EXTRA_CA`: certificates trusted besides the compiled-in ones (verify-full only).
        extra_ca: Option<ExtraCa>,
    },
}

/// `allow_insecure`: `DB_TLS=require` and `disable` are accepted (see `LambdaConfig::allow_insecure_db_tls`);
/// otherwise only `verify-full`, since the secret's password or an IAM token is sent to whoever answers.
pub(super) fn proxy_source(env: &Env<'_>, allow_insecure: bool) -> Result<DbSource, ConfigError> {
    let host = env.required("DB_HOST", "set DB_HOST (the RDS Proxy endpoint) or DATABASE_URL")?;
    let tls = match env.var("DB_TLS").as_deref() {
        None | Some("verify-full") => TlsMode::VerifyFull,
        Some("require") if allow_insecure => TlsMode::Require,
        Some("disable") if allow_insecure => TlsMode::Disable,
        Some(unverified @ ("require" | "disable")) => {
            return Err(ConfigError::new(
                "DB_TLS",
                format!(
                    "{unverified:?} does not verify the server the credentials go to: use verify-full (set \
                     {}=true to accept an unverified server)",
                    super::ALLOW_INSECURE_TLS
                ),
            ));
        }
        Some(other) => {
            return Err(ConfigError::new(
                "DB_TLS",
                format!("{other:?} is not disable, require or verify-full"),
            ));
        }
    };
    let auth = match env.var("DB_IAM_AUTH").as_deref() {
        None | Some("false") => secret_auth(env)?,
        Some("true") => iam_auth(env, tls)?,
        Some(other) => {
            return Err(ConfigError::new("DB_IAM_AUTH", format!("{other:?} is not true or false")));
        }
    };
    let extra_ca = match env.var("DB_TLS_EXTRA_CA") {
        None => None,
        Some(_) if tls != TlsMode::VerifyFull => {
            return Err(ConfigError::new("DB_TLS_EXTRA_CA", "is only used with DB_TLS=verify-full"));
        }
        Some(path) => {
            Some(ExtraCa::read(&path).map_err(|message| ConfigError::new("DB_TLS_EXTRA_CA", message))?)
        }
    };
    Ok(DbSource::Proxy {
        host,
        port: env.parsed("DB_PORT", 5432)?,
        name: env.var("DB_NAME"),
        auth,
        tls,
        extra_ca,
    })
}

fn secret_auth(env: &Env<'_>) -> Result<DbAuth, ConfigError> {
    let arn = env.required("DB_SECRET_ARN", "required with DB_HOST unless DB_IAM_AUTH=true")?;
    if !arn.starts_with("arn:") {
        return Err(ConfigError::new("DB_SECRET_ARN", "must be a Secrets Manager ARN (arn:…)"));
    }
    Ok(DbAuth::Secret { arn })
}

fn iam_auth(env: &Env<'_>, tls: TlsMode) -> Result<DbAuth, ConfigError> {
    let user =
        env.required("DB_USER", "required with DB_IAM_AUTH=true: the role the IAM token logs in as")?;
    let region =
        env.required("AWS_REGION", "required with DB_IAM_AUTH=true to sign the token (Lambda sets it)")?;
    if tls == TlsMode::Disable {
        return Err(ConfigError::new(
            "DB_TLS",
            "cannot be disable with DB_IAM_AUTH=true: RDS takes IAM tokens only over TLS",
        ));
    }
    Ok(DbAuth::Iam { user, region })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> Result<DbSource, ConfigError> {
        let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        let lookup = |name: &str| map.get(name).map(|v| (*v).to_owned());
        proxy_source(&Env::new(&lookup), true)
    }

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:libris-db-AbCdEf";
    const IAM: [(&str, &str); 4] = [
        ("DB_HOST", "proxy.example"),
        ("DB_IAM_AUTH", "true"),
        ("DB_USER", "libris"),
        ("AWS_REGION", "eu-west-1"),
    ];

    #[test]
    fn iam_mode_reads_the_user_and_region_and_ignores_the_secret() {
        let with_secret = [&IAM[..], &[("DB_SECRET_ARN", ARN), ("DB_TLS", "require")]].concat();
        let DbSource::Proxy { auth, tls, extra_ca, .. } = source(&with_secret).unwrap() else { panic!() };
        assert_eq!(auth, DbAuth::Iam { user: "libris".to_owned(), region: "eu-west-1".to_owned() });
        assert_eq!((tls, extra_ca), (TlsMode::Require, None));
        // The infra passes DB_USER in both modes; with the secret, the secret's username is the one used.
        let DbSource::Proxy { auth, .. } =
            source(&[("DB_HOST", "h"), ("DB_SECRET_ARN", ARN), ("DB_IAM_AUTH", "false"), ("DB_USER", "x")])
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(auth, DbAuth::Secret { arn: ARN.to_owned() });
    }

    #[test]
    fn every_bad_proxy_setting_names_its_variable() {
        let without = |name: &str| IAM.iter().copied().filter(|(n, _)| *n != name).collect::<Vec<_>>();
        let with = |pair: (&'static str, &'static str)| [&IAM[..], &[pair]].concat();
        for (pairs, name) in [
            (without("DB_USER"), "DB_USER"),
            (without("AWS_REGION"), "AWS_REGION"),
            (with(("DB_TLS", "disable")), "DB_TLS"),
            (with(("DB_IAM_AUTH", "yes")), "DB_IAM_AUTH"),
            (with(("DB_TLS_EXTRA_CA", "/nonexistent/ca.pem")), "DB_TLS_EXTRA_CA"),
            (
                [&IAM[..], &[("DB_TLS", "require"), ("DB_TLS_EXTRA_CA", "/etc/hostname")]].concat(),
                "DB_TLS_EXTRA_CA",
            ),
            (vec![("DB_HOST", "h"), ("DB_IAM_AUTH", "false")], "DB_SECRET_ARN"),
        ] {
            assert_eq!(source(&pairs).unwrap_err().name, name, "{pairs:?}");
        }
    }
}
