-- title: Recovery by opening-month cohort (vintage curves)
-- title_zh: 按立案月份批次的回收情况（批次曲线）
-- description: For the cases opened in each month, the cumulative share of the claimed amount recovered by the end of each month since opening (months of 30.4375 days from the opening date), counting a case's recovery at its closing date. A month is shown only once every case of the cohort has completed it by the as-of date; open cases count as not yet recovered.
-- description_zh: 各月立案的案件在立案后每个月末（自立案日起每 30.4375 天为一个月）累计回收的委案金额比例，回收计入案件结案日期。仅当该批次全部案件在数据截止日期前均已满该月数时才显示该月；未结案案件按尚未回收计。
-- grain: one row per opening month and month since opening (0 to 24) that every case of the cohort has completed by the as-of date
-- dimensions: opened_month, months_since_opening
-- counts: cases
-- amounts: amount_claimed, recovered_to_date = amount_recovered
-- rates: cumulative_recovery_rate = recovered_to_date / amount_claimed
-- derived: cumulative_recovery_rate_low, cumulative_recovery_rate_high <- cumulative_recovery_rate
-- chart: lines cumulative_recovery_rate over months_since_opening by opened_month
-- requires: closed_on, amount_claimed, amount_recovered
WITH cohorts AS (
  SELECT opened_month AS cohort, count(*) AS cases, sum(amount_claimed) AS amount_claimed,
    sum(amount_claimed * amount_claimed) AS claimed_squares,
    CAST(date_trunc('month', min(opened_on)) + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) AS cohort_end
  FROM cases
  GROUP BY opened_month
), closures AS (
  SELECT opened_month AS cohort,
    CAST(floor(duration_days / 30.4375) AS BIGINT) AS month_index,
    sum(amount_recovered) AS recovered,
    sum(amount_recovered * amount_recovered) AS recovered_squares,
    sum(amount_recovered * amount_claimed) AS cross_products
  FROM cases
  WHERE resolved
  GROUP BY 1, 2
), grid AS (
  SELECT c.cohort, c.cases, c.amount_claimed, c.claimed_squares, m.value AS months_since_opening
  FROM cohorts c
  CROSS JOIN generate_series(0, 24) AS m
  CROSS JOIN params p
  -- Month m holds the durations d with floor(d / 30.4375) = m, the last being
  -- ceil((m + 1) * 30.4375) - 1 days; it is shown once a case opened on the cohort's last
  -- day has been open that long, so every case of the cohort has completed month m.
  WHERE CAST(ceil((m.value + 1) * 30.4375) AS BIGINT) - 1 <= p.as_of - c.cohort_end
), filled AS (
  SELECT g.cohort, g.cases, g.amount_claimed, g.claimed_squares, g.months_since_opening,
    coalesce(cl.recovered, CAST(0 AS DECIMAL(18, 2))) AS recovered,
    coalesce(cl.recovered_squares, CAST(0 AS DECIMAL(38, 4))) AS recovered_squares,
    coalesce(cl.cross_products, CAST(0 AS DECIMAL(38, 4))) AS cross_products
  FROM grid g
  LEFT JOIN closures cl ON cl.cohort = g.cohort AND cl.month_index = g.months_since_opening
), cumulative AS (
  SELECT cohort AS opened_month, months_since_opening, cases, amount_claimed,
    claimed_squares,
    sum(recovered) OVER (PARTITION BY cohort ORDER BY months_since_opening) AS recovered_to_date,
    sum(recovered_squares) OVER (PARTITION BY cohort ORDER BY months_since_opening) AS squares_to_date,
    sum(cross_products) OVER (PARTITION BY cohort ORDER BY months_since_opening) AS cross_to_date
  FROM filled
)
SELECT opened_month, months_since_opening, cases, amount_claimed,
  CAST(recovered_to_date AS DECIMAL(18, 2)) AS recovered_to_date,
  ratio(recovered_to_date, amount_claimed) AS cumulative_recovery_rate,
  ratio_moments_low(cases, recovered_to_date, amount_claimed, squares_to_date, cross_to_date, claimed_squares) AS cumulative_recovery_rate_low,
  ratio_moments_high(cases, recovered_to_date, amount_claimed, squares_to_date, cross_to_date, claimed_squares) AS cumulative_recovery_rate_high
FROM cumulative
ORDER BY opened_month, months_since_opening
