-- Why: every evaluation read `observations` raw, so its cost grew with all history (issue 10).
-- Two rollups, kept by ClickHouse at insert through materialized views, answer the KPI, series,
-- crisis and review queries bounded by the period instead (kpi/observation-reads.ts):
--   observation_hours:   per object and hour (per exact instant for daily counts), ordered by the
--                        hour before the object, so a period's hours are one range of the key: the first and
--                        last reading (argMin/argMax states over (observed_at, collected_at)) and
--                        the hour's readings themselves, for the hours a period edge cuts through;
--   observation_objects: per object: its first and last reading and creation time, so "seen
--                        before the period", "first value" and "latest value" need no scan of history.
-- Idempotency: an MV sees every inserted block, re-delivered rows and late corrections included.
-- No state counts or sums rows: argMax over (observed_at, collected_at) lets the newest collection
-- at an instant win, argMin over (observed_at, -collected ms) the same for the first reading (both
-- pairs packed into one UInt128, observed ms in the high 64 bits: a numeric key merges several times
-- faster than a Tuple key), and
-- the readings are a set (a plain array, united as parts merge: readers arrayJoin it without
-- merging states) that readers dedupe per instant, newest collection first.
-- Cost: the backfill reads `observations` once (FINAL is not needed: the states dedupe). The views
-- exist before the backfill runs, so rows written meanwhile reach the rollups twice: harmless, as
-- every state here is a min, max, argMin, argMax or set. On a cluster (CLICKHOUSE_CLUSTER) the views
-- read and write the local tables (core/migrations.ts).
-- Verify: SELECT count() FROM observation_hours; SELECT count() FROM observation_objects
CREATE TABLE IF NOT EXISTS observation_hours
(
    network     LowCardinality(String),
    account_id  String CODEC(ZSTD(1)),
    metric      LowCardinality(String),
    shape       Enum8('gauge' = 1, 'counter' = 2, 'daily' = 3),
    object_type LowCardinality(String),
    object_id   String CODEC(ZSTD(1)),
    bucket      DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    first_at    SimpleAggregateFunction(min, DateTime64(3, 'UTC')) CODEC(DoubleDelta, ZSTD(1)),
    last_at     SimpleAggregateFunction(max, DateTime64(3, 'UTC')) CODEC(DoubleDelta, ZSTD(1)),
    first       AggregateFunction(argMin, Float64, UInt128) CODEC(ZSTD(1)),
    last        AggregateFunction(argMax, Float64, UInt128) CODEC(ZSTD(1)),
    created     SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) CODEC(ZSTD(1)),
    readings    SimpleAggregateFunction(groupUniqArrayArray, Array(Tuple(DateTime64(3, 'UTC'), DateTime64(3, 'UTC'), Float64))) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (network, account_id, metric, shape, bucket, object_type, object_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS observation_hours_mv TO observation_hours AS
SELECT network, account_id, metric, shape, object_type, object_id,
       if(shape = 'daily', observed_at, toDateTime64(toStartOfHour(observed_at), 3, 'UTC')) AS bucket,
       min(observed_at) AS first_at,
       max(observed_at) AS last_at,
       argMinState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(9223372036854775807 - toUnixTimestamp64Milli(collected_at))) AS first,
       argMaxState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(toUnixTimestamp64Milli(collected_at))) AS last,
       min(object_created_at) AS created,
       groupUniqArray((observed_at, collected_at, value)) AS readings
FROM observations
GROUP BY network, account_id, metric, shape, object_type, object_id, bucket;

CREATE TABLE IF NOT EXISTS observation_objects
(
    network     LowCardinality(String),
    account_id  String CODEC(ZSTD(1)),
    metric      LowCardinality(String),
    shape       Enum8('gauge' = 1, 'counter' = 2, 'daily' = 3),
    object_type LowCardinality(String),
    object_id   String CODEC(ZSTD(1)),
    first_at    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at     SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    first       AggregateFunction(argMin, Float64, UInt128),
    last        AggregateFunction(argMax, Float64, UInt128),
    created     SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC')))
)
ENGINE = AggregatingMergeTree
ORDER BY (network, account_id, metric, shape, object_type, object_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS observation_objects_mv TO observation_objects AS
SELECT network, account_id, metric, shape, object_type, object_id,
       min(observed_at) AS first_at,
       max(observed_at) AS last_at,
       argMinState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(9223372036854775807 - toUnixTimestamp64Milli(collected_at))) AS first,
       argMaxState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(toUnixTimestamp64Milli(collected_at))) AS last,
       min(object_created_at) AS created
FROM observations
GROUP BY network, account_id, metric, shape, object_type, object_id;

INSERT INTO observation_hours
SELECT network, account_id, metric, shape, object_type, object_id,
       if(shape = 'daily', observed_at, toDateTime64(toStartOfHour(observed_at), 3, 'UTC')) AS bucket,
       min(observed_at), max(observed_at),
       argMinState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(9223372036854775807 - toUnixTimestamp64Milli(collected_at))),
       argMaxState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(toUnixTimestamp64Milli(collected_at))),
       min(object_created_at),
       groupUniqArray((observed_at, collected_at, value))
FROM observations
GROUP BY network, account_id, metric, shape, object_type, object_id, bucket;

INSERT INTO observation_objects
SELECT network, account_id, metric, shape, object_type, object_id,
       min(observed_at), max(observed_at),
       argMinState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(9223372036854775807 - toUnixTimestamp64Milli(collected_at))),
       argMaxState(value, bitShiftLeft(toUInt128(toUnixTimestamp64Milli(observed_at)), 64) + toUInt128(toUnixTimestamp64Milli(collected_at))),
       min(object_created_at)
FROM observations
GROUP BY network, account_id, metric, shape, object_type, object_id;
