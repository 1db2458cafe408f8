"""Isaac Sim standalone twin: load an SO-101 USD, apply LeIsaac's physics, create its cameras, build the twin's graph.

Run it with Isaac Sim's Python (4.5, 5.0 or 5.1; 4.2 with --isaac-version 4.2), e.g. for LeIsaac's USD::

    export ROS_DISTRO=jazzy RMW_IMPLEMENTATION=rmw_fastrtps_cpp   # + the bridge's lib folder: README
    ROS_DOMAIN_ID=0 ~/isaacsim/python.sh sim_bridge/scripts/isaac_sim_twin.py \\
        --usd ~/leisaac/assets/robots/so101_follower.usd --robot-prim /World/so101

What it does, in order (not run here: no GPU, no Isaac Sim; README "Isaac Sim twin, step by step"):
1. checks the ROS 2 environment, starts Isaac Sim, enables the ROS 2 bridge and stops with the fix if the
   bridge turned itself off (so101_sim_bridge.isaac.bridge_environment);
2. loads the USD at --robot-prim, finds its articulation root, and applies LeIsaac's SO-101 physics:
   joint drives, solver iterations, self-collisions, the base fixed to the world, a ground plane
   (so101_sim_bridge.isaac.physics, .articulation);
3. creates LeIsaac's wrist and front cameras on the arm's links, or uses camera prims that exist
   (--camera NAME=PRIM), with --camera-set overrides (so101_sim_bridge.isaac.cameras);
4. builds the action graph (so101_sim_bridge.isaac.action_graph): /isaac_joint_command (depth 1) into
   the articulation controller, /isaac_joint_states from the articulation root, /sim/cameras/<name>/image_raw;
5. plays, stepping the simulation paced to wall time (so101_sim_bridge.isaac.pacing).

Only this file imports isaacsim, omni and pxr, and only inside main(), after SimulationApp exists (Isaac
requires that order). Its data comes from the source tree (sim_bridge/, and calibration/'s interface
contract loaded on its own: see so101_sim_bridge/isaac/__init__.py), so nothing need be installed into
Isaac Sim's Python.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import time
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[2]
_CONTRACT = "so101_calibration.interface_contract"


def _load_interface_contract() -> None:
    """The contract module alone, without so101_calibration's package __init__ (numpy, PyYAML)."""
    spec = importlib.util.spec_from_file_location(
        _CONTRACT, _REPOSITORY / "calibration" / "so101_calibration" / "interface_contract.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[_CONTRACT] = module
    spec.loader.exec_module(module)


if _CONTRACT not in sys.modules:
    _load_interface_contract()
sys.path.insert(0, str(_REPOSITORY / "sim_bridge"))

from so101_sim_bridge.isaac.action_graph import (  # noqa: E402
    NODE_TYPES,
    PYTHON_MODULES,
    IsaacTwinConfig,
    build_twin_graph,
    validate_graph,
)
from so101_sim_bridge.isaac.articulation import (  # noqa: E402
    ArticulationError,
    FixedBasePlan,
    PrimInfo,
    articulation_root,
    fixed_base_plan,
)
from so101_sim_bridge.isaac.bridge_environment import bridge_failure_message, environment_problems  # noqa: E402
from so101_sim_bridge.isaac.cameras import LEISAAC_CAMERAS, IsaacCameraConfig, with_override  # noqa: E402
from so101_sim_bridge.isaac.pacing import WallClockPacer  # noqa: E402
from so101_sim_bridge.isaac.physics import LEISAAC_SO101, TwinPhysics  # noqa: E402

GROUND_PRIM = "/World/GroundPlane"
STATUS_EVERY_S = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usd", required=True, type=Path,
                        help="the SO-101 USD asset (e.g. LeIsaac's so101_follower.usd)")
    parser.add_argument("--robot-prim", default="/World/so101", help="where to load the asset")
    parser.add_argument("--camera", action="append", default=[], metavar="NAME=PRIM",
                        help="publish an existing camera prim as /sim/cameras/NAME/image_raw (replaces the created "
                             "camera of that name; repeatable)")
    parser.add_argument("--camera-set", action="append", default=[], metavar="NAME.FIELD=VALUE",
                        help="override a camera's setting, e.g. wrist.position=0,0.1,-0.05 or front.focal_length=30 "
                             "(fields of so101_sim_bridge.isaac.cameras.IsaacCameraConfig; repeatable)")
    parser.add_argument("--no-leisaac-cameras", action="store_true",
                        help="create no cameras: only the --camera prims are published")
    parser.add_argument("--stage-extra", type=Path, help="an extra USD (table, objects, cameras) added at /World/scene")
    parser.add_argument("--no-ground", action="store_true", help="add no ground plane (the --stage-extra has a floor)")
    parser.add_argument("--keep-asset-physics", action="store_true",
                        help="leave the asset's drives, solver and base as they are (no LeIsaac physics)")
    parser.add_argument("--isaac-version", choices=sorted(NODE_TYPES), default="5.1")
    parser.add_argument("--physics-hz", type=float, default=120.0)
    parser.add_argument("--render-hz", type=float, default=30.0,
                        help="simulation steps (and camera frames) per second of wall time")
    parser.add_argument("--headless", action="store_true")
    return parser.parse_args(argv)


