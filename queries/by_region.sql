-- title: Cases by region
-- title_zh: 按地区统计
-- description: Settlement and recovery of all cases opened up to the as-of date, by the region of the case.
-- description_zh: 截至数据截止日期立案的全部案件，按案件所属地区统计和解率与回收率。
-- grain: one row per region
-- dimensions: region
-- counts: cases, resolved, settled
-- amounts: amount_claimed, amount_recovered
-- rates: settlement_rate = settled / resolved, recovery_rate = amount_recovered / amount_claimed
-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate; recovery_rate_low, recovery_rate_high <- recovery_rate
-- chart: bar settlement_rate by region
-- requires: region
WITH grouped AS (
  SELECT region,
    count(*) AS cases,
    count(*) FILTER (WHERE resolved) AS resolved,
    count(*) FILTER (WHERE settled) AS settled,
    sum(amount_claimed) AS amount_claimed,
    sum(amount_recovered) AS amount_recovered,
    ratio_of_sums_low(amount_recovered, amount_claimed) AS recovery_low,
    ratio_of_sums_high(amount_recovered, amount_claimed) AS recovery_high
  FROM cases
  WHERE region IS NOT NULL
  GROUP BY region
)
SELECT region, cases, resolved, settled,
  ratio(settled, resolved) AS settlement_rate,
  wilson_low(settled, resolved) AS settlement_rate_low,
  wilson_high(settled, resolved) AS settlement_rate_high,
  amount_claimed, amount_recovered,
  ratio(amount_recovered, amount_claimed) AS recovery_rate,
  recovery_low AS recovery_rate_low,
  recovery_high AS recovery_rate_high
FROM grouped
ORDER BY region
