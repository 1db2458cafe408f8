"""Why a node cannot start: the errors its console script reports as one line (lifecycle.run_node)."""


class NodeStartError(Exception):
    """A node cannot start; the message names the node and says why."""


class ConfigError(NodeStartError, ValueError):
    """A node's parameters do not make a valid configuration; the message names the node and field."""
