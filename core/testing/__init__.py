"""Test helpers shared by the core's and every plugin's tests (a pytest plugin)."""
