"""Performance goals, reported as ratios against a floor measured in the same run.

Run all with ``make bench`` (``python -m benchmarks``), one with
``python -m benchmarks webhook``. Each module in this package defines ``run()``.
"""
