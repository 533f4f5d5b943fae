-- The fence in its default mode: the singleton row FOR SHARE, so that
-- fenced writers do not wait for each other.
BEGIN;
SELECT cp_ha_fence(:epoch);
INSERT INTO bench_fenced_writes (writer, epoch) VALUES (:client_id, :epoch);
COMMIT;
