"""Measurements worth showing at the end of a test run (the e2e conftest prints them, without -s)."""

SUMMARY = []


def report(line):
    SUMMARY.append(line)
    print(line, flush=True)
