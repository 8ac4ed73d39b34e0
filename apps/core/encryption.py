"""PII encryption at rest, built on django_cryptography.

The library keys the ciphertext's signature with SECRET_KEY unless told otherwise, so a
SECRET_KEY rotation would make every PII field unreadable. Here both the AES key and the
HMAC signing key are derived from the configured encryption key alone. Several keys can be
configured: the newest encrypts, all decrypt, and each ciphertext starts with the id of the
key that wrote it so `rotate_encryption_key` can find the rows still under an old key.

Stored format: VERSION (1 byte) + key id (8 bytes) + django_cryptography Fernet token.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django_cryptography.core.signing import BadSignature, FernetSigner
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

VERSION = b"\x01"
KEY_ID_LENGTH = 8
HEADER_LENGTH = len(VERSION) + KEY_ID_LENGTH


class UndecryptableValue(Exception):
    """No configured key can decrypt this value (wrong key set or tampered data)."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"finpulse-pii", info=purpose).derive(secret.encode())


@dataclass(frozen=True)
class EncryptionKey:
    key_id: bytes
    fernet: FernetBytes

    @classmethod
    def from_secret(cls, secret: str) -> EncryptionKey:
        aes_key = _derive(secret, b"aes-256-cbc")
        signing_key = _derive(secret, b"hmac-sha256")
        key_id = hashlib.sha256(b"finpulse-key-id" + signing_key).digest()[:KEY_ID_LENGTH]
        return cls(key_id=key_id, fernet=FernetBytes(key=aes_key, signer=FernetSigner(key=signing_key)))


class KeyRing:
    """The newest key encrypts; every configured key decrypts."""

    def __init__(self, secrets: list[str]) -> None:
        if not secrets:
            raise ValueError("At least one encryption key is required.")
        self.keys = [EncryptionKey.from_secret(s) for s in secrets]
        self.by_id = {k.key_id: k for k in self.keys}

    @property
    def current(self) -> EncryptionKey:
        return self.keys[0]

    def encrypt(self, plaintext: bytes) -> bytes:
        key = self.current
        return VERSION + key.key_id + key.fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        if token[:1] != VERSION:
            raise UndecryptableValue("Unknown ciphertext format.")
        key = self.by_id.get(token[1:HEADER_LENGTH])
        if key is None:
            raise UndecryptableValue("The key that encrypted this value is not configured.")
        try:
            return key.fernet.decrypt(token[HEADER_LENGTH:])
        except (BadSignature, InvalidToken) as exc:
            raise UndecryptableValue("The value's signature does not match its key.") from exc

    def is_current(self, token: bytes) -> bool:
        """Whether this value is already in the current format under the newest key."""
        return token[:1] == VERSION and token[1:HEADER_LENGTH] == self.current.key_id


@functools.cache
def _keyring_for(secrets: tuple[str, ...]) -> KeyRing:
    return KeyRing(list(secrets))


def keyring() -> KeyRing:
    """The key ring for the current settings (cached per key set, so tests can swap keys)."""
    return _keyring_for(tuple(s for s in settings.FINPULSE_ENCRYPTION_KEYS if s))
