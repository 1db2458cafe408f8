"""ROS 2 nodes of so101_sim_bridge: the twin bridge, the MuJoCo twin and the demo recorder.

Thin wrappers like so101_hardware's nodes (whose toolkit they use: parameters from a config
dataclass, QoS, diagnostics, run_node): each owns its topics, services, timers and threads and
hands everything else to the pure libraries one level up (bridge, twin, recorder).
"""
from so101_hardware.nodes.params import ConfigError


class NodeStartError(ConfigError):
    """A node cannot start for a reason beyond its parameters: a model asset, OpenGL, an output file.

    A ConfigError subclass so that so101_hardware's run_node prints it as one line and exits 1
    (its startup errors cannot list ours: so101_hardware does not depend on this package).
    """
