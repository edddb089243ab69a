-- title: Flow and stock
-- title_zh: 收结案与存量
-- description: Flow: cases opened in the period, cases resolved in the period, and the clearance rate (resolved ÷ opened; above 100% the backlog shrinks). Stock: cases open at the as-of date and the age of that open backlog. Without --period the period is everything up to the as-of date.
-- description_zh: 流量：统计期间内立案数、结案数及结案率（结案数 ÷ 立案数；超过 100% 表示积案减少）。存量：截至数据截止日期的未结案数及其案龄。未指定 --period 时，统计期间为数据截止日期之前的全部时间。
-- grain: one row for the period
-- dimensions: none
-- counts: opened_in_period, resolved_in_period, open_at_as_of, backlog_over_180_days
-- rates: clearance_rate = resolved_in_period / opened_in_period
-- derived: clearance_rate_low, clearance_rate_high <- clearance_rate; backlog_median_age_days <- open_at_as_of
-- chart: none
WITH flagged AS (
  SELECT c.*,
    c.resolved AND c.closed_on BETWEEN coalesce(p.period_start, DATE '0001-01-01')
      AND coalesce(p.period_end, p.as_of) AS resolved_in_window
  FROM cases c CROSS JOIN params p
)
SELECT
  count(*) FILTER (WHERE in_period) AS opened_in_period,
  count(*) FILTER (WHERE resolved_in_window) AS resolved_in_period,
  ratio(count(*) FILTER (WHERE resolved_in_window), count(*) FILTER (WHERE in_period)) AS clearance_rate,
  poisson_ratio_low(count(*) FILTER (WHERE resolved_in_window), count(*) FILTER (WHERE in_period)) AS clearance_rate_low,
  poisson_ratio_high(count(*) FILTER (WHERE resolved_in_window), count(*) FILTER (WHERE in_period)) AS clearance_rate_high,
  count(*) FILTER (WHERE NOT resolved) AS open_at_as_of,
  count(*) FILTER (WHERE NOT resolved AND duration_days > 180) AS backlog_over_180_days,
  median(CAST(duration_days AS DOUBLE)) FILTER (WHERE NOT resolved) AS backlog_median_age_days
FROM flagged
