"""The secret box: AES-256-GCM for every secret the bot stores.

A stored value looks like ``lfb1:<key id>:<base64url(nonce || ciphertext || tag)>``. The nonce is 96 random
bits per value. The associated data names the value's place (table, column, row), so a ciphertext copied into
another row or column fails to decrypt. Keys come from ``TOKEN_ENCRYPTION_KEYS``: the first key encrypts, all
keys decrypt, so rotation is "put a new key first, run ``logfire-bot keys rotate``, then drop the old one".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_PREFIX = "lfb1"
NONCE_BYTES = 12
KEY_BYTES = 32


class SecretBoxError(Exception):
    """A value cannot be encrypted or decrypted; the message says which key and what to do."""


class KeyFormatError(ValueError):
    """TOKEN_ENCRYPTION_KEYS holds something that is not a usable key."""


@dataclass(frozen=True)
class EncryptionKey:
    key_id: str
    material: bytes = b""

    def __repr__(self) -> str:  # never show the material
        return f"EncryptionKey(key_id={self.key_id!r})"


def generate_key() -> str:
    """A new random key, as ``logfire-bot keys generate`` prints it (url-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def key_id_of(material: bytes) -> str:
    """A short public id derived from the key (so operators manage key material only)."""
    return hashlib.sha256(b"logfire-bot key id:" + material).hexdigest()[:8]


def parse_keys(text: str) -> list[EncryptionKey]:
    """Parse a comma-separated list of keys; raise KeyFormatError naming the position of a bad one."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise KeyFormatError("no key given; generate one with `logfire-bot keys generate`")
    keys = []
    for position, part in enumerate(parts, start=1):
        material = _decode_key(part)
        if material is None or len(material) != KEY_BYTES:
            raise KeyFormatError(
                f"key {position} of {len(parts)} is not 32 bytes of url-safe base64; "
                "generate one with `logfire-bot keys generate`"
            )
        keys.append(EncryptionKey(key_id_of(material), material))
    if len({key.key_id for key in keys}) != len(keys):
        raise KeyFormatError("the same key is listed twice")
    return keys


def _decode_key(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def is_sealed(value: str) -> bool:
    """Whether a stored value is already a secret-box ciphertext."""
    return value.startswith(f"{FORMAT_PREFIX}:")


def place(table: str, column: str, row: str) -> bytes:
    """The associated data binding a ciphertext to one table, column and row."""
    return f"{table}\x1f{column}\x1f{row}".encode()


class SecretRow(Protocol):
    """A database row with secret columns (see db.models)."""

    __tablename__: str

    def secret_row_key(self) -> str: ...


class SecretBox:
    """Encrypts with the first key, decrypts with whichever key a value names."""

    def __init__(self, keys: list[EncryptionKey]) -> None:
        if not keys:
            raise KeyFormatError("no key given; generate one with `logfire-bot keys generate`")
        self._keys = {key.key_id: AESGCM(key.material) for key in keys}
        self.current_key_id = keys[0].key_id

    @classmethod
    def from_text(cls, text: str) -> SecretBox:
        return cls(parse_keys(text))

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def encrypt(self, plaintext: str, where: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_key_id].encrypt(nonce, plaintext.encode(), where)
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{FORMAT_PREFIX}:{self.current_key_id}:{body}"

    def decrypt(self, stored: str, where: bytes) -> str:
        key_id, blob = self._split(stored)
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise SecretBoxError(
                f"a stored secret was encrypted with key {key_id}, which is not in TOKEN_ENCRYPTION_KEYS; "
                "add that key back (any position after the first)"
            )
        try:
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], where).decode()
        except InvalidTag:
            raise SecretBoxError(
                f"a stored secret (key {key_id}) failed authentication: it was altered or copied from "
                "another place"
            ) from None

    def seal(self, row: SecretRow, column: str, plaintext: str | None) -> None:
        """Store a secret in a row's column, bound to that row and column."""
        where = place(row.__tablename__, column, row.secret_row_key())
        setattr(row, column, None if plaintext is None else self.encrypt(plaintext, where))

    def unseal(self, row: SecretRow, column: str) -> str | None:
        stored = getattr(row, column)
        if stored is None:
            return None
        return self.decrypt(stored, place(row.__tablename__, column, row.secret_row_key()))

    def key_id_of_value(self, stored: str) -> str:
        return self._split(stored)[0]

    def needs_rotation(self, stored: str) -> bool:
        return self.key_id_of_value(stored) != self.current_key_id

    @staticmethod
    def _split(stored: str) -> tuple[str, bytes]:
        prefix, _, rest = stored.partition(":")
        key_id, _, body = rest.partition(":")
        if prefix != FORMAT_PREFIX or not key_id or not body:
            raise SecretBoxError("a stored secret is not in the secret box format (was it written in clear?)")
        try:
            return key_id, base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise SecretBoxError(f"a stored secret (key {key_id}) is corrupted") from None
