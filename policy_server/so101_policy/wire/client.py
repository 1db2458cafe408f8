"""PolicyClient: the robot side of the Isaac-GR00T ZMQ protocol, without the gr00t package.

The robot PC runs Python 3.11+ with ROS; Isaac-GR00T pins Python 3.10 and torch. This client
speaks every msgpack generation from pyzmq + msgpack + numpy alone, applies its timeout to
every call, and reports problems as typed errors (errors.py).

`protocol="auto"` asks the server for its modality config (which has no side effects) and
reads the generation from its form (docs/reference/gr00t-wire.md §6); it never calls `reset` or `get_action`
to find out.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from so101_calibration.interface_contract import LOOPBACK_HOST, POLICY_PORT
from so101_policy.errors import PolicyServerError, PolicyTimeoutError, ProtocolMismatchError
from so101_policy.wire import envelope
from so101_policy.wire.codec import pack_view, unpack
from so101_policy.wire.generations import ArrayForm, Protocol
from so101_policy.wire.modality import ModalityConfig, identify_protocol, modality_configs_from_wire
from so101_policy.wire.transport import ReqConnection

DEFAULT_TIMEOUT_S = 5.0
AUTO = "auto"


class PolicyClient:
    """Synchronous calls to one GR00T policy server. Thread-safe (calls are serialised).

    The constructor does no I/O, so a robot node can start before the server. Use as a context
    manager or call close(); a forgotten client is closed at exit without blocking.
    """

    def __init__(
        self,
        host: str = LOOPBACK_HOST,
        port: int = POLICY_PORT,
        protocol: Protocol | str = AUTO,
        api_token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1..65535, got {port}")
        self._protocol = None if protocol == AUTO else _as_protocol(protocol)
        self._api_token = api_token
        self._connection = ReqConnection(f"tcp://{host}:{port}", timeout_s)
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self._connection.endpoint

    @property
    def protocol(self) -> Protocol:
        """The server's generation: as configured, or identified on first use with 'auto'."""
        if self._protocol is None:
            self._protocol = self.detect_protocol()
        return self._protocol

    def detect_protocol(self) -> Protocol:
        """Ask the server which generation it speaks (get_modality_config; no side effects)."""
        return identify_protocol(self._call(envelope.GET_MODALITY_CONFIG))

    def ping(self) -> bool:
        """True if the server answers; False on timeout. An error reply (e.g. a bad token) raises."""
        try:
            reply = self._call(envelope.PING)
        except PolicyTimeoutError:
            return False
        return isinstance(reply, Mapping) and reply.get("status") == "ok"

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        """{"video"|"state"|"action"|"language": ModalityConfig}; {} if the policy has none.

        ProtocolMismatchError if the reply's form shows another generation than configured.
        """
        protocol = self.protocol
        reply = self._call(envelope.GET_MODALITY_CONFIG)
        if reply:
            served = identify_protocol(reply)
            if served is not protocol:
                raise ProtocolMismatchError(
                    f"client configured for {protocol.value}, but the server at {self.endpoint} speaks {served.value}"
                )
        return modality_configs_from_wire(reply)

    def reset(self, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Start a new episode. N1.5 servers have no reset endpoint: their refusal is taken as {}."""
        protocol = self.protocol
        try:
            reply = self._call(envelope.RESET, envelope.reset_request_data(options), protocol.array_form)
        except PolicyServerError as exc:
            if protocol is Protocol.N1_5 and exc.message.startswith(envelope.UNKNOWN_ENDPOINT):
                return {}
            raise
        return dict(reply) if isinstance(reply, Mapping) else {}

    def get_action(
        self, observation: Mapping[str, Any], options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(action, info) for `observation`, given in the server generation's own layout.

        Arrays in `action` are numpy (read-only views for n1.7: copy before modifying). N1.5
        servers send no info: it is {} there, and `options` is not sent.
        """
        protocol = self.protocol
        data = envelope.action_request_data(protocol, observation, options)
        return envelope.parse_action_reply(protocol, self._call(envelope.GET_ACTION, data, protocol.array_form))

    def kill(self) -> None:
        """Ask the server to stop (it replies nil, then leaves its loop)."""
        self._call(envelope.KILL)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> PolicyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, endpoint: str, data: Any = None, form: ArrayForm = ArrayForm.NPY) -> Any:
        """One request/reply; raises PolicyServerError for an error reply."""
        blob = pack_view(envelope.request(endpoint, data, self._api_token), form)
        with self._lock:
            reply = unpack(self._connection.exchange(blob))
        envelope.raise_for_error(reply)
        return reply


def _as_protocol(protocol: Protocol | str) -> Protocol:
    return protocol if isinstance(protocol, Protocol) else Protocol.parse(protocol)
