"""Bytes ↔ Python objects for every msgpack generation (docs/reference/gr00t-wire.md §2, §4).

`pack` writes the array form of one generation with msgpack's ≥ 1.0 defaults (str → str,
bytes → bin), which reproduces upstream's bytes exactly. It reuses one Packer per thread and
form: a fresh Packer (msgpack.packb) grows its buffer by reallocation for every camera frame,
which costs milliseconds per request; a reused one keeps its grown buffer. `unpack` reads any generation
(both array forms) and recognises the two non-msgpack replies a peer can send: a torch-pickle
zip (an N1/early-N1.5 peer) and a raw b"ERROR" (the E1 error reply).

Decoding is bounded: every message is scanned first (msgpack_scan), so what it may allocate is
proportional to its size. `unpack_fields` decodes chosen entries of a top-level map and leaves the
others as bytes: a server reads a request's token before it decodes the request's payload.
"""
from __future__ import annotations

import threading
from collections.abc import Collection
from functools import partial
from typing import Any

import msgpack

from so101_policy.errors import ProtocolMismatchError, WireFormatError
from so101_policy.wire.arrays import decode_array, encode_array
from so101_policy.wire.generations import ArrayForm
from so101_policy.wire.msgpack_scan import scan

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
    WireFormatError for anything else that is not one complete msgpack object (or holds more
    objects than its size justifies)."""
    _refuse_foreign(blob)
    scan(blob)
    return _decode(blob)


def unpack_fields(
    blob: bytes | bytearray | memoryview, names: Collection[str]
) -> tuple[dict[str, Any], dict[str, memoryview]]:
    """A top-level map: (its entries called `names`, decoded; every other str-keyed entry's value, as bytes).

    WireFormatError naming the type if the message is not a map. Nothing but the named entries'
    keys and values is decoded, so a large or hostile payload costs nothing until it is asked for.
    """
    _refuse_foreign(blob)
    found = scan(blob)
    if found.type_name != "dict":
        raise WireFormatError(f"expected a map with an 'endpoint', got {found.type_name}")
    view = memoryview(blob).cast("B")
    decoded: dict[str, Any] = {}
    raw: dict[str, memoryview] = {}
    for key_start, key_end, value_end in found.entries:
        key = _decode(view[key_start:key_end])
        if not isinstance(key, str):
            continue  # not an envelope field: ignored, as upstream's server ignores unknown keys
        if key in names:
            decoded[key] = _decode(view[key_end:value_end])
        else:
            raw[key] = view[key_end:value_end]
    return decoded, raw


def _refuse_foreign(blob: bytes | bytearray | memoryview) -> None:
    head = bytes(blob[:4])
    if head == TORCH_ZIP_MAGIC:
        raise ProtocolMismatchError(TORCH_GENERATION_HINT)
    if len(blob) == len(LEGACY_ERROR_REPLY) and bytes(blob) == LEGACY_ERROR_REPLY:
        raise ProtocolMismatchError(f"raw b'ERROR' reply: {TORCH_GENERATION_HINT}")


def _decode(blob: bytes | bytearray | memoryview) -> Any:
    try:
        return msgpack.unpackb(blob, raw=False, object_hook=decode_array)
    except WireFormatError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise WireFormatError(f"not a msgpack message: {exc}") from None