def camera_configs(args: argparse.Namespace) -> tuple[IsaacCameraConfig, ...]:
    """LeIsaac's cameras (unless --no-leisaac-cameras), existing prims by --camera, then --camera-set overrides."""
    cameras = {} if args.no_leisaac_cameras else {camera.name: camera for camera in LEISAAC_CAMERAS}
    try:
        for spec in args.camera:
            name, separator, prim = spec.partition("=")
            if not separator:
                raise ValueError(f"--camera needs NAME=/prim/path, got {spec!r}")
            width, height = (cameras[name].width, cameras[name].height) if name in cameras else (640, 480)
            cameras[name] = IsaacCameraConfig(name, prim, width=width, height=height)
        for spec in args.camera_set:
            name, dot, setting = spec.partition(".")
            if not dot or name not in cameras:
                raise ValueError(f"--camera-set {spec!r}: expected NAME.FIELD=VALUE with NAME one of {sorted(cameras)}")
            cameras[name] = with_override(cameras[name], setting)
    except ValueError as exc:
        raise SystemExit(f"isaac_sim_twin: {exc}") from None
    return tuple(cameras.values())


def twin_config(args: argparse.Namespace, articulation_root: str | None = None) -> IsaacTwinConfig:
    return IsaacTwinConfig(robot_prim=args.robot_prim, articulation_root=articulation_root,
                           cameras=camera_configs(args))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.usd.is_file():
        raise SystemExit(f"{args.usd}: no such USD file")
    validate_graph(build_twin_graph(twin_config(args)), args.isaac_version)  # bad options fail before Isaac starts
    modules = PYTHON_MODULES[args.isaac_version]
    for problem in environment_problems(os.environ, args.isaac_version, modules["bridge_extension"]):
        print(f"isaac_sim_twin: warning: {problem} (the ROS 2 bridge may not start; README)", flush=True)

    from isaacsim import SimulationApp  # Isaac Sim: must be created before any other isaacsim/omni import

    app = SimulationApp({"headless": args.headless})
    try:
        _run(app, args, modules)
    finally:
        app.close()


