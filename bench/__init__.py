"""tether's benchmarks: each scenario measured side by side with a baseline in the same run.

``python -m bench`` (``make bench``) starts its own control plane, runs every scenario, prints a
table and writes ``bench/results/latest.json``. ``BENCH_QUICK=1`` runs each at a tenth of its size.
"""
