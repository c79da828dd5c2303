"""Benchmarks: ``python -m bench NAME [--quick]``. Each prints one JSON object on its last line,
compares against a baseline measured in the same run, and ``--record`` writes
``bench/results/NAME.json`` with the command that produced it."""
