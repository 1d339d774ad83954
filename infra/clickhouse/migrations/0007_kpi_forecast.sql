-- The end-of-period forecast of each KPI evaluation (kpi/forecast.ts), and whether the status
-- comes from the pace so far or from the forecast. Adding Nullable columns is a metadata-only
-- change (no rewrite of existing parts); old rows read as NULL / ''.
-- Verify: DESCRIBE TABLE kpi_evaluations lists forecast_end … status_basis.
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS forecast_end Nullable(Float64) AFTER status;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS forecast_low Nullable(Float64) AFTER forecast_end;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS forecast_high Nullable(Float64) AFTER forecast_low;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS recent_per_day Nullable(Float64) AFTER forecast_high;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS needed_per_day Nullable(Float64) AFTER recent_per_day;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS status_basis LowCardinality(String) DEFAULT 'pace' AFTER needed_per_day;
