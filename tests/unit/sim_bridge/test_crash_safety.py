"""SIGKILL mid-episode: finished demos stay intact and readable, the unfinished one is never deleted:
a restart without resume refuses and says so, one with resume recovers it as a failed demo."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from so101_sim_bridge.recorder import (
    DemoRecorder,
    Hdf5DemoWriter,
    Hdf5WriterConfig,
    OutputExistsError,
    RecorderConfig,
    read_hdf5_demos,
)

CHILD = Path(__file__).with_name("crash_child.py")
STEPS = 40


def run_until_recording_then_kill(path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(STEPS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        line = child.stdout.readline() if ready else ""
        assert line.strip() == "RECORDING", f"child did not reach the episode: {line!r} {child.stderr.read() if not ready else ''}"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdin.close()
        child.stdout.close()
        child.stderr.close()


def test_sigkill_mid_episode_keeps_finished_demos(tmp_path, feed_episode, caplog):
    path = tmp_path / "demos.hdf5"
    run_until_recording_then_kill(path)

    dataset = read_hdf5_demos(path)  # opens: the file was closed while the episode recorded
    rows = STEPS - 1  # the last step is the last row's post-step state
    assert [(d.index, d.success, d.num_samples) for d in dataset.demos] == [(0, True, rows), (1, False, rows)]
    assert dataset.total == 2 * rows
    assert dataset.demos[1].joint_pos[5] == pytest.approx([1.05] * 6)
    staging = tmp_path / "demos.hdf5.recording"
    assert staging.exists()  # the unfinished episode, left behind by the kill

    refusal = r"demos.hdf5.recording holds an unfinished episode .*nothing was deleted"
    with pytest.raises(OutputExistsError, match=refusal):
        Hdf5DemoWriter(Hdf5WriterConfig(path))  # a restart without resume
    assert staging.exists() and [d.index for d in read_hdf5_demos(path).demos] == [0, 1]

    with DemoRecorder(RecorderConfig(), [Hdf5DemoWriter(Hdf5WriterConfig(path, resume=True))]) as recorder:
        assert "recovered the episode left by a crash" in caplog.text
        assert not staging.exists()
        summary = feed_episode(recorder, 3, 5)
    assert summary.saved_as == ("data/demo_3",)
    dataset = read_hdf5_demos(path)
    recovered = dataset.demos[2]
    assert [d.index for d in dataset.demos] == [0, 1, 2, 3]
    assert not recovered.success and 0 < recovered.num_samples <= 3 * STEPS
    assert recovered.joint_pos[5] == pytest.approx([2.05] * 6)  # episode 2's own samples
    assert dataset.total == 2 * rows + recovered.num_samples + 4  # 5 steps: 4 rows
    with h5py.File(path, "r") as file:
        attrs = file["data/demo_2"].attrs
        assert attrs["recovered"] and attrs["instruction"] == "episode 2" and attrs["seed"] == 2
        assert file["data/demo_2/obs/wrist"].shape[0] == recovered.num_samples


def test_an_unreadable_leftover_is_kept_aside_not_deleted(tmp_path, feed_episode, caplog):
    path = tmp_path / "demos.hdf5"
    with DemoRecorder(RecorderConfig(), [Hdf5DemoWriter(Hdf5WriterConfig(path))]) as recorder:
        feed_episode(recorder, 0, 5)
    torn = b"\x89HDF\r\n\x1a\n" + b"\0" * 64  # a superblock signature, then nothing: a torn file
    (tmp_path / "demos.hdf5.recording").write_bytes(torn)
    with DemoRecorder(RecorderConfig(), [Hdf5DemoWriter(Hdf5WriterConfig(path, resume=True))]) as recorder:
        feed_episode(recorder, 1, 5)
    (aside,) = tmp_path.glob("demos.hdf5.recording.unreadable-*")
    assert aside.read_bytes() == torn and "cannot be recovered" in caplog.text
    assert [d.index for d in read_hdf5_demos(path).demos] == [0, 1]
