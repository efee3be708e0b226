"""Random streams keyed by (run seed, purpose, member): any chunk of members can be drawn alone.

One generator per run would make member ``i``'s numbers depend on how many members were drawn
before it, so a chunk of a large run could not be generated on its own, and changing the chunk size,
worker count or thread count would change results. Here members are grouped in fixed **blocks** of
``block`` consecutive ids (a run constant, never the execution chunk); block ``b`` of a purpose has
its own stream ``SeedSequence([seed, purpose, b])``. A member's draws are the same whichever chunk,
process or machine draws them, and drawing a chunk costs at most two partial blocks extra.

``purpose`` is a short name ("population", "pk:letrozole", "noise", ...) turned into a stable
integer (CRC-32), so streams of different purposes never overlap by construction.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

__all__ = ["purpose_key", "stream", "block_rng", "member_draws", "STREAM_BLOCK"]

#: members per stream block (virtual patients, animals): part of the random layout, recorded in manifests
STREAM_BLOCK = 1024


def purpose_key(purpose: str | int) -> int:
    """A stable non-negative integer for a stream's purpose (an int is used as is)."""
    return int(purpose) if isinstance(purpose, (int, np.integer)) else zlib.crc32(str(purpose).encode())


def stream(seed: int, purpose: str | int, *keys: int) -> np.random.Generator:
    """The generator of ``(seed, purpose, *keys)`` (e.g. one replicate, one patient)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), purpose_key(purpose), *map(int, keys)]))


def block_rng(seed: int, purpose: str | int, block: int) -> np.random.Generator:
    """The stream of one block of members."""
    return stream(seed, purpose, block)


def member_draws(seed: int, purpose: str | int, members, draw: Callable[[np.random.Generator, int], np.ndarray],
                 block: int = STREAM_BLOCK) -> np.ndarray:
    """``draw(rng, block)`` per block of member ids, gathered at ``members``.

    ``draw`` returns an array whose first axis has ``block`` rows (one per member of the block); the
    result has one row per entry of ``members`` (ids may repeat and come in any order).
    """
    ids = np.asarray(members, dtype=np.int64)
    if ids.size == 0:
        return draw(np.random.default_rng(0), block)[:0]
    if ids.min() < 0:
        raise ValueError("member ids must be non-negative")
    blocks, where = np.unique(ids // block, return_inverse=True)
    out = None
    for j, b in enumerate(blocks):
        values = np.asarray(draw(block_rng(seed, purpose, int(b)), block))
        if out is None:
            out = np.empty((ids.size,) + values.shape[1:], dtype=values.dtype)
        hit = where == j
        out[hit] = values[ids[hit] % block]
    return out
