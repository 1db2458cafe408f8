"""The codec reproduces the reference bytes of docs/reference/gr00t-wire.md §4 exactly; decodes liberally, safely."""
from __future__ import annotations

import io
import re

import msgpack
import numpy as np
import pytest

from so101_policy import ArrayForm, ModalityConfig, Protocol, ProtocolMismatchError, WireFormatError
from so101_policy.wire.codec import pack, pack_view, unpack
from so101_policy.wire.envelope import PING_REPLY, error_reply, request, reset_request_data
from so101_policy.wire.modality import identify_protocol, modality_configs_from_wire, modality_configs_to_wire


def wire(spec: str) -> bytes:
    """The reference sheet's notation: hex bytes and "quoted ASCII", separated by spaces."""
    out = bytearray()
    for text, hexbyte in re.findall(r'"([^"]*)"|([0-9a-fA-F]{2})', spec):
        out += text.encode() if text else bytes.fromhex(hexbyte)
    return bytes(out)


GRIPPER = np.array([[[6.0]]], dtype=np.float32)
REQUEST = request("get_action", {"observation": {"state": {"gripper": GRIPPER}}, "options": None})

# §4.2: the complete .npy file of float32 [[[6.0]]], from the format description (not from np.save).
NPY_HEADER = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1), }"
NPY_6 = (wire("93") + b"NUMPY" + wire("01 00 76 00") + NPY_HEADER.encode().ljust(117) + b"\n"
         + wire("00 00 c0 40"))
MSGPACK_NUMPY_6 = wire('85 c4 02 "nd" c3  c4 04 "type" a3 "<f4"  c4 04 "kind" c4 00  c4 05 "shape" 93 01 01 01  '
                       'c4 04 "data" c4 04 00 00 c0 40')


def test_the_npy_preamble_is_128_bytes():
    assert len(NPY_6) == 128 + 4


def test_n16_get_action_request_with_npy_arrays_is_byte_exact():
    expected = (wire('82 a8 "endpoint" aa "get_action" a4 "data" 82 ab "observation" 81 a5 "state" 81 a7 "gripper" '
                     '82 b1 "__ndarray_class__" c3 a6 "as_npy" c4 84') + NPY_6 + wire('a7 "options" c0'))
    assert len(expected) == 225
    assert pack(REQUEST, Protocol.N1_6.array_form) == expected


def test_n16_reply_with_npy_arrays_is_byte_exact():
    expected = wire('92 81 a7 "gripper" 82 b1 "__ndarray_class__" c3 a6 "as_npy" c4 84') + NPY_6 + wire("80")
    assert len(expected) == 172
    assert pack([{"gripper": GRIPPER}, {}], ArrayForm.NPY) == expected


def test_n17_get_action_request_with_msgpack_numpy_is_byte_exact():
    expected = (wire('82 a8 "endpoint" aa "get_action" a4 "data" 82 ab "observation" 81 a5 "state" 81 a7 "gripper"')
                + MSGPACK_NUMPY_6 + wire('a7 "options" c0'))
    assert len(expected) == 111
    assert pack(REQUEST, Protocol.N1_7.array_form) == expected


def test_n17_reply_and_scalar_are_byte_exact():
    reply = wire('92 81 a7 "gripper"') + MSGPACK_NUMPY_6 + wire("80")
    assert len(reply) == 58
    assert pack([{"gripper": GRIPPER}, {}], ArrayForm.MSGPACK_NUMPY) == reply
    scalar = wire('83 c4 02 "nd" c2 c4 04 "type" a3 "<f4" c4 04 "data" c4 04 00 00 c0 3f')
    assert pack(np.float32(1.5), ArrayForm.MSGPACK_NUMPY) == scalar
    assert unpack(scalar) == np.float32(1.5)


@pytest.mark.parametrize("form", list(ArrayForm))
@pytest.mark.parametrize("message,spec", [
    (request("ping"), '81 a8 65 6e 64 70 6f 69 6e 74 a4 70 69 6e 67'),
    (request("ping", api_token="s3cret"), '82 a8 "endpoint" a4 "ping" a9 "api_token" a6 "s3cret"'),
    (PING_REPLY, '82 a6 "status" a2 "ok" a7 "message" b1 "Server is running"'),
    (request("kill"), '81 a8 "endpoint" a4 "kill"'),
    (None, "c0"),
    (request("reset", reset_request_data(None)), '82 a8 "endpoint" a5 "reset" a4 "data" 81 a7 "options" c0'),
    (error_reply("x"), "81 a5 65 72 72 6f 72 a1 78"),
])
def test_messages_without_arrays_are_identical_in_every_generation(form, message, spec):
    assert pack(message, form) == wire(spec)
    assert unpack(wire(spec)) == message


@pytest.mark.parametrize("form", list(ArrayForm))
def test_every_form_round_trips_a_camera_frame(form):
    frame = np.random.default_rng(1).integers(0, 256, (1, 1, 480, 640, 3), dtype=np.uint8)
    blob = pack({"video": {"front": frame}}, form)
    decoded = unpack(blob)["video"]["front"]
    assert decoded.dtype == np.uint8 and np.array_equal(decoded, frame)
    if form is ArrayForm.NPY:
        assert b"as_npy\xc6" in blob, "arrays over 64 KiB use a bin32 header"
        assert len(blob) - blob.index(b"\x93NUMPY") == 921_728, "a complete .npy file: 128-byte preamble + data"


