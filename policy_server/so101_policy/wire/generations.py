"""The Isaac-GR00T ZMQ wire generations we speak, and what differs between them.

Names follow the model releases users know; the tags are those of docs/reference/gr00t-wire.md §1:

  n1.5  E3    flat observation, action dict reply, arrays as `.npy` blobs, ModalityConfig
              `as_json` as a JSON string; no `reset` endpoint (Sept 2025 – Nov 2025).
  n1.6  E4    nested observation {"observation", "options"}, `[action, info]` reply, `reset`,
              `.npy` blobs, `as_json` as a map. Also the N1.7 *release* tag (E4b, 23ace64),
              which kept this wire format.
  n1.7  E5    as n1.6, but arrays as msgpack-numpy maps with bytes keys and the marker
              "__ModalityConfig__" (main from May 2026).

The torch-pickle generations (E1/E2) are deliberately not supported: decoding them means
`torch.load(weights_only=False)`, i.e. running whatever code a peer sends. A peer speaking them
is recognised and refused with ProtocolMismatchError.
"""
from __future__ import annotations

from enum import Enum


class ArrayForm(Enum):
    """How an ndarray travels inside msgpack."""

    NPY = "npy"
    """{"__ndarray_class__": True, "as_npy": <complete .npy file>} (str keys)."""
    MSGPACK_NUMPY = "msgpack-numpy"
    """{b"nd": True, b"type": dtype.str, b"kind": b"", b"shape": [...], b"data": <C-order bytes>}."""


class Protocol(Enum):
    """One wire generation; see the module doc for the upstream commits each one covers."""

    N1_5 = "n1.5"
    N1_6 = "n1.6"
    N1_7 = "n1.7"

    @property
    def nested(self) -> bool:
        """N1.6+: get_action data is {"observation": nested obs, "options": ...}; reply [action, info]."""
        return self is not Protocol.N1_5

    @property
    def array_form(self) -> ArrayForm:
        return ArrayForm.MSGPACK_NUMPY if self is Protocol.N1_7 else ArrayForm.NPY

    @classmethod
    def parse(cls, text: str) -> Protocol:
        """'n1.6', 'N1.6' or 'n16' → Protocol.N1_6; ValueError naming the choices otherwise."""
        wanted = text.strip().lower()
        for protocol in cls:
            if wanted in (protocol.value, protocol.value.replace(".", "")):
                return protocol
        choices = ", ".join(p.value for p in cls)
        raise ValueError(f"unknown GR00T wire generation {text!r}; choose one of {choices} (or 'auto' for a client)")
