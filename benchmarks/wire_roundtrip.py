"""Benchmark: one get_action round trip of a dual-camera 480×640 observation over ZMQ on loopback.

Run as `python benchmarks/wire_roundtrip.py`. Measured in the same run, rounds alternating so
drift hits every loop alike:
  - our PolicyClient ↔ PolicyServer with a zero-compute policy, in each wire generation
    (n1.5 / n1.6 `.npy` arrays, n1.7 msgpack-numpy): the observation is built beforehand;
    timed are encoding the request, the transfer, decoding it on the server (every frame),
    encoding the reply and decoding it on the client;
  - the baseline of issue 6: a bare ZMQ REQ/REP echo of the same request bytes (sent, and
    sent back), goal ≤ 1.5× its round trip;
  - a stricter floor: the same request bytes out and the real (small) reply bytes back,
    pre-encoded, so the ratio to it is what encoding and decoding cost on top of transport.
Also reported: this process's CPU time per round trip (client, server and ZMQ's I/O threads all
run here), a figure that a busy machine disturbs less than the wall-clock one.
Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable

import numpy as np
import zmq

from so101_policy import (
    JointUnits,
    ObservationBuilder,
    PolicyClient,
    PolicyServer,
    PolicyUnits,
    Protocol,
    RobotObservation,
    ServerConfig,
    default_data_config,
)
from so101_policy.wire.codec import pack
from so101_policy.wire.envelope import action_reply, action_request_data, request

GOAL_RATIO = 1.5
HORIZON = 16


class ZeroComputePolicy:
    """Answers every observation with the same precomputed chunk: the wire is all that is timed."""

    def __init__(self, protocol: Protocol):
        arm, gripper = np.zeros((HORIZON, 5), np.float32), np.zeros((HORIZON, 1), np.float32)
        if protocol.nested:
            self.action = {"single_arm": arm[np.newaxis], "gripper": gripper[np.newaxis]}
        else:
            self.action = {"action.single_arm": arm, "action.gripper": gripper}

    def get_action(self, observation, options):
        return self.action, {}

    def get_modality_config(self):
        return {}

    def reset(self, options):
        return {}


def observation_for(protocol: Protocol) -> dict:
    rng = np.random.default_rng(0)
    frames = {name: rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for name in ("front", "wrist")}
    builder = ObservationBuilder(default_data_config(protocol), protocol, PolicyUnits(JointUnits.RADIANS))
    return builder.build(RobotObservation(np.zeros(6), frames, "pick up the cube and place it in the bowl"))


def time_calls(call: Callable[[], object], n: int) -> tuple[np.ndarray, float]:
    """Each call's wall time, and the process's CPU time over all of them."""
    call()  # warm-up
    times = np.empty(n)
    cpu_started = time.process_time()
    for i in range(n):
        started = time.perf_counter()
        call()
        times[i] = time.perf_counter() - started
    return times, time.process_time() - cpu_started


class OursLoop:
    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.server = PolicyServer(ZeroComputePolicy(protocol), ServerConfig(protocol=protocol, port=0))
        self.thread = self.server.serve_in_thread("bench-policy-server")
        self.client = PolicyClient("127.0.0.1", self.server.port, protocol=protocol, timeout_s=10)
        self.observation = observation_for(protocol)

    def run(self, n: int) -> tuple[np.ndarray, float]:
        return time_calls(lambda: self.client.get_action(self.observation), n)

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.thread.join()


class BareLoop:
    """REQ/REP with pre-encoded bytes: `reply` None echoes the request back.

    Each side has its own context (own I/O thread), as our client and server do and as two
    processes would: one shared context would hand the baseline a shortcut ours cannot take.
    """

    def __init__(self, request_bytes: bytes, reply_bytes: bytes | None):
        self.contexts = (zmq.Context(), zmq.Context())
        self.rep = self.contexts[0].socket(zmq.REP)
        self.rep.bind("tcp://127.0.0.1:*")
        self.req = self.contexts[1].socket(zmq.REQ)
        self.req.connect(self.rep.getsockopt_string(zmq.LAST_ENDPOINT))
        self.request, self.reply = request_bytes, reply_bytes
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            if self.rep.poll(50):
                message = self.rep.recv(copy=False)
                self.rep.send(message if self.reply is None else self.reply, copy=False)

    def _exchange(self) -> None:
        self.req.send(self.request, copy=False)
        self.req.recv(copy=False)

    def run(self, n: int) -> tuple[np.ndarray, float]:
        return time_calls(self._exchange, n)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.req.close(linger=0)
        self.rep.close(linger=0)
        for context in self.contexts:
            context.term()


def bytes_of(protocol: Protocol) -> tuple[bytes, bytes]:
    """The request and reply bytes our client and server exchange in `protocol`."""
    policy = ZeroComputePolicy(protocol)
    data = action_request_data(protocol, observation_for(protocol), None)
    return (pack(request("get_action", data), protocol.array_form),
            pack(action_reply(protocol, policy.action, {}), protocol.array_form))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=60, help="round trips per loop per round")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    request_bytes, reply_bytes = bytes_of(Protocol.N1_7)
    loops: dict[str, OursLoop | BareLoop] = {p.value: OursLoop(p) for p in Protocol}
    loops["echo"] = BareLoop(request_bytes, None)
    loops["bare"] = BareLoop(request_bytes, reply_bytes)
    samples: dict[str, list[np.ndarray]] = {name: [] for name in loops}
    cpu_s = dict.fromkeys(loops, 0.0)
    try:
        for _ in range(args.rounds):
            for name, loop in loops.items():
                sample, cpu = loop.run(args.iterations)
                samples[name].append(sample)
                cpu_s[name] += cpu
    finally:
        for loop in loops.values():
            loop.close()
    times = {name: np.concatenate(runs) for name, runs in samples.items()}
    cpu_ms = {name: cpu_s[name] / len(times[name]) * 1e3 for name in loops}
    sizes = {p.value: len(bytes_of(p)[0]) for p in Protocol}
    bare_p50 = float(np.percentile(times["bare"], 50))

    print(f"get_action round trip, 2 × 480×640×3 frames + state + instruction, loopback, "
          f"{len(times['bare'])} round trips per loop")
    echo_p50 = float(np.percentile(times["echo"], 50))
    header = ("loop", "request B", "p50 ms", "p90 ms", "mean ms", "× echo", "× bare", "CPU ms")
    print(f"{header[0]:46s} " + " ".join(f"{h:>{w}s}" for h, w in zip(header[1:], (10, 8, 8, 8, 7, 7, 7), strict=True)))
    labels = {"n1.5": "ours n1.5 (.npy arrays)", "n1.6": "ours n1.6 (.npy arrays)",
              "n1.7": "ours n1.7 (msgpack-numpy)", "echo": "bare ZMQ echo of the request (baseline)",
              "bare": "bare ZMQ, same request + reply bytes (floor)"}
    for name, sample in times.items():
        size = sizes.get(name, len(request_bytes))
        p50 = np.percentile(sample, 50)
        print(f"{labels[name]:46s} {size:10d} {p50 * 1e3:8.3f} {np.percentile(sample, 90) * 1e3:8.3f} "
              f"{sample.mean() * 1e3:8.3f} {p50 / echo_p50:7.2f} {p50 / bare_p50:7.2f} {cpu_ms[name]:7.3f}")
    figures: dict[str, float | int | str] = {"benchmark": "wire_roundtrip", "round_trips": int(len(times["bare"]))}
    for name, sample in times.items():
        key = name.replace(".", "")
        figures[f"{key}_p50_ms"] = round(float(np.percentile(sample, 50)) * 1e3, 4)
        figures[f"{key}_mean_ms"] = round(float(sample.mean()) * 1e3, 4)
        figures[f"{key}_cpu_ms"] = round(cpu_ms[name], 4)
    for protocol in Protocol:
        key = protocol.value.replace(".", "")
        figures[f"{key}_request_bytes"] = sizes[protocol.value]
        p50 = float(np.percentile(times[protocol.value], 50))
        figures[f"{key}_vs_echo"] = round(p50 / echo_p50, 3)
        figures[f"{key}_vs_bare"] = round(p50 / bare_p50, 3)
    figures["goal_vs_echo"] = GOAL_RATIO
    print("ratios to the echo (p50): " + ", ".join(f"{p.value} {figures[p.value.replace('.', '') + '_vs_echo']}"
                                                    for p in Protocol) + f" (goal ≤ {GOAL_RATIO})")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
