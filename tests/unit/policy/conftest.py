"""Fixtures for the policy-link tests: calibrations, recorded datasets, servers and clients on loopback.

Every server binds 127.0.0.1 on a free port (port 0) and every dataset lives in the test's
own tmp_path, so tests run in parallel without sharing anything. Helpers are fixtures (test
modules cannot import this conftest under --import-mode=importlib); what the integration tests
share with these lives in tests_support.policy.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from so101_calibration import JOINT_NAMES, SO101_JOINTS, ArmCalibration, MotorCalibration
from so101_policy import PolicyClient, Protocol
from so101_policy.server.backends.base import Policy
from tests_support.policy import Served, write_isaaclab_hdf5

FPS = 30.0
FRAMES = 90


def _make_calibration() -> ArmCalibration:
    """A plausible follower calibration (wrist_roll full turn, as LeRobot >= 0.4.3 writes it)."""
    motors = {}
    for joint in SO101_JOINTS:
        full_turn = joint.name == "wrist_roll"
        motors[joint.name] = MotorCalibration(
            id=joint.motor_id,
            drive_mode=0,
            homing_offset=100 * joint.motor_id - 300,
            range_min=0 if full_turn else 800 + 10 * joint.motor_id,
            range_max=4095 if full_turn else 3300 - 10 * joint.motor_id,
        )
    return ArmCalibration(motors)


def _recorded_radians(frames: int = FRAMES, phase: float = 0.0) -> np.ndarray:
    """A smooth (frames, 6) trajectory well inside every joint's range, radians."""
    t = np.arange(frames)[:, np.newaxis] / FPS
    amplitude = np.array([0.4, 0.3, 0.3, 0.3, 0.5, 0.2])
    return (amplitude * np.sin(2 * np.pi * 0.5 * t + phase + np.arange(6))).astype(np.float32)


@pytest.fixture
def calibration() -> ArmCalibration:
    return _make_calibration()


@pytest.fixture
def recorded_radians() -> Callable[..., np.ndarray]:
    """recorded_radians(frames=90, phase=0.0) → a smooth (frames, 6) float32 trajectory at 30 fps, radians."""
    return _recorded_radians


@pytest.fixture
def calibration_file(tmp_path: Path) -> Path:
    from so101_calibration import write_calibration_file

    path = tmp_path / "follower.json"
    write_calibration_file(path, _make_calibration())
    return path


def _write_lerobot_dataset(root: Path, episodes: dict[int, np.ndarray], names: list[str] | None = None,
                          fps: float = FPS, shuffle: bool = False) -> Path:
    """A LeRobot v3 dataset with one parquet data file; `names` orders the action columns."""
    names = names or [f"{joint}.pos" for joint in JOINT_NAMES]
    vector = {"dtype": "float32", "shape": [len(names)], "names": names}
    scalar = {"dtype": "int64", "shape": [1], "names": None}
    info = {
        "codebase_version": "v3.0", "robot_type": "so_follower", "fps": fps,
        "total_episodes": len(episodes), "total_frames": sum(len(a) for a in episodes.values()),
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "features": {"action": vector, "observation.state": vector,
                     "timestamp": {"dtype": "float32", "shape": [1], "names": None},
                     "frame_index": scalar, "episode_index": scalar, "index": scalar, "task_index": scalar},
    }
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "info.json").write_text(json.dumps(info, indent=4))
    rows: dict[str, list] = {k: [] for k in ("action", "observation.state", "timestamp", "frame_index",
                                             "episode_index", "index", "task_index")}
    for episode, actions in episodes.items():
        for frame, action in enumerate(actions):
            rows["action"].append(action.astype(np.float32).tolist())
            rows["observation.state"].append(action.astype(np.float32).tolist())
            rows["timestamp"].append(frame / fps)
            rows["frame_index"].append(frame)
            rows["episode_index"].append(episode)
            rows["index"].append(len(rows["index"]))
            rows["task_index"].append(0)
    order = np.random.default_rng(0).permutation(len(rows["index"])) if shuffle else np.arange(len(rows["index"]))
    list_type = pa.list_(pa.float32())
    table = pa.table({
        "action": pa.array([rows["action"][i] for i in order], type=list_type),
        "observation.state": pa.array([rows["observation.state"][i] for i in order], type=list_type),
        "timestamp": pa.array([rows["timestamp"][i] for i in order], type=pa.float32()),
        **{k: pa.array([rows[k][i] for i in order], type=pa.int64())
           for k in ("frame_index", "episode_index", "index", "task_index")},
    })
    (root / "data" / "chunk-000").mkdir(parents=True)
    pq.write_table(table, root / "data" / "chunk-000" / "file-000.parquet")
    return root


