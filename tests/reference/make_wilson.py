"""Reference Wilson score intervals from statsmodels for src/stats/wilson.rs.

Rerun from the crate root (the directory holding Cargo.toml):

    python3 -m venv /tmp/venv-ref
    /tmp/venv-ref/bin/pip install statsmodels
    /tmp/venv-ref/bin/python tests/reference/make_wilson.py

It overwrites tests/reference/wilson_statsmodels.csv with one row per (k, n, level):
statsmodels.stats.proportion.proportion_confint(k, n, alpha=1 - level, method="wilson"),
floats written with repr() so that every digit round-trips.
"""

import csv
import sys
from pathlib import Path

import scipy
import statsmodels
from statsmodels.stats.proportion import proportion_confint

OUT = Path(__file__).resolve().parent / "wilson_statsmodels.csv"
LEVELS = [0.90, 0.95, 0.99]
SIZES = [1, 2, 3, 5, 10, 37, 100, 999, 1000, 12345, 1_000_000, 123_456_789]


def counts_for(n):
    """Edge counts (0, 1, n - 1, n) plus a few interior ones."""
    ks = {0, 1, n - 1, n, n // 2, n // 3, (9 * n) // 10, n // 100}
    return sorted(k for k in ks if 0 <= k <= n)


def main():
    rows = []
    for level in LEVELS:
        for n in SIZES:
            for k in counts_for(n):
                low, high = proportion_confint(k, n, alpha=1 - level, method="wilson")
                rows.append((k, n, level, float(low), float(high)))
    with OUT.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["k", "n", "level", "low", "high"])
        for k, n, level, low, high in rows:
            w.writerow([k, n, repr(level), repr(low), repr(high)])
    print(
        f"wrote {len(rows)} rows to {OUT} "
        f"(python {sys.version.split()[0]}, statsmodels {statsmodels.__version__}, scipy {scipy.__version__})"
    )


if __name__ == "__main__":
    main()
