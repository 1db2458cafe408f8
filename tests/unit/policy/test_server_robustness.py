"""Whatever a client sends, the server answers with an error reply in the protocol's format and keeps serving."""
from __future__ import annotations

import msgpack
import numpy as np
import pytest
import zmq

from so101_policy import PolicyServer, Protocol, ServerConfig
from so101_policy.wire.codec import TORCH_ZIP_MAGIC, pack, unpack
from so101_policy.wire.envelope import request


class RawClient:
    """A bare REQ socket sending arbitrary bytes, to speak for clients that get the protocol wrong."""

    def __init__(self, port: int, timeout_ms: int = 5000):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.REQ)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVTIMEO, timeout_ms)
        self.socket.connect(f"tcp://127.0.0.1:{port}")

    def exchange(self, blob: bytes) -> bytes:
        self.socket.send(blob)
        return self.socket.recv()

    def close(self) -> None:
        self.socket.close(linger=0)
        self.context.term()


@pytest.fixture
def raw(serve, replay_policy):
    """(RawClient, Served) against a replay server speaking n1.7 with a token and a 64 KiB request limit."""
    served = serve(replay_policy, Protocol.N1_7, api_token="s3cret", max_request_bytes=64 * 1024)
    client = RawClient(served.port)
    yield client, served
    client.close()


def authorised(endpoint: str, data=None) -> bytes:
    return pack(request(endpoint, data, api_token="s3cret"), Protocol.N1_7.array_form)


BAD_REQUESTS = [
    (b"\xc1garbage", "Malformed request: not a msgpack message"),
    (b"", "Malformed request"),
    (TORCH_ZIP_MAGIC + b"\0" * 100, "torch-pickle generation"),
    (msgpack.packb([1, 2, 3]), "expected a map with an 'endpoint', got list"),
    (msgpack.packb({"endpoint": "ping"}), "Unauthorized: Invalid API token"),
    (msgpack.packb({"endpoint": "ping", "api_token": "wrong"}), "Unauthorized: Invalid API token"),
    (msgpack.packb({"endpoint": "ping", "api_token": 123}), "Unauthorized: Invalid API token"),
    (authorised("nonsense"), "Unknown endpoint: nonsense"),
    (msgpack.packb({"endpoint": 7, "api_token": "s3cret"}), "'endpoint' must be a string"),
    (msgpack.packb({"api_token": "s3cret", "data": 5}), "get_action needs a map as 'data'"),  # no endpoint: get_action
    (authorised("get_action", {"observation": "x"}), "get_action data must be"),
    (authorised("get_action", {"video.front": np.zeros((1, 4, 4, 3), np.uint8)}), "N1.5 client"),
    (authorised("get_action", {"observation": {"video": {}}, "options": None}), "must hold a 'state' map"),
    (authorised("get_action", {"observation": {}, "options": 3}), "'options' must be a map or nil"),
    (authorised("reset", {"options": None, "extra": 1}), "reset data must be"),
    (authorised("ping", "x" * 70_000), "Request too large: 700"),
    (msgpack.packb({b"nd": True, b"type": "|O", b"kind": b"O", b"shape": [1], b"data": b"x"}), "pickle"),
    (b"\x91" * 20_000 + b"\xc0", "Malformed request"),  # nesting deeper than msgpack's stack
]


def test_every_bad_request_gets_an_error_reply_and_the_server_keeps_serving(raw):
    client, served = raw
    for blob, message in BAD_REQUESTS:
        reply = unpack(client.exchange(blob))
        assert isinstance(reply, dict) and set(reply) == {"error"}, (blob[:20], reply)
        assert message in reply["error"], (message, reply["error"])
    assert unpack(client.exchange(authorised("ping"))) == {"status": "ok", "message": "Server is running"}


def test_a_wrong_observation_is_refused_as_a_strict_server_would(raw):
    client, _ = raw
    frame = np.zeros((1, 1, 8, 8, 3), np.uint8)
    observation = {"video": {"front": frame, "wrist": frame},
                   "state": {"single_arm": np.zeros((1, 1, 5)), "gripper": np.zeros((1, 1, 1), np.float32)},
                   "language": {"annotation.human.task_description": [["go"]]}}
    reply = unpack(client.exchange(authorised("get_action", {"observation": observation, "options": None})))
    assert "state.single_arm must be float32 of shape (1, 1, 5), got float64 (1, 1, 5)" in reply["error"]


def test_a_request_beyond_twice_the_limit_is_dropped_unread_and_the_server_serves_on(raw):
    _, served = raw
    flooder = RawClient(served.port, timeout_ms=300)
    try:
        flooder.socket.send(b"\x00" * (3 * 64 * 1024))
        with pytest.raises(zmq.Again):
            flooder.socket.recv()
    finally:
        flooder.close()
    survivor = RawClient(served.port)
    try:
        assert unpack(survivor.exchange(authorised("ping")))["status"] == "ok"
    finally:
        survivor.close()


class FailingPolicy:
    """A policy whose every call fails, as a model on a broken GPU would."""

    def get_action(self, observation, options):
        raise RuntimeError("CUDA error: device-side assert triggered")

    def get_modality_config(self):
        return {"state": object()}  # not encodable

    def reset(self, options):
        return {"handle": object()}  # not encodable


@pytest.mark.parametrize("protocol", list(Protocol))
def test_policy_failures_become_error_replies(protocol, caplog):
    server = PolicyServer(FailingPolicy(), ServerConfig(protocol=protocol, port=0))
    try:
        data = {"observation": {}, "options": None} if protocol.nested else {}
        reply = unpack(server.handle(pack(request("get_action", data), protocol.array_form)))
        assert reply == {"error": "RuntimeError: CUDA error: device-side assert triggered"}
        assert "policy failed" in caplog.text
        for endpoint in ("get_modality_config", "reset"):
            reply = unpack(server.handle(pack(request(endpoint), protocol.array_form)))
            assert "error" in reply, reply
    finally:
        server.close()


def test_kill_replies_nil_and_ends_the_loop(serve, replay_policy):
    served = serve(replay_policy, Protocol.N1_6)
    client = RawClient(served.port)
    try:
        assert client.exchange(pack(request("kill"), Protocol.N1_6.array_form)) == b"\xc0"
        served.thread.join(timeout=5)
        assert not served.thread.is_alive()
    finally:
        client.close()


def test_the_server_binds_loopback_by_default(replay_policy):
    server = PolicyServer(replay_policy, ServerConfig(port=0))
    try:
        assert server.endpoint.startswith("tcp://127.0.0.1:")
    finally:
        server.close()
