-- Trips and revenue per pickup day: a SQL block over the cleaned trips ({{ df_1 }}),
-- run by the host's query engine.
SELECT
    tpep_pickup_date,
    count(*) AS trips,
    sum(passenger_count) AS passengers,
    round(sum(total_amount), 2) AS revenue,
    round(avg(trip_distance), 2) AS avg_distance
FROM {{ df_1 }}
GROUP BY tpep_pickup_date
ORDER BY tpep_pickup_date
