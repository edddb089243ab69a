-- title: Change against the previous period
-- title_zh: 与上期比较
-- description: Cases opened, cases resolved and the settlement rate of the cases resolved in this period and in the previous period of the same length, with the relative change (empty where the previous value is 0 or suppressed).
-- description_zh: 本期与上一同长度期间的立案数、结案数及已结案案件的和解率，以及相对变化（上期数值为 0 或被抑制时为空）。
-- grain: one row comparing the period with the previous one
-- dimensions: none
-- counts: opened, opened_previous, resolved, resolved_previous, settled, settled_previous
-- rates: settlement_rate = settled / resolved, settlement_rate_previous = settled_previous / resolved_previous
-- derived: settlement_rate_low, settlement_rate_high <- settlement_rate; settlement_rate_previous_low, settlement_rate_previous_high <- settlement_rate_previous; opened_change <- opened_previous; resolved_change <- resolved_previous; settlement_rate_change <- settlement_rate_previous
-- chart: none
-- requires: closed_on, period
WITH counts AS (
  SELECT
    count(*) FILTER (WHERE opened_on BETWEEN p.period_start AND p.period_end) AS opened,
    count(*) FILTER (WHERE opened_on BETWEEN p.previous_start AND p.previous_end) AS opened_previous,
    count(*) FILTER (WHERE resolved AND closed_on BETWEEN p.period_start AND p.period_end) AS resolved,
    count(*) FILTER (WHERE resolved AND closed_on BETWEEN p.previous_start AND p.previous_end) AS resolved_previous,
    count(*) FILTER (WHERE settled AND closed_on BETWEEN p.period_start AND p.period_end) AS settled,
    count(*) FILTER (WHERE settled AND closed_on BETWEEN p.previous_start AND p.previous_end) AS settled_previous
  FROM cases CROSS JOIN params p
)
SELECT opened, opened_previous,
  ratio(opened - opened_previous, opened_previous) AS opened_change,
  resolved, resolved_previous,
  ratio(resolved - resolved_previous, resolved_previous) AS resolved_change,
  settled, settled_previous,
  ratio(settled, resolved) AS settlement_rate,
  wilson_low(settled, resolved) AS settlement_rate_low,
  wilson_high(settled, resolved) AS settlement_rate_high,
  ratio(settled_previous, resolved_previous) AS settlement_rate_previous,
  wilson_low(settled_previous, resolved_previous) AS settlement_rate_previous_low,
  wilson_high(settled_previous, resolved_previous) AS settlement_rate_previous_high,
  ratio(ratio(settled, resolved) - ratio(settled_previous, resolved_previous), ratio(settled_previous, resolved_previous)) AS settlement_rate_change
FROM counts
