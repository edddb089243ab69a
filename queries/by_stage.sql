-- title: Cases by highest escalation stage
-- title_zh: 按最高催收阶段统计
-- description: Settlement and recovery by the highest escalation stage a case reached, from reminder to court enforcement.
-- description_zh: 按案件达到的最高催收阶段（从催告提醒到法院强制执行）统计和解率与回收率。
-- grain: one row per escalation stage
-- dimensions: stage
-- counts: cases, resolved, settled
-- amounts: amount_claimed, amount_recovered
-- rates: settlement_rate = settled / resolved, recovery_rate = amount_recovered / amount_claimed
-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate; recovery_rate_low, recovery_rate_high <- recovery_rate
-- chart: bar settlement_rate by stage
-- requires: stage
WITH grouped AS (
  SELECT stage,
    count(*) AS cases,
    count(*) FILTER (WHERE resolved) AS resolved,
    count(*) FILTER (WHERE settled) AS settled,
    sum(amount_claimed) AS amount_claimed,
    sum(amount_recovered) AS amount_recovered,
    ratio_of_sums_low(amount_recovered, amount_claimed) AS recovery_low,
    ratio_of_sums_high(amount_recovered, amount_claimed) AS recovery_high
  FROM cases
  WHERE stage IS NOT NULL
  GROUP BY stage
)
SELECT stage, cases, resolved, settled,
  ratio(settled, resolved) AS settlement_rate,
  wilson_low(settled, resolved) AS settlement_rate_low,
  wilson_high(settled, resolved) AS settlement_rate_high,
  amount_claimed, amount_recovered,
  ratio(amount_recovered, amount_claimed) AS recovery_rate,
  recovery_low AS recovery_rate_low,
  recovery_high AS recovery_rate_high
FROM grouped
ORDER BY CASE stage WHEN 'reminder' THEN 1 WHEN 'mediation' THEN 2 WHEN 'lawyer_letter' THEN 3 WHEN 'field_visit' THEN 4 WHEN 'court_enforcement' THEN 5 END, stage
