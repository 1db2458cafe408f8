"""Recognise a full disk behind the many exception types h5py, pyarrow and PyAV raise for it."""
from __future__ import annotations

import errno
import shutil
from pathlib import Path

_NO_SPACE_TEXT = ("no space left on device", "errno = 28", "disk quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """True when exc (or what it wraps) is ENOSPC/EDQUOT; HDF5 reports it only inside its message."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(exc).lower() for text in _NO_SPACE_TEXT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def free_bytes(path: Path) -> int:
    """Free space on the filesystem holding path (its parent, if path does not exist yet)."""
    return shutil.disk_usage(path if path.exists() else path.parent).free
