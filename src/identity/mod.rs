//! The identity key and the secrets it keys. A participant who came in by
//! email is found again by `HMAC-SHA256(key, conversation id ‖ address)`;
//! return phrases, invite codes and emailed codes are stored only as keyed
//! hashes too. The key lives in a file outside the database, so a copy of
//! the database alone cannot test an address, a phrase or a code.
//!
//! - [`IdentityKey`]: loading (or creating) the key, and the hashes.
//! - [`secrets`]: the secrets people type: an emailed code, an invite
//!   code, a return phrase; generated here, parsed from what was typed.

pub mod secrets;

use std::fmt;
use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::WorkEmail;
use secrets::{EmailCode, InviteCode, ReturnPhrase};

type HmacSha256 = Hmac<Sha256>;

/// 32 secret bytes. `Debug` never shows them.
#[derive(Clone)]
pub struct IdentityKey([u8; 32]);

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityKey(<secret>)")
    }
}

impl IdentityKey {
    pub fn from_bytes(bytes: [u8; 32]) -> IdentityKey {
        IdentityKey(bytes)
    }

    /// Reads the key from `path`, or creates the file (and its folder) with
    /// 32 random bytes and mode 0600 when it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<IdentityKey> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                    anyhow::anyhow!(
                        "identity.key_file: {} holds {} bytes; an identity key is exactly 32",
                        path.display(),
                        b.len()
                    )
                })?;
                Ok(IdentityKey(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let mut bytes = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(path) {
                    Ok(mut file) => {
                        file.write_all(&bytes)?;
                        file.sync_all()?;
                        tracing::info!(file = %path.display(), "created a new identity key");
                        Ok(IdentityKey(bytes))
                    }
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        IdentityKey::load_or_create(path)
                    }
                    Err(e) => Err(anyhow::anyhow!(
                        "identity.key_file: cannot create {}: {e}",
                        path.display()
                    )),
                }
            }
            Err(e) => Err(anyhow::anyhow!(
                "identity.key_file: cannot read {}: {e}",
                path.display()
            )),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// `HMAC-SHA256(key, conversation id ‖ normalised address)`: the 16
    /// bytes of the id, then the address in lower case. What a participant
    /// who came in by email is found again by.
    pub fn address_hash(&self, conversation_id: Uuid, email: &WorkEmail) -> Vec<u8> {
        self.mac(&[conversation_id.as_bytes(), email.expose().as_bytes()])
    }

    /// An emailed code, bound to its attempt (one request for a code).
    pub fn email_code_hash(&self, attempt: Uuid, code: &EmailCode) -> Vec<u8> {
        self.mac(&[
            b"email-code\0",
            attempt.as_bytes(),
            code.digits().as_bytes(),
        ])
    }

    pub fn invite_hash(&self, conversation_id: Uuid, code: &InviteCode) -> Vec<u8> {
        self.mac(&[
            b"invite\0",
            conversation_id.as_bytes(),
            code.normalised().as_bytes(),
        ])
    }

    pub fn phrase_hash(&self, conversation_id: Uuid, phrase: &ReturnPhrase) -> Vec<u8> {
        self.mac(&[
            b"return-phrase\0",
            conversation_id.as_bytes(),
            phrase.normalised().as_bytes(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/identity.key");
        let first = IdentityKey::load_or_create(&path).unwrap();
        let again = IdentityKey::load_or_create(&path).unwrap();
        assert_eq!(first.0, again.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        let error = IdentityKey::load_or_create(&path).unwrap_err().to_string();
        assert!(error.contains("exactly 32"), "{error}");
        assert_eq!(format!("{first:?}"), "IdentityKey(<secret>)");
    }

    #[test]
    fn address_hashes_are_the_documented_hmac_per_conversation() {
        let key = IdentityKey::from_bytes([7; 32]);
        let email = WorkEmail::parse("Sam@NHS.net").unwrap();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut mac = HmacSha256::new_from_slice(&[7; 32]).unwrap();
        mac.update(a.as_bytes());
        mac.update(b"sam@nhs.net");
        assert_eq!(
            key.address_hash(a, &email),
            mac.finalize().into_bytes().to_vec()
        );
        assert_ne!(key.address_hash(a, &email), key.address_hash(b, &email));
        let other = IdentityKey::from_bytes([8; 32]);
        assert_ne!(key.address_hash(a, &email), other.address_hash(a, &email));
    }
}
