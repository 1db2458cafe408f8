"""so101-policy-server as a user runs it: a real process, stopped by SIGINT or the kill endpoint."""
from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

from so101_policy import (
    ActionDecoder,
    JointUnits,
    ObservationBuilder,
    PolicyClient,
    PolicyUnits,
    Protocol,
    RobotObservation,
    default_data_config,
)
from so101_policy.streaming import PolicyChunkSource, RtcConfig, RtcState

SERVER = [sys.executable, "-m", "so101_policy.server.cli"]


def start(*args: str) -> tuple[subprocess.Popen, int]:
    """The server on a free port; returns once its first line names the endpoint."""
    process = subprocess.Popen([*SERVER, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    line = process.stdout.readline()
    if "tcp://127.0.0.1:" not in line:
        process.kill()
        raise AssertionError(f"no endpoint line: {line!r} {process.stderr.read()}")
    return process, int(line.rsplit(":", 1)[1].split()[0])


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_replay_server_serves_an_hdf5_episode_and_stops_on_sigint(isaaclab_hdf5, calibration_file, processes):
    process, port = start("--backend", "replay", "--protocol", "n1.6", "--dataset", str(isaaclab_hdf5()),
                          "--calibration", str(calibration_file), "--policy-units", "degrees", "--horizon", "8")
    processes.append(process)
    with PolicyClient("127.0.0.1", port, timeout_s=10) as client:
        assert client.protocol.value == "n1.6"
        assert client.get_modality_config()["action"].delta_indices == tuple(range(8))
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_replay_server_of_a_lerobot_dataset_stops_on_the_kill_endpoint(lerobot_dataset, processes):
    root = lerobot_dataset({0: np.zeros((10, 6), np.float32)})
    process, port = start("--backend", "replay", "--dataset", str(root), "--units", "degrees")
    processes.append(process)
    with PolicyClient("127.0.0.1", port, protocol="n1.7", timeout_s=10) as client:
        assert client.ping()
        client.kill()
    process.communicate(timeout=20)
    assert process.returncode == 0


def test_synthetic_server_serves_40_step_chunks_that_honour_rtc(processes):
    process, port = start("--backend", "synthetic", "--policy-units", "radians", "--horizon", "40",
                          "--latency-ms", "0")
    processes.append(process)
    config, units = default_data_config(Protocol.N1_7), PolicyUnits(JointUnits.RADIANS)
    frame = np.zeros((24, 32, 3), np.uint8)
    with PolicyClient("127.0.0.1", port, timeout_s=10) as client:
        assert client.get_modality_config()["action"].delta_indices == tuple(range(40))
        source = PolicyChunkSource(client, ObservationBuilder(config, Protocol.N1_7, units),
                                   ActionDecoder(config, Protocol.N1_7, units),
                                   lambda: RobotObservation(np.zeros(6), {"front": frame, "wrist": frame}, "x", 0.0),
                                   horizon=40, rtc=RtcConfig())
        assert source(lambda t: None).actions.shape == (40, 6)
        assert source.rtc_state is RtcState.HONOURED
        client.kill()
    process.communicate(timeout=20)


@pytest.mark.parametrize("args,message", [
    (["--backend", "gr00t", "--model-path", "/models/none"], "Isaac-GR00T is not installed"),
    (["--backend", "gr00t"], "--backend gr00t needs --model-path"),
    (["--backend", "replay"], "--backend replay needs --dataset"),
    (["--backend", "replay", "--dataset", "/nonexistent.hdf5"], "no dataset at /nonexistent.hdf5"),
    (["--backend", "replay", "--protocol", "n2"], "unknown GR00T wire generation"),
    (["--backend", "replay", "--max-request-mb", "0"], "--max-request-mb: must be a positive size"),
    (["--backend", "replay", "--max-request-mb", "-3"], "--max-request-mb: must be a positive size"),
    (["--backend", "replay", "--max-request-mb", "nan"], "--max-request-mb: must be a positive size"),
    (["--backend", "replay", "--dataset", "x.hdf5", "--api-token", ""], "the API token must not be empty"),
    (["--backend", "synthetic", "--latency-ms", "-5"], "must be >= 0"),
])
def test_bad_setups_exit_2_with_a_message(args, message):
    result = subprocess.run([*SERVER, "--port", "0", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr


def test_different_units_without_a_calibration_exit_with_a_hint(isaaclab_hdf5):
    result = subprocess.run([*SERVER, "--backend", "replay", "--dataset", str(isaaclab_hdf5())],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--calibration PATH" in result.stderr


def test_serving_beyond_loopback_without_a_token_warns():
    result = subprocess.run([*SERVER, "--port", "0", "--host", "0.0.0.0", "--backend", "replay", "--dataset",
                             "/nonexistent.hdf5"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no dataset" in result.stderr  # stops before binding anything
    assert "serving on 0.0.0.0 without --api-token" in result.stderr
    quiet = subprocess.run([*SERVER, "--port", "0", "--host", "0.0.0.0", "--api-token", "s3cret", "--backend",
                            "replay", "--dataset", "/nonexistent.hdf5"], capture_output=True, text=True, timeout=60)
    assert "without --api-token" not in quiet.stderr
