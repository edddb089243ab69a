-- title: Cases by amount tier
-- title_zh: 按委案金额区间统计
-- description: Settlement and recovery by the amount claimed: under 10k, 10k to 50k, 50k to 200k, 200k to 1m, over 1m.
-- description_zh: 按委案金额统计和解率与回收率：1 万元以下、1 万–5 万元、5 万–20 万元、20 万–100 万元、100 万元以上。
-- grain: one row per amount tier
-- dimensions: amount_tier
-- counts: cases, resolved, settled
-- amounts: amount_claimed, amount_recovered
-- rates: settlement_rate = settled / resolved, recovery_rate = amount_recovered / amount_claimed
-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate; recovery_rate_low, recovery_rate_high <- recovery_rate
-- chart: bar settlement_rate by amount_tier
-- requires: amount_claimed
WITH grouped AS (
  SELECT amount_tier,
    count(*) AS cases,
    count(*) FILTER (WHERE resolved) AS resolved,
    count(*) FILTER (WHERE settled) AS settled,
    sum(amount_claimed) AS amount_claimed,
    sum(amount_recovered) AS amount_recovered,
    ratio_of_sums_low(amount_recovered, amount_claimed) AS recovery_low,
    ratio_of_sums_high(amount_recovered, amount_claimed) AS recovery_high
  FROM cases
  WHERE amount_tier IS NOT NULL
  GROUP BY amount_tier
)
SELECT amount_tier, cases, resolved, settled,
  ratio(settled, resolved) AS settlement_rate,
  wilson_low(settled, resolved) AS settlement_rate_low,
  wilson_high(settled, resolved) AS settlement_rate_high,
  amount_claimed, amount_recovered,
  ratio(amount_recovered, amount_claimed) AS recovery_rate,
  recovery_low AS recovery_rate_low,
  recovery_high AS recovery_rate_high
FROM grouped
ORDER BY CASE amount_tier WHEN 'under_10k' THEN 1 WHEN '10k_to_50k' THEN 2 WHEN '50k_to_200k' THEN 3 WHEN '200k_to_1m' THEN 4 WHEN 'over_1m' THEN 5 END, amount_tier
