"""The provenance library's one error: a manifest or provenance file that cannot be used, with what to do."""
from __future__ import annotations


class ProvenanceError(RuntimeError):
    """An unreadable or malformed manifest, a provenance file that is missing or wrong, a path with no dataset."""
