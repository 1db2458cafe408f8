"""Fixed-rate pacing for sources that have no hardware clock (synthetic pattern, video file)."""
from __future__ import annotations

import threading
import time


class Pacer:
    """Lets a software source release one frame per period without spinning a core.

    Deadlines follow a schedule (previous deadline + period) so the rate does not drift with
    processing time. After falling behind (a loaded machine) the next frame is due at once and
    the schedule continues from there: missed frames are dropped, not delivered in a burst,
    as a real camera would.
    """

    def __init__(self, fps: float) -> None:
        self._period_s = 1.0 / fps
        self._deadline: float | None = None

    def reset(self) -> None:
        """Deliver the next frame immediately (after an open), then resume the period."""
        self._deadline = None

    def wait(self, stop: threading.Event) -> bool:
        """Block until the next frame is due; ``False`` if ``stop`` was set first."""
        now = time.monotonic()
        deadline = now if self._deadline is None else self._deadline
        if deadline > now and stop.wait(deadline - now):
            return False
        self._deadline = max(deadline + self._period_s, time.monotonic())
        return not stop.is_set()
