-- title: Recovery by opening-month cohort (vintage curves)
-- title_zh: 按立案月份批次的回收情况（批次曲线）
-- description: For the cases opened in each month, the cumulative share of the claimed amount recovered by the end of each month since opening, counting a case's recovery at its closing date. Months after the as-of date are not shown; open cases count as not yet recovered.
-- description_zh: 各月立案的案件在立案后每个月末累计回收的委案金额比例，回收计入案件结案日期。不显示数据截止日期之后的月份；未结案案件按尚未回收计。
-- grain: one row per opening month and month since opening (0 to 24) observable at the as-of date
-- dimensions: cohort, months_since_opening
-- counts: cases
-- amounts: amount_claimed, recovered_to_date
-- rates: cumulative_recovery_rate = recovered_to_date / amount_claimed
-- chart: lines cumulative_recovery_rate over months_since_opening by cohort
-- requires: closed_on, amount_claimed, amount_recovered
WITH cohorts AS (
  SELECT opened_month AS cohort, count(*) AS cases, sum(amount_claimed) AS amount_claimed
  FROM cases
  GROUP BY opened_month
), closures AS (
  SELECT opened_month AS cohort,
    CAST(floor(duration_days / 30.4375) AS BIGINT) AS month_index,
    sum(amount_recovered) AS recovered
  FROM cases
  WHERE resolved
  GROUP BY 1, 2
), grid AS (
  SELECT c.cohort, c.cases, c.amount_claimed, m.value AS months_since_opening
  FROM cohorts c
  CROSS JOIN generate_series(0, 24) AS m
  CROSS JOIN params p
  WHERE m.value <= (date_part('year', p.as_of) - CAST(substr(c.cohort, 1, 4) AS INT)) * 12
    + date_part('month', p.as_of) - CAST(substr(c.cohort, 6, 2) AS INT)
), filled AS (
  SELECT g.cohort, g.cases, g.amount_claimed, g.months_since_opening,
    coalesce(cl.recovered, CAST(0 AS DECIMAL(18, 2))) AS recovered
  FROM grid g
  LEFT JOIN closures cl ON cl.cohort = g.cohort AND cl.month_index = g.months_since_opening
), cumulative AS (
  SELECT cohort, months_since_opening, cases, amount_claimed,
    sum(recovered) OVER (PARTITION BY cohort ORDER BY months_since_opening) AS recovered_to_date
  FROM filled
)
SELECT cohort, months_since_opening, cases, amount_claimed,
  CAST(recovered_to_date AS DECIMAL(18, 2)) AS recovered_to_date,
  ratio(recovered_to_date, amount_claimed) AS cumulative_recovery_rate
FROM cumulative
ORDER BY cohort, months_since_opening
