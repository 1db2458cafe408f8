"""Typed readings → rerun log calls, under entity paths a viewer layout (blueprint) can rely on.

    joints/<joint>/leader|follower|command   scalars, radians (one plot per joint compares them)
    joints/<joint>/chunk                     the policy's predicted steps, as points at their due times
    <camera entity>                          images (cameras/wrist for cameras/wrist/image_raw)
    diagnostics/<node>                       a text line whenever a node's level or message changes
    diagnostics/<node>/<key>                 each numeric diagnostic value, as a scalar

Everything is on one timestamp timeline, `time`, read from the messages' own stamps (wall
clock), so a chunk's steps land where they are due and a late frame where it was captured.
Styles (names, colors) are logged once, static, so a viewer that connects later still has them.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

try:
    import rerun as rr
    import rerun.blueprint as rrb
except ImportError as exc:  # optional: the `rerun` extra
    raise ImportError(
        "the rerun viewer needs rerun-sdk 0.24-0.26: pip install './launch[rerun]' (it needs numpy 2; on "
        "Humble install it into a venv of its own, README \"Humble / Jazzy / Kilted\")"
    ) from exc

from so101_calibration import JOINT_NAMES

TIMELINE = "time"
JointSource = Literal["leader", "follower", "command"]
SOURCE_COLORS: dict[JointSource, tuple[int, int, int]] = {
    "leader": (40, 110, 240),
    "follower": (20, 170, 60),
    "command": (255, 140, 0),
}
CHUNK_COLOR = (160, 60, 220)
PLOT_WINDOW_S = 10.0
# DiagnosticStatus level → (label, rerun text-log level); STALE is a warning to whoever watches.
_LEVELS = {
    0: ("OK", rr.TextLogLevel.INFO),
    1: ("WARN", rr.TextLogLevel.WARN),
    2: ("ERROR", rr.TextLogLevel.ERROR),
    3: ("STALE", rr.TextLogLevel.WARN),
}


class RerunLog:
    """Logs into one recording; call from one thread (rerun's time cursor is per thread)."""

    def __init__(self, recording: rr.RecordingStream, joint_names: Sequence[str] = JOINT_NAMES):
        self._rec = recording
        self.joint_names = tuple(joint_names)
        self._texts: dict[str, tuple[int, str]] = {}
        for joint in self.joint_names:
            for source, color in SOURCE_COLORS.items():
                recording.log(f"joints/{joint}/{source}", rr.SeriesLines(names=source, colors=color), static=True)
            style = rr.SeriesPoints(names="policy chunk", colors=CHUNK_COLOR, markers="circle", marker_sizes=1.5)
            recording.log(f"joints/{joint}/chunk", style, static=True)

    def joints(self, source: JointSource, positions: Sequence[float], stamp_s: float) -> None:
        """A joint state or command: positions in radians, in joint_names order."""
        self._rec.set_time(TIMELINE, timestamp=stamp_s)
        for joint, value in zip(self.joint_names, positions, strict=True):
            self._rec.log(f"joints/{joint}/{source}", rr.Scalars(float(value)))

    def chunk(self, times_s: Sequence[float], positions: np.ndarray) -> None:
        """A predicted chunk: step i, positions[i] (radians, joint_names order), is due at wall-clock times_s[i]."""
        times = np.asarray(times_s, dtype=np.float64)
        steps = np.asarray(positions, dtype=np.float64)
        if steps.shape != (times.size, len(self.joint_names)):
            raise ValueError(f"a chunk of {times.size} steps needs positions of shape "
                             f"({times.size}, {len(self.joint_names)}), got {steps.shape}")
        index = [rr.TimeColumn(TIMELINE, timestamp=times)]
        for j, joint in enumerate(self.joint_names):
            column = rr.Scalars.columns(scalars=steps[:, j])
            self._rec.send_columns(f"joints/{joint}/chunk", indexes=index, columns=column)

    def image(self, entity: str, rgb: np.ndarray, stamp_s: float) -> None:
        """An (H, W, 3) uint8 RGB frame captured at stamp_s."""
        self._rec.set_time(TIMELINE, timestamp=stamp_s)
        self._rec.log(entity, rr.Image(rgb, color_model="RGB"))

    def diagnostic(self, name: str, level: int, message: str, values: Mapping[str, str], stamp_s: float) -> None:
        """One DiagnosticStatus: its numeric values as scalars; its level and message as text when they change.

        Nodes repeat their status every second; logging only changes keeps the text log readable.
        """
        path = ["diagnostics", *(part for part in name.split("/") if part)]
        self._rec.set_time(TIMELINE, timestamp=stamp_s)
        if self._texts.get(name) != (level, message):
            self._texts[name] = (level, message)
            label, text_level = _LEVELS.get(level, (str(level), rr.TextLogLevel.WARN))
            self._rec.log(path, rr.TextLog(f"{label}: {message}", level=text_level))
        for key, text in values.items():
            number = _number(text)
            if number is not None:
                self._rec.log([*path, key], rr.Scalars(number))


def new_recording(application_id: str) -> rr.RecordingStream:
    """A recording stream to log into (so the node needs no rerun import of its own, and gets this
    module's message when rerun-sdk is missing)."""
    return rr.RecordingStream(application_id)


def blueprint(joint_names: Sequence[str], image_entities: Sequence[str]) -> rrb.Blueprint:
    """The default layout: a plot per joint (last 10 s), the cameras, then the diagnostics."""
    recent = rrb.VisibleTimeRange(
        TIMELINE,
        start=rrb.TimeRangeBoundary.cursor_relative(seconds=-PLOT_WINDOW_S),
        end=rrb.TimeRangeBoundary.cursor_relative(),
    )
    plots = rrb.Grid(*(rrb.TimeSeriesView(origin=f"joints/{joint}", name=joint, time_ranges=recent)
                       for joint in joint_names))
    diagnostics = rrb.Tabs(
        rrb.TextLogView(origin="diagnostics", name="diagnostics"),
        rrb.TimeSeriesView(origin="diagnostics", name="diagnostic values", time_ranges=recent),
    )
    side = rrb.Vertical(*(rrb.Spatial2DView(origin=entity, name=entity) for entity in image_entities), diagnostics)
    return rrb.Blueprint(
        rrb.Horizontal(plots, side, column_shares=[2, 1]),
        rrb.TimePanel(timeline=TIMELINE, state="collapsed"),
        collapse_panels=True,
    )


class RateLimit:
    """At most `rate_hz` accepted events per key, on average (0: no limit).

    The next slot is the previous slot plus one period, not the last event plus one period, so
    a 100 Hz stream limited to 30 Hz logs 30 samples a second, not the 25 that message jitter
    would otherwise leave.
    """

    def __init__(self, rate_hz: float):
        self._period = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self._next: dict[str, float] = {}

    def allow(self, key: str, now: float) -> bool:
        due = self._next.get(key, now)
        if now < due:
            return False
        self._next[key] = max(due + self._period, now)
        return True


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