def _run(app, args: argparse.Namespace, modules) -> None:
    extensions = importlib.import_module(modules["extensions"])
    enabled = extensions.enable_extension(modules["bridge_extension"])
    app.update()  # the bridge starts (or turns itself off) and registers its node types
    import omni.kit.app

    if not enabled or not omni.kit.app.get_app().get_extension_manager().is_extension_enabled(
        modules["bridge_extension"]
    ):
        raise SystemExit(bridge_failure_message(os.environ, args.isaac_version, modules["bridge_extension"]))

    import omni.usd

    stage_utils = importlib.import_module(modules["stage"])
    stage_utils.add_reference_to_stage(usd_path=str(args.usd.resolve()), prim_path=args.robot_prim)
    if args.stage_extra:
        stage_utils.add_reference_to_stage(usd_path=str(args.stage_extra.resolve()), prim_path="/World/scene")
    stage = omni.usd.get_context().get_stage()
    physics = TwinPhysics(LEISAAC_SO101.drive, LEISAAC_SO101.articulation, ground_plane=not args.no_ground)
    prims = _describe(stage, args.robot_prim)
    try:
        if args.keep_asset_physics:
            plan = FixedBasePlan(None, None, None, articulation_root(prims, args.robot_prim))
        else:
            plan = fixed_base_plan(prims, args.robot_prim)
            _apply_physics(stage, args.robot_prim, plan, physics)
    except ArticulationError as exc:
        raise SystemExit(f"isaac_sim_twin: {exc}") from None
    if physics.ground_plane:
        from omni.physx.scripts import physicsUtils
        from pxr import Gf

        physicsUtils.add_ground_plane(stage, GROUND_PRIM, "Z", 10.0, Gf.Vec3f(0.0, 0.0, 0.0), Gf.Vec3f(0.5))
    config = twin_config(args, plan.articulation_root)
    for camera in config.cameras:
        _camera(stage, camera, args.robot_prim)
    graph = build_twin_graph(config)
    validate_graph(graph, args.isaac_version)
    _build_graph(graph, args.isaac_version, modules)
    print(f"isaac_sim_twin: articulation root {plan.articulation_root}; cameras "
          + ", ".join(f"{c.name}={c.prim_path(args.robot_prim)}" for c in config.cameras), flush=True)

    simulation = importlib.import_module(modules["simulation"]).SimulationContext(
        physics_dt=1.0 / args.physics_hz, rendering_dt=1.0 / args.render_hz, stage_units_in_meters=1.0
    )
    simulation.initialize_physics()
    simulation.play()  # ROS publishers and subscribers in the graph only run while playing
    pacer = WallClockPacer(1.0 / args.render_hz)
    next_status = time.monotonic() + STATUS_EVERY_S
    try:
        while app.is_running():
            simulation.step(render=True)
            pacer.wait()
            if time.monotonic() >= next_status:
                next_status += STATUS_EVERY_S
                print(f"isaac_sim_twin: real-time factor {pacer.real_time_factor():.2f}, "
                      f"{pacer.late_steps} late steps (GPU behind)", flush=True)
    finally:
        simulation.stop()


def _describe(stage, robot_prim: str) -> list[PrimInfo]:
    """The robot's subtree as PrimInfo records (so101_sim_bridge.isaac.articulation decides on them)."""
    from pxr import Usd, UsdPhysics

    root = stage.GetPrimAtPath(robot_prim)
    if not root.IsValid():
        raise SystemExit(f"isaac_sim_twin: nothing at {robot_prim} after loading the USD")
    prims = []
    for prim in Usd.PrimRange(root):
        body0 = body1 = None
        if prim.IsA(UsdPhysics.Joint):
            joint = UsdPhysics.Joint(prim)
            body0 = next((str(t) for t in joint.GetBody0Rel().GetTargets()), None)
            body1 = next((str(t) for t in joint.GetBody1Rel().GetTargets()), None)
        prims.append(PrimInfo(str(prim.GetPath()), prim.GetTypeName(), tuple(prim.GetAppliedSchemas()), body0, body1))
    return prims


