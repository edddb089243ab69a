-- title: Complaints about case handling
-- title_zh: 案件处理投诉情况
-- description: How many cases drew a complaint about their handling, by intake channel, and how many of those complaints were upheld.
-- description_zh: 按受理渠道统计因案件处理而被投诉的案件数，以及其中投诉成立的数量。
-- grain: one row per intake channel
-- dimensions: channel
-- counts: cases, complaints, upheld
-- rates: complaint_rate = complaints / cases, upheld_rate = upheld / complaints
-- derived: complaint_rate_low, complaint_rate_high <- complaint_rate; upheld_rate_low, upheld_rate_high <- upheld_rate
-- chart: bar complaint_rate by channel
-- requires: complaint, channel
WITH grouped AS (
  SELECT channel,
    count(*) AS cases,
    count(*) FILTER (WHERE complaint) AS complaints,
    count(*) FILTER (WHERE complaint AND complaint_upheld) AS upheld
  FROM cases
  WHERE channel IS NOT NULL AND complaint IS NOT NULL
  GROUP BY channel
)
SELECT channel, cases, complaints,
  ratio(complaints, cases) AS complaint_rate,
  wilson_low(complaints, cases) AS complaint_rate_low,
  wilson_high(complaints, cases) AS complaint_rate_high,
  upheld,
  ratio(upheld, complaints) AS upheld_rate,
  wilson_low(upheld, complaints) AS upheld_rate_low,
  wilson_high(upheld, complaints) AS upheld_rate_high
FROM grouped
ORDER BY channel
