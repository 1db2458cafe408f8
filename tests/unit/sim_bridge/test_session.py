"""The recorder's worker thread (RecordingSession), its status line, and the input monitor.

Commands are timed by a clock the test sets, samples by their stamps, so the alignment is exact;
the worker is real (a thread writing real HDF5 files), and the test waits on the futures it answers with.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

from so101_hardware.cameras import Frame
from so101_sim_bridge.recorder import (
    DemoRecorder,
    DiskFullError,
    Hdf5DemoWriter,
    Hdf5WriterConfig,
    RecorderConfig,
    RecorderStateError,
    read_hdf5_demos,
)
from so101_sim_bridge.recorder.inputs import InputMonitor, describe_missing
from so101_sim_bridge.recorder.session import RecordingSession, SessionStatus, describe_stop

TIMEOUT_S = 30.0
FPS = 30


class ManualClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def feed(session: RecordingSession, start: float, seconds: float, value: float = 0.0) -> None:
    """Every stream on time for `seconds` from `start`: joints and actions at 100 Hz, frames at 30 Hz."""
    for i in range(int(seconds * 100)):
        t = start + i / 100
        session.add_joint_state(t, np.full(6, value + i))
        session.add_action(t, np.full(6, value + i))
        if i % 10 in (0, 3, 7):  # 30 frames per second, on the 30 Hz grid within 4 ms
            frame_t = start + round(i * FPS / 100) / FPS
            session.add_frame("wrist", Frame(np.full((8, 8, 3), i % 250, np.uint8), i, frame_t, frame_t))


@pytest.fixture
def make_session(tmp_path):
    sessions = []

    def make(**kwargs) -> tuple[RecordingSession, ManualClock]:
        clock = ManualClock(100.0)
        writer = Hdf5DemoWriter(Hdf5WriterConfig(tmp_path / "demos.hdf5", flush_every=10))
        recorder = kwargs.pop("recorder", None) or DemoRecorder(RecorderConfig(cameras=("wrist",)), [writer])
        session = RecordingSession(recorder, clock=clock, **kwargs)
        sessions.append(session)
        return session, clock

    yield make
    for session in sessions:
        session.close()


def test_an_episode_on_time_records_every_step_without_drops_at_its_edges(make_session, tmp_path):
    session, clock = make_session()
    assert session.start("pick up the red cube").result(TIMEOUT_S) == 1
    assert session.status.recording and session.status.episode == 1
    feed(session, start=100.0, seconds=2.0)
    clock.now = 102.0
    episode, summary = session.stop(success=True).result(TIMEOUT_S)
    session.close()
    assert episode == 1 and summary.success
    assert summary.alignment.steps_dropped == 0 and summary.alignment.late_samples == 0
    assert 50 <= summary.steps <= 60  # 2 s at 30 Hz, less the edges: a tolerance at the start, a latency at the end
    (demo,) = read_hdf5_demos(tmp_path / "demos.hdf5").demos
    assert demo.num_samples == summary.steps - 1 and demo.success and demo.instruction == "pick up the red cube"
    status = session.status
    assert (status.recording, status.saved, status.failed, status.steps) == (False, 1, 0, summary.steps)


def test_closing_mid_episode_keeps_it_as_a_failure_and_says_so(make_session, tmp_path, caplog):
    """Ctrl-C while recording: what was recorded is saved (success=false), never dropped."""
    session, clock = make_session()
    session.start("interrupted task").result(TIMEOUT_S)
    feed(session, 100.0, 1.5)
    clock.now = 101.5
    session.close()
    (demo,) = read_hdf5_demos(tmp_path / "demos.hdf5").demos
    assert not demo.success and demo.instruction == "interrupted task" and demo.num_samples >= 35
    assert "recording interrupted by shutdown: episode 1 (failure)" in caplog.text
    assert "→ data/demo_0; saved as a failed episode (success=false)" in caplog.text


def test_a_failed_episode_is_counted_and_kept_with_success_false(make_session, tmp_path):
    session, clock = make_session()
    session.start("task").result(TIMEOUT_S)
    feed(session, 100.0, 1.0)
    clock.now = 101.0
    _, summary = session.stop(success=False).result(TIMEOUT_S)
    session.close()
    assert "failure" in describe_stop(2, summary) and "data/demo_0" in describe_stop(2, summary)
    assert (session.status.saved, session.status.failed) == (0, 1)
    assert not read_hdf5_demos(tmp_path / "demos.hdf5").demos[0].success


def test_samples_taken_late_still_make_every_step(make_session):
    """Callbacks delayed behind the GIL hand samples over late; the stamps, not the clock, decide."""
    session, clock = make_session()
    session.start("task").result(TIMEOUT_S)
    clock.now = 160.0  # a minute later, the samples of the first two seconds arrive
    feed(session, start=100.0, seconds=2.0)
    _, summary = session.stop(success=True).result(TIMEOUT_S)
    assert summary.steps >= 50 and summary.alignment.steps_dropped == 0 and summary.alignment.late_samples == 0


def test_commands_that_do_not_fit_the_state_are_answered_with_the_reason(make_session):
    session, clock = make_session()
    with pytest.raises(RecorderStateError, match="start one first"):
        session.stop(success=True).result(TIMEOUT_S)
    session.start("task").result(TIMEOUT_S)
    with pytest.raises(RecorderStateError, match="already being recorded"):
        session.start("task").result(TIMEOUT_S)
    assert session.discard().result(TIMEOUT_S) == 1
    assert session.status.error is None and session.status.failed == 0
    session.close()
    with pytest.raises(RecorderStateError, match="closed"):
        session.start("task").result(TIMEOUT_S)


class BlockingWriter:
    """An episode writer whose begin_episode waits for the test: the worker stands still meanwhile."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.steps = 0

    def begin_episode(self, info):
        self.entered.set()
        assert self.release.wait(TIMEOUT_S)

    def append(self, step):
        self.steps += 1

    def end_episode(self, outcome):
        return "kept"

    def abort_episode(self):
        pass

    def close(self):
        pass


