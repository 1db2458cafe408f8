"""Isaac Sim standalone twin: load an SO-101 USD, enable the ROS 2 bridge, build the twin's action graph.

Run it with Isaac Sim's own Python (4.5, 5.0 or 5.1; 4.2 with --isaac-version 4.2), e.g.::

    ROS_DOMAIN_ID=0 ~/isaacsim/python.sh sim_bridge/scripts/isaac_sim_twin.py \\
        --usd ~/leisaac/assets/robots/so101_follower.usd --robot-prim /World/so101 \\
        --camera wrist=/World/so101/gripper/wrist_camera --camera front=/World/front_camera

The graph (so101_sim_bridge/isaac/action_graph.py) subscribes /isaac_joint_command into an articulation
controller and publishes /isaac_joint_states (reliable, depth 10) and one rgb image topic per
camera (/sim/cameras/<name>/image_raw). Our twin bridge node sends commands in the asset's joint
names and units (its sim mapping: `so101` names; `leisaac` units for LeIsaac's USD). Camera prims
must already exist in the stage (in the asset, or added by --stage-extra).

Only this file imports isaacsim, and only inside main(), after SimulationApp exists (Isaac
requires that order); the graph description and the interface contract it uses are imported from
the source tree (sim_bridge/ and calibration/), so no package need be installed into Isaac Sim's
Python.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(_REPOSITORY / "sim_bridge"), str(_REPOSITORY / "calibration")]

from so101_sim_bridge.isaac.action_graph import (  # noqa: E402
    NODE_TYPES,
    PYTHON_MODULES,
    IsaacCameraConfig,
    IsaacTwinConfig,
    build_twin_graph,
    validate_graph,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usd", required=True, type=Path, help="the SO-101 USD asset (e.g. LeIsaac's)")
    parser.add_argument("--robot-prim", default="/World/so101", help="where to place the asset; its articulation root")
    parser.add_argument("--camera", action="append", default=[], metavar="NAME=PRIM",
                        help="publish this camera prim as /sim/cameras/NAME/image_raw (repeatable)")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--stage-extra", type=Path, help="an extra USD (table, objects, cameras) added at /World/scene")
    parser.add_argument("--isaac-version", choices=sorted(NODE_TYPES), default="5.1")
    parser.add_argument("--physics-hz", type=float, default=120.0)
    parser.add_argument("--render-hz", type=float, default=30.0)
    parser.add_argument("--headless", action="store_true")
    return parser.parse_args(argv)


def twin_config(args: argparse.Namespace) -> IsaacTwinConfig:
    cameras = []
    for spec in args.camera:
        name, separator, prim = spec.partition("=")
        if not separator or not name or not prim.startswith("/"):
            raise SystemExit(f"--camera needs NAME=/prim/path, got {spec!r}")
        cameras.append(IsaacCameraConfig(name, prim, args.width, args.height))
    return IsaacTwinConfig(robot_prim=args.robot_prim, cameras=tuple(cameras))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.usd.is_file():
        raise SystemExit(f"{args.usd}: no such USD file")
    graph = build_twin_graph(twin_config(args))
    validate_graph(graph, args.isaac_version)
    modules = PYTHON_MODULES[args.isaac_version]

    from isaacsim import SimulationApp  # Isaac Sim: must be created before any other isaacsim/omni import

    app = SimulationApp({"headless": args.headless})
    importlib.import_module(modules["extensions"]).enable_extension(modules["bridge_extension"])
    app.update()  # registers the bridge's node types

    import omni.graph.core as og

    stage = importlib.import_module(modules["stage"])
    stage.add_reference_to_stage(usd_path=str(args.usd.resolve()), prim_path=args.robot_prim)
    if args.stage_extra:
        stage.add_reference_to_stage(usd_path=str(args.stage_extra.resolve()), prim_path="/World/scene")

    keys = og.Controller.Keys
    og.Controller.edit(
        {"graph_path": graph.path, "evaluator_name": "execution"},
        {
            keys.CREATE_NODES: list(graph.node_types(args.isaac_version)),
            keys.CONNECT: list(graph.connections),
            keys.SET_VALUES: list(graph.values),
        },
    )
    set_target_prims = importlib.import_module(modules["target_prims"]).set_target_prims
    for reference, prims in graph.targets:
        node, _, attribute = reference.partition(".")
        set_target_prims(primPath=f"{graph.path}/{node}", inputName=attribute, targetPrimPaths=list(prims))

    simulation = importlib.import_module(modules["simulation"]).SimulationContext(
        physics_dt=1.0 / args.physics_hz, rendering_dt=1.0 / args.render_hz, stage_units_in_meters=1.0
    )
    simulation.initialize_physics()
    simulation.play()  # ROS publishers and subscribers in the graph only run while playing
    try:
        while app.is_running():
            simulation.step(render=True)
    finally:
        simulation.stop()
        app.close()


if __name__ == "__main__":
    main()
