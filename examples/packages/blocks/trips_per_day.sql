-- Trips and distance per pickup day. {{ df_1 }} is the block's first upstream output,
-- whatever its name, so the package fits any pipeline.
SELECT
    pickup_date,
    count(*) AS trips,
    round(sum(trip_distance), 2) AS distance
FROM {{ df_1 }}
GROUP BY pickup_date
ORDER BY pickup_date