@pytest.mark.parametrize("form", list(ArrayForm))
def test_pack_view_writes_packs_bytes_and_each_view_outlives_later_messages(form):
    frames = [np.full((480, 640, 3), value, np.uint8) for value in (1, 2)]
    views = [pack_view({"video": {"front": frame}}, form) for frame in frames]  # the second reuses the first's size
    for view, frame in zip(views, frames, strict=True):
        assert view.tobytes() == pack({"video": {"front": frame}}, form)


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=">i4").reshape(3, 4),
    np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    np.arange(24).reshape(2, 3, 4)[:, ::2],
    np.array([True, False]),
    np.zeros((0, 3), np.float32),
    np.ones((), np.float64),
], ids=["big-endian", "fortran", "strided", "bool", "empty", "0-d"])
def test_npy_blobs_are_what_np_save_writes_and_read_back_the_same(array):
    saved = io.BytesIO()
    np.save(saved, array, allow_pickle=False)
    blob = pack(array, ArrayForm.NPY)
    assert saved.getvalue() in blob
    decoded = unpack(blob)
    assert decoded.dtype == array.dtype and decoded.shape == array.shape and np.array_equal(decoded, array)


def test_npy_format_2_headers_are_read_too():
    saved = io.BytesIO()
    np.lib.format.write_array(saved, np.arange(3, dtype=np.int16), version=(2, 0))
    blob = msgpack.packb({"__ndarray_class__": True, "as_npy": saved.getvalue()})
    assert unpack(blob).tolist() == [0, 1, 2]


def test_npy_blobs_decode_writeable_and_msgpack_numpy_read_only():
    assert unpack(pack(GRIPPER, ArrayForm.NPY)).flags.writeable
    assert not unpack(pack(GRIPPER, ArrayForm.MSGPACK_NUMPY)).flags.writeable


def test_a_fortran_ordered_npy_blob_keeps_its_element_order():
    array = np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3))
    assert np.array_equal(unpack(pack(array, ArrayForm.NPY)), array)


def test_msgpack_numpy_decoding_tolerates_what_upstream_tolerates():
    tolerant = msgpack.packb({b"nd": True, b"type": b"<f4", b"shape": [1], b"data": wire("00 00 c0 40")})
    assert unpack(tolerant).tolist() == [6.0]
    str_keys = msgpack.packb({"nd": True, "type": "<f4", "kind": b"", "shape": [1], "data": b"\0\0\xc0\x40"})
    assert isinstance(unpack(str_keys), dict), "str keys are not msgpack-numpy: they pass through as a map"


def test_object_arrays_are_refused_both_ways():
    with pytest.raises(WireFormatError, match="object"):
        pack({"a": np.array([{"x": 1}], dtype=object)}, ArrayForm.MSGPACK_NUMPY)
    with pytest.raises(WireFormatError, match="object"):
        pack({"a": np.array([None], dtype=object)}, ArrayForm.NPY)
    pickled = msgpack.packb({b"nd": True, b"type": "|O", b"kind": b"O", b"shape": [1], b"data": b"cos\nsystem\n"})
    with pytest.raises(WireFormatError, match="pickle"):
        unpack(pickled)


def test_numpy_scalars_become_numbers_in_the_npy_form():
    assert unpack(pack({"x": np.float32(1.5)}, ArrayForm.NPY)) == {"x": 1.5}


@pytest.mark.parametrize("blob,error", [
    (b"PK\x03\x04" + b"\0" * 40, ProtocolMismatchError),
    (b"ERROR", ProtocolMismatchError),
    (b"\x82\xa8endpoint", WireFormatError),
    (b"\xc1", WireFormatError),
    (msgpack.packb({"__ndarray_class__": True, "as_npy": b"not an npy file"}), WireFormatError),
    (msgpack.packb({b"nd": True, b"type": "<f4", b"kind": b"", b"shape": [100], b"data": b"\0" * 4}), WireFormatError),
])
def test_bytes_of_no_supported_generation_raise_typed_errors(blob, error):
    with pytest.raises(error):
        unpack(blob)


# --- ModalityConfig (§5) ---------------------------------------------------------------------------

ACTION = ModalityConfig((0, 1), ("action.single_arm",))


def test_n15_modality_config_is_a_two_field_json_string():
    assert ACTION.to_wire(Protocol.N1_5) == {
        "__ModalityConfig_class__": True,
        "as_json": '{"delta_indices":[0,1],"modality_keys":["action.single_arm"]}',
    }


@pytest.mark.parametrize("protocol,marker", [(Protocol.N1_6, "__ModalityConfig_class__"),
                                             (Protocol.N1_7, "__ModalityConfig__")])
def test_n16_and_n17_modality_configs_are_maps_under_their_marker(protocol, marker):
    assert ACTION.to_wire(protocol) == {marker: True, "as_json": {
        "delta_indices": [0, 1], "modality_keys": ["action.single_arm"], "sin_cos_embedding_keys": None,
        "mean_std_embedding_keys": None, "action_configs": None}}


@pytest.mark.parametrize("protocol", list(Protocol))
def test_modality_configs_round_trip_and_tell_their_generation(protocol):
    from so101_policy import data_config

    configs = data_config("so100_new_embodiment").modality_configs(protocol)
    reply = unpack(pack(modality_configs_to_wire(configs, protocol), protocol.array_form))
    assert modality_configs_from_wire(reply) == configs
    assert identify_protocol(reply) is protocol


def test_modality_config_as_json_bytes_is_accepted():
    reply = {"action": {"__ModalityConfig_class__": True, "as_json": b'{"delta_indices":[0],"modality_keys":["a"]}'}}
    assert modality_configs_from_wire(reply)["action"] == ModalityConfig((0,), ("a",))


def test_an_empty_modality_reply_cannot_identify_a_generation():
    with pytest.raises(ProtocolMismatchError, match="explicitly"):
        identify_protocol({})
