//! The fake Slack's ID-token signing key: RS256 over a 2048-bit RSA key generated once
//! per process (Slack rotates its own; a bot must look a token's `kid` up in the JWKS,
//! never assume one key), published as a JWK at `/openid/connect/keys`.
//!
//! A second key, never published, signs the forged tokens a test asks for
//! ([`super::Tamper::OtherKey`]).

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, rand_core::OsRng};
use serde_json::{Value, json};

/// The size Slack's keys have.
const KEY_BITS: usize = 2048;

/// One key: how to sign with it and its public half as a JWK.
pub(super) struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

/// The published key.
pub(super) fn published() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(SigningKey::generate)
}

/// A key nobody published, for forgeries.
pub(super) fn unpublished() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(SigningKey::generate)
}

impl SigningKey {
    fn generate() -> SigningKey {
        let private = RsaPrivateKey::new(&mut OsRng, KEY_BITS).expect("generate an RSA key");
        let der = private.to_pkcs1_der().expect("encode the RSA key");
        let kid = format!("fake-slack-{}", super::world::random_alphanumeric(12));
        let jwk = json!({
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
        });
        SigningKey {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            kid,
            jwk,
        }
    }

    /// `claims` as a signed JWT; `kid` names the published key even when signed with
    /// the other, as a forger would.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(published().kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign an ID token")
    }

    /// The public key, as the JWKS lists it.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }
}
