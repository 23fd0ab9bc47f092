//! The token vault: every OAuth token is encrypted before it reaches the database.
//!
//! AES-256-GCM (RustCrypto) with a random 96-bit nonce per value. `ENCRYPTION_KEY` must
//! be 32 random bytes, written as 64 hex characters (`openssl rand -hex 32`, Heroku's
//! `generator: secret`) or base64 ([`check_key`]); the cipher key is derived from it
//! with HMAC-SHA256. Each value is bound to where it is stored (the
//! associated data names the column and the owner), so a ciphertext copied into
//! another row does not decrypt. `ENCRYPTION_KEY_PREVIOUS` still opens values sealed
//! before a rotation; callers re-seal those with the current key.
//!
//! The same key also signs values the bot hands out and must recognise later without
//! storing them ([`Vault::sign`]), under a key derived apart from the cipher's.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// How many random bytes a key holds: AES-256's key size.
pub const KEY_BYTES: usize = 32;

/// Marks the format so a future scheme can coexist with this one.
const PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the stored value is not in the vault's format")]
    Malformed,
    #[error("the stored value does not open with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS")]
    WrongKey,
}

/// A value opened from the vault.
#[derive(Debug)]
pub struct Opened {
    pub secret: SecretString,
    /// Sealed with the previous key: seal it again with the current one.
    pub needs_reseal: bool,
}

/// Encrypts and decrypts tokens. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    current: Aes256Gcm,
    previous: Option<Aes256Gcm>,
    signer: Hmac<Sha256>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(keys redacted)")
    }
}

impl Vault {
    /// A vault keyed by `key`, still able to open values sealed with `previous`.
    pub fn new(key: &SecretString, previous: Option<&SecretString>) -> Vault {
        Vault {
            current: cipher(key),
            previous: previous.map(cipher),
            signer: signer(key),
        }
    }

    /// A tag proving the bot made `message` (HMAC-SHA256, URL-safe base64).
    pub fn sign(&self, message: &str) -> String {
        let mut mac = self.signer.clone();
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `tag` is [`Vault::sign`]'s for `message`, compared in constant time.
    pub fn verify(&self, message: &str, tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        let mut mac = self.signer.clone();
        mac.update(message.as_bytes());
        mac.verify_slice(&tag).is_ok()
    }

    /// Encrypts `secret`, bound to `context` (e.g. `"heroku_access_token:T1:U1"`).
    pub fn seal(&self, secret: &str, context: &str) -> String {
        // A fresh random nonce from the OS for every value: 96 random bits make a
        // repeat under one key negligible for the number of tokens a team stores.
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .current
            .encrypt(&nonce, payload)
            .expect("AES-GCM encrypts any value shorter than 64 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{PREFIX}{}", STANDARD_NO_PAD.encode(bytes))
    }

    /// Decrypts a value sealed for `context`, with the current key or the previous one.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Opened, VaultError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(VaultError::Malformed)?;
        let bytes = STANDARD_NO_PAD
            .decode(encoded)
            .map_err(|_| VaultError::Malformed)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(VaultError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let attempt = |cipher: &Aes256Gcm| {
            let payload = Payload {
                msg: ciphertext,
                aad: context.as_bytes(),
            };
            cipher.decrypt(Nonce::from_slice(nonce), payload).ok()
        };
        let (plain, needs_reseal) = match attempt(&self.current) {
            Some(plain) => (plain, false),
            None => (
                self.previous
                    .as_ref()
                    .and_then(attempt)
                    .ok_or(VaultError::WrongKey)?,
                true,
            ),
        };
        let secret = String::from_utf8(plain).map_err(|_| VaultError::Malformed)?;
        Ok(Opened {
            secret: secret.into(),
            needs_reseal,
        })
    }
}

/// Why a configured key is not a key: what it is instead of 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("got {0} hex characters instead of 64")]
    HexLength(usize),
    #[error("got base64 of {0} bytes instead of 32")]
    Base64Length(usize),
    #[error("got {0} characters that are neither hex nor base64: a passphrase is not a key")]
    NotEncoded(usize),
}

