-- The plan as data (workers/plan-tables.ts, docs/dashboards.md): the plan's objectives, KPIs,
-- accounts and situation (SWOT, audiences), so dashboards and analysts can join a KPI to its
-- objective and target in SQL.
-- Why versions and a pointer: the tables are replaced as a whole at every start, and readers must
-- never see half of one plan and half of another. Each version's rows are stored under its
-- content hash (`plan_hash`) first; then one row in `plans` points the plan at that version. The
-- views plan_objectives, plan_kpis, plan_accounts and plan_situation show only the version a plan
-- points at, so the switch is one insert: atomic, and a re-written plan (same hash) changes nothing.
-- `version` counts the switches (not the clock, which CLOCK_START may set back).
-- Cost: four small tables (a plan is some dozens of rows; an old version stays, a few kB each).
-- Verify: SELECT * FROM plans FINAL; SELECT kpi_id, objective_id, target FROM plan_kpis
CREATE TABLE IF NOT EXISTS plans
(
    plan_key   String,
    plan_hash  String,
    company    String,
    timezone   String,
    week_start LowCardinality(String),
    language   LowCardinality(String),
    loaded_at  DateTime64(3, 'UTC'),
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY plan_key;

CREATE TABLE IF NOT EXISTS plan_objective_versions
(
    plan_key     String,
    plan_hash    String,
    objective_id String,
    position     UInt16,
    name         String,
    description  String,
    actions      Array(String),
    kpis         Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (plan_key, plan_hash, objective_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS plan_kpi_versions
(
    plan_key     String,
    plan_hash    String,
    kpi_id       String,
    position     UInt16,
    name         String,
    objective_id String,
    network      LowCardinality(String),
    metric       LowCardinality(String),
    denominator  LowCardinality(String),
    kind         LowCardinality(String),
    target       Float64,
    comparator   LowCardinality(String),
    tolerance    Float64,
    period       String,
    period_from  Nullable(Date),
    period_to    Nullable(Date),
    accounts     Array(String),
    actions      Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (plan_key, plan_hash, kpi_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS plan_account_versions
(
    plan_key          String,
    plan_hash         String,
    network           LowCardinality(String),
    account_id        String,
    position          UInt16,
    name              String,
    api_id            String,
    auth_kind         LowCardinality(String),
    posting_frequency String,
    language          String,
    content_focus     String,
    kpis              Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (plan_key, plan_hash, network, account_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS plan_situation_versions
(
    plan_key  String,
    plan_hash String,
    section   LowCardinality(String),
    position  UInt16,
    item_id   String,
    title     String,
    text      String
)
ENGINE = ReplacingMergeTree
ORDER BY (plan_key, plan_hash, section, position)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE VIEW IF NOT EXISTS plan_objectives AS
SELECT plan_key, objective_id, position, name, description, actions, kpis
FROM plan_objective_versions FINAL
WHERE (plan_key, plan_hash) IN (SELECT plan_key, plan_hash FROM plans FINAL);

CREATE VIEW IF NOT EXISTS plan_kpis AS
SELECT plan_key, kpi_id, position, name, objective_id, network, metric, denominator, kind, target, comparator, tolerance,
       period, period_from, period_to, accounts, actions
FROM plan_kpi_versions FINAL
WHERE (plan_key, plan_hash) IN (SELECT plan_key, plan_hash FROM plans FINAL);

CREATE VIEW IF NOT EXISTS plan_accounts AS
SELECT plan_key, network, account_id, position, name, api_id, auth_kind, posting_frequency, language, content_focus, kpis
FROM plan_account_versions FINAL
WHERE (plan_key, plan_hash) IN (SELECT plan_key, plan_hash FROM plans FINAL);

CREATE VIEW IF NOT EXISTS plan_situation AS
SELECT plan_key, section, position, item_id, title, text
FROM plan_situation_versions FINAL
WHERE (plan_key, plan_hash) IN (SELECT plan_key, plan_hash FROM plans FINAL);
