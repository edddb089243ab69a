"""Computes the built-in report tables with DuckDB and statsmodels, independently of
dispute-stats, so the integration tests can compare every number.

Usage: python duckdb_suite.py INPUT.csv AS_OF OUT_DIR
Writes OUT_DIR/<report>.csv with the same columns as the release tables. Definitions follow
docs/metrics.md: cases opened after AS_OF are out, closures after AS_OF are undone.
"""
import sys
from pathlib import Path

import duckdb
import numpy as np
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson_2indep

source, as_of, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
con = duckdb.connect()
con.execute(f"""
CREATE TABLE raw AS SELECT * FROM read_csv('{source}', header=true, all_varchar=true);
CREATE TABLE cases AS
WITH typed AS (
  SELECT CAST(opened_on AS DATE) AS opened_on,
         TRY_CAST(closed_on AS DATE) AS closed_on,
         outcome, debt_type, region, channel, stage,
         CAST(amount_claimed AS DECIMAL(18,2)) AS amount_claimed,
         CAST(amount_recovered AS DECIMAL(18,2)) AS amount_recovered,
         CAST(debt_age_days AS INTEGER) AS debt_age_days,
         CAST(complaint AS BOOLEAN) AS complaint,
         CAST(complaint_upheld AS BOOLEAN) AS complaint_upheld
  FROM raw
), cut AS (
  SELECT * REPLACE (
           CASE WHEN closed_on > DATE '{as_of}' THEN NULL ELSE closed_on END AS closed_on,
           CASE WHEN closed_on > DATE '{as_of}' THEN 'open' ELSE outcome END AS outcome)
  FROM typed WHERE opened_on <= DATE '{as_of}'
)
SELECT *, outcome <> 'open' AS resolved,
       outcome IN ('settled', 'paid_in_full') AS settled,
       strftime(opened_on, '%Y-%m') AS opened_month,
       CASE WHEN debt_age_days < 90 THEN 'under_90' WHEN debt_age_days < 180 THEN '90_to_180'
            WHEN debt_age_days < 365 THEN '180_to_365' WHEN debt_age_days IS NOT NULL THEN 'over_365' END AS age_bucket,
       CASE WHEN amount_claimed < 10000 THEN 'under_10k' WHEN amount_claimed < 50000 THEN '10k_to_50k'
            WHEN amount_claimed < 200000 THEN '50k_to_200k' WHEN amount_claimed < 1000000 THEN '200k_to_1m'
            WHEN amount_claimed IS NOT NULL THEN 'over_1m' END AS amount_tier
FROM cut;
""")


def wilson(k, n):
    if n == 0:
        return (None, None)
    return proportion_confint(k, n, alpha=0.05, method="wilson")


def ratio_of_sums(pairs):
    """Delta-method interval of sum(y) / sum(x): the estimate of a weighted least squares fit
    of y on x through the origin with weights 1/x is sum(y) / sum(x), and its HC1 robust
    standard error is the ratio estimator's linearisation standard error (docs/metrics.md)."""
    pairs = [(float(y), float(x)) for y, x in pairs if y is not None and x is not None]
    if len(pairs) < 2:
        return (None, None)
    y = np.array([p[0] for p in pairs])
    x = np.array([p[1] for p in pairs])
    assert (x > 0).all(), "the peer needs positive claimed amounts"
    fit = sm.WLS(y, x, weights=1.0 / x).fit(cov_type="HC1")
    low, high = fit.conf_int(alpha=0.05)[0]
    return (float(low), float(high))


def poisson_ratio(k1, k2):
    """Score interval of k1 / k2 for two Poisson counts of equal exposure."""
    if k1 == 0 or k2 == 0:
        return (None, None)
    low, high = confint_poisson_2indep(k1, 1, k2, 1, method="score", compare="ratio")
    return (float(low), float(high))


def ratio(a, b):
    return None if b is None or b == 0 or a is None else float(a) / float(b)


def fmt(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def breakdown(name, dimension):
    group = f"{dimension}," if dimension else ""
    where = f"WHERE {dimension} IS NOT NULL" if dimension else ""
    rows = con.execute(f"""
        SELECT {group} count(*) AS cases, count(*) FILTER (WHERE resolved) AS resolved,
               count(*) FILTER (WHERE settled) AS settled,
               sum(amount_claimed) AS claimed, sum(amount_recovered) AS recovered
        FROM cases {where} {"GROUP BY " + dimension if dimension else ""}
    """).fetchall()
    header = ([dimension] if dimension else []) + [
        "cases", "resolved", "settled", "settlement_rate", "settlement_rate_low",
        "settlement_rate_high", "amount_claimed", "amount_recovered", "recovery_rate",
        "recovery_rate_low", "recovery_rate_high"]
    lines = [",".join(header)]
    for row in sorted(rows, key=lambda r: str(r[0])):
        dims, (cases, resolved, settled, claimed, recovered) = row[:-5], row[-5:]
        low, high = wilson(settled, resolved)
        match = f"WHERE {dimension} = ?" if dimension else ""
        pairs = con.execute(f"SELECT amount_recovered, amount_claimed FROM cases {match}",
                            list(dims)).fetchall()
        values = list(dims) + [cases, resolved, settled, ratio(settled, resolved), low, high,
                               claimed, recovered, ratio(recovered, claimed),
                               *ratio_of_sums(pairs)]
        lines.append(",".join(fmt(v) for v in values))
    (out / f"{name}.csv").write_text("\n".join(lines) + "\n")


breakdown("overview", None)
for name, dimension in [("by_region", "region"), ("by_debt_type", "debt_type"),
                        ("by_channel", "channel"), ("by_stage", "stage"),
                        ("by_debt_age", "age_bucket"), ("by_amount_tier", "amount_tier"),
                        ("by_month", "opened_month")]:
    breakdown(name, dimension)


# Flow without --period: the period is everything up to AS_OF.
opened, resolved_in_period = con.execute("SELECT count(*), count(*) FILTER (WHERE resolved) FROM cases").fetchone()
low, high = poisson_ratio(resolved_in_period, opened)
(out / "flow_and_stock.csv").write_text(
    "opened_in_period,resolved_in_period,clearance_rate,clearance_rate_low,clearance_rate_high\n"
    + ",".join(fmt(v) for v in [opened, resolved_in_period, ratio(resolved_in_period, opened), low, high])
    + "\n")
