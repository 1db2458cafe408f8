"""The dataset tools' one error: bad input, with what is wrong and how to fix it in the message."""
from __future__ import annotations


class DatasetError(RuntimeError):
    """A file or folder the tool cannot use as asked (wrong kind, missing keys or topics, mismatched units)."""
