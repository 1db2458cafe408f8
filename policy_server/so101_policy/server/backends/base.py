"""The one interface the server calls, shaped like Isaac-GR00T N1.6+'s BasePolicy.

Observations and actions are in the layout of the generation the server speaks (the backend
is built for it); the server only adds and strips the envelope.
"""
from __future__ import annotations

from typing import Any, Protocol

from so101_policy.wire.modality import ModalityConfig


class Policy(Protocol):
    def get_action(
        self, observation: dict[str, Any], options: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(action, info) for one observation; N1.5 servers send only `action`."""
        ...

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        ...

    def reset(self, options: dict[str, Any] | None) -> dict[str, Any]:
        """Start a new episode (clear history, restart a replay)."""
        ...
