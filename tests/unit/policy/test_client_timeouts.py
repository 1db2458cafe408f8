"""Timeouts always apply, a timed-out socket is replaced, a lost server is survived, exit never hangs."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from so101_policy import PolicyServer, PolicyTimeoutError, Protocol, ServerConfig
from so101_policy.wire.codec import pack
from so101_policy.wire.envelope import PING_REPLY

TIMEOUT_S = 0.3


def test_a_silent_server_times_out_within_the_timeout(scripted_peer, connect):
    peer = scripted_peer(lambda request: None)
    client = connect(peer.port, protocol="n1.6", timeout_s=TIMEOUT_S)
    started = time.monotonic()
    with pytest.raises(PolicyTimeoutError, match="no reply .* within 0.3 s; the socket was recreated"):
        client.reset()
    assert TIMEOUT_S <= time.monotonic() - started < TIMEOUT_S + 1.0
    assert client.ping() is False, "ping reports a timeout as False"


def test_after_a_timeout_the_next_call_uses_a_fresh_socket(scripted_peer, connect):
    answered = []

    def drop_the_first(request: bytes) -> bytes | None:
        answered.append(len(answered) > 0)
        return pack(PING_REPLY, Protocol.N1_6.array_form) if answered[-1] else None

    peer = scripted_peer(drop_the_first)
    client = connect(peer.port, timeout_s=TIMEOUT_S)
    assert client.ping() is False
    assert client.ping() is True, "a REQ socket that missed its reply would raise EFSM here"


def test_server_lost_mid_stream_then_back_on_the_same_port(serve, connect, replay_policy):
    served = serve(replay_policy, Protocol.N1_7)
    client = connect(served.port, protocol="n1.7", timeout_s=TIMEOUT_S)
    assert client.reset() == {}
    served.stop()  # the server is gone (socket closed, nothing listens)

    with pytest.raises(PolicyTimeoutError):
        client.reset()
    with pytest.raises(PolicyTimeoutError):
        client.reset()

    back = serve(replay_policy, Protocol.N1_7, port=served.port)
    assert back.port == served.port
    assert client.reset() == {}
    assert client.get_modality_config()


@pytest.mark.parametrize("close", ["close()", "nothing (left to the finalizer)"])
def test_a_client_with_a_timed_out_request_never_hangs_the_interpreter_at_exit(close, scripted_peer):
    peer = scripted_peer(lambda request: None)
    program = textwrap.dedent(f"""
        from so101_policy import PolicyClient, PolicyTimeoutError
        client = PolicyClient("127.0.0.1", {peer.port}, protocol="n1.6", timeout_s=0.2)
        try:
            client.reset()
        except PolicyTimeoutError:
            pass
        {"client.close()" if close == "close()" else "pass"}
    """)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30


def test_a_server_closes_without_waiting_for_its_clients(replay_policy):
    server = PolicyServer(replay_policy, ServerConfig(port=0))
    started = time.monotonic()
    server.close()
    assert time.monotonic() - started < 1.0
