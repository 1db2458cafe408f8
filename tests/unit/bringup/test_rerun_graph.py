"""rerun:=true adds the rerun node to the teleop, deploy and twin graphs, watching the graph's cameras."""
import pytest

from so101_bringup.arguments import DeployArgs, TeleopArgs, TwinArgs, parse_arguments
from so101_bringup.cli import build_parser
from so101_bringup.graph_checks import check_graph
from so101_bringup.launch_graphs import deploy_graph, rerun_graph, teleop_graph, twin_graph
from so101_bringup.run_cli import build_run_graph
from so101_calibration.interface_contract import CAMERA_IMAGE, SIM_CAMERA_IMAGE

REAL_CAMERAS = tuple(CAMERA_IMAGE.format(name=name) for name in ("wrist", "front"))
TWIN_CAMERAS = tuple(SIM_CAMERA_IMAGE.format(name=name) for name in ("wrist", "front"))


@pytest.mark.parametrize(
    "build,args,image_topics",
    [
        (teleop_graph, TeleopArgs, REAL_CAMERAS),
        (deploy_graph, DeployArgs, REAL_CAMERAS),
        (twin_graph, TwinArgs, TWIN_CAMERAS),  # the twin's cameras; the real ones are off by default
    ],
    ids=["teleop", "deploy", "twin"],
)
@pytest.mark.parametrize("emulate", [False, True], ids=["real", "emulated"])
def test_rerun_adds_the_rerun_node_last_watching_the_graph_cameras(build, args, image_topics, emulate, tmp_path):
    without = build(args(emulate=emulate, emulator_dir=str(tmp_path)))
    graph = build(args(emulate=emulate, emulator_dir=str(tmp_path), rerun=True, namespace="arm1"))
    assert [node.name for node in graph.nodes] == [node.name for node in without.nodes] + ["rerun"]
    rerun = graph.node("rerun")
    assert (rerun.package, rerun.executable, rerun.fqn) == ("so101_bringup", "rerun_node", "/arm1/rerun")
    assert dict(rerun.parameters) == {"image_topics": image_topics}
    check_graph(graph)


def test_twin_with_real_cameras_shows_both():
    graph = twin_graph(parse_arguments(TwinArgs, {"rerun": "true", "cameras": "true"}))
    assert graph.node("rerun").parameters["image_topics"] == REAL_CAMERAS + TWIN_CAMERAS


def test_without_cameras_the_node_keeps_its_default_topics():
    """An empty list cannot be given as a ROS parameter (no element type): nothing is set instead."""
    graph = teleop_graph(TeleopArgs(rerun=True, cameras=False))
    assert dict(graph.node("rerun").parameters) == {}


def test_so101_run_takes_the_rerun_options():
    graph = build_run_graph(build_parser().parse_args(
        ["run", "deploy", "--rerun", "--rerun-grpc-port", "19000", "--rerun-web-port", "19001", "--no-cameras"]
    ))
    assert dict(graph.node("rerun").parameters) == {"grpc_port": 19000, "web_port": 19001}


def test_rerun_graph_is_the_node_alone_for_other_graphs_to_add():
    (node,) = rerun_graph("arm2", [TWIN_CAMERAS[0]], web_port=9100).nodes
    assert node.fqn == "/arm2/rerun"
    assert dict(node.parameters) == {"image_topics": (TWIN_CAMERAS[0],), "web_port": 9100}
    assert dict(rerun_graph().node("rerun").parameters) == {}
