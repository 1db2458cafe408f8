"""Content hashes of datasets: sha256 of a file, or of a folder's files in a defined order.

- A file (an HDF5 demo file, a calibration, an .mcap): the sha256 of its bytes.
- A folder (a LeRobot dataset, a GR00T export, a rosbag2 folder): every regular file under it,
  except the folder's own card and manifest (README.md and provenance.json at its top: they
  describe the data and may be rewritten without changing it) and anything under a name that
  starts with a dot (scratch, e.g. the recorder's .recording/), sorted by their path relative to
  the folder (POSIX separators, compared as UTF-8 bytes). The folder's hash is the sha256 of the
  listing `sha256sum` would print for them in that order, one `<hex>  <path>\\n` line per file,
  so it can be checked without this code:
  `(cd DIR && find . -type f ! -path '*/.*' ! -path ./README.md ! -path ./provenance.json | sed 's|^./||' |
  LC_ALL=C sort | xargs -d '\\n' sha256sum) | sha256sum`.

Files are read in 1 MiB chunks (a video of gigabytes never sits in memory), and past
PROGRESS_MIN_BYTES a progress bar shows how far hashing has come.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

CHUNK_BYTES = 1 << 20
PROGRESS_MIN_BYTES = 256 << 20
"""Hashing this much takes a second or more: a progress bar is shown."""
CARD_NAME = "README.md"
MANIFEST_NAME = "provenance.json"
EXCLUDED_AT_TOP = (CARD_NAME, MANIFEST_NAME)


@dataclass(frozen=True)
class ContentHash:
    """What a dataset's content hashed to: the sha256, how many files and bytes, and (folders) each file's hash."""

    sha256: str
    files: int
    bytes: int
    per_file: dict[str, str] = field(default_factory=dict)
    """Relative path → sha256, for a folder (empty for a file)."""

    def summary(self) -> dict[str, object]:
        """The hash without the per-file list (what a source entry keeps)."""
        return {"sha256": self.sha256, "files": self.files, "bytes": self.bytes}


def dataset_files(root: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, path) of every file a folder's hash covers, in hashing order (module doc)."""
    root = Path(root)
    found: list[tuple[str, Path]] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in files:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if name.startswith(".") or relative in EXCLUDED_AT_TOP or not path.is_file():
                continue
            found.append((relative, path))
    found.sort(key=lambda item: item[0].encode("utf-8"))
    return found


def content_hash(path: Path, show_progress: bool = True) -> ContentHash:
    """The content hash of a file or a folder (module doc); FileNotFoundError if neither exists."""
    path = Path(path)
    if path.is_dir():
        files = dataset_files(path)
        with _HashProgress(sum(p.stat().st_size for _, p in files), f"hashing {path.name}", show_progress) as advance:
            per_file = {relative: _file_sha256(file, advance) for relative, file in files}
        listing = "".join(f"{digest}  {relative}\n" for relative, digest in per_file.items())
        size = sum(file.stat().st_size for _, file in files)
        return ContentHash(hashlib.sha256(listing.encode("utf-8")).hexdigest(), len(files), size, per_file)
    if not path.is_file():
        raise FileNotFoundError(f"no file or folder {path}")
    size = path.stat().st_size
    with _HashProgress(size, f"hashing {path.name}", show_progress) as advance:
        return ContentHash(_file_sha256(path, advance), 1, size)


def file_sha256(path: Path) -> str:
    """The sha256 of one (small) file's bytes, e.g. a calibration or a model file."""
    return _file_sha256(Path(path), lambda _count: None)


def _file_sha256(path: Path, advance) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK_BYTES)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as stream:
        while count := stream.readinto(buffer):
            digest.update(view[:count])
            advance(count)
    return digest.hexdigest()


class _HashProgress:
    """A byte-counting progress bar for hashes of PROGRESS_MIN_BYTES or more; a no-op below."""

    def __init__(self, total: int, description: str, show: bool):
        self._bar = None
        if show and total >= PROGRESS_MIN_BYTES:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TimeRemainingColumn(), transient=True)
            self._task = self._bar.add_task(description, total=total)

    def __enter__(self):
        if self._bar is None:
            return lambda _count: None
        self._bar.start()
        return lambda count: self._bar.advance(self._task, count)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def iter_changed(recorded: dict[str, str], now: dict[str, str]) -> Iterator[str]:
    """What differs between two per-file lists: 'changed: p', 'missing: p', 'added: p' (sorted by path)."""
    for relative in sorted(set(recorded) | set(now)):
        if relative not in now:
            yield f"missing: {relative}"
        elif relative not in recorded:
            yield f"added: {relative}"
        elif recorded[relative] != now[relative]:
            yield f"changed: {relative}"
