-- title: Open cases over time by region
-- title_zh: 各地区未结案比例随时间变化
-- description: The Kaplan–Meier curve of each region: the share of cases still open after a given number of days, with its 95% band (log(−log) transform). Open cases are censored at the as-of date.
-- description_zh: 各地区的 Kaplan–Meier 曲线：立案后经过一定天数仍未结案的案件比例，附 95% 置信带（log(−log) 变换）。截至数据截止日期仍未结案的案件作删失处理。
-- grain: one row per region and day on which a case of the region was resolved or censored
-- dimensions: region, days
-- counts: cases
-- derived: still_open, still_open_low, still_open_high <- cases
-- chart: step still_open over days by region band still_open_low still_open_high
-- requires: closed_on, region
WITH curves AS (
  SELECT CAST(region AS VARCHAR) AS region, count(*) AS cases,
    km_curve(duration_days, resolved) AS curve
  FROM cases
  WHERE region IS NOT NULL
  GROUP BY region
), points AS (
  SELECT region, cases, unnest(curve) AS point
  FROM curves
), shaped AS (
  SELECT region,
    CAST(get_field(point, 'time') AS BIGINT) AS days,
    cases,
    get_field(point, 'survival') AS still_open,
    get_field(point, 'low') AS still_open_low,
    get_field(point, 'high') AS still_open_high
  FROM points
)
SELECT region, days, cases, still_open, still_open_low, still_open_high
FROM shaped
ORDER BY region, days
