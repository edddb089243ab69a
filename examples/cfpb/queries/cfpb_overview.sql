-- title: Debt-collection complaints: responses
-- description: Complaints received, how many the company closed, how many got a timely response, and how many closed with relief (monetary or non-monetary) or with monetary relief.
-- grain: one row for all debt-collection complaints
-- dimensions: none
-- counts: complaints, closed, timely, relief, monetary_relief
-- rates: timely_rate = timely / complaints, relief_rate = relief / closed, monetary_relief_rate = monetary_relief / closed
-- derived: timely_rate_low, timely_rate_high <- timely_rate; relief_rate_low, relief_rate_high <- relief_rate
-- chart: none
WITH totals AS (
  SELECT
    count(*) AS complaints,
    count(*) FILTER (WHERE response LIKE 'Closed%') AS closed,
    count(*) FILTER (WHERE timely_response = 'Yes') AS timely,
    count(*) FILTER (WHERE response IN ('Closed with monetary relief', 'Closed with non-monetary relief')) AS relief,
    count(*) FILTER (WHERE response = 'Closed with monetary relief') AS monetary_relief
  FROM cases
)
SELECT complaints, closed, timely,
  ratio(timely, complaints) AS timely_rate,
  wilson_low(timely, complaints) AS timely_rate_low,
  wilson_high(timely, complaints) AS timely_rate_high,
  relief,
  ratio(relief, closed) AS relief_rate,
  wilson_low(relief, closed) AS relief_rate_low,
  wilson_high(relief, closed) AS relief_rate_high,
  monetary_relief,
  ratio(monetary_relief, closed) AS monetary_relief_rate
FROM totals
