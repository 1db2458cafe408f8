"""Which recorder inputs are arriving, so the recorder can say what it is waiting for.

A recording started with a stream missing would drop every step, so the node refuses to start
until each input has delivered recently, and says which topics it is waiting for in the log, in
/diagnostics and on the status line.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping


class InputMonitor:
    """Arrival times of each input stream; the clock is the caller's (`now` arguments)."""

    def __init__(self, topics: Mapping[str, str], timeout_s: float):
        """topics: stream name → topic name (what messages say); timeout_s: silence that counts as missing."""
        self._topics = dict(topics)
        self._timeout_s = timeout_s
        self._last: dict[str, float] = {}
        self.received: Counter[str] = Counter()

    def seen(self, stream: str, now: float) -> None:
        self._last[stream] = now
        self.received[stream] += 1

    def missing(self, now: float) -> dict[str, str]:
        """Topic → why, for each stream not heard from within the timeout ('never received', 'silent 2.5 s')."""
        waiting = {}
        for stream, topic in self._topics.items():
            last = self._last.get(stream)
            if last is None:
                waiting[topic] = "never received"
            elif now - last > self._timeout_s:
                waiting[topic] = f"silent {now - last:.1f} s"
        return waiting


def describe_missing(missing: dict[str, str]) -> str:
    """'/a (never received); /b (silent 2.5 s)'."""
    return "; ".join(f"{topic} ({why})" for topic, why in missing.items())
