"""The generator's one error for bad input: what is wrong and what to do, raised before any trial runs."""
from __future__ import annotations


class MimicGenError(RuntimeError):
    """Seeds, task spec, settings or output folder that generation cannot use as given."""
