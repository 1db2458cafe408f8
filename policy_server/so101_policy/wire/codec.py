"""Bytes ↔ Python objects for every msgpack generation (docs/reference/gr00t-wire.md §2, §4).

`pack` writes the array form of one generation with msgpack's ≥ 1.0 defaults (str → str,
bytes → bin), which reproduces upstream's bytes exactly. It reuses one Packer per thread and
form: a fresh Packer (msgpack.packb) grows its buffer by reallocation for every camera frame,
which costs milliseconds per request; a reused one keeps its grown buffer. `unpack` reads any generation
(both array forms) and recognises the two non-msgpack replies a peer can send: a torch-pickle
zip (an N1/early-N1.5 peer) and a raw b"ERROR" (the E1 error reply).
"""
from __future__ import annotations

import threading
from functools import partial
from typing import Any

import msgpack

from so101_policy.errors import ProtocolMismatchError, WireFormatError
from so101_policy.wire.arrays import decode_array, encode_array
from so101_policy.wire.generations import ArrayForm

TORCH_ZIP_MAGIC = b"PK\x03\x04"
LEGACY_ERROR_REPLY = b"ERROR"
TORCH_GENERATION_HINT = (
    "the peer speaks the torch-pickle generation of Isaac-GR00T (N1 / N1.5 before September 2025). "
    "It is not supported: decoding it runs arbitrary code. Update Isaac-GR00T on the server "
    "(any commit from 7f53666, 2025-09-10, on speaks msgpack)"
)


_local = threading.local()


def pack(obj: Any, form: ArrayForm) -> bytes:
    """One message's bytes; WireFormatError when `obj` holds something the wire cannot carry."""
    try:
        return _packer(form).pack(obj)
    except WireFormatError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise WireFormatError(f"cannot encode message: {exc}") from None


def _packer(form: ArrayForm) -> msgpack.Packer:
    """This thread's Packer for `form` (a Packer resets itself after each message, also on errors)."""
    packers: dict[ArrayForm, msgpack.Packer] = _local.__dict__.setdefault("packers", {})
    if form not in packers:
        packers[form] = msgpack.Packer(default=partial(encode_array, form=form), use_bin_type=True)
    return packers[form]


def unpack(blob: bytes | bytearray | memoryview) -> Any:
    """The message in `blob`, arrays decoded; ProtocolMismatchError for torch-era bytes,
    WireFormatError for anything else that is not one complete msgpack object."""
    head = bytes(blob[:4])
    if head == TORCH_ZIP_MAGIC:
        raise ProtocolMismatchError(TORCH_GENERATION_HINT)
    if len(blob) == len(LEGACY_ERROR_REPLY) and bytes(blob) == LEGACY_ERROR_REPLY:
        raise ProtocolMismatchError(f"raw b'ERROR' reply: {TORCH_GENERATION_HINT}")
    try:
        return msgpack.unpackb(blob, raw=False, object_hook=decode_array)
    except WireFormatError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise WireFormatError(f"not a msgpack message: {exc}") from None
