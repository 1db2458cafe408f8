"""so101-calibrate: run the LeRobot calibration procedure on a real or emulated arm.

The procedure lives in so101_calibration.wizard (against a bus protocol); this command wires it
to the real bus driver, which is why it lives here: so101_hardware depends on so101_calibration,
never the other way round (docs/architecture.md §3).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from so101_calibration import CalibrationError, locate_calibration
from so101_calibration.console import TerminalConsole
from so101_calibration.wizard import PROG, CalibrationWizard, add_arguments
from so101_calibration.wizard import __doc__ as WIZARD_DOC
from so101_hardware.arm import ArmRole, SO101Arm
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.tools import cli, probe


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.make_parser(PROG, WIZARD_DOC)
    probe.add_port_argument(parser)
    add_arguments(parser)

    def body(args: argparse.Namespace) -> int:
        role = ArmRole(args.role)
        try:
            location = locate_calibration(role, args.arm_id, args.calibration)
            arm = SO101Arm(FeetechBus(BusConfig(args.port)), role)
            arm.connect()
            try:
                console = TerminalConsole()
                console.say(f"Calibrating the {args.role} arm {args.arm_id!r} on {args.port}.")
                CalibrationWizard(arm.bus, console, location, uninterruptible=cli.interrupts_deferred).run()
            finally:
                arm.bus.close()
        except CalibrationError as exc:
            raise cli.ToolError(str(exc)) from None
        return cli.EXIT_OK

    return cli.run(parser, body, argv)


if __name__ == "__main__":
    sys.exit(main())
