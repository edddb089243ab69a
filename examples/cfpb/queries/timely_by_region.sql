-- title: Timely response and relief by state
-- description: Share of debt-collection complaints answered in time, and share of closed complaints closed with relief, by state.
-- grain: one row per state
-- dimensions: region
-- counts: complaints, timely, closed, relief
-- rates: timely_rate = timely / complaints, relief_rate = relief / closed
-- derived: timely_rate_low, timely_rate_high <- timely_rate; relief_rate_low, relief_rate_high <- relief_rate
-- chart: bar timely_rate by region
-- requires: region
WITH grouped AS (
  SELECT region,
    count(*) AS complaints,
    count(*) FILTER (WHERE timely_response = 'Yes') AS timely,
    count(*) FILTER (WHERE response LIKE 'Closed%') AS closed,
    count(*) FILTER (WHERE response IN ('Closed with monetary relief', 'Closed with non-monetary relief')) AS relief
  FROM cases
  WHERE region IS NOT NULL
  GROUP BY region
)
SELECT region, complaints, timely,
  ratio(timely, complaints) AS timely_rate,
  wilson_low(timely, complaints) AS timely_rate_low,
  wilson_high(timely, complaints) AS timely_rate_high,
  closed, relief,
  ratio(relief, closed) AS relief_rate,
  wilson_low(relief, closed) AS relief_rate_low,
  wilson_high(relief, closed) AS relief_rate_high
FROM grouped
ORDER BY region