@pytest.fixture
def isaaclab_hdf5(tmp_path: Path) -> Callable[..., Path]:
    """isaaclab_hdf5(episodes={0: actions}, name="demos.hdf5") → an Isaac Lab / LeIsaac demo file."""

    def write(episodes: dict[int, np.ndarray] | None = None, name: str = "demos.hdf5") -> Path:
        return write_isaaclab_hdf5(tmp_path / name, episodes or {0: _recorded_radians()})

    return write


@pytest.fixture
def lerobot_dataset(tmp_path: Path) -> Callable[..., Path]:
    """lerobot_dataset(episodes={i: actions}, names=None, fps=30, shuffle=False, name="dataset") → dataset root."""

    def write(episodes: dict[int, np.ndarray], name: str = "dataset", **options) -> Path:
        return _write_lerobot_dataset(tmp_path / name, episodes, **options)

    return write


@pytest.fixture
def replay_policy(isaaclab_hdf5):
    """A ReplayPolicy (n1.7 layout, radians in and out: no calibration) over the default recorded episode."""
    from so101_policy import JointUnits, default_data_config
    from so101_policy.server.backends.replay import ReplayPolicy
    from so101_policy.server.datasets import read_episode

    return ReplayPolicy(read_episode(isaaclab_hdf5()), default_data_config(Protocol.N1_7), Protocol.N1_7,
                        JointUnits.RADIANS)


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """serve(policy, protocol, **ServerConfig fields) → Served on 127.0.0.1:<free port>."""
    running: list[Served] = []

    def start(policy: Policy, protocol: Protocol, **config) -> Served:
        served = Served.start(policy, protocol, **config)
        running.append(served)
        return served

    yield start
    for served in running:
        if served.thread.is_alive():
            served.stop()


@pytest.fixture
def connect() -> Iterator[Callable[..., PolicyClient]]:
    """connect(port, **PolicyClient kwargs) → a client closed at teardown."""
    clients: list[PolicyClient] = []

    def make(port: int, **kwargs) -> PolicyClient:
        kwargs.setdefault("timeout_s", 5.0)
        client = PolicyClient("127.0.0.1", port, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class ScriptedPeer:
    """A bare ROUTER socket on a free loopback port answering each request with `respond(bytes)`.

    For what our own server never sends (torch-era bytes, upstream's errors) and for dropping
    requests on purpose: `respond` returning None leaves that request unanswered.
    """

    def __init__(self, respond: Callable[[bytes], bytes | None]):
        import zmq

        self._respond = respond
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind("tcp://127.0.0.1:*")
        self.port = int(self._socket.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="scripted-zmq-peer", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self._socket.poll(20):
                continue
            identity, empty, payload = self._socket.recv_multipart()
            reply = self._respond(payload)
            if reply is not None:
                self._socket.send_multipart([identity, empty, reply])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close(linger=0)
        self._context.term()


@pytest.fixture
def scripted_peer() -> Iterator[Callable[[Callable[[bytes], bytes | None]], ScriptedPeer]]:
    peers: list[ScriptedPeer] = []

    def start(respond: Callable[[bytes], bytes | None]) -> ScriptedPeer:
        peers.append(ScriptedPeer(respond))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()
