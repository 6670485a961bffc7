SELECT pickup_date, count(*) AS trips, round(sum(total_amount)::numeric, 2) AS revenue
FROM {{ df_1 }}
GROUP BY pickup_date
ORDER BY pickup_date
