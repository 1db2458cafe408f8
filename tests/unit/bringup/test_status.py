"""`so101 status`: the table from diagnostics values, and the live command in a real terminal."""
import os
import sys
import threading

import pexpect
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rich.console import Console

from so101_bringup.status import StatusBoard, render, summarize
from so101_calibration.interface_contract import DIAGNOSTICS
from so101_hardware.ros.endpoints import publisher as make_publisher
from tests_support.ros import domain_for_this_process, ros_context

FOLLOWER = {
    "rate_hz": "99.8", "bus_read_p99_ms": "1.42", "timeouts": "3", "checksum_errors": "1",
    "safety_clamped_limit": "2", "safety_rejected_non_finite": "1", "shoulder_pan_temperature_c": "31",
    "gripper_temperature_c": "44",
}


def test_summary_picks_the_figures_that_matter():
    assert summarize(FOLLOWER) == {"rate": "100 Hz", "p99": "1.4 ms", "errors": "4", "safety": "3", "temp": "44 °C"}
    assert summarize({}) == {"rate": "", "p99": "", "errors": "", "safety": "", "temp": ""}


def test_table_marks_levels_and_silent_nodes():
    board = StatusBoard()
    board.update("follower", 1, "bus or servo errors (see values)", FOLLOWER, now=100.0)
    board.update("leader", 0, "ok", {"rate_hz": "100.0"}, now=90.0)
    console = Console(width=160, record=True)
    console.print(render(board, now=101.0))
    text = console.export_text()
    assert "WARN" in text and "44 °C" in text and "bus or servo errors" in text
    assert "STALE" in text and "silent for 11 s" in text  # leader last heard 11 s ago


@pytest.mark.timeout(60)
def test_status_command_in_a_terminal_shows_a_publishing_node():
    domain = domain_for_this_process(offset=61)
    child = pexpect.spawn(
        sys.executable, ["-m", "so101_bringup.cli", "status", "--domain-id", str(domain), "--duration", "30"],
        dimensions=(30, 200), encoding="utf-8", timeout=20, env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"},
    )
    name, message = f"follower_{os.getpid()}", f"e-stop engaged {os.getpid()}"  # unique: a shared domain can't fool it
    try:
        child.expect("so101 status")  # the table is up
        with ros_context(domain) as context:
            import rclpy

            node = rclpy.create_node("fake_follower", context=context)
            publisher = make_publisher(node, DIAGNOSTICS)
            status = DiagnosticStatus(level=DiagnosticStatus.WARN, name=name, message=message,
                                      values=[KeyValue(key=k, value=v) for k, v in FOLLOWER.items()])
            stop = threading.Event()

            def publish():
                while not stop.wait(0.2):  # a node reports periodically; the screen is the sync
                    publisher.publish(DiagnosticArray(status=[status]))

            thread = threading.Thread(target=publish, daemon=True)
            thread.start()
            try:
                child.expect(name + r".*100 Hz.*" + message)
            finally:
                stop.set()
                thread.join()
                node.destroy_node()
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
