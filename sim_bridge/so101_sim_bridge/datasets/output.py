"""Outputs that appear whole or not at all: written beside their final path, renamed at the end.

A converter killed or failing half-way must never leave something that looks like a finished
dataset, so every output is built under `<name>.partial` and renamed into place only when
complete; on failure the partial output is removed. An existing output is never overwritten.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from so101_sim_bridge.datasets.errors import DatasetError

PARTIAL_SUFFIX = ".partial"


def refuse_existing(path: Path) -> None:
    if path.exists():
        raise DatasetError(f"{path} already exists; choose a new output path (nothing is overwritten)")


@contextlib.contextmanager
def whole_output(path: Path) -> Iterator[Path]:
    """The partial path to write (a file or a folder); renamed to `path` when the block succeeds."""
    path = Path(path)
    refuse_existing(path)
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    _remove(partial)  # left by a killed run
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield partial
    except BaseException:
        _remove(partial)
        raise
    os.replace(partial, path)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
