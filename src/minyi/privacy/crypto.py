"""Encryption at rest of personal fields, and keyed hashes to find them without decrypting.

Values are sealed with AES-256-GCM (authenticated encryption, `cryptography`) under a key
named by a key id; the stored text is ``v1$<key id>$<base64(nonce ‖ ciphertext ‖ tag)>``. The
field's name is the associated data, so a value copied into another column does not open.
Keys come from settings (`MINYI_DATA_KEYS`: ``id:base64key`` pairs, the first is the one that
seals; older ones only open), so keys rotate: add a new first key, run `minyi rotate-keys`,
then drop the old one. A separate key (`MINYI_HASH_KEY`) makes the keyed hash (HMAC-SHA256) of
phone numbers that staff search by.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"
NONCE_BYTES = 12


class UndecryptableValue(Exception):
    """A sealed value whose key is missing or that was tampered with (never shows the value)."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]
    hash_key: bytes


def _decode_key(kid: str, text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"MINYI_DATA_KEYS: key {kid!r} is not base64") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"MINYI_DATA_KEYS: key {kid!r} must be 32 bytes (256 bits)")
    return key


def parse_keys(spec: str) -> tuple[str, dict[str, bytes]]:
    """``"k2:BASE64,k1:BASE64"`` → ("k2", {"k2": ..., "k1": ...})."""
    keys: dict[str, bytes] = {}
    order = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        kid, sep, text = part.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", kid):
            raise ImproperlyConfigured("MINYI_DATA_KEYS: write id:base64key pairs separated by commas")
        if kid in keys:
            raise ImproperlyConfigured(f"MINYI_DATA_KEYS: key id {kid!r} appears twice")
        keys[kid] = _decode_key(kid, text)
        order.append(kid)
    if not order:
        raise ImproperlyConfigured("MINYI_DATA_KEYS is empty")
    return order[0], keys


@lru_cache(maxsize=4)
def _keyring(spec: str, hash_spec: str) -> Keyring:
    current, keys = parse_keys(spec)
    hash_key = base64.b64decode(hash_spec) if hash_spec else hashlib.sha256(b"minyi-hash|" + keys[current]).digest()
    return Keyring(current, keys, hash_key)


def keyring() -> Keyring:
    return _keyring(settings.MINYI_DATA_KEYS, settings.MINYI_HASH_KEY)


def new_key() -> str:
    """A fresh 256-bit key, base64 (for `minyi rotate-keys --new-key`)."""
    return base64.b64encode(os.urandom(32)).decode()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX + "$")


def key_id(value: str) -> str | None:
    return value.split("$", 2)[1] if is_sealed(value) else None


def seal(plain: str, field: str) -> str:
    """Encrypt `plain` for column `field` under the current key ("" stays "")."""
    if not plain:
        return ""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current]).encrypt(nonce, plain.encode(), field.encode())
    return f"{PREFIX}${ring.current}${base64.b64encode(nonce + sealed).decode()}"


def open_sealed(value: str, field: str) -> str:
    """Decrypt a stored value; plain text written before encryption is returned as it is."""
    if not value or not is_sealed(value):
        return value or ""
    _prefix, kid, body = value.split("$", 2)
    ring = keyring()
    key = ring.keys.get(kid)
    if key is None:
        raise UndecryptableValue(f"no key {kid!r} for {field}")
    raw = base64.b64decode(body)
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field.encode()).decode()
    except InvalidTag:
        raise UndecryptableValue(f"{field}: authentication failed") from None


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def phone_hash(phone: str) -> str:
    """The keyed hash of a phone number (empty for none): equal numbers, equal hashes."""
    digits = normalise_phone(phone)
    if not digits:
        return ""
    return hmac.new(keyring().hash_key, digits.encode(), hashlib.sha256).hexdigest()[:40]
