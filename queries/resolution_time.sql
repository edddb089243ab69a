-- title: Time to resolution
-- title_zh: 结案用时
-- description: Days from opening to resolution, estimated with Kaplan–Meier so that open cases count as censored at the as-of date (a mean over closed cases only would be biased low). Median and quartiles with 95% confidence intervals; "not reached" (empty, with median_reached false) when fewer than half of the cases are resolved. Shares resolved within 30, 90, 180 and 365 days are read off the same curve.
-- description_zh: 自立案至结案的天数，采用 Kaplan–Meier 法估计，截至数据截止日期仍未结案的案件作删失处理（仅按已结案案件求平均会偏低）。给出中位数和四分位数及其 95% 置信区间；已结案案件不足一半时中位数“未达到”（为空，median_reached 为 false）。30、90、180、365 天内结案比例取自同一曲线。
-- grain: one row for all cases
-- dimensions: none
-- counts: cases, resolved
-- derived: median_days, median_days_ci_low, median_days_ci_high, median_reached, q1_days, q3_days, resolved_within_30d, resolved_within_30d_low, resolved_within_30d_high, resolved_within_90d, resolved_within_90d_low, resolved_within_90d_high, resolved_within_180d, resolved_within_180d_low, resolved_within_180d_high, resolved_within_365d, resolved_within_365d_low, resolved_within_365d_high <- cases
-- chart: none
-- requires: closed_on
SELECT count(*) AS cases,
  count(*) FILTER (WHERE resolved) AS resolved,
  km_median(duration_days, resolved) AS median_days,
  km_median_low(duration_days, resolved) AS median_days_ci_low,
  km_median_high(duration_days, resolved) AS median_days_ci_high,
  km_median_reached(duration_days, resolved) AS median_reached,
  km_quantile(duration_days, resolved, 0.25) AS q1_days,
  km_quantile(duration_days, resolved, 0.75) AS q3_days,
  km_resolved_by(duration_days, resolved, 30) AS resolved_within_30d,
  km_resolved_by_low(duration_days, resolved, 30) AS resolved_within_30d_low,
  km_resolved_by_high(duration_days, resolved, 30) AS resolved_within_30d_high,
  km_resolved_by(duration_days, resolved, 90) AS resolved_within_90d,
  km_resolved_by_low(duration_days, resolved, 90) AS resolved_within_90d_low,
  km_resolved_by_high(duration_days, resolved, 90) AS resolved_within_90d_high,
  km_resolved_by(duration_days, resolved, 180) AS resolved_within_180d,
  km_resolved_by_low(duration_days, resolved, 180) AS resolved_within_180d_low,
  km_resolved_by_high(duration_days, resolved, 180) AS resolved_within_180d_high,
  km_resolved_by(duration_days, resolved, 365) AS resolved_within_365d,
  km_resolved_by_low(duration_days, resolved, 365) AS resolved_within_365d_low,
  km_resolved_by_high(duration_days, resolved, 365) AS resolved_within_365d_high
FROM cases



