"""The STS codec against the byte-exact packets of docs/reference/feetech-sts.md §6."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from so101_hardware import sts_protocol
from so101_hardware.control_table import REGISTERS, default_memory, register
from so101_hardware.sts_protocol import ServoErrorBits


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


GOAL = register("Goal_Position")

REFERENCE_REQUESTS = [
    (sts_protocol.ping(1), "ff ff 01 02 01 fb"),
    (sts_protocol.read(1, 3, 2), "ff ff 01 04 02 03 02 f3"),
    (sts_protocol.read(1, 56, 2), "ff ff 01 04 02 38 02 be"),
    (sts_protocol.write(1, 42, GOAL.encode(2048)), "ff ff 01 05 03 2a 00 08 c4"),
    (sts_protocol.write(1, 42, GOAL.encode(-100)), "ff ff 01 05 03 2a 64 80 e8"),
    (sts_protocol.write(1, 40, bytes([1])), "ff ff 01 04 03 28 01 ce"),
    (sts_protocol.write(1, 55, bytes([0])), "ff ff 01 04 03 37 00 c0"),
    (sts_protocol.write(1, 31, register("Homing_Offset").encode(-1947)), "ff ff 01 05 03 1f 9b 0f 2d"),
    (sts_protocol.reg_write(1, 42, GOAL.encode(2048)), "ff ff 01 05 04 2a 00 08 c3"),
    (sts_protocol.action(), "ff ff fe 02 05 fa"),
    (sts_protocol.ping(sts_protocol.BROADCAST_ID), "ff ff fe 02 01 fe"),
    (sts_protocol.sync_read(56, 2, range(1, 7)), "ff ff fe 0a 82 38 02 01 02 03 04 05 06 26"),
    (sts_protocol.sync_read(56, 4, range(1, 7)), "ff ff fe 0a 82 38 04 01 02 03 04 05 06 24"),
    (
        sts_protocol.sync_write(
            42, 2, {i: GOAL.encode(v) for i, v in zip(range(1, 7), [2048, 1000, 3000, 2047, 100, 4000])}
        ),
        "ff ff fe 16 83 2a 02 01 00 08 02 e8 03 03 b8 0b 04 ff 07 05 64 00 06 a0 0f 58",
    ),
]


@pytest.mark.parametrize("built,expected", REFERENCE_REQUESTS, ids=[e for _, e in REFERENCE_REQUESTS])
def test_requests_are_byte_exact(built, expected):
    assert built == hx(expected)


@pytest.mark.parametrize(
    "reply,motor_id,error,value",
    [
        ("ff ff 01 02 00 fc", 1, 0, None),
        ("ff ff 01 04 00 09 03 ee", 1, 0, 777),
        ("ff ff 01 04 00 ff 07 f4", 1, 0, 2047),
        ("ff ff 01 04 00 00 08 f2", 1, 0, 2048),
        ("ff ff 01 04 20 ff 07 d4", 1, 0x20, 2047),
        ("ff ff 05 04 00 b8 0b 33", 5, 0, 3000),
        ("ff ff 06 04 00 dc 05 14", 6, 0, 1500),
    ],
)
def test_reference_replies_parse(reply, motor_id, error, value):
    result = sts_protocol.parse_packet(hx(reply))
    assert result.packet is not None and result.consumed == len(hx(reply))
    assert (result.packet.motor_id, result.packet.code) == (motor_id, error)
    if value is not None:
        assert sts_protocol.from_bytes(result.packet.params) == value
    assert sts_protocol.status(motor_id, error, result.packet.params) == hx(reply)


def test_parser_skips_noise_and_reports_bad_checksum():
    good = hx("ff ff 01 04 20 ff 07 d4")
    result = sts_protocol.parse_packet(b"\x00\x13\xff" + good)
    assert result.packet.error_bits == ServoErrorBits.OVERLOAD
    assert result.discarded == 3 and result.consumed == 3 + len(good)

    bad = good[:-1] + bytes([good[-1] ^ 0x01])
    result = sts_protocol.parse_packet(bad)
    assert result.packet is None and result.bad_checksum and result.consumed == len(bad)


def test_parser_waits_for_incomplete_packets_and_rejects_impossible_lengths():
    assert sts_protocol.parse_packet(hx("ff ff 01 04 00 ff")) == sts_protocol.ParseResult(None, 0)
    assert sts_protocol.parse_packet(hx("ff")) == sts_protocol.ParseResult(None, 0)
    # LEN 0xFF can't be a packet: the parser moves past this header instead of waiting forever.
    result = sts_protocol.parse_packet(hx("ff ff 01 ff 00") + hx("ff ff 01 02 00 fc"))
    assert result.packet == sts_protocol.Packet(1, 0, b"")


def test_error_bits_are_named():
    bits = ServoErrorBits(0x20 | 0x04 | 0x08)
    assert bits.describe() == "overheat, over-current, overload"
    assert sts_protocol.Packet(1, 0x80 | 0x01, b"").error_bits == ServoErrorBits.VOLTAGE


@pytest.mark.parametrize("value,sign_bit,raw", [(-1947, 11, 0x0F9B), (-100, 15, 0x8064), (2047, 11, 2047), (0, 15, 0)])
def test_sign_magnitude_reference_values(value, sign_bit, raw):
    assert sts_protocol.encode_sign_magnitude(value, sign_bit) == raw
    assert sts_protocol.decode_sign_magnitude(raw, sign_bit) == value


def test_sign_magnitude_overflow_is_refused_like_lerobot():
    with pytest.raises(ValueError, match="magnitude 2048 exceeds 2047"):
        register("Homing_Offset").encode(2048)


@given(st.sampled_from([10, 11, 15]), st.data())
def test_sign_magnitude_round_trip(sign_bit, data):
    limit = (1 << sign_bit) - 1
    value = data.draw(st.integers(-limit, limit))
    assert sts_protocol.decode_sign_magnitude(sts_protocol.encode_sign_magnitude(value, sign_bit), sign_bit) == value


@given(st.integers(0, 0xFD), st.integers(0, 255), st.binary(max_size=40))
def test_any_packet_round_trips(motor_id, code, params):
    packet = sts_protocol.encode_packet(motor_id, code, params)
    assert sts_protocol.parse_packet(packet).packet == sts_protocol.Packet(motor_id, code, params)


def test_control_table_layout():
    assert len(default_memory()) == 87
    assert register("Model_Number").decode(bytes(default_memory()[3:5])) == 777
    spans = sorted((r.address, r.address + r.size, r.name) for r in REGISTERS.values())
    for (_, end, name), (start, _, nxt) in zip(spans, spans[1:]):
        assert end <= start, f"{name} overlaps {nxt}"
    with pytest.raises(KeyError, match="Present_Position"):
        register("Present_Positon")
