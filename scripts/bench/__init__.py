"""vigil's benchmarks (`./scripts/bench.sh`): one module per row of the table, on top of the
shared test helpers in Tests/support/vigiltest; __main__ parses the options and prints the table."""
