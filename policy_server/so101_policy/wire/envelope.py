"""The request/reply envelope around payloads, per generation (docs/reference/gr00t-wire.md §2, §3).

Shared by client and server so both sides agree on key order (which makes our bytes identical
to upstream's), on how get_action differs between N1.5 (flat observation in, action dict out)
and N1.6+ ({"observation", "options"} in, [action, info] out), and on error replies.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from so101_policy.errors import PolicyServerError, ProtocolMismatchError, WireFormatError
from so101_policy.wire.generations import Protocol

PING = "ping"
KILL = "kill"
GET_ACTION = "get_action"
GET_MODALITY_CONFIG = "get_modality_config"
RESET = "reset"
DEFAULT_ENDPOINT = GET_ACTION
"""A request without "endpoint" is a get_action request (upstream's rule)."""

PING_REPLY = {"status": "ok", "message": "Server is running"}
UNAUTHORIZED = "Unauthorized: Invalid API token"
UNKNOWN_ENDPOINT = "Unknown endpoint: "


def request(endpoint: str, data: Mapping[str, Any] | None = None, api_token: str | None = None) -> dict[str, Any]:
    """{"endpoint", "data"?, "api_token"?} in upstream's key order; data only for endpoints that take input."""
    message: dict[str, Any] = {"endpoint": endpoint}
    if data is not None:
        message["data"] = data
    if api_token is not None:
        message["api_token"] = api_token
    return message


def error_reply(message: str) -> dict[str, str]:
    return {"error": message}


def raise_for_error(reply: Any) -> None:
    """PolicyServerError carrying the server's text if `reply` is an error reply."""
    if isinstance(reply, Mapping) and "error" in reply:
        raise PolicyServerError(str(reply["error"]))


# --- get_action and reset payloads -------------------------------------------------------------


def action_request_data(protocol: Protocol, observation: Mapping[str, Any], options: Mapping | None) -> dict:
    """The `data` of a get_action request: the flat observation itself (N1.5) or the N1.6+ envelope."""
    if not protocol.nested:
        return dict(observation)
    return {"observation": observation, "options": options}


def parse_action_request(protocol: Protocol, data: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Server side: `data` → (observation, options); WireFormatError with a hint on the wrong generation."""
    if not isinstance(data, Mapping):
        raise WireFormatError(f"get_action needs a map as 'data', got {type(data).__name__}")
    if not protocol.nested:
        if "observation" in data:
            raise WireFormatError(
                f"get_action data has an 'observation' key: an N1.6+ client talking to this {protocol.value} server"
            )
        return dict(data), None
    unexpected = sorted(set(data) - {"observation", "options"})
    if unexpected or not isinstance(data.get("observation"), Mapping):
        raise WireFormatError(
            f"get_action data must be {{'observation': <map>, 'options': <map or nil>}} for {protocol.value}; got keys "
            f"{sorted(map(str, data))} (an N1.5 client talking to an N1.6+ server?)"
        )
    return dict(data["observation"]), _options(data.get("options"))


def action_reply(protocol: Protocol, action: Mapping[str, Any], info: Mapping[str, Any]) -> Any:
    return [dict(action), dict(info)] if protocol.nested else dict(action)


def parse_action_reply(protocol: Protocol, reply: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Client side: get_action reply → (action, info); ProtocolMismatchError if it has the other shape."""
    if protocol.nested:
        if isinstance(reply, list) and len(reply) == 2 and all(isinstance(part, Mapping) for part in reply):
            return dict(reply[0]), dict(reply[1])
        raise ProtocolMismatchError(
            f"expected an [action, info] reply ({protocol.value}), got {type(reply).__name__}: is the server N1.5?"
        )
    if isinstance(reply, Mapping):
        return dict(reply), {}
    raise ProtocolMismatchError(
        f"expected an action map reply (n1.5), got {type(reply).__name__}: is the server N1.6 or newer?"
    )


def reset_request_data(options: Mapping | None) -> dict[str, Any]:
    return {"options": options}


def parse_reset_request(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping) or set(data) - {"options"}:
        raise WireFormatError(f"reset data must be {{'options': <map or nil>}}, got {data!r:.200}")
    return _options(data.get("options"))


def _options(options: Any) -> dict[str, Any] | None:
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise WireFormatError(f"'options' must be a map or nil, got {type(options).__name__}")
    return dict(options)
