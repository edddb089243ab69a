-- title: Escalation funnel
-- title_zh: 催收阶段漏斗
-- description: How many cases reach each escalation stage (their highest stage is this one or a later one), how many stop there, and how those that stop there end: settlement rate of the resolved ones and recovery rate of the amounts.
-- description_zh: 到达各催收阶段的案件数（最高阶段为该阶段或其后阶段），止于该阶段的案件数，以及止于该阶段案件的结果：已结案案件的和解率和金额回收率。
-- grain: one row per escalation stage, in escalation order
-- dimensions: stage
-- counts: reached, cases, resolved, settled
-- amounts: amount_claimed, amount_recovered
-- rates: settlement_rate = settled / resolved, recovery_rate = amount_recovered / amount_claimed
-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate; recovery_rate_low, recovery_rate_high <- recovery_rate
-- chart: funnel reached by stage
-- requires: stage
WITH per_stage AS (
  SELECT stage,
    CASE stage WHEN 'reminder' THEN 1 WHEN 'mediation' THEN 2 WHEN 'lawyer_letter' THEN 3
      WHEN 'field_visit' THEN 4 WHEN 'court_enforcement' THEN 5 END AS stage_order,
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
SELECT stage,
  CAST(sum(cases) OVER (ORDER BY stage_order DESC) AS BIGINT) AS reached,
  cases, resolved, settled,
  ratio(settled, resolved) AS settlement_rate,
  wilson_low(settled, resolved) AS settlement_rate_low,
  wilson_high(settled, resolved) AS settlement_rate_high,
  amount_claimed, amount_recovered,
  ratio(amount_recovered, amount_claimed) AS recovery_rate,
  recovery_low AS recovery_rate_low,
  recovery_high AS recovery_rate_high
FROM per_stage
ORDER BY stage_order
