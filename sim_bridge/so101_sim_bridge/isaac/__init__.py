"""Isaac Sim side of the twin, as data importable without Isaac Sim: the action graph (action_graph.py),
the cameras (cameras.py), LeIsaac's SO-101 physics (physics.py), finding the articulation root and fixing
the base (articulation.py), pacing to wall time (pacing.py), and the ROS 2 bridge's environment
(bridge_environment.py).

The standalone script that applies them inside Isaac Sim is sim_bridge/scripts/isaac_sim_twin.py. These
modules use the standard library and so101_calibration's interface contract only. Isaac Sim's Python has
no numpy or PyYAML on its path before the app starts (PyYAML ships inside an extension's pip_prebundle,
added once the extension loads), and so101_calibration's package __init__ needs both, so the script loads
the contract module by itself, from the source tree, and this package straight after it.
"""
