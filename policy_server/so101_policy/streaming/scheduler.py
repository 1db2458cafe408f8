"""ChunkScheduler: GR00T action chunks → one target per control tick, never waiting on the network.

The synchronous upstream clients (docs/reference/gr00t-wire.md §9) observe, block on inference, execute 8 of
16 actions and repeat: the arm idles for every inference and jumps to a chunk computed from a
stale state. This scheduler instead (ideas from LeRobot's async inference, docs/reference/lerobot.md §10):

* asks for the next chunk when the plan left is no longer than the latency it has measured
  (chunk arrival − observation time, max of recent chunks) plus a margin and one tick, so
  the next chunk arrives before the plan runs out; with real-time chunking (RTC) a few steps
  earlier still, so the new chunk has old rows to blend over (`rtc_blend_steps`, as far as the
  chunk's length allows: d ≤ s ≤ T − d, docs/reference/gr00t-rtc.md §3);
* aligns each chunk to the time its observation was taken (action k is due at
  observation_time + k·step; an RTC chunk continues the grid of the tail it was asked to
  continue) and starts it at the action that matches "now": the actions the arm really executed
  meanwhile are skipped, never more. After a hold (the first chunk of an episode, whose
  inference may take a warm-up's 0.7 s, or a stalled server) the arm has executed nothing, so
  the chunk starts at its first action now instead of leaping ahead (LeRobot's first-chunk jump,
  §5);
* merges it into the plan (plan.py: latest, crossfade, ensemble) from what is commanded now (an
  RTC chunk's crossfade starts after its frozen rows, which repeat the plan);
* holds the last commanded target when the plan runs out (server slow, stalled or gone),
  keeps asking (a lost request is given up after `request_timeout_s`, a failed one retried
  after `retry_interval_s`), and blends back in from the held target when chunks return;
* for RTC requests, hands out the tail of the plan from the first action not yet due at the
  observation's time (rtc_prefix) with the frozen steps the measured delay calls for (the p95 of
  recent latencies, a warm-up excluded, plus the margin and a step for interpolation);
* forgets everything on reset() (an episode boundary, a takeover): a reply to a request sent
  before it is dropped (`dropped_superseded`), and the next request carries no prefix.

It is a pure object: every method takes the time it should act at, so tests drive it with a
fake clock and get the same result every run. It is not thread-safe (StreamingDriver locks).
"""
from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass
from enum import Enum

import numpy as np

from so101_policy.errors import BadActionError
from so101_policy.streaming.chunk_checks import ActionValidator
from so101_policy.streaming.latency import LatencyEstimator
from so101_policy.streaming.plan import BlendMode, Plan, merge
from so101_policy.streaming.rtc import RtcPrefix

FUTURE_TOLERANCE_S = 1e-3
"""An observation_time later than now by more than this means two clocks are mixed up."""
ACCEPTED_KEPT = 8
"""Accepted chunks kept for take_accepted() (for display: older ones are dropped, never blocking)."""
GRID_TOLERANCE_S = 1e-9
"""Float slack when a time is compared with a chunk's action grid."""


