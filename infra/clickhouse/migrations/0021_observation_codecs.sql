-- Why: compact storage (issue 10). Times of one object are regular (a reading per round), so
-- DoubleDelta shrinks them to a few bits; values change slowly, so Gorilla; ZSTD on the rest.
-- Cost: metadata only; existing parts take the codecs as they are merged (or OPTIMIZE … FINAL).
-- Verify: SELECT name, compression_codec FROM system.columns WHERE table = 'observations'
--         SELECT sum(bytes_on_disk) / sum(rows) FROM system.parts WHERE table = 'observations' AND active
ALTER TABLE observations MODIFY COLUMN observed_at DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1));
ALTER TABLE observations MODIFY COLUMN collected_at DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1));
ALTER TABLE observations MODIFY COLUMN value Float64 CODEC(Gorilla, ZSTD(1));
ALTER TABLE observations MODIFY COLUMN account_id String CODEC(ZSTD(1));
ALTER TABLE observations MODIFY COLUMN object_id String CODEC(ZSTD(1));
ALTER TABLE observations MODIFY COLUMN object_created_at Nullable(DateTime64(3, 'UTC')) CODEC(ZSTD(1));
