"""Operator command-line tools for SO-101 arms (console scripts registered in setup.py).

  so101-find-port     which serial port is the arm (unplug/replug)
  so101-scan          which servos answer on a bus, with model, voltage, temperature, status
  so101-setup-motors  give each motor its joint's id and the bus baud rate, one at a time
  so101-udev-rules    udev rules for stable /dev/so101_leader, /dev/so101_follower, camera names

Each tool's `main(argv)` returns an exit code; `cli.run` turns bus and operator errors into one
message on stderr, so the people at the robot never see a traceback.
"""
