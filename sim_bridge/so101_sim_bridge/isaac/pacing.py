"""Pacing the Isaac Sim loop to wall time.

Isaac Sim's default app config turns the run loop's rate limit off, so `simulation.step()` returns as fast
as the GPU renders: simulation time runs ahead of wall time and cameras and joint states come faster than
their stated rates (--render-hz only sets how much simulation time one step covers). WallClockPacer
sleeps so that step n ends no earlier than start + n·period. A loop that falls behind (a slow GPU) is
not made to catch up with a burst of unpaced steps: after more than `max_lag_s` behind, the schedule
restarts from now and the step is counted as late, so the real-time factor shows up in the log.

The clock and sleep are injectable, so the logic is tested without Isaac Sim or real waiting.
"""
from __future__ import annotations

import time
from collections.abc import Callable


class WallClockPacer:
    def __init__(self, period_s: float, *, max_lag_s: float = 0.25, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if period_s <= 0 or max_lag_s < 0:
            raise ValueError(f"pacing needs a positive period and a lag ≥ 0, got {period_s}, {max_lag_s}")
        self.period_s = period_s
        self.max_lag_s = max_lag_s
        self._clock, self._sleep = clock, sleep
        self._start = clock()
        self._steps_since_start = 0
        self.steps = 0
        self.late_steps = 0
        self._first = self._start

    def wait(self) -> None:
        """Call once per simulation step, after it: returns when the step's wall-clock end has come."""
        self.steps += 1
        self._steps_since_start += 1
        due = self._start + self._steps_since_start * self.period_s
        now = self._clock()
        if now < due:
            self._sleep(due - now)
        elif now - due > self.max_lag_s:
            self.late_steps += 1
            self._start, self._steps_since_start = now, 0

    def real_time_factor(self) -> float:
        """Simulated time per wall-clock time since the pacer was made (1.0 when the loop keeps up)."""
        elapsed = self._clock() - self._first
        return self.steps * self.period_s / elapsed if elapsed > 0 else 1.0
