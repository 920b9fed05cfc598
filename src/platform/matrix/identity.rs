//! herald's own cryptographic identity on Matrix: its device cross-signed by its account,
//! so Element shows herald's messages as sent by a verified device rather than with a
//! red shield, and its room keys backed up to the homeserver under a recovery key.
//!
//! Done once per account, after the first sync (the device's keys are on the server by
//! then): when the account has no cross-signing identity yet, herald creates one (the
//! private keys stay in the crypto store under `DATA/matrix/`), signs its device with it,
//! and enables recovery (secret storage plus key backup). The recovery key is shown to
//! the operator once, in the log; it is not stored. Later starts find the identity on the
//! server and do nothing. Failure is a warning, never a stop: encryption works without
//! cross-signing, only the shield differs.

use matrix_sdk::Client;
use matrix_sdk::encryption::recovery::RecoveryState;
use matrix_sdk::ruma::api::client::uiaa::{
    AuthData, MatrixUserIdentifier, Password, UserIdentifier,
};

use crate::config::{MatrixAuth, MatrixConfig};

/// What [`ensure_cross_signed`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityOutcome {
    /// herald holds the account's signing keys and recovery was set up before.
    AlreadyThere,
    /// Recovery was set up now; `recovery_key` unlocks the backup and secrets.
    RecoveryEnabled { recovery_key: Option<String> },
    /// The account has an identity whose keys herald does not hold (made by another
    /// client): a person must verify herald's device from that client.
    ForeignIdentity,
}

/// Cross-signs herald's device if its account has no identity yet (see the module doc).
pub async fn ensure_cross_signed(
    client: &Client,
    cfg: &MatrixConfig,
) -> anyhow::Result<IdentityOutcome> {
    let encryption = client.encryption();
    let user = client.user_id().ok_or_else(|| anyhow::anyhow!("not logged in"))?.to_owned();
    encryption.wait_for_e2ee_initialization_tasks().await;
    // Homeservers with MSC3967 take the first upload of signing keys without
    // user-interactive auth; others ask for the password once.
    if let Err(e) = encryption.bootstrap_cross_signing_if_needed(None).await {
        let Some(uiaa) = e.as_uiaa_response() else { return Err(e.into()) };
        let MatrixAuth::Password(password) = &cfg.auth else {
            anyhow::bail!(
                "the homeserver wants a password to publish herald's signing keys; \
                 with MATRIX_ACCESS_TOKEN, set up cross-signing from another client"
            );
        };
        let mut auth = Password::new(
            UserIdentifier::Matrix(MatrixUserIdentifier::new(user.to_string())),
            password.clone(),
        );
        auth.session = uiaa.session.clone();
        encryption.bootstrap_cross_signing(Some(AuthData::Password(auth))).await?;
    }
    let holds_keys = encryption.cross_signing_status().await.is_some_and(|s| s.has_self_signing);
    if !holds_keys {
        return Ok(IdentityOutcome::ForeignIdentity);
    }
    let recovery = encryption.recovery();
    if recovery.state() != RecoveryState::Disabled {
        return Ok(IdentityOutcome::AlreadyThere);
    }
    let recovery_key = match recovery.enable().await {
        Ok(key) => Some(key),
        Err(e) => {
            tracing::warn!("matrix: cross-signed, but the key backup could not be enabled: {e}");
            None
        }
    };
    Ok(IdentityOutcome::RecoveryEnabled { recovery_key })
}

/// Runs [`ensure_cross_signed`] and tells the operator what came of it.
pub async fn ensure_and_report(client: &Client, cfg: &MatrixConfig) {
    match ensure_cross_signed(client, cfg).await {
        Ok(IdentityOutcome::AlreadyThere) => {
            tracing::debug!("matrix: herald's device is cross-signed and its keys backed up");
        }
        Ok(IdentityOutcome::ForeignIdentity) => tracing::warn!(
            "matrix: this account's cross-signing identity was made by another client; \
             verify herald's device from that client so its messages show as verified"
        ),
        Ok(IdentityOutcome::RecoveryEnabled { recovery_key: Some(key) }) => {
            // Shown once: herald does not keep it. It restores the backup of room keys
            // and the signing keys if DATA/matrix/ is ever lost.
            tracing::warn!(
                "matrix: herald's device is now cross-signed. Recovery key (shown only \
                 this once; keep it somewhere safe, herald does not store it): {key}"
            );
        }
        Ok(IdentityOutcome::RecoveryEnabled { recovery_key: None }) => {
            tracing::info!("matrix: herald's device is now cross-signed");
        }
        Err(e) => tracing::warn!("matrix: could not cross-sign herald's device: {e}"),
    }
}
