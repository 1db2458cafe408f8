"""Recorder errors whose messages say what happened to the data and what to do.

The recorder node turns these into a failed service response and a diagnostics entry, so each
message stands alone: which file, what is still safe, what the operator should do.
"""
from __future__ import annotations


class RecorderError(RuntimeError):
    """Base of every recording failure."""


class OutputExistsError(RecorderError):
    """The output already exists and the writer was not asked to resume it."""


class DiskFullError(RecorderError):
    """The disk filled up while recording; the unfinished episode was dropped, saved ones are intact."""


class RecorderStateError(RecorderError):
    """A call that does not fit the recorder's state (stop without start, start twice)."""
