"""ROS 2 parameter files read with rcl's rules, so `so101 run` and `ros2 launch` give nodes the same values."""
import pytest

from so101_bringup.graph_spec import NodeSpec
from so101_bringup.param_files import ParamFileError, effective_parameters, read_param_file


def write(tmp_path, text, name="params.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "key,fqn,matches",
    [
        ("follower", "/follower", True),
        ("follower", "/arm1/follower", False),  # a relative key is in the root namespace
        ("/arm1/follower", "/arm1/follower", True),
        ("/**", "/arm1/follower", True),
        ("/**/follower", "/follower", True),
        ("/**/follower", "/a/b/follower", True),
        ("/**/follower", "/leader", False),
        ("/*/follower", "/arm1/follower", True),
        ("/*/follower", "/follower", False),
        ("/arm1/*", "/arm1/leader", True),
    ],
)
def test_node_keys_match_as_rcl_matches_them(tmp_path, key, fqn, matches):
    (section,) = read_param_file(write(tmp_path, f"{key}:\n  ros__parameters:\n    rate_hz: 50.0\n")).sections
    assert section.matches(fqn) is matches


def test_sections_apply_in_file_order_and_nest(tmp_path):
    path = write(
        tmp_path,
        "/**:\n  ros__parameters:\n    rate_hz: 10.0\n    port: /dev/a\n"
        "arm1:\n  follower:\n    ros__parameters:\n      rate_hz: 20.0\n      limits: {max: 1.0}\n",
    )
    expected = {"rate_hz": 20.0, "port": "/dev/a", "limits.max": 1.0}
    assert read_param_file(path).parameters_for("/arm1/follower") == expected
    assert read_param_file(path).parameters_for("/leader") == {"rate_hz": 10.0, "port": "/dev/a"}


def test_explicit_parameters_win_over_files_and_later_files_over_earlier(tmp_path):
    first = write(tmp_path, "/**:\n  ros__parameters:\n    rate_hz: 10.0\n    arm_id: a\n", "first.yaml")
    second = write(tmp_path, "/**/follower:\n  ros__parameters:\n    rate_hz: 20.0\n", "second.yaml")
    node = NodeSpec(
        "so101_hardware", "follower_node", "follower", parameters={"arm_id": "b"}, param_files=(first, second)
    )
    assert effective_parameters(node) == {"rate_hz": 20.0, "arm_id": "b"}


@pytest.mark.parametrize("text,value", [("1.0e3", 1000.0), ("1e3", 1000.0), ("-2.5E-1", -0.25), (".5e1", 5.0),
                                        ("1.5", 1.5), ("10", 10), ("'1e3'", "1e3"), ("1e", "1e")])
def test_values_are_typed_as_rcl_types_them(tmp_path, text, value):
    path = write(tmp_path, f"follower:\n  ros__parameters:\n    x: {text}\n")
    parsed = read_param_file(path).parameters_for("/follower")["x"]
    assert parsed == value and type(parsed) is type(value)


def test_lists_become_tuples(tmp_path):
    path = write(tmp_path, "teleop:\n  ros__parameters:\n    joint_scale: [1.0, 2.0]\n")
    assert read_param_file(path).parameters_for("/teleop") == {"joint_scale": (1.0, 2.0)}


@pytest.mark.parametrize(
    "text,message",
    [
        ("follower: [1, 2]\n", r"/follower must hold `ros__parameters:`"),
        ("- a\n- b\n", r"expected `<node name>: \{ros__parameters: ...\}` entries"),
        ("follower:\n  ros__parameters: [1]\n", r"/follower: ros__parameters must be a mapping"),
        ("follower:\n  ros__parameters: {}\n  rate_hz: 1.0\n", r"unexpected key\(s\) rate_hz beside ros__parameters"),
        ("follower: {ros__parameters: {a: 1}\n", r"not valid YAML"),
    ],
)
def test_malformed_files_are_refused_naming_the_file(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ParamFileError, match=rf"parameter file {path}: .*{message}"):
        read_param_file(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ParamFileError, match=r"missing.yaml: cannot be read"):
        read_param_file(tmp_path / "missing.yaml")
