"""PolicyServer: serves a Policy over ZMQ REP in one Isaac-GR00T wire generation.

Upstream's server runs recv → handle → send in one thread; so does this one, but it stays up
whatever a client sends (docs/reference/gr00t-wire.md §2 semantics for every error):
  * requests over `max_request_bytes` get an error reply; ZMQ itself drops (disconnects) any
    message over twice that before it is buffered, so memory per request stays bounded;
  * a request is one frame (§2); a multipart message gets an error reply (its other frames are
    read and dropped, or the REP socket could not answer and the loop would die);
  * decoding is bounded (wire.msgpack_scan: allocations proportional to the request's size), and
    the token is checked before the payload (`data`) is decoded at all;
  * undecodable bytes, wrong types, unknown endpoints and bad tokens get {"error": text};
  * get_action refuses non-finite joint states and frames without pixels before any backend sees
    them (embodiment.observation_schema.check_values);
  * a policy exception becomes {"error": str(exception)} and is logged with its traceback;
  * `kill` replies nil and ends the loop; `stop()` (e.g. from a SIGINT handler) ends it within
    one poll interval. Sockets close with linger 0, so shutdown never blocks on a client.
The server binds loopback unless told otherwise: a GR00T server has no authentication unless
a token is set, and the token travels in clear text.
"""
from __future__ import annotations

import hmac
import logging
import threading
from dataclasses import dataclass
from typing import Any

import zmq

from so101_calibration.interface_contract import LOOPBACK_HOST, POLICY_PORT
from so101_policy.embodiment.observation_schema import check_values
from so101_policy.errors import PolicyError, WireFormatError
from so101_policy.server.backends.base import Policy
from so101_policy.wire import envelope
from so101_policy.wire.codec import pack_view, unpack_entry, unpack_fields
from so101_policy.wire.generations import Protocol
from so101_policy.wire.modality import modality_configs_to_wire

log = logging.getLogger(__name__)

DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""Room for four 1080p cameras; a two-camera 480×640 request is 1.8 MB."""
ENVELOPE_FIELDS = ("endpoint", "api_token")
"""What is decoded before the token is checked (the payload, `data`, only after)."""


@dataclass(frozen=True)
class ServerConfig:
    protocol: Protocol = Protocol.N1_7
    host: str = LOOPBACK_HOST
    port: int = POLICY_PORT
    """0 picks a free port (see PolicyServer.port)."""
    api_token: str | None = None
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    poll_interval_s: float = 0.1
    """How often the loop looks at its stop flag."""

    def __post_init__(self) -> None:
        if not 0 <= self.port < 65536:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        if self.max_request_bytes < 1:
            raise ValueError(f"max_request_bytes must be positive, got {self.max_request_bytes}")
        if self.api_token == "":
            raise ValueError("the API token must not be empty: give one, or none at all (no token check)")
        if not self.poll_interval_s > 0:
            raise ValueError(f"poll_interval_s must be positive, got {self.poll_interval_s}")


class _RequestError(Exception):
    """A request we answer with an error reply without calling the policy."""


class PolicyServer:
    """Binds on construction (so `port` is known at once); `serve_forever()` runs the loop."""

    def __init__(self, policy: Policy, config: ServerConfig = ServerConfig()):
        self.policy = policy
        self.config = config
        self._stop = threading.Event()
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.MAXMSGSIZE, 2 * config.max_request_bytes)
        try:
            if config.port:
                self._socket.bind(f"tcp://{config.host}:{config.port}")
            else:
                self._socket.bind(f"tcp://{config.host}:*")
        except zmq.ZMQError as exc:
            self.close()
            raise PolicyError(f"cannot bind tcp://{config.host}:{config.port}: {exc}") from None
        self.endpoint: str = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self._handlers = {
            envelope.PING: self._ping,
            envelope.KILL: self._kill,
            envelope.GET_MODALITY_CONFIG: self._get_modality_config,
            envelope.GET_ACTION: self._get_action,
            envelope.RESET: self._reset,
        }

    def serve_forever(self) -> None:
        """Answer requests until `kill` or stop(); then close the socket."""
        poll_ms = max(1, round(self.config.poll_interval_s * 1000))
        try:
            while not self._stop.is_set():
                if not self._socket.poll(poll_ms, zmq.POLLIN):
                    continue
                request = self._socket.recv(copy=False)
                frames = 1
                while self._socket.getsockopt(zmq.RCVMORE):  # read (and drop) the rest: REP answers whole messages
                    self._socket.recv(copy=False)
                    frames += 1
                if frames > 1:
                    reply = pack_view(envelope.error_reply(
                        f"Malformed request: {frames} frames; a GR00T request is one single-part message"),
                        self.config.protocol.array_form)
                else:
                    reply = self.handle(request.buffer)
                self._socket.send(reply, copy=False)
        finally:
            self.close()

    def serve_in_thread(self, name: str = "policy-server") -> threading.Thread:
        """serve_forever() on a daemon thread of its own (an in-process server); stop(), then join it."""
        thread = threading.Thread(target=self.serve_forever, name=name, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Ask the loop to end (thread- and signal-handler-safe); it does within one poll interval."""
        self._stop.set()

    def close(self) -> None:
        self._socket.close(linger=0)
        self._context.term()

    def __enter__(self) -> PolicyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.close()

    def handle(self, blob: bytes | memoryview) -> memoryview:
        """One request's bytes → the reply's bytes. Never raises: every failure is an error reply."""
        form = self.config.protocol.array_form
        try:
            reply = self._dispatch(blob)
        except (_RequestError, PolicyError) as exc:
            reply = envelope.error_reply(str(exc))
        except Exception as exc:  # the policy's own failure: report it, keep serving
            log.exception("policy failed while handling a request")
            reply = envelope.error_reply(f"{type(exc).__name__}: {exc}")
        try:
            return pack_view(reply, form)
        except WireFormatError as exc:
            log.error("cannot encode the policy's reply: %s", exc)
            return pack_view(envelope.error_reply(f"the server could not encode its reply: {exc}"), form)

    def _dispatch(self, blob: bytes | memoryview) -> Any:
        if len(blob) > self.config.max_request_bytes:
            raise _RequestError(f"Request too large: {len(blob)} bytes (this server accepts up to "
                                f"{self.config.max_request_bytes})")
        try:
            fields, payload = unpack_fields(blob, ENVELOPE_FIELDS)
        except PolicyError as exc:
            raise _RequestError(f"Malformed request: {exc}") from None
        self._check_token(fields.get("api_token"))
        endpoint = fields.get("endpoint", envelope.DEFAULT_ENDPOINT)
        if not isinstance(endpoint, str):
            raise _RequestError(f"Malformed request: 'endpoint' must be a string, got {type(endpoint).__name__}")
        handler = self._handlers.get(endpoint)
        if handler is None:
            raise _RequestError(f"{envelope.UNKNOWN_ENDPOINT}{endpoint}")
        try:
            data = unpack_entry(payload["data"]) if "data" in payload else None
        except PolicyError as exc:
            raise _RequestError(f"Malformed request: {exc}") from None
        return handler(data)

    def _check_token(self, token: Any) -> None:
        expected = self.config.api_token
        if expected is None:
            return
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), expected.encode()):
            raise _RequestError(envelope.UNAUTHORIZED)

    # --- endpoints ---------------------------------------------------------------------------

    def _ping(self, data: Any) -> dict[str, str]:
        return dict(envelope.PING_REPLY)

    def _kill(self, data: Any) -> None:
        self.stop()
        return None

    def _get_modality_config(self, data: Any) -> dict[str, Any]:
        return modality_configs_to_wire(self.policy.get_modality_config(), self.config.protocol)

    def _get_action(self, data: Any) -> Any:
        protocol = self.config.protocol
        observation, options = envelope.parse_action_request(protocol, data)
        check_values(observation, protocol)
        action, info = self.policy.get_action(observation, options)
        return envelope.action_reply(protocol, action, info)

    def _reset(self, data: Any) -> dict[str, Any]:
        return dict(self.policy.reset(envelope.parse_reset_request(data)))
