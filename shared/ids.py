"""Time-sortable identifiers.

ChatKit's default ids are random, so ordering by id means nothing; stores page by id
(keyset pagination), which needs ids that sort by creation time. The format is a ULID
(48-bit millisecond timestamp + 80 random bits, Crockford base32) behind a type prefix.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
# Monotonic within a process: two ids minted in the same millisecond still sort in
# creation order. This is process-wide bookkeeping, not user or thread data.
_last_ms = 0
_last_rand = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_ulid() -> str:
    global _last_ms, _last_rand
    with _lock:
        now = time.time_ns() // 1_000_000
        if now <= _last_ms:
            now = _last_ms
            rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_rand = now, rand
    return _encode(now, 10) + _encode(rand, 16)


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_ulid()}"
