"""so101_bringup: launch files, parameters, the in-process graph runner and the `so101` command."""
