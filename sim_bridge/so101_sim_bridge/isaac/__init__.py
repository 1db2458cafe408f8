"""Isaac Sim side of the twin: the action graph as data (action_graph.py, importable without Isaac Sim).

The standalone script that builds it inside Isaac Sim is sim_bridge/scripts/isaac_sim_twin.py.
Nothing here imports isaacsim or our packages other than so101_calibration's interface contract
(for the topics and QoS): Isaac Sim's own Python runs action_graph.py straight from the source
tree, with calibration/ on its path (so101_calibration needs numpy and PyYAML, both in Isaac
Sim's Python).
"""
