-- Why: a daily series (a KPI's history and forecast) is cut at the time of judging, so inside the
-- same hour of every day, and each cut hour is read reading by reading. In observation_hours those
-- readings sat beside the states, ordered by hour, so 25 cut hours of an account's likes touched
-- 25 granules of 8,192 rows to use 70 rows of each (issue 10). observation_readings holds the
-- readings alone, per object and hour, ordered by the hour of the day before the hour itself: the
-- same hour of many days is one short range of the key, and granules are small (1,024 rows).
-- Partitioned by year: a series spans months, and every partition it touches is one more range
-- per account to read.
-- observation_hours keeps the states only.
-- Idempotency as in 0020: the readings are a set (united as parts merge); readers take per instant
-- the newest collection, as `observations FINAL` does.
-- Cost: the backfill reads observation_hours' readings once. The view exists before the backfill
-- and observation_hours_mv stops writing readings only after it, so rows written meanwhile may
-- reach observation_readings twice: harmless, it is a set.
-- Verify: SELECT count() FROM observation_readings (as many rows as observation_hours)
CREATE TABLE IF NOT EXISTS observation_readings
(
    network     LowCardinality(String),
    account_id  String CODEC(ZSTD(1)),
    metric      LowCardinality(String),
    shape       Enum8('gauge' = 1, 'counter' = 2, 'daily' = 3),
    object_type LowCardinality(String),
    object_id   String CODEC(ZSTD(1)),
    bucket      DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    hour_of_day UInt8,
    readings    SimpleAggregateFunction(groupUniqArrayArray, Array(Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), Float64))) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(bucket)
ORDER BY (network, account_id, metric, shape, hour_of_day, bucket, object_type, object_id)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS observation_readings_mv TO observation_readings AS
SELECT network, account_id, metric, shape, object_type, object_id,
       if(shape = 'daily', observed_at, toDateTime64(toStartOfHour(observed_at), 3, 'UTC')) AS bucket,
       toHour(bucket) AS hour_of_day,
       groupUniqArray((observed_at, collected_at, value)) AS readings
FROM observations
GROUP BY network, account_id, metric, shape, object_type, object_id, bucket;

INSERT INTO observation_readings
SELECT network, account_id, metric, shape, object_type, object_id, bucket, toHour(bucket), groupUniqArrayArray(readings)
FROM observation_hours
GROUP BY network, account_id, metric, shape, object_type, object_id, bucket;

ALTER TABLE observation_hours_mv MODIFY QUERY
SELECT network, account_id, metric, shape, object_type, object_id,
       if(shape = 'daily', observed_at, toDateTime64(toStartOfHour(observed_at), 3, 'UTC')) AS bucket,
       min(observed_at) AS first_at,
       max(observed_at) AS last_at,
       argMinState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(9223372036854775807 - toUnixTimestamp64Milli(collected_at))) AS first,
       argMaxState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(toUnixTimestamp64Milli(collected_at))) AS last,
       min(object_created_at) AS created
FROM observations
GROUP BY network, account_id, metric, shape, object_type, object_id, bucket;

ALTER TABLE observation_hours DROP COLUMN IF EXISTS readings;
