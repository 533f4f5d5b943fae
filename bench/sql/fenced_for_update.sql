-- The fence with the runbook's FOR UPDATE: every writer takes the singleton
-- row exclusively until its commit, so writers run one at a time.
BEGIN;
SELECT cp_ha_fence(:epoch, true);
INSERT INTO bench_fenced_writes (writer, epoch) VALUES (:client_id, :epoch);
COMMIT;
