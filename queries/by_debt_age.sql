-- title: Cases by debt age
-- title_zh: 按账龄统计
-- description: Settlement and recovery by the age of the debt when the case was opened: under 90 days, 90 to 180, 180 to 365, over 365.
-- description_zh: 按立案时的账龄统计和解率与回收率：90 天以内、90–180 天、180–365 天、365 天以上。
-- grain: one row per debt-age bucket
-- dimensions: age_bucket
-- counts: cases, resolved, settled
-- amounts: amount_claimed, amount_recovered
-- rates: settlement_rate = settled / resolved, recovery_rate = amount_recovered / amount_claimed
-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate; recovery_rate_low, recovery_rate_high <- recovery_rate
-- chart: bar settlement_rate by age_bucket
-- requires: debt_age_days
WITH grouped AS (
  SELECT age_bucket,
    count(*) AS cases,
    count(*) FILTER (WHERE resolved) AS resolved,
    count(*) FILTER (WHERE settled) AS settled,
    sum(amount_claimed) AS amount_claimed,
    sum(amount_recovered) AS amount_recovered,
    ratio_of_sums_low(amount_recovered, amount_claimed) AS recovery_low,
    ratio_of_sums_high(amount_recovered, amount_claimed) AS recovery_high
  FROM cases
  WHERE age_bucket IS NOT NULL
  GROUP BY age_bucket
)
SELECT age_bucket, cases, resolved, settled,
  ratio(settled, resolved) AS settlement_rate,
  wilson_low(settled, resolved) AS settlement_rate_low,
  wilson_high(settled, resolved) AS settlement_rate_high,
  amount_claimed, amount_recovered,
  ratio(amount_recovered, amount_claimed) AS recovery_rate,
  recovery_low AS recovery_rate_low,
  recovery_high AS recovery_rate_high
FROM grouped
ORDER BY CASE age_bucket WHEN 'under_90' THEN 1 WHEN '90_to_180' THEN 2 WHEN '180_to_365' THEN 3 WHEN 'over_365' THEN 4 END, age_bucket
