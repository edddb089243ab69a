"""Reference Kaplan-Meier quantiles and their confidence intervals from lifelines for
src/stats/km.rs.

Rerun from the crate root (the directory holding Cargo.toml); the shared data sits at
../shared relative to it:

    python3 -m venv /tmp/venv-lifelines
    /tmp/venv-lifelines/bin/pip install lifelines "pandas<3"
    /tmp/venv-lifelines/bin/python tests/reference/make_km_quantiles.py

It overwrites tests/reference/km_quantiles_lifelines.csv. For every data set and group of
../shared/data/survival/km_reference (rossi: ALL, fin=0, fin=1 from week/arrest/fin; waltons:
ALL, group=... from T/E/group) and for q in 0.25, 0.5, 0.75 it fits KaplanMeierFitter() with
default settings and writes

    q               fraction of cases with the event by that time (0.5 = median)
    survival_level  1 - q, the survival value lifelines searches for
    time            qth_survival_times(1 - q, kmf.survival_function_)
    ci_lower        qth_survival_times(1 - q, kmf.confidence_interval_) on the lower band
    ci_upper        the same on the upper band

(for q = 0.5 these are kmf.median_survival_time_ and
median_survival_times(kmf.confidence_interval_), which the script asserts). lifelines'
percentile(p) is indexed by survival level, so q = 0.25 here is kmf.percentile(0.75).
`inf` means the curve never reaches the level ("not reached").
"""

import csv
import sys
from pathlib import Path

import lifelines
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times, qth_survival_times

HERE = Path(__file__).resolve().parent
SURVIVAL = HERE.parents[1] / ".." / "shared" / "data" / "survival"
OUT = HERE / "km_quantiles_lifelines.csv"
QS = [0.25, 0.5, 0.75]


def groups():
    """Yields (dataset, group, durations, events) exactly as km_reference groups them."""
    rossi = pd.read_csv(SURVIVAL / "rossi.csv")
    yield "rossi", "ALL", rossi["week"], rossi["arrest"]
    for fin in sorted(rossi["fin"].unique()):
        sub = rossi[rossi["fin"] == fin]
        yield "rossi", f"fin={fin}", sub["week"], sub["arrest"]
    waltons = pd.read_csv(SURVIVAL / "waltons_dataset.csv")
    yield "waltons", "ALL", waltons["T"], waltons["E"]
    for g in sorted(waltons["group"].unique()):
        sub = waltons[waltons["group"] == g]
        yield "waltons", f"group={g}", sub["T"], sub["E"]


def fmt(x):
    return "inf" if x == float("inf") else repr(float(x))


def main():
    rows = []
    for dataset, group, durations, events in groups():
        kmf = KaplanMeierFitter().fit(durations, events)
        lower_col, upper_col = kmf.confidence_interval_.columns
        for q in QS:
            level = 1 - q
            time = qth_survival_times(level, kmf.survival_function_)
            band = qth_survival_times(level, kmf.confidence_interval_)
            low, high = band[lower_col].iloc[0], band[upper_col].iloc[0]
            if q == 0.5:
                median_band = median_survival_times(kmf.confidence_interval_)
                assert time == kmf.median_survival_time_
                assert (low, high) == (median_band[lower_col].iloc[0], median_band[upper_col].iloc[0])
            rows.append([dataset, group, repr(q), repr(level), fmt(time), fmt(low), fmt(high)])
    with OUT.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["dataset", "group", "q", "survival_level", "time", "ci_lower", "ci_upper"])
        w.writerows(rows)
    print(
        f"wrote {len(rows)} rows to {OUT} "
        f"(python {sys.version.split()[0]}, lifelines {lifelines.__version__}, pandas {pd.__version__})"
    )


if __name__ == "__main__":
    main()
