"""Shared helpers for vigil's Python test suites and benchmarks.

One place for what every suite needs: free ports, clean environments, waiting, curl and raw HTTP,
process handling, vigil itself, HAProxy and wrk, podman. Suites import it normally
(`from vigiltest import ports`); pytest finds it through `pythonpath` in the repository's
pytest.ini, scripts/bench.sh through PYTHONPATH.
"""