/// Checks that `text` is [`KEY_BYTES`] random bytes as 64 hex characters or standard
/// (padded) base64. A passphrase has far less entropy than its length suggests, so
/// one is refused however long it is.
pub fn check_key(text: &str) -> Result<(), KeyError> {
    if text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return match text.len() {
            n if n == 2 * KEY_BYTES => Ok(()),
            n => Err(KeyError::HexLength(n)),
        };
    }
    match STANDARD.decode(text) {
        Ok(bytes) if bytes.len() == KEY_BYTES => Ok(()),
        Ok(bytes) => Err(KeyError::Base64Length(bytes.len())),
        Err(_) => Err(KeyError::NotEncoded(text.chars().count())),
    }
}

fn cipher(key: &SecretString) -> Aes256Gcm {
    Aes256Gcm::new(&derived(key, b"chatops token vault v1"))
}

fn signer(key: &SecretString) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(&derived(key, b"chatops signatures v1"))
        .expect("HMAC accepts keys of any length")
}

/// A 256-bit key for one `purpose`, so the cipher and the signatures never share one.
/// The key's text, not its decoded bytes, feeds it: values sealed before keys had to
/// decode (any 64-hex key among them) keep opening.
fn derived(key: &SecretString, purpose: &[u8]) -> aes_gcm::Key<Aes256Gcm> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(purpose);
    mac.finalize().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> SecretString {
        text.to_owned().into()
    }

    #[test]
    fn a_key_is_32_bytes_in_hex_or_base64_and_a_passphrase_is_not() {
        let hex = "0123456789abcdef".repeat(4);
        let base64 = STANDARD.encode([7u8; 32]);
        assert_eq!(check_key(&hex), Ok(()));
        assert_eq!(check_key(&hex.to_uppercase()), Ok(()));
        assert_eq!(check_key(&base64), Ok(()));
        let refused = [
            ("0123456789abcdef0123456789abcdef", KeyError::HexLength(32)),
            (&hex[..63], KeyError::HexLength(63)),
            (&base64[..43], KeyError::NotEncoded(43)),
            ("correct-horse-battery-staple-42!", KeyError::NotEncoded(32)),
            (&STANDARD.encode([7u8; 24]), KeyError::Base64Length(24)),
        ];
        for (text, error) in refused {
            assert_eq!(check_key(text), Err(error), "{text}");
        }
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_own_context() {
        let vault = Vault::new(&key("k".repeat(64).as_str()), None);
        let sealed = vault.seal("HRKU-secret-token", "heroku_access_token:T1:U1");
        assert!(!sealed.contains("HRKU"));
        let opened = vault.open(&sealed, "heroku_access_token:T1:U1").unwrap();
        assert_eq!(opened.secret.expose_secret(), "HRKU-secret-token");
        assert!(!opened.needs_reseal);
        assert_eq!(
            vault
                .open(&sealed, "heroku_access_token:T1:U2")
                .unwrap_err(),
            VaultError::WrongKey
        );
    }

    #[test]
    fn a_signature_holds_only_for_its_message_and_key() {
        let vault = Vault::new(&key(&"a1".repeat(32)), None);
        let tag = vault.sign("install:123.abc");
        assert!(vault.verify("install:123.abc", &tag));
        assert!(!vault.verify("install:124.abc", &tag));
        assert!(!vault.verify("install:123.abc", "not-a-tag"));
        let other = Vault::new(&key(&"b2".repeat(32)), None);
        assert!(!other.verify("install:123.abc", &tag));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let vault = Vault::new(&key(&"k".repeat(64)), None);
        assert_ne!(vault.seal("same", "c"), vault.seal("same", "c"));
    }

    #[test]
    fn a_rotated_key_still_opens_old_values_and_asks_for_a_reseal() {
        let old = Vault::new(&key(&"o".repeat(40)), None);
        let sealed = old.seal("gho_token", "github_token:T1:U1");
        let rotated = Vault::new(&key(&"n".repeat(40)), Some(&key(&"o".repeat(40))));
        let opened = rotated.open(&sealed, "github_token:T1:U1").unwrap();
        assert_eq!(opened.secret.expose_secret(), "gho_token");
        assert!(opened.needs_reseal);
        let without_previous = Vault::new(&key(&"n".repeat(40)), None);
        assert_eq!(
            without_previous
                .open(&sealed, "github_token:T1:U1")
                .unwrap_err(),
            VaultError::WrongKey
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let vault = Vault::new(&key(&"k".repeat(64)), None);
        for garbage in ["", "v1:", "v1:%%%", "v2:abcd", "v1:AAAA", "plain-token"] {
            assert_eq!(
                vault.open(garbage, "c").unwrap_err(),
                VaultError::Malformed,
                "{garbage}"
            );
        }
    }
}
