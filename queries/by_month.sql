-- title: Cases by opening month
-- title_zh: 按立案月份统计
-- description: Settlement and recovery of the cases opened in each month (a cohort view: recent months have more open cases).
-- description_zh: 按立案月份统计各批案件的和解率与回收率（批次视角：越近的月份未结案案件越多）。
-- grain: one row per month in which cases were opened
-- dimensions: opened_month
-- counts: cases, resolved, settled
-- amounts: amount_claimed, amount_recovered
-- rates: settlement_rate = settled / resolved, recovery_rate = amount_recovered / amount_claimed
-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate; recovery_rate_low, recovery_rate_high <- recovery_rate
-- chart: line settlement_rate by opened_month
WITH grouped AS (
  SELECT opened_month,
    count(*) AS cases,
    count(*) FILTER (WHERE resolved) AS resolved,
    count(*) FILTER (WHERE settled) AS settled,
    sum(amount_claimed) AS amount_claimed,
    sum(amount_recovered) AS amount_recovered,
    ratio_of_sums_low(amount_recovered, amount_claimed) AS recovery_low,
    ratio_of_sums_high(amount_recovered, amount_claimed) AS recovery_high
  FROM cases
  WHERE opened_month IS NOT NULL
  GROUP BY opened_month
)
SELECT opened_month, cases, resolved, settled,
  ratio(settled, resolved) AS settlement_rate,
  wilson_low(settled, resolved) AS settlement_rate_low,
  wilson_high(settled, resolved) AS settlement_rate_high,
  amount_claimed, amount_recovered,
  ratio(amount_recovered, amount_claimed) AS recovery_rate,
  recovery_low AS recovery_rate_low,
  recovery_high AS recovery_rate_high
FROM grouped
ORDER BY opened_month
