"""Typed errors of the policy link, so callers can tell a slow server from a broken one.

A control loop reacts differently to each: a timeout means "hold and retry", a server error
means "the request was wrong or the model failed" (the server's own text is kept), and a
protocol mismatch means "configuration error, stop and fix the generation" — retrying never
helps. All derive from PolicyError so a node can catch the family in one place.
"""
from __future__ import annotations


class PolicyError(Exception):
    """Base of every policy-link problem."""


class PolicyTimeoutError(PolicyError, TimeoutError):
    """No reply within the client's timeout (server busy, gone, or unreachable)."""


class PolicyServerError(PolicyError):
    """The server answered with an error reply; `message` is the server's own text."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(f"policy server error: {message}")


class ProtocolMismatchError(PolicyError):
    """Client and server speak different Isaac-GR00T wire generations (or an unsupported one)."""


class WireFormatError(PolicyError, ValueError):
    """Bytes that are not a valid message of any supported generation."""


class BadActionError(PolicyError, ValueError):
    """An action chunk that must not reach the arm; `kind` is the diagnostics counter it counts under."""

    def __init__(self, kind: str, detail: str):
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


class BackendUnavailableError(PolicyError):
    """A server backend cannot run here (e.g. Isaac-GR00T is not installed)."""


class DatasetError(PolicyError, ValueError):
    """A recorded dataset that cannot be replayed (missing file, episode, column or unit)."""


class ObservationError(PolicyError, ValueError):
    """An observation that does not match the data config and generation the policy serves."""
