"""Bytes ↔ Python objects for every msgpack generation (docs/reference/gr00t-wire.md §2, §4).

`pack` writes the array form of one generation with msgpack's ≥ 1.0 defaults (str → str,
bytes → bin), which reproduces upstream's bytes exactly, as `bytes`, reusing one Packer per thread
and form. `pack_view` writes the same bytes for sending: a Packer of its own per message, whose
buffer the returned view keeps alive, so the message is not copied once more out of the packer
(ZMQ sends the view without a copy either). Every camera frame is copied once into the packer,
which is the floor for a one-frame message (wire_roundtrip benchmark).

`unpack` reads any generation (both array forms) and recognises the two non-msgpack replies a peer
can send: a torch-pickle zip (an N1/early-N1.5 peer) and a raw b"ERROR" (the E1 error reply).

Decoding is bounded: every message is scanned first (msgpack_scan), so what it may allocate is
proportional to its size. `unpack_fields` decodes chosen entries of a top-level map and leaves the
others as bytes: a server reads a request's token before it decodes the request's payload, with
`unpack_entry`, which does not scan again what unpack_fields has scanned.
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
MIN_BUFFER = 256 * 1024
"""msgpack's own default initial buffer."""


def pack(obj: Any, form: ArrayForm) -> bytes:
    """One message's bytes; WireFormatError when `obj` holds something the wire cannot carry."""
    try:
        return _packer(form).pack(obj)
    except WireFormatError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise WireFormatError(f"cannot encode message: {exc}") from None


def pack_view(obj: Any, form: ArrayForm) -> memoryview:
    """The same bytes as pack(), as a view of a buffer made for this message alone (for sending).

    The buffer starts as large as this thread's previous message in `form`: a robot sends the same
    cameras every time, and growing the buffer copies what it holds (a frame's worth, per doubling).
    msgpack before 1.1 has no Packer a view can keep alive: there the bytes are copied out, as pack() does.
    """
    if not _PACKER_IS_A_BUFFER:
        return memoryview(pack(obj, form))
    sizes: dict[ArrayForm, int] = _local.__dict__.setdefault("sizes", {})
    packer = msgpack.Packer(default=partial(encode_array, form=form), use_bin_type=True, autoreset=False,
                            buf_size=sizes.get(form, MIN_BUFFER))
    try:
        packer.pack(obj)
    except WireFormatError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise WireFormatError(f"cannot encode message: {exc}") from None
    view = memoryview(packer)  # keeps the packer, which refuses to change while viewed
    sizes[form] = max(MIN_BUFFER, len(view))
    return view


def _packer_is_a_buffer() -> bool:
    """msgpack >= 1.1: a Packer takes buf_size and is a buffer whose views keep it alive (older
    getbuffer() views do not: they would dangle once the packer is freed)."""
    try:
        memoryview(msgpack.Packer(autoreset=False, buf_size=MIN_BUFFER))
    except TypeError:
        return False
    return True


_PACKER_IS_A_BUFFER = _packer_is_a_buffer()


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


def unpack_entry(raw: memoryview) -> Any:
    """One entry's value that unpack_fields returned as bytes, decoded (its message is scanned already)."""
    return _decode(raw)


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
