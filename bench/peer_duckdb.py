"""The peer: DuckDB computing the same tables as the default suite's core reports from the
same file, the way an analyst's hand-written script would: load once, then one query per
table. Kaplan-Meier medians via window functions.

Usage: python peer_duckdb.py INPUT AS_OF OUT_DIR   (INPUT: .csv or .parquet)

The last stderr line splits the time: `load_s=<x> queries_s=<y>` (the CREATE TABLE, then the
queries over the table in memory).
"""
import sys
import time
from pathlib import Path

import duckdb

source, as_of, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
started = time.perf_counter()
con = duckdb.connect()
reader = f"read_parquet('{source}')" if source.endswith(".parquet") else f"read_csv('{source}', header=true)"
con.execute(f"""
CREATE TABLE cases AS
WITH raw AS (SELECT * FROM {reader}),
cut AS (
  SELECT * REPLACE (
      CASE WHEN closed_on > DATE '{as_of}' THEN NULL ELSE closed_on END AS closed_on,
      CASE WHEN closed_on > DATE '{as_of}' THEN 'open' ELSE outcome END AS outcome)
  FROM raw WHERE opened_on <= DATE '{as_of}'
)
SELECT *, outcome <> 'open' AS resolved, outcome IN ('settled', 'paid_in_full') AS settled,
  CASE WHEN outcome = 'open' THEN DATE '{as_of}' - opened_on ELSE closed_on - opened_on END AS duration_days,
  strftime(opened_on, '%Y-%m') AS opened_month,
  CASE WHEN debt_age_days < 90 THEN 'under_90' WHEN debt_age_days < 180 THEN '90_to_180'
       WHEN debt_age_days < 365 THEN '180_to_365' WHEN debt_age_days IS NOT NULL THEN 'over_365' END AS age_bucket,
  CASE WHEN amount_claimed < 10000 THEN 'under_10k' WHEN amount_claimed < 50000 THEN '10k_to_50k'
       WHEN amount_claimed < 200000 THEN '50k_to_200k' WHEN amount_claimed < 1000000 THEN '200k_to_1m'
       WHEN amount_claimed IS NOT NULL THEN 'over_1m' END AS amount_tier
FROM cut
""")

loaded = time.perf_counter()
DIMENSIONS = {"overview": None, "by_region": "region", "by_debt_type": "debt_type",
              "by_channel": "channel", "by_stage": "stage", "by_debt_age": "age_bucket",
              "by_amount_tier": "amount_tier", "by_month": "opened_month"}

for name, dim in DIMENSIONS.items():
    select = f"{dim}, " if dim else ""
    group = f"WHERE {dim} IS NOT NULL GROUP BY {dim} ORDER BY {dim}" if dim else ""
    con.execute(f"""
    COPY (
      WITH g AS (
        SELECT {select} count(*) AS cases, count(*) FILTER (WHERE resolved) AS resolved,
          count(*) FILTER (WHERE settled) AS settled,
          sum(amount_claimed) AS amount_claimed, sum(amount_recovered) AS amount_recovered,
          count(*) FILTER (WHERE amount_claimed IS NOT NULL AND amount_recovered IS NOT NULL) AS n,
          sum(amount_recovered::DOUBLE * amount_recovered) AS syy,
          sum(amount_recovered::DOUBLE * amount_claimed) AS sxy,
          sum(amount_claimed::DOUBLE * amount_claimed) AS sxx
        FROM cases {group}
      ), r AS (
        SELECT *, amount_recovered / nullif(amount_claimed, 0) AS recovery_rate,
          -- delta-method standard error of a ratio of sums
          sqrt(n / (n - 1) * greatest(syy - 2 * (amount_recovered / amount_claimed) * sxy
            + (amount_recovered / amount_claimed)^2 * sxx, 0)) / amount_claimed AS recovery_se
        FROM g
      )
      SELECT * EXCLUDE (n, syy, sxy, sxx, recovery_rate, recovery_se),
        settled / nullif(resolved, 0) AS settlement_rate,
        -- Wilson score interval, 95%
        (settled / resolved + 1.959963984540054^2 / (2 * resolved)
          - 1.959963984540054 * sqrt(settled / resolved * (1 - settled / resolved) / resolved
          + 1.959963984540054^2 / (4 * resolved^2))) / (1 + 1.959963984540054^2 / resolved) AS settlement_rate_low,
        (settled / resolved + 1.959963984540054^2 / (2 * resolved)
          + 1.959963984540054 * sqrt(settled / resolved * (1 - settled / resolved) / resolved
          + 1.959963984540054^2 / (4 * resolved^2))) / (1 + 1.959963984540054^2 / resolved) AS settlement_rate_high,
        recovery_rate,
        recovery_rate - 1.959963984540054 * recovery_se AS recovery_rate_low,
        recovery_rate + 1.959963984540054 * recovery_se AS recovery_rate_high
      FROM r
    ) TO '{out / (name + ".csv")}' (HEADER)
    """)

# Kaplan-Meier median by group with window functions: S(t) = prod(1 - d_i / n_i).
for name, dim in [("resolution_time", None), ("resolution_time_by_region", "region"),
                  ("resolution_time_by_channel", "channel"), ("resolution_time_by_stage", "stage")]:
    key = dim or "'all'"
    con.execute(f"""
    COPY (
      WITH per_time AS (
        SELECT {key} AS grp, duration_days AS t, count(*) FILTER (WHERE resolved) AS d, count(*) AS removed
        FROM cases {"WHERE " + dim + " IS NOT NULL" if dim else ""} GROUP BY 1, 2
      ), risk AS (
        SELECT *, sum(removed) OVER (PARTITION BY grp ORDER BY t DESC) AS at_risk FROM per_time
      ), curve AS (
        SELECT grp, t, exp(sum(ln(1 - d / at_risk)) OVER (PARTITION BY grp ORDER BY t)) AS s
        FROM risk WHERE d < at_risk
      )
      SELECT grp, min(t) FILTER (WHERE s <= 0.5 + 1e-12) AS median_days FROM curve GROUP BY grp ORDER BY grp
    ) TO '{out / (name + ".csv")}' (HEADER)
    """)

print(f"load_s={loaded - started:.3f} queries_s={time.perf_counter() - loaded:.3f}", file=sys.stderr)
