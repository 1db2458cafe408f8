"""ndarrays inside msgpack, in both forms Isaac-GR00T has used (docs/reference/gr00t-wire.md §4.2, §4.3).

Encoding writes exactly one form (the peer's generation decodes only its own); decoding accepts
both, because a peer may differ from what its ModalityConfig marker suggests (E6, §6.4).

Neither direction ever touches pickle: object and structured dtypes are refused when sending
and when receiving (msgpack-numpy's own decoder would `pickle.loads` a peer's kind b"O" array,
which runs arbitrary code), and `.npy` blobs are read with allow_pickle=False.
"""
from __future__ import annotations

import functools
import io
import tokenize
from typing import Any

import msgpack_numpy
import numpy as np

from so101_policy.errors import WireFormatError
from so101_policy.wire.generations import ArrayForm

NPY_MARKER = "__ndarray_class__"
NPY_PAYLOAD = "as_npy"
NPY_MAGIC = b"\x93NUMPY"
NPY_PREFIX_V1, NPY_PREFIX_V2 = 10, 12
"""Bytes before the header dict: magic, version, and its length (2 bytes in format 1.0, 4 in 2.0 and 3.0)."""
HEADER_CACHE = 64
_MSGPACK_NUMPY_KEY = b"nd"
_MSGPACK_NUMPY_UNSAFE_KINDS = (b"O", "O", b"V", "V")


def encode_array(obj: Any, form: ArrayForm) -> Any:
    """msgpack `default` hook: an ndarray or numpy scalar → its wire map; TypeError for anything else.

    In the `.npy` form numpy scalars become Python numbers: upstream's npy encoder refuses them
    (TypeError: can not serialize 'numpy.float32'), and a plain number decodes everywhere.
    """
    if isinstance(obj, np.ndarray):
        _refuse_unsafe_dtype(obj.dtype, "send")
        if form is ArrayForm.NPY:
            return {NPY_MARKER: True, NPY_PAYLOAD: _npy_bytes(obj)}
        return msgpack_numpy.encode(obj)
    if isinstance(obj, np.generic):
        _refuse_unsafe_dtype(obj.dtype, "send")
        return obj.item() if form is ArrayForm.NPY else msgpack_numpy.encode(obj)
    raise TypeError(f"cannot send a {type(obj).__name__} over the GR00T wire (only msgpack types and numpy arrays)")


def decode_array(obj: dict) -> Any:
    """msgpack `object_hook`: a map in either array form → ndarray; any other map unchanged.

    `.npy` blobs decode to writeable arrays; msgpack-numpy ones to read-only views of the
    received bytes (as upstream): copy before modifying.
    """
    if obj.get(NPY_MARKER) is True and NPY_PAYLOAD in obj:
        return _from_npy(obj[NPY_PAYLOAD])
    if _MSGPACK_NUMPY_KEY in obj:
        if obj.get(b"kind") in _MSGPACK_NUMPY_UNSAFE_KINDS:
            raise WireFormatError("refusing a msgpack-numpy array of object or structured dtype (it would need pickle)")
        try:
            decoded = msgpack_numpy.decode(obj)
        except (TypeError, ValueError) as exc:
            raise WireFormatError(f"malformed msgpack-numpy array: {exc}") from None
        if isinstance(decoded, (np.ndarray, np.generic)):
            _refuse_unsafe_dtype(decoded.dtype, "receive")
        return decoded
    return obj


def _npy_bytes(array: np.ndarray) -> bytearray:
    """Exactly what np.save(allow_pickle=False) writes (format 1.0 header, then the data), copied once."""
    fields = np.lib.format.header_data_from_array_1_0(array)
    blob = bytearray(_npy_header_bytes(fields["descr"], fields["fortran_order"], fields["shape"]))
    blob += memoryview(np.ravel(array, order="F" if fields["fortran_order"] else "C").view(np.uint8))  # ravel: a view if contiguous
    return blob


@functools.lru_cache(maxsize=HEADER_CACHE)
def _npy_header_bytes(descr: Any, fortran_order: bool, shape: tuple[int, ...]) -> bytes:
    """numpy's format 1.0 header for these fields (a camera sends the same one with every frame)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": fortran_order, "shape": shape})
    return header.getvalue()


def _from_npy(blob: Any) -> np.ndarray:
    """A writeable array from a complete .npy file, as np.load(allow_pickle=False) returns, copied once."""
    if not isinstance(blob, (bytes, bytearray)):
        raise WireFormatError(f"'{NPY_PAYLOAD}' must be binary .npy data, got {type(blob).__name__}")
    try:
        shape, fortran_order, dtype, offset = _npy_header(bytes(blob[: _npy_data_offset(blob)]))
        count = int(np.prod(shape, dtype=np.int64))
        flat = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    # numpy parses the header with ast and tokenize: garbage raises whatever those raise.
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError, OSError, EOFError) as exc:
        raise WireFormatError(f"malformed .npy array: {exc}") from None
    return flat.reshape(shape, order="F" if fortran_order else "C").copy(order="K")


def _npy_data_offset(blob: bytes | bytearray) -> int:
    """Where a .npy file's data starts: after the magic, the version and the header whose length they give."""
    if bytes(blob[: len(NPY_MAGIC)]) != NPY_MAGIC or len(blob) < NPY_PREFIX_V1:
        raise ValueError("no .npy magic string")
    major = blob[len(NPY_MAGIC)]
    if major == 1:
        return NPY_PREFIX_V1 + int.from_bytes(blob[NPY_PREFIX_V1 - 2 : NPY_PREFIX_V1], "little")
    if len(blob) < NPY_PREFIX_V2:
        raise ValueError("truncated .npy header")
    return NPY_PREFIX_V2 + int.from_bytes(blob[NPY_PREFIX_V2 - 4 : NPY_PREFIX_V2], "little")


@functools.lru_cache(maxsize=HEADER_CACHE)
def _npy_header(header: bytes) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, data offset) of a .npy header, parsed by numpy once per distinct header
    (its parser runs ast and tokenize: tens of microseconds, per frame of every request otherwise)."""
    stream = io.BytesIO(header)
    version = np.lib.format.read_magic(stream)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(stream)
    _refuse_unsafe_dtype(dtype, "receive")
    return shape, fortran_order, dtype, stream.tell()


def _refuse_unsafe_dtype(dtype: np.dtype, direction: str) -> None:
    if dtype.hasobject or dtype.fields is not None:
        raise WireFormatError(
            f"refusing to {direction} an array of dtype {dtype}: object and structured arrays need pickle"
        )
