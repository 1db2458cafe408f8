"""Helpers shared by the test suites (importable because tests/ is on pytest's rootdir path)."""
