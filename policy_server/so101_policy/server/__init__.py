"""The policy server: PolicyServer (policy_server.py) serving a backend over the wire, its command
line (cli.py, `so101-policy-server`), the backends (replay, synthetic, gr00t) and the recorded-episode reader
the replay backend serves from (datasets.py). Runs on a GPU machine without ROS.
"""
