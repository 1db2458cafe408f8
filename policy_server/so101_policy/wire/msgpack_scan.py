"""A walk over msgpack bytes that builds nothing: how many objects, where each top-level entry lies.

Why: msgpack turns each byte of input into up to ~60 bytes of Python objects (16 MB of empty
arrays became 1.2 GB and a 9 s stall in the policy server), and it allocates before anyone has
looked at the request's token. `scan` walks the headers first, in bounded time, and refuses a
message holding more objects than its size justifies (`object_budget`: GR00T messages carry
their bulk as a few binary arrays, so real ones stay far below it), or whose lengths run past
its end. What is decoded after a scan costs at most the message's own bytes plus ~100 bytes per
object. For a top-level map it also returns each entry's byte ranges, so the envelope's small
fields (endpoint, token) can be decoded, and checked, before the payload is.

Format: the msgpack spec (first byte → type; lengths big-endian), as msgpack ≥ 1.0 writes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from so101_policy.errors import WireFormatError

MIN_OBJECT_BUDGET = 4096
BYTES_PER_OBJECT = 256
"""A message may hold MIN_OBJECT_BUDGET objects plus one per this many bytes."""

_FIXMAP, _FIXARRAY, _FIXSTR = (0x80, 0x8F), (0x90, 0x9F), (0xA0, 0xBF)
_SCALAR_SIZE = {0xC0: 1, 0xC2: 1, 0xC3: 1, 0xCA: 5, 0xCB: 9, 0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9,
                0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9, 0xD4: 3, 0xD5: 4, 0xD6: 6, 0xD7: 10, 0xD8: 18}
"""Fixed-size types: nil, booleans, floats, ints, fixext (whole size, first byte included)."""
_SIZED = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}
"""bin and str: the width of their length field."""
_EXT = {0xC7: 1, 0xC8: 2, 0xC9: 4}
"""ext: length field width; a type byte follows the length."""
_ARRAY = {0xDC: 2, 0xDD: 4}
_MAP = {0xDE: 2, 0xDF: 4}
_TYPE_NAMES = {"map": "dict", "array": "list", "str": "str", "bin": "bytes"}


def _malformed(detail: str) -> WireFormatError:
    return WireFormatError(f"not a msgpack message: {detail}")


def object_budget(size: int) -> int:
    return MIN_OBJECT_BUDGET + size // BYTES_PER_OBJECT


@dataclass(frozen=True)
class Scan:
    """What a scan found: the top-level object's Python type name and, for a map, each entry's
    (key start, key end, value end) byte offsets (the value starts where the key ends)."""

    type_name: str
    entries: tuple[tuple[int, int, int], ...] = field(default=())


def scan(blob: bytes | bytearray | memoryview, max_objects: int | None = None) -> Scan:
    """Walk one complete msgpack object; WireFormatError if it is malformed, truncated, followed by
    more bytes, or holds more than `max_objects` objects (default object_budget(len(blob)))."""
    view = memoryview(blob).cast("B") if not isinstance(blob, bytes) else blob
    walker = _Walker(view, object_budget(len(view)) if max_objects is None else max_objects)
    kind, count, start = walker.header(0)
    entries: list[tuple[int, int, int]] = []
    if kind == "map":
        position = start
        for _ in range(count):
            key_end = walker.skip(position)
            value_end = walker.skip(key_end)
            entries.append((position, key_end, value_end))
            position = value_end
        end = position
    else:
        end = walker.skip(0)
    if end != len(view):
        raise _malformed(f"{len(view) - end} bytes follow the message")
    return Scan(_TYPE_NAMES.get(kind, kind), tuple(entries))


class _Walker:
    def __init__(self, view, max_objects: int):
        self.view = view
        self.size = len(view)
        self.objects = 0
        self.max_objects = max_objects

    def _uint(self, position: int, width: int) -> int:
        if position + width > self.size:
            raise _malformed("truncated")
        return int.from_bytes(self.view[position : position + width], "big")

    def header(self, position: int) -> tuple[str, int, int]:
        """(kind, count or byte length, where its content starts) of the object at `position`; counts it."""
        if position >= self.size:
            raise _malformed("truncated")
        self.objects += 1
        if self.objects > self.max_objects:
            raise WireFormatError(
                f"too many objects for a {self.size}-byte message (more than {self.max_objects}): refused unread"
            )
        first = self.view[position]
        if first <= 0x7F or first >= 0xE0:
            return "int", 0, position + 1
        if _FIXMAP[0] <= first <= _FIXMAP[1]:
            return "map", first & 0x0F, position + 1
        if _FIXARRAY[0] <= first <= _FIXARRAY[1]:
            return "array", first & 0x0F, position + 1
        if _FIXSTR[0] <= first <= _FIXSTR[1]:
            return "str", first & 0x1F, position + 1
        if first in _SCALAR_SIZE:
            return "scalar", _SCALAR_SIZE[first] - 1, position + 1
        if first in _SIZED:
            width = _SIZED[first]
            return ("bin" if first <= 0xC6 else "str"), self._uint(position + 1, width), position + 1 + width
        if first in _EXT:
            width = _EXT[first]
            return "ext", self._uint(position + 1, width) + 1, position + 1 + width
        if first in _ARRAY:
            width = _ARRAY[first]
            return "array", self._uint(position + 1, width), position + 1 + width
        if first in _MAP:
            width = _MAP[first]
            return "map", self._uint(position + 1, width), position + 1 + width
        raise _malformed(f"byte {first:#04x} at offset {position} starts no object")

    def skip(self, position: int) -> int:
        """The offset just past the object at `position` (containers included, iteratively)."""
        pending = 1
        while pending:
            pending -= 1
            kind, count, start = self.header(position)
            if kind in ("array", "map"):
                members = count * (2 if kind == "map" else 1)
                if members > self.size - start:  # every member takes at least one byte
                    raise _malformed(f"a {kind} of {count} entries cannot fit in the message")
                pending += members
                position = start
            else:
                position = start + count
                if position > self.size:
                    raise _malformed("truncated")
        return position
