"""Sealed secret ballots: a ballot encrypted in the voter's transaction, opened only by the mix.

A secret ballot is stored first as a ``SealedBallot``, in the same transaction as the voter's
``Participation`` (so the vote is counted exactly once and survives any crash after the commit).
The seal is AES-256-GCM with a key derived from ``SECRET_KEY`` (HKDF-SHA256); the key is never stored
in the database, so someone holding the database, a dump or its logs sees which person's
transaction wrote which sealed row, but not what the sealed row says.

Every seal of one question has the same length: the ballot is padded to a size that depends only on
the number of options, so the length of a ciphertext does not tell a short choice ("no") from a long
one ("abstain"). The question's id is bound into the seal as associated data: a sealed row copied to
another question does not open.

Keys from ``SECRET_KEY_FALLBACKS`` open seals too, so the secret can be rotated while a vote is open.
"""

from __future__ import annotations

import json
import secrets
import struct
from collections.abc import Mapping
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = b"\x01"
NONCE_BYTES = 12
#: Padding: a fixed allowance per option (a normalised ballot names each option at most once, by its
#: id, with at most a small number beside it) plus the keys, rounded up to a whole block.
BYTES_PER_OPTION = 64
BASE_BYTES = 256
BLOCK_BYTES = 512
_LENGTH = struct.Struct(">I")


class SealError(Exception):
    """A sealed ballot could not be opened (wrong key, damaged, or sealed for another question)."""


@cache
def _key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"townhall secret ballot seal v1")
    return hkdf.derive(secret.encode())


def _keys() -> list[bytes]:
    return [_key(secret) for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]]


def _aad(question_id: int) -> bytes:
    return f"townhall ballot for question {int(question_id)}".encode()


def padded_size(option_count: int, length: int = 0) -> int:
    """The plaintext size of every seal on a question with ``option_count`` options."""
    size = max(BASE_BYTES + BYTES_PER_OPTION * option_count, length + _LENGTH.size)
    return -(-size // BLOCK_BYTES) * BLOCK_BYTES


def seal(question_id: int, option_count: int, data: Mapping[str, Any]) -> bytes:
    body = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    size = padded_size(option_count, len(body))
    plain = _LENGTH.pack(len(body)) + body + bytes(size - _LENGTH.size - len(body))
    nonce = secrets.token_bytes(NONCE_BYTES)
    return VERSION + nonce + AESGCM(_keys()[0]).encrypt(nonce, plain, _aad(question_id))


def unseal(question_id: int, sealed: bytes) -> dict[str, Any]:
    sealed = bytes(sealed)
    if sealed[:1] != VERSION or len(sealed) < 1 + NONCE_BYTES + 16:
        raise SealError("Not a sealed ballot.")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    for key in _keys():
        try:
            plain = AESGCM(key).decrypt(nonce, body, _aad(question_id))
        except InvalidTag:
            continue
        (length,) = _LENGTH.unpack_from(plain)
        return json.loads(plain[_LENGTH.size : _LENGTH.size + length])
    raise SealError(f"A sealed ballot on question {int(question_id)} does not open with the current keys.")
