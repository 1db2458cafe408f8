"""`so101 demo`: the whole stack end to end, on emulated arms by default (run.py says how)."""
from so101_bringup.demo.config import DemoConfig
from so101_bringup.demo.monitor import ServiceCallError
from so101_bringup.demo.run import run_demo
from so101_bringup.demo.summary import DemoSummary
from so101_bringup.runner import GraphRunError, GraphStartError
from so101_policy.errors import PolicyError

DEMO_FAILURES = (ServiceCallError, TimeoutError, GraphStartError, GraphRunError, PolicyError)
"""What stops a demo with a message rather than a traceback: a node refusing or missing, a graph
that would not start, a policy server error."""

__all__ = ["DEMO_FAILURES", "DemoConfig", "DemoSummary", "run_demo"]
