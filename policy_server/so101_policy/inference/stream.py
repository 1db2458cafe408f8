"""PolicyStream: everything the inference node does, without ROS.

Readings go in (ObservationStore), one target per control tick comes out, and nothing on the
caller's thread ever waits for the network: every exchange with the server — identifying its
wire generation ("auto"), reading its modality config, `reset` at each engagement, and
`get_action` — happens on the StreamingDriver's worker, inside PolicySession. So a node can
start before its server, survive the server going away (the arm holds the last target) and
pick up again when it is back, all while its executor keeps serving topics and services.

Engaging resets the scheduler to the arm's present position and asks the server for a new
episode (and checks again whether it honours real-time chunking); only then are targets produced.
Resuming (after an operator's takeover) also starts from the present pose, with a fresh chunk and
no prefix, but continues the server's episode. Disengaging just stops producing targets: the
follower holds its last one once its command timeout passes.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from so101_calibration import ArmCalibration
from so101_policy.embodiment.action_decoder import ActionDecoder
from so101_policy.embodiment.data_config import DataConfig, data_config, default_data_config
from so101_policy.embodiment.joint_units import PolicyUnits
from so101_policy.embodiment.observation_builder import ObservationBuilder, RobotObservation
from so101_policy.inference.config import InferenceConfig
from so101_policy.inference.readings import ObservationStore
from so101_policy.streaming import (
    AcceptedChunk,
    ActionValidator,
    ChunkReply,
    ChunkScheduler,
    PolicyChunkSource,
    RtcState,
    StreamingDriver,
    TickStatus,
)
from so101_policy.streaming.driver import PrefixAt
from so101_policy.wire.client import PolicyClient

LATENCY_WINDOW = 100
"""Chunks behind the latency percentiles on /diagnostics (about a minute at GR00T's usual pace)."""


@dataclass(frozen=True)
class SessionInfo:
    """What the server turned out to be, once it answered."""

    protocol: str
    data_config: DataConfig


class PolicySession:
    """A ChunkSource (streaming.driver) that connects on first use, on the driver's worker thread.

    The data config and its language key are settled from the server's own answers: the
    generation decides the default data config, and the modality config names the language key
    the checkpoint was trained with (unless the configuration overrides it).
    """

    def __init__(
        self,
        client: PolicyClient,
        config: InferenceConfig,
        units: PolicyUnits,
        observe: Callable[[], RobotObservation],
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._config = config
        self._units = units
        self._observe = observe
        self._clock = clock
        self._source: PolicyChunkSource | None = None
        self._new_episode = threading.Event()
        self._lock = threading.Lock()  # the figures below are written by the worker, read by /diagnostics
        self._latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._last_observation_time: float | None = None
        self.info: SessionInfo | None = None

    def new_episode(self) -> None:
        """Reset the server's policy (history, replay clock) before the next request, and check RTC again."""
        self._new_episode.set()

    @property
    def rtc_state(self) -> RtcState | None:
        """Whether the server honours real-time chunking (None until connected)."""
        return None if self._source is None else self._source.rtc_state

    @property
    def horizon(self) -> int | None:
        """T, the chunk length the server's modality config names (None until connected, or if it names none)."""
        return None if self._source is None else self._source.horizon

    def __call__(self, prefix_at: PrefixAt) -> ChunkReply:
        source = self._source or self._connect()
        if self._new_episode.is_set():
            self._client.reset()
            source.check_rtc()
            self._new_episode.clear()  # only once the server has reset: a failed reset is tried again
        reply = source(prefix_at)
        with self._lock:
            self._latencies.append(self._clock() - reply.observation_time)
            self._last_observation_time = reply.observation_time
        return reply

    def _connect(self) -> PolicyChunkSource:
        protocol = self._client.protocol
        modality = self._client.get_modality_config()
        language_key = self._config.language_key or (
            modality["language"].modality_keys[0] if "language" in modality else None
        )
        horizon = len(modality["action"].delta_indices) if "action" in modality else None
        base = data_config(self._config.data_config) if self._config.data_config else default_data_config(protocol)
        config = base.with_overrides(language_key=language_key, action_horizon=horizon)
        self._source = PolicyChunkSource(
            self._client,
            ObservationBuilder(config, protocol, self._units),
            ActionDecoder(config, protocol, self._units),
            self._observe,
            horizon,
            self._config.rtc_config(),
        )
        self.info = SessionInfo(protocol.value, config)
        return self._source

    def latency_percentiles_ms(self) -> dict[str, float]:
        """p50/p95 of observation → decoded chunk over recent chunks; {} before the first."""
        with self._lock:
            samples = list(self._latencies)
        if not samples:
            return {}
        p50, p95 = np.percentile(samples, [50, 95]) * 1e3
        return {"latency_p50_ms": float(p50), "latency_p95_ms": float(p95)}

    def last_chunk_age_s(self, now: float) -> float | None:
        """Time since the observation of the newest chunk received (how old the plan's view is)."""
        with self._lock:
            observed = self._last_observation_time
        return None if observed is None else now - observed


class Level(Enum):
    OK = "ok"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True)
class StreamStatus:
    """One /diagnostics status: a level, one line for the operator, the figures behind it."""

    level: Level
    message: str
    values: dict[str, object] = field(default_factory=dict)


class PolicyStream:
    """start(), then feed `observations`, engage() and tick() at the control rate; close() at the end."""

    def __init__(
        self,
        config: InferenceConfig,
        calibration: ArmCalibration,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.config = config
        self.observations = ObservationStore(
            config.camera_topics, config.max_observation_age_s, config.instruction, clock
        )
        self._clock = clock
        scheduler = ChunkScheduler(config.scheduler_config(), ActionValidator(config.validation_config(calibration)))
        units = config.policy_units(calibration)
        self._client = PolicyClient(  # no I/O yet: the session connects on the worker thread
            config.host, config.port, config.protocol, config.api_token or None, config.timeout_s
        )
        self.session = PolicySession(self._client, config, units, self.observations.snapshot, clock)
        self.driver = StreamingDriver(scheduler, self.session, clock)
        self._engaged = False
        self._last_status: TickStatus | None = None
        self._reported: dict[str, int] = {}

    @property
    def endpoint(self) -> str:
        return self._client.endpoint

    @property
    def engaged(self) -> bool:
        return self._engaged

    def start(self) -> None:
        self.driver.start()

    def close(self) -> None:
        """Stop the worker (a request in flight ends within the client's timeout), then the socket."""
        self.driver.stop()
        self._client.close()

    def engage(self) -> str | None:
        """Start a new episode from the arm's present position; returns why it cannot, or None."""
        refusal = self.resume()
        if refusal is None:
            self.session.new_episode()
        return refusal

    def resume(self) -> str | None:
        """Stream again from the arm's present position with a fresh chunk (no prefix), in the same episode
        (after an operator's takeover); returns why it cannot, or None."""
        present = self.observations.present()
        if present is None:
            return f"no follower joint state in the last {self.config.max_observation_age_s:g} s"
        self.driver.reset(present)
        self._engaged = True
        return None

    def disengage(self) -> None:
        self._engaged = False
        self._last_status = None

    def tick(self) -> np.ndarray | None:
        """The target (6,) radians to command now; None when disengaged or nothing is commanded yet."""
        if not self._engaged:
            return None
        tick = self.driver.tick()
        self._last_status = tick.status
        return tick.target

    def take_accepted_chunks(self) -> list[AcceptedChunk]:
        """The chunks merged into the plan since the last call, for display (policy/chunk)."""
        return self.driver.take_accepted()

    def status(self) -> StreamStatus:
        """The /diagnostics report. Call once per reporting period: the message names the
        rejections and failures since the previous call, i.e. why the arm holds now."""
        counters = self.driver.counters
        recent = {
            key: count - self._reported.get(key, 0)
            for key, count in counters.items()
            if key.startswith(("rejected_", "failed_")) and count > self._reported.get(key, 0)
        }
        self._reported = counters
        info = self.session.info
        values: dict[str, object] = {
            "engaged": self._engaged,
            "server": self.endpoint,
            "protocol": info.protocol if info else "not connected",
            "data_config": info.data_config.name if info else self.config.data_config or "by generation",
            "instruction": self.observations.instruction,
            "blend": self.config.blend,
            "rtc": self.session.rtc_state.value if self.session.rtc_state else "not connected",
            "chunk_length": self.session.horizon or "not connected",
            "rtc_frozen_steps": self.driver.scheduler.frozen_steps,
            "latency_estimate_ms": self.driver.scheduler.latency_estimate_s * 1e3,
            **self.session.latency_percentiles_ms(),
            "rejected_chunks": sum(v for k, v in counters.items() if k.startswith("rejected_")),
            **counters,  # ticks_hold are the underruns: ticks with no plan, holding the last target
            **self.observations.ages(),
        }
        chunk_age = self.session.last_chunk_age_s(self._clock())
        if chunk_age is not None:
            values["last_chunk_age_s"] = chunk_age
        if self.driver.last_error:
            values["last_error"] = self.driver.last_error
        since = ", ".join(f"{key} +{count}" for key, count in sorted(recent.items()))
        if not self.driver.alive:
            return StreamStatus(Level.ERROR, "the request worker has stopped: restart the node", values)
        if not self._engaged:
            return StreamStatus(Level.OK, "idle: call policy/run to start streaming", values)
        if self._last_status is TickStatus.HOLD:
            return StreamStatus(Level.WARN, f"holding the last target, no plan: {since or 'waiting for a chunk'}", values)
        if since:
            return StreamStatus(Level.WARN, f"streaming; {since}", values)
        return StreamStatus(Level.OK, "streaming", values)