def _apply_physics(stage, robot_prim: str, plan: FixedBasePlan, physics: TwinPhysics) -> None:
    """LeIsaac's drives on every revolute joint, the solver on the articulation root, the base fixed."""
    from pxr import PhysxSchema, Usd, UsdPhysics

    for prim in Usd.PrimRange(stage.GetPrimAtPath(robot_prim)):
        if prim.IsA(UsdPhysics.RevoluteJoint):
            UsdPhysics.DriveAPI.Apply(prim, "angular")
            PhysxSchema.PhysxJointAPI.Apply(prim)
            for name, value in physics.drive.usd_attributes().items():
                prim.GetAttribute(name).Set(value)
    if physics.articulation.fix_root_link:
        if plan.enable_joint:
            stage.GetPrimAtPath(plan.enable_joint).GetAttribute("physics:jointEnabled").Set(True)
        else:
            joint = UsdPhysics.FixedJoint.Define(stage, f"{robot_prim}/so101_fixed_base")
            joint.CreateBody1Rel().SetTargets([plan.fix_link])
        if plan.move_root_to:
            old = stage.GetPrimAtPath(plan.fix_link)
            old.RemoveAPI(UsdPhysics.ArticulationRootAPI)
            old.RemoveAPI(PhysxSchema.PhysxArticulationAPI)
            UsdPhysics.ArticulationRootAPI.Apply(stage.GetPrimAtPath(plan.move_root_to))
    root = stage.GetPrimAtPath(plan.articulation_root)
    PhysxSchema.PhysxArticulationAPI.Apply(root)
    for name, value in physics.articulation.usd_attributes().items():
        root.GetAttribute(name).Set(value)


def _camera(stage, camera: IsaacCameraConfig, robot_prim: str) -> None:
    """Create a camera prim from its data, or check that an existing one is a camera."""
    from pxr import Gf, UsdGeom

    path = camera.prim_path(robot_prim)
    prim = stage.GetPrimAtPath(path)
    if not camera.created:
        if not prim.IsValid() or not prim.IsA(UsdGeom.Camera):
            found = [str(p.GetPath()) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)]
            raise SystemExit(f"isaac_sim_twin: --camera {camera.name}={path}: no camera prim there "
                             f"(cameras in the stage: {found or 'none'})")
        return
    if not stage.GetPrimAtPath(path.rsplit("/", 1)[0]).IsValid():
        raise SystemExit(f"isaac_sim_twin: camera {camera.name}: no link {camera.parent} under {robot_prim} "
                         "(LeIsaac's USD has base and gripper; set --camera-set NAME.parent=LINK or use --camera)")
    if prim.IsValid():
        raise SystemExit(f"isaac_sim_twin: camera {camera.name}: a prim exists at {path} already; publish it "
                         f"with --camera {camera.name}={path}")
    usd_camera = UsdGeom.Camera.Define(stage, path)
    xform = UsdGeom.Xformable(usd_camera)
    xform.AddTranslateOp().Set(Gf.Vec3d(*camera.position))
    w, x, y, z = camera.usd_orientation
    xform.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Quatd(w, Gf.Vec3d(x, y, z)))
    for name, value in camera.usd_attributes.items():
        usd_camera.GetPrim().GetAttribute(name).Set(Gf.Vec2f(*value) if isinstance(value, tuple) else value)


def _build_graph(graph, isaac_version: str, modules) -> None:
    import omni.graph.core as og

    keys = og.Controller.Keys
    og.Controller.edit(
        {"graph_path": graph.path, "evaluator_name": "execution"},
        {
            keys.CREATE_NODES: list(graph.node_types(isaac_version)),
            keys.CONNECT: list(graph.connections),
            keys.SET_VALUES: list(graph.values),
        },
    )
    set_target_prims = importlib.import_module(modules["target_prims"]).set_target_prims
    for reference, prims in graph.targets:
        node, _, attribute = reference.partition(".")
        set_target_prims(primPath=f"{graph.path}/{node}", inputName=attribute, targetPrimPaths=list(prims))


if __name__ == "__main__":
    main()
