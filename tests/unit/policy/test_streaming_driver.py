"""StreamingDriver: requests run off the control thread; failures are counted and survived.

Synchronisation is by events only: the stand-in chunk source blocks until the test releases
it, and a scheduler subclass signals when a request's outcome has been recorded.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

from so101_calibration import JointLimits
from so101_policy import (
    ActionDecoder,
    BadActionError,
    JointUnits,
    ObservationBuilder,
    PolicyServerError,
    PolicyTimeoutError,
    PolicyUnits,
    Protocol,
    RobotObservation,
    default_data_config,
)
from so101_policy.streaming import (
    ActionValidator,
    ChunkReply,
    ChunkScheduler,
    PolicyChunkSource,
    SchedulerConfig,
    StreamingDriver,
    TickStatus,
    ValidationConfig,
)

WAIT_S = 10.0


class SignallingScheduler(ChunkScheduler):
    """The real scheduler, plus an event per recorded outcome so tests wait without sleeping."""

    def __init__(self, **config):
        validation = ValidationConfig(JointLimits(np.full(6, -3.0), np.full(6, 3.0)))
        super().__init__(SchedulerConfig(**config), ActionValidator(validation))
        self.outcome = threading.Event()

    def on_chunk(self, reply, now):
        accepted = super().on_chunk(reply, now)
        self.outcome.set()
        return accepted

    def on_superseded(self):
        super().on_superseded()
        self.outcome.set()

    def on_failure(self, now, reason):
        super().on_failure(now, reason)
        self.outcome.set()

    def on_rejected(self, now, kind):
        super().on_rejected(now, kind)
        self.outcome.set()

    def wait(self) -> None:
        assert self.outcome.wait(WAIT_S), "the worker never reported an outcome"
        self.outcome.clear()


class GatedSource:
    """A chunk source that blocks until released, then returns or raises what the test queued."""

    def __init__(self, clock):
        self.clock = clock
        self.called = threading.Event()
        self.release = threading.Event()
        self.results: list = []

    def __call__(self, prefix_at):
        observed_at = self.clock()
        self.called.set()
        assert self.release.wait(WAIT_S)
        self.release.clear()
        result = self.results.pop(0) if self.results else PolicyTimeoutError("the test is over")
        if isinstance(result, Exception):
            raise result
        return ChunkReply(result, observed_at)


class ManualClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rig():
    clock = ManualClock()
    scheduler = SignallingScheduler(retry_interval_s=0.0)
    source = GatedSource(clock)
    driver = StreamingDriver(scheduler, source, clock)
    driver.start()
    yield driver, scheduler, source, clock
    source.release.set()
    driver.stop(timeout_s=WAIT_S)


def test_ticks_never_wait_for_the_request_in_progress(rig):
    driver, scheduler, source, clock = rig
    assert driver.tick().status is TickStatus.WAITING
    assert source.called.wait(WAIT_S)
    for _ in range(10):  # the source is blocked: the control loop goes on regardless
        clock.now += 1 / 30
        assert driver.tick().status is TickStatus.WAITING
    assert driver.counters["requests"] == 1
    source.results.append(np.zeros((16, 6)))
    source.release.set()
    scheduler.wait()
    assert driver.tick().status is TickStatus.PLANNED  # observed 10 ticks ago, 16 actions long
    assert driver.counters["chunks_accepted"] == 1


def test_a_reply_to_a_request_sent_before_a_reset_is_dropped(rig):
    """An episode boundary (a takeover): the request in flight continues a plan that no longer exists."""
    driver, scheduler, source, clock = rig
    driver.tick()
    assert source.called.wait(WAIT_S)
    driver.reset(np.full(6, 0.5))
    source.results.append(np.zeros((16, 6)))
    source.release.set()
    scheduler.wait()
    assert driver.counters["dropped_superseded"] == 1 and "chunks_accepted" not in driver.counters
    tick = driver.tick()
    assert tick.status is TickStatus.HOLD and np.array_equal(tick.target, np.full(6, 0.5))


@pytest.mark.parametrize("error,counter", [
    (PolicyTimeoutError("no reply"), "failed_timeout"),
    (PolicyServerError("model exploded"), "failed_server_error"),
    (BadActionError("bad_keys", "no 'single_arm'"), "rejected_bad_keys"),
    (RuntimeError("bug in observe()"), "failed_error"),
])
def test_failures_are_counted_by_reason_and_the_worker_lives_on(rig, error, counter):
    driver, scheduler, source, clock = rig
    source.results += [error, np.zeros((16, 6))]
    driver.tick()
    source.release.set()
    scheduler.wait()
    assert driver.counters[counter] == 1
    assert str(error) in driver.last_error
    source.called.clear()
    driver.tick()  # retry_interval 0: asks again at once
    assert source.called.wait(WAIT_S)
    source.release.set()
    scheduler.wait()
    assert driver.tick().status is TickStatus.PLANNED


def test_stop_ends_the_worker(rig):
    driver, *_ = rig
    assert driver.alive
    driver.stop(timeout_s=WAIT_S)
    assert not driver.alive


def test_a_real_client_and_replay_server_stream_recorded_actions(serve, connect, isaaclab_hdf5, recorded_radians):
    from so101_policy.server.backends.replay import ReplayPolicy
    from so101_policy.server.datasets import read_episode

    protocol = Protocol.N1_7
    config = default_data_config(protocol)
    units = PolicyUnits(JointUnits.RADIANS)
    served = serve(ReplayPolicy(read_episode(isaaclab_hdf5()), config, protocol, JointUnits.RADIANS), protocol)
    frame = np.zeros((24, 32, 3), np.uint8)
    clock = ManualClock()
    source = PolicyChunkSource(
        connect(served.port, protocol=protocol), ObservationBuilder(config, protocol, units),
        ActionDecoder(config, protocol, units),
        observe=lambda: RobotObservation(np.zeros(6), {"front": frame, "wrist": frame}, "wave", clock()),
    )
    scheduler = SignallingScheduler()
    with StreamingDriver(scheduler, source, clock) as driver:
        driver.tick()
        scheduler.wait()
        tick = driver.tick()
    assert tick.status is TickStatus.PLANNED
    np.testing.assert_allclose(tick.target, recorded_radians()[0], atol=1e-6)


def test_streaming_holds_while_the_server_is_gone_and_resumes_when_it_is_back(serve, connect, replay_policy):
    protocol = Protocol.N1_7
    config, units = default_data_config(protocol), PolicyUnits(JointUnits.RADIANS)
    served = serve(replay_policy, protocol)
    frame = np.zeros((24, 32, 3), np.uint8)
    clock = ManualClock()
    source = PolicyChunkSource(
        connect(served.port, protocol=protocol, timeout_s=0.3), ObservationBuilder(config, protocol, units),
        ActionDecoder(config, protocol, units),
        observe=lambda: RobotObservation(np.zeros(6), {"front": frame, "wrist": frame}, "wave", clock()),
    )
    scheduler = SignallingScheduler(retry_interval_s=0.0, request_timeout_s=60.0)
    with StreamingDriver(scheduler, source, clock) as driver:
        driver.tick()
        scheduler.wait()
        assert driver.tick().status is TickStatus.PLANNED
        served.stop()

        clock.now += 1.0  # the plan (16 steps) has run out and the next request finds no server
        assert driver.tick().status is TickStatus.HOLD
        scheduler.wait()
        assert driver.counters["failed_timeout"] == 1 and "timeout" in driver.last_error

        serve(replay_policy, protocol, port=served.port)
        clock.now += 0.1
        assert driver.tick().status is TickStatus.HOLD
        scheduler.wait()
        assert driver.tick().status is TickStatus.PLANNED
        assert driver.counters["chunks_accepted"] == 2
