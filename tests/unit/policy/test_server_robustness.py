"""Whatever a client sends, the server answers with an error reply in the protocol's format and keeps serving."""
from __future__ import annotations

import random
import threading
import tracemalloc

import msgpack
import numpy as np
import pytest
import zmq

from so101_policy import PolicyServer, Protocol, ServerConfig
from so101_policy.wire import arrays, codec
from so101_policy.wire.codec import TORCH_ZIP_MAGIC, pack, unpack
from so101_policy.wire.envelope import request
from so101_policy.wire.generations import ArrayForm


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
    (msgpack.packb({b"nd": True, b"type": "|O", b"kind": b"O", b"shape": [1], b"data": b"x"}), "Unauthorized"),
    (msgpack.packb({"endpoint": "get_action", "api_token": "s3cret",
                    "data": {b"nd": True, b"type": "|O", b"kind": b"O", b"shape": [1], b"data": b"x"}}), "pickle"),
    (msgpack.packb({"endpoint": "ping", "api_token": "s3cret"}) + b"\xc0", "1 bytes follow the message"),
    (b"\xdd\xff\xff\xff\xff\xc0", "cannot fit in the message"),
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


def test_a_multipart_message_gets_an_error_reply_and_the_server_serves_on(raw):
    client, served = raw
    client.socket.send_multipart([authorised("ping"), b"a second frame", b"a third"])
    reply = unpack(client.socket.recv())
    assert reply == {"error": "Malformed request: 3 frames; a GR00T request is one single-part message"}
    assert served.thread.is_alive()
    assert unpack(client.exchange(authorised("ping")))["status"] == "ok"


def test_the_token_is_checked_before_the_payload_is_decoded(raw, monkeypatch):
    client, served = raw
    decoded_by_server: list[dict] = []
    original = arrays.decode_array

    def watched(obj: dict):
        if threading.current_thread() is served.thread:
            decoded_by_server.append(obj)
        return original(obj)

    monkeypatch.setattr(codec, "decode_array", watched)
    payload = {"observation": {"video": {"front": np.zeros((1, 1, 4, 4, 3), np.uint8)}}, "options": None}
    blob = pack(request("get_action", payload, api_token="wrong"), Protocol.N1_7.array_form)
    assert unpack(client.exchange(blob)) == {"error": "Unauthorized: Invalid API token"}
    assert decoded_by_server == [], "nothing of the payload was decoded for a wrong token"
    client.exchange(pack(request("get_action", payload, api_token="s3cret"), Protocol.N1_7.array_form))
    assert any(b"nd" in obj for obj in decoded_by_server), "decoded once authorised"


def hostile_requests(size: int) -> list[bytes]:
    """Small requests that made msgpack allocate ~60x their size before, and fuzz around real ones."""
    n = size - 5
    envelope_start = msgpack.packb({"endpoint": "get_action", "api_token": "s3cret"})
    inside_data = b"\x83" + envelope_start[1:] + b"\xa4data"  # a map of 3 entries, the third being data
    return [
        b"\xdd" + n.to_bytes(4, "big") + b"\x90" * n,  # one array of empty arrays
        b"\xdd" + (n // 2).to_bytes(4, "big") + b"\xa2xy" * (n // 3),  # two-character strings (and truncated)
        b"\xdf" + (n // 2).to_bytes(4, "big") + b"\x00\x80" * (n // 2),  # a map of empty maps
        inside_data + b"\xdd" + n.to_bytes(4, "big") + b"\x90" * n,  # authorised, the payload hostile
        inside_data + b"\xdd" + (n // 3).to_bytes(4, "big") + b"\xcd\x01\x00" * (n // 3),  # 16-bit ints
        inside_data + b"\xdc\x00\xff" + b"\xc4\x00" * 255,  # within the budget: decoded, and refused later
    ]


def test_decoding_allocates_in_proportion_to_the_request(replay_policy):
    """What the server allocates for one request stays within a small multiple of its size."""
    server = PolicyServer(replay_policy, ServerConfig(port=0, api_token="s3cret"))  # the default 64 MB limit
    size = 1 << 20
    tracemalloc.start()
    try:
        for blob in hostile_requests(size):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            reply = unpack(server.handle(blob))
            peak = tracemalloc.get_traced_memory()[1] - before
            assert "error" in reply, reply
            assert peak < 3 * len(blob) + 1_000_000, (blob[:8], peak)
    finally:
        tracemalloc.stop()
        server.close()


def test_fuzzed_requests_get_error_replies_without_tracebacks_or_growth(raw, caplog):
    """Mutated real requests (arrays of both forms, .npy headers included): an error or an answer, never a
    traceback in the log, and memory that does not grow with the number of requests."""
    client, _ = raw
    rng = random.Random(15)
    frame = np.zeros((1, 1, 8, 8, 3), np.uint8)
    observation = {"video": {"front": frame, "wrist": frame},
                   "state": {"single_arm": np.zeros((1, 1, 5), np.float32), "gripper": np.zeros((1, 1, 1), np.float32)},
                   "language": {"annotation.human.task_description": [["go"]]}}
    seeds = [authorised("get_action", {"observation": observation, "options": None}),
             pack(request("get_action", {"observation": observation, "options": None}, api_token="s3cret"),
                  ArrayForm.NPY)]
    tracemalloc.start()
    try:
        for round_ in range(600):
            blob = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 8)):
                blob[rng.randrange(len(blob))] = rng.randrange(256)
            reply = unpack(client.exchange(bytes(blob)))
            assert isinstance(reply, (dict, list)), reply
            if round_ == 100:
                settled = tracemalloc.get_traced_memory()[0]
        grown = tracemalloc.get_traced_memory()[0] - settled
    finally:
        tracemalloc.stop()
    assert grown < 2_000_000, grown
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info], caplog.text


class AcceptingPolicy:
    """A stand-in for the gr00t backend (no GPU here): answers whatever it is given."""

    def __init__(self):
        self.seen = []

    def get_action(self, observation, options):
        self.seen.append(observation)
        return {"gripper": np.zeros((1, 16, 1), np.float32)}, {}

    def get_modality_config(self):
        return {}

    def reset(self, options):
        return {}


@pytest.mark.parametrize("protocol", list(Protocol))
@pytest.mark.parametrize("bad,message", [("nan_state", "holds NaN or infinite values"),
                                          ("inf_state", "holds NaN or infinite values"),
                                          ("empty_video", "has no pixels")])
def test_get_action_refuses_non_finite_state_and_empty_frames_whatever_the_backend(protocol, bad, message):
    policy = AcceptingPolicy()
    server = PolicyServer(policy, ServerConfig(protocol=protocol, port=0))
    try:
        state = np.zeros((1, 1, 5), np.float32) if protocol.nested else np.zeros((1, 5))
        frame = np.zeros((1, 1, 8, 8, 3) if protocol.nested else (1, 8, 8, 3), np.uint8)
        if bad == "nan_state":
            state[..., 2] = np.nan
        elif bad == "inf_state":
            state[..., 0] = -np.inf
        else:
            frame = frame[..., :0, :0, :]
        if protocol.nested:
            data = {"observation": {"video": {"front": frame}, "state": {"single_arm": state}}, "options": None}
        else:
            data = {"video.front": frame, "state.single_arm": state}
        reply = unpack(server.handle(pack(request("get_action", data), protocol.array_form)))
        assert message in reply["error"] and policy.seen == []
    finally:
        server.close()