@dataclass(frozen=True)
class SchedulerConfig:
    control_hz: float = 30.0
    action_hz: float | None = None
    """Rate of the policy's action steps (the dataset's fps); None: same as control_hz."""
    blend: BlendMode = BlendMode.CROSSFADE
    crossfade_s: float = 0.2
    ensemble_decay: float = 0.0
    request_margin_s: float = 0.05
    """Extra lead on top of the measured latency and one tick."""
    initial_latency_s: float = 0.3
    """Assumed until the first chunk has been measured."""
    latency_window: int = 10
    request_timeout_s: float = 10.0
    """A request unanswered this long is taken as lost and a new one may go out."""
    retry_interval_s: float = 0.5
    """Wait after a failed request before the next (a server that fails at once is not hammered)."""
    max_chunk_age_s: float = 1.0
    """Chunks whose observation is older than this on arrival are dropped (stale state)."""
    rtc_blend_steps: int = 8
    """RTC: steps earlier than the delay needs that the next chunk is asked for (room for the ramp)."""

    def __post_init__(self) -> None:
        positive = ("control_hz", "crossfade_s", "request_timeout_s", "max_chunk_age_s")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("request_margin_s", "initial_latency_s", "retry_interval_s"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.action_hz is not None and not self.action_hz > 0:
            raise ValueError(f"action_hz must be positive, got {self.action_hz}")
        if self.latency_window < 1:
            raise ValueError(f"latency_window must be >= 1, got {self.latency_window}")
        if self.rtc_blend_steps < 0:
            raise ValueError(f"rtc_blend_steps must be >= 0, got {self.rtc_blend_steps}")

    @property
    def control_period_s(self) -> float:
        return 1.0 / self.control_hz

    @property
    def action_step_s(self) -> float:
        return 1.0 / (self.action_hz or self.control_hz)


class TickStatus(Enum):
    PLANNED = "planned"
    """A target from the plan."""
    HOLD = "hold"
    """The plan ran out: the last commanded target, again."""
    WAITING = "waiting"
    """Nothing commanded yet (no chunk, no reset(present)): command nothing."""


@dataclass(frozen=True, eq=False)
class Tick:
    status: TickStatus
    target: np.ndarray | None
    """(6,) radians; None only while WAITING."""

    @property
    def planned(self) -> bool:
        return self.status is TickStatus.PLANNED


@dataclass(frozen=True, eq=False)
class ChunkReply:
    """What one request produced, for on_chunk."""

    actions: np.ndarray
    """(T, 6) radians."""
    observation_time: float
    """When the observation was taken (the scheduler's clock): the chunk's latency is measured from it."""
    prefix: RtcPrefix | None = None
    """RTC: the tail the request asked the server to continue; row j is then due at its anchor_time + j·step
    (None: row j is due at observation_time + j·step)."""
    rtc: bool = False
    """The server honours RTC (its canary came back): the scheduler asks early enough for a ramp."""
    cold: bool = False
    """The connection's first inference (a warm-up): its latency says nothing about the next ones."""

    @property
    def anchor_time(self) -> float:
        return self.observation_time if self.prefix is None else self.prefix.anchor_time


@dataclass(frozen=True, eq=False)
class AcceptedChunk:
    """A chunk as merged into the plan: the actions still ahead when it arrived, for display."""

    observation_time: float
    """When the observation it was predicted from was taken (action k is due at this + k·step)."""
    times: np.ndarray
    """(T,) when each action is due, on the scheduler's clock."""
    actions: np.ndarray
    """(T, 6) radians, after validation and clamping."""
    received_at: float
    """When it arrived: received_at − observation_time is its latency."""


class ChunkScheduler:
    def __init__(self, config: SchedulerConfig, validator: ActionValidator):
        self.config = config
        self.validator = validator
        self._latency = LatencyEstimator(config.initial_latency_s, config.latency_window)
        self._counters: Counter[str] = Counter()
        self._plan: Plan | None = None
        self._commanded: np.ndarray | None = None
        self._in_flight_since: float | None = None
        self._retry_at = -np.inf
        self._accepted: deque[AcceptedChunk] = deque(maxlen=ACCEPTED_KEPT)
        self._chunk_length: int | None = None
        self._rtc = False
        self.epoch = 0
        """Incremented by reset(): a reply to a request sent before then belongs to the past (StreamingDriver)."""

    # --- control thread ----------------------------------------------------------------------

    def reset(self, present: np.ndarray | None = None) -> None:
        """Forget the plan and any request in flight; hold `present` (radians) until the first chunk,
        which then blends in from it. Call when the policy is engaged, with the arm's position."""
        self._plan = None
        self._in_flight_since = None
        self._retry_at = -np.inf
        self._commanded = None if present is None else np.array(present, dtype=np.float64)
        self.epoch += 1

    def tick(self, now: float) -> Tick:
        """The target to command at `now`."""
        if self._plan is not None and self._plan.covers(now):
            self._commanded = self._plan.value_at(now)
            tick = Tick(TickStatus.PLANNED, self._commanded.copy())
        elif self._commanded is not None:
            tick = Tick(TickStatus.HOLD, self._commanded.copy())
        else:
            tick = Tick(TickStatus.WAITING, None)
        self._counters[f"ticks_{tick.status.value}"] += 1
        return tick

    def should_request(self, now: float) -> bool:
        """True when a request should go out now (then call on_request_sent)."""
        if self._in_flight_since is not None:
            if now - self._in_flight_since < self.config.request_timeout_s:
                return False
            self._counters["requests_lost"] += 1
            self._in_flight_since = None
        if now < self._retry_at:
            return False
        if self._plan is None or not self._plan.covers(now):
            return True
        lead = self._latency.estimate_s + self.config.request_margin_s + self.config.control_period_s
        return self._plan.end - now <= lead + self._rtc_blend_steps(lead) * self.config.action_step_s

    def _rtc_blend_steps(self, lead_s: float) -> int:
        """RTC's extra lead in steps: the configured blend, but never so much that fewer steps than the delay
        would run between two requests (s ≥ d with s = T − d − blend)."""
        if not self._rtc or self._chunk_length is None:
            return 0
        delay_steps = math.ceil(lead_s / self.config.action_step_s)
        return max(0, min(self.config.rtc_blend_steps, self._chunk_length - 2 * delay_steps))

    def on_request_sent(self, now: float) -> None:
        self._in_flight_since = now
        self._counters["requests"] += 1

    def rtc_prefix(self, observation_time: float) -> RtcPrefix | None:
        """For an RTC request observed at `observation_time`: the plan from its first action not yet due then,
        with the frozen steps the delay calls for; None when no plan covers that time (a cold start, after a
        hold or a reset), so the request carries no prefix."""
        plan = self._plan
        if plan is None or not plan.covers(observation_time):
            return None
        first = int(np.searchsorted(plan.times, observation_time - GRID_TOLERANCE_S, side="left"))
        if first >= len(plan.times):
            return None
        tail = plan.values[first:].copy()
        return RtcPrefix(float(plan.times[first]), tail, min(self.frozen_steps, len(tail)))

    # --- results of a request ------------------------------------------------------------------

    def on_chunk(self, reply: ChunkReply, now: float) -> bool:
        """Merge a chunk into the plan; False if it was dropped (counted)."""
        self._in_flight_since = None
        age = now - reply.observation_time
        if age < -FUTURE_TOLERANCE_S:
            self._counters["rejected_future_observation"] += 1
            return False
        if not reply.cold:
            self._latency.add(age)
        if age > self.config.max_chunk_age_s:
            self._counters["rejected_stale"] += 1
            return False
        chunk = np.asarray(reply.actions)
        step = self.config.action_step_s
        anchor = reply.anchor_time
        elapsed = max(0, math.floor((now - anchor) / step + GRID_TOLERANCE_S))
        start = min(elapsed, self._steps_executed_since(anchor, now))
        if start < elapsed:
            anchor = now - start * step  # the arm held meanwhile: resume the chunk where it was left, now
        if chunk.ndim >= 1 and start >= chunk.shape[0]:
            self._counters["rejected_expired"] += 1
            return False
        current = self._plan if self._plan is not None and self._plan.covers(now) else None
        reference = current.value_at(now) if current is not None else self._commanded
        try:
            checked = self.validator.check(chunk, start, reference)
        except BadActionError:
            return False  # counted by the validator
        times = anchor + step * np.arange(start, checked.shape[0])
        values = checked[start:]
        if times[0] > now + GRID_TOLERANCE_S and reference is not None:
            # An RTC chunk whose first action is still ahead (the tail starts at the first action not yet
            # due, up to a step after now): the plan goes on from what is commanded now to it, as before.
            times, values = np.concatenate([[now], times]), np.vstack([reference, values])
        frozen_until = None if reply.prefix is None else reply.prefix.anchor_time + reply.prefix.frozen_steps * step
        self._plan = merge(current, self._commanded, times, values, now, step,
                           self.config.blend, self.config.crossfade_s, self.config.ensemble_decay, frozen_until)
        self._chunk_length, self._rtc = checked.shape[0], reply.rtc
        self._counters["chunks_accepted"] += 1
        if reply.prefix is not None:
            self._counters["rtc_chunks"] += 1
            if start + 1 >= reply.prefix.frozen_steps:  # interpolation reads rows start and start + 1
                self._counters["rtc_late"] += 1  # the switch falls after the frozen rows: the delay was underestimated
        self._accepted.append(AcceptedChunk(reply.observation_time, times, checked[start:], now))
        return True

    def _steps_executed_since(self, anchor: float, now: float) -> float:
        """Action steps of the plan the arm executed between `anchor` and `now`: all of them while a plan
        ran, none while it held (no plan yet, or the plan had ended)."""
        if self._plan is None:
            return 0
        if self._plan.covers(now):
            return math.inf
        return max(0, math.floor((self._plan.end - anchor) / self.config.action_step_s + GRID_TOLERANCE_S))

    def on_rejected(self, now: float, kind: str) -> None:
        """The reply could not be decoded into a chunk (BadActionError `kind`): counted as rejected_<kind>,
        like the validator's rejections; the next request may go at once, with a fresh observation."""
        self._in_flight_since = None
        self._counters[f"rejected_{kind}"] += 1

    def on_superseded(self) -> None:
        """A reply to a request sent before the last reset() (an episode boundary): dropped, counted."""
        self._counters["dropped_superseded"] += 1

    def on_failure(self, now: float, reason: str) -> None:
        """The request failed (timeout, server error, bad reply): counted as failed_<reason>; retried later."""
        self._in_flight_since = None
        self._retry_at = now + self.config.retry_interval_s
        self._counters[f"failed_{reason}"] += 1

    # --- diagnostics ---------------------------------------------------------------------------

    def take_accepted(self) -> list[AcceptedChunk]:
        """The chunks accepted since the last call (at most ACCEPTED_KEPT), oldest first."""
        accepted = list(self._accepted)
        self._accepted.clear()
        return accepted

    @property
    def counters(self) -> dict[str, int]:
        """Ticks by status, requests, chunks accepted, rejections and clamps, failures by reason."""
        return dict(self._counters + self.validator.counters)

    @property
    def latency_estimate_s(self) -> float:
        return self._latency.estimate_s

    @property
    def frozen_steps(self) -> int:
        """RTC's d: the action steps a reply can take to land (p95 latency + margin), plus one, because the
        plan interpolates between the action due and the next."""
        delay = self._latency.p95_s + self.config.request_margin_s
        return math.ceil(delay / self.config.action_step_s - GRID_TOLERANCE_S) + 1

    @property
    def chunk_length(self) -> int | None:
        """T of the last accepted chunk."""
        return self._chunk_length

    @property
    def last_latency_s(self) -> float | None:
        return self._latency.last_s

    def planned_until(self) -> float | None:
        """When the current plan runs out (None without one)."""
        return None if self._plan is None else self._plan.end