def test_a_writer_far_behind_refuses_samples_and_counts_them_but_never_commands(make_session):
    writer = BlockingWriter()
    session, clock = make_session(recorder=DemoRecorder(RecorderConfig(cameras=()), [writer]), max_backlog=50)
    started = session.start("task")
    assert writer.entered.wait(TIMEOUT_S)  # the worker is busy starting the episode; the queue is empty
    for i in range(80):
        session.add_joint_state(100.0 + i / 100, np.zeros(6))
    assert session.status.overflow == 30 and session.status.backlog == 50
    stopped = []
    stopper = threading.Thread(target=lambda: stopped.append(session.stop(success=True)))
    stopper.start()  # waits for room in the full queue: commands are never refused
    writer.release.set()
    stopper.join(TIMEOUT_S)
    assert started.result(TIMEOUT_S) == 1
    stopped[0].result(TIMEOUT_S)


class DiskFullWriter(BlockingWriter):
    """Fails on the third step, as Hdf5DemoWriter does when free space runs out."""

    def begin_episode(self, info):
        self.steps = 0

    def append(self, step):
        self.steps += 1
        if self.steps == 3:
            raise DiskFullError("less than 64 MB free: the episode is dropped; saved demos are intact")


def test_a_writer_failing_mid_episode_stops_it_reports_it_and_the_next_episode_starts(make_session):
    errors = []
    recorder = DemoRecorder(RecorderConfig(cameras=()), [DiskFullWriter()])
    session, clock = make_session(recorder=recorder, on_error=errors.append)
    session.start("task").result(TIMEOUT_S)
    for i in range(30):
        session.add_joint_state(100.0 + i / 100, np.zeros(6))
        session.add_action(100.0 + i / 100, np.zeros(6))
    with pytest.raises(RecorderStateError, match="start one first"):  # the failure ended the episode
        session.stop(success=True).result(TIMEOUT_S)
    status = session.status
    assert not status.recording and status.failed == 1 and "saved demos are intact" in status.error
    assert [type(error) for error in errors] == [DiskFullError]
    assert status.line(0.0).startswith("stopped: less than 64 MB free")
    assert session.start("task").result(TIMEOUT_S) == 2
    assert session.status.error is None


def test_the_status_line_shows_episode_duration_frames_and_drops():
    recording = SessionStatus(recording=True, episode=3, started_at=100.0, steps=372, dropped=2, late=1)
    line = "● REC episode 3  01:12.5  372 frames  2 dropped  1 late  [N success  R failure  S subtask end]"
    assert recording.line(now=172.46) == line
    idle = SessionStatus(episode=3, saved=2, failed=1)
    assert idle.line(now=0.0) == "idle  (2 saved, 1 failed)  [B record]"
    assert SessionStatus(error="disk full").line(now=0.0).startswith("stopped: disk full")


def test_the_input_monitor_names_topics_never_heard_and_gone_silent():
    monitor = InputMonitor({"joints": "/arm/joints", "wrist": "/arm/wrist_image"}, timeout_s=1.0)
    assert describe_missing(monitor.missing(now=0.0)) == (
        "/arm/joints (never received); /arm/wrist_image (never received)")
    monitor.seen("joints", 10.0)
    monitor.seen("wrist", 10.0)
    assert monitor.missing(now=10.5) == {}
    monitor.seen("joints", 12.0)
    assert monitor.missing(now=12.5) == {"/arm/wrist_image": "silent 2.5 s"}
    assert monitor.received == {"joints": 2, "wrist": 1}
