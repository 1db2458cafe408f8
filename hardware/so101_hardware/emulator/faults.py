"""Seeded fault decisions: which replies are dropped, corrupted, delayed or reordered.

Decisions read the live FaultConfig on every call, so a test can change rates while the bus is
running, and draw from one seeded RNG only when a rate is non-zero, so a fault-free run never
perturbs the sequence a later faulty run sees.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from so101_hardware.emulator.config import FaultConfig

T = TypeVar("T")


def corrupt_checksum(packet: bytes) -> bytes:
    """The same packet with its checksum byte inverted (so it can never match)."""
    return packet[:-1] + bytes((packet[-1] ^ 0xFF,))


class FaultInjector:
    def __init__(self, config: FaultConfig, seed: int):
        self.config = config
        self._rng = random.Random(f"so101-faults:{seed}")

    def _hit(self, rate: float) -> bool:
        return rate > 0.0 and self._rng.random() < rate

    def drop(self) -> bool:
        return self._hit(self.config.drop_reply_rate)

    def corrupt(self) -> bool:
        return self._hit(self.config.corrupt_checksum_rate)

    def spike_s(self) -> float:
        """Extra delay for this reply (0.0 when no spike)."""
        return self.config.latency_spike_s if self._hit(self.config.latency_spike_rate) else 0.0

    def reorder(self, items: Sequence[T]) -> list[T] | None:
        """A rotation of `items` (always a different order), or None to keep them as they are."""
        if len(items) < 2 or not self._hit(self.config.reorder_sync_read_rate):
            return None
        shift = self._rng.randrange(1, len(items))
        return [*items[shift:], *items[:shift]]
