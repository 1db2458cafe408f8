"""Launch arguments: one dataclass field each, given as text by `ros2 launch` and `so101 run` alike."""
import dataclasses

import pytest

from so101_bringup.arguments import CamerasArgs, FollowerArgs, TeleopArgs, argument_specs, parse_arguments
from so101_bringup.launch_graphs import GRAPHS


@pytest.mark.parametrize("args_class", [spec[0] for spec in GRAPHS.values()], ids=list(GRAPHS))
def test_every_argument_has_help_and_a_default_that_reads_back(args_class):
    specs = argument_specs(args_class)
    assert [spec.name for spec in specs] == [f.name for f in dataclasses.fields(args_class)]
    assert all(spec.help for spec in specs)
    assert parse_arguments(args_class, {spec.name: spec.default_text for spec in specs}) == args_class()


def test_teleop_takes_every_follower_and_cameras_argument():
    teleop = {spec.name for spec in argument_specs(TeleopArgs)}
    assert {spec.name for spec in argument_specs(FollowerArgs)} <= teleop
    assert {spec.name for spec in argument_specs(CamerasArgs)} <= teleop


def test_text_is_converted_by_the_field_type():
    args = parse_arguments(
        TeleopArgs,
        {"emulate": "True", "cameras": "false", "follower_rate_hz": "50", "emulator_seed": "7", "leader_port": ""},
    )
    assert (args.emulate, args.cameras, args.follower_rate_hz, args.emulator_seed) == (True, False, 50.0, 7)
    assert args.leader_port is None  # an empty optional argument is "not given"


@pytest.mark.parametrize(
    "name,text,message",
    [
        ("emulate", "maybe", "argument emulate: expected true or false, got 'maybe'"),
        ("follower_rate_hz", "fast", "argument follower_rate_hz: expected a number, got 'fast'"),
        ("emulator_seed", "1.5", "argument emulator_seed: expected an integer, got '1.5'"),
        ("follower_speed", "1", "unknown argument(s) follower_speed; known: emulate, namespace"),
    ],
)
def test_bad_text_names_the_argument(name, text, message):
    with pytest.raises(ValueError) as error:
        parse_arguments(FollowerArgs, {name: text})
    assert str(error.value).startswith(message)
