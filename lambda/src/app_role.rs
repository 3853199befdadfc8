//! The migrate mode's second job: the application role the API function logs in as.
//!
//! The stack creates the role's Secrets Manager secret empty (so no password is ever in config or state)
//! and registers it with RDS Proxy. After the migrations, the migration function fills the secret with a
//! generated password if it has none, then creates or updates the role from it
//! ([`migration::roles::ensure_app_role`]): the secret is the truth, and every run puts the database role
//! back in step with it (`infra/docs/roles.md`).

use aws_sdk_secretsmanager::Client as SecretsClient;
use migration::roles::{RoleError, RoleLimits, ensure_app_role};
use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use settings::{ConfigError, Env};

/// Long enough that guessing is hopeless; letters and digits only, so it needs no quoting anywhere.
const PASSWORD_LENGTH: usize = 40;

/// Which role to set up, and where its password lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRoleSettings {
    pub user: String,
    pub secret_arn: String,
}

impl AppRoleSettings {
    /// `DB_APP_USER` and `DB_APP_SECRET_ARN`: both (the stack's migration function), or neither (no role
    /// to set up, as in local runs).
    ///
    /// # Errors
    /// One without the other, or a secret that is not an ARN.
    pub fn read(env: &Env<'_>) -> Result<Option<Self>, ConfigError> {
        match (env.var("DB_APP_USER"), env.var("DB_APP_SECRET_ARN")) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError::new("DB_APP_SECRET_ARN", "required with DB_APP_USER")),
            (None, Some(_)) => Err(ConfigError::new("DB_APP_USER", "required with DB_APP_SECRET_ARN")),
            (Some(_), Some(arn)) if !arn.starts_with("arn:") => {
                Err(ConfigError::new("DB_APP_SECRET_ARN", "must be a Secrets Manager ARN (arn:…)"))
            }
            (Some(user), Some(secret_arn)) => Ok(Some(Self { user, secret_arn })),
        }
    }
}

type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why the application role could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AppRoleError {
    #[error("cannot read the application user's secret {arn}")]
    Read { arn: String, source: Cause },
    #[error("the secret {arn} does not hold a password for {user} (JSON with `username` and `password`)")]
    Malformed { arn: String, user: String },
    #[error("cannot store the application user's new password in {arn}")]
    Write { arn: String, source: Cause },
    #[error("cannot set up the application role")]
    Role(#[from] RoleError),
}

/// The JSON RDS Proxy reads a login from.
fn secret_json(user: &str, password: &SecretString) -> String {
    serde_json::json!({ "username": user, "password": password.expose_secret() }).to_string()
}

/// The password in `secret`, if it is a login for `user`.
fn password_in(secret: &str, user: &str) -> Option<SecretString> {
    let value: serde_json::Value = serde_json::from_str(secret).ok()?;
    if value.get("username")?.as_str()? != user {
        return None;
    }
    Some(SecretString::from(value.get("password")?.as_str()?.to_owned()))
}

fn generate_password() -> SecretString {
    let password: String =
        rand::rng().sample_iter(&Alphanumeric).take(PASSWORD_LENGTH).map(char::from).collect();
    SecretString::from(password)
}

/// Fills the secret if it has no value yet, then creates or updates the role from it. Returns whether a
/// new password was generated.
///
/// # Errors
/// The secret cannot be read or written, holds a login for another user, or the database refuses a role
/// statement.
pub async fn ensure(
    db: &DatabaseConnection,
    secrets: &SecretsClient,
    settings: &AppRoleSettings,
) -> Result<bool, AppRoleError> {
    let arn = &settings.secret_arn;
    let (password, generated) = match secrets.get_secret_value().secret_id(arn).send().await {
        Ok(found) => {
            let password = found.secret_string().and_then(|s| password_in(s, &settings.user));
            let password = password
                .ok_or_else(|| AppRoleError::Malformed { arn: arn.clone(), user: settings.user.clone() })?;
            (password, false)
        }
        // A secret the stack created has no value (no AWSCURRENT version) until the first run fills it.
        Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
            let password = generate_password();
            secrets
                .put_secret_value()
                .secret_id(arn)
                .secret_string(secret_json(&settings.user, &password))
                .send()
                .await
                .map_err(|e| AppRoleError::Write { arn: arn.clone(), source: Box::new(e) })?;
            (password, true)
        }
        Err(error) => return Err(AppRoleError::Read { arn: arn.clone(), source: Box::new(error) }),
    };
    ensure_app_role(db, &settings.user, password.expose_secret(), RoleLimits::default()).await?;
    Ok(generated)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Option<AppRoleSettings>, ConfigError> {
        let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        let lookup = |name: &str| map.get(name).map(|v| (*v).to_owned());
        AppRoleSettings::read(&Env::new(&lookup))
    }

    #[test]
    fn the_role_settings_come_in_pairs() {
        const ARN: &str = "arn:aws:secretsmanager:eu-west-1:1:secret:app";
        assert_eq!(read(&[]).unwrap(), None);
        let both = read(&[("DB_APP_USER", "libris_app"), ("DB_APP_SECRET_ARN", ARN)]).unwrap().unwrap();
        assert_eq!((both.user.as_str(), both.secret_arn.as_str()), ("libris_app", ARN));
        assert_eq!(read(&[("DB_APP_USER", "libris_app")]).unwrap_err().name, "DB_APP_SECRET_ARN");
        assert_eq!(read(&[("DB_APP_SECRET_ARN", ARN)]).unwrap_err().name, "DB_APP_USER");
        let not_an_arn = read(&[("DB_APP_USER", "libris_app"), ("DB_APP_SECRET_ARN", "app")]);
        assert_eq!(not_an_arn.unwrap_err().name, "DB_APP_SECRET_ARN");
    }

    #[test]
    fn a_secret_is_a_login_for_its_user_only() {
        let password = generate_password();
        assert_eq!(password.expose_secret().len(), PASSWORD_LENGTH);
        assert!(password.expose_secret().bytes().all(|b| b.is_ascii_alphanumeric()));
        let json = secret_json("libris_app", &password);
        assert_eq!(password_in(&json, "libris_app").unwrap().expose_secret(), password.expose_secret());
        assert!(password_in(&json, "libris_admin").is_none(), "another user's login");
        assert!(password_in("not json", "libris_app").is_none());
        assert!(password_in(r#"{"username":"libris_app"}"#, "libris_app").is_none());
    }
}
