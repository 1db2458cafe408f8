"""Policy-link test helpers shared by the unit and integration suites (a conftest cannot be imported).

An Isaac Lab / LeIsaac HDF5 episode writer, and a PolicyServer serving on a thread of its own.
Servers bind 127.0.0.1 on a free port, datasets live in the caller's tmp_path: parallel-safe.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from so101_policy import PolicyServer, Protocol, ServerConfig
from so101_policy.server.backends.base import Policy

JOIN_TIMEOUT_S = 10.0


def write_isaaclab_hdf5(path: Path, episodes: dict[int, np.ndarray]) -> Path:
    """The Isaac Lab / LeIsaac demo layout: /data (total, env_args) and /data/demo_<i>, actions in radians."""
    with h5py.File(path, "w") as file:
        data = file.create_group("data")
        data.attrs["total"] = sum(len(a) for a in episodes.values())
        data.attrs["env_args"] = json.dumps({"env_name": "so101_test", "type": 2})
        for index, actions in episodes.items():
            demo = data.create_group(f"demo_{index}")
            demo.attrs.update(num_samples=len(actions), seed=index, success=True)
            demo.create_dataset("actions", data=actions.astype(np.float32))
            demo.create_dataset("obs/joint_pos", data=actions.astype(np.float32))
    return path


class Served:
    """A PolicyServer running on its own thread; stop() ends and joins it."""

    def __init__(self, server: PolicyServer):
        self.server = server
        self.port = server.port
        self.thread = server.serve_in_thread("test-policy-server")

    @classmethod
    def start(cls, policy: Policy, protocol: Protocol, **config) -> Served:
        """Serve `policy` on 127.0.0.1 (a free port unless `port` is given), polling its stop flag often."""
        fields = {"host": "127.0.0.1", "port": 0, "poll_interval_s": 0.02, **config}
        return cls(PolicyServer(policy, ServerConfig(protocol=protocol, **fields)))

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=JOIN_TIMEOUT_S)
        assert not self.thread.is_alive(), "server loop did not stop"
