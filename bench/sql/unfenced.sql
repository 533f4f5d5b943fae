-- The baseline: one small insert in its own transaction, no fence. The
-- transaction has the same shape as the fenced ones, minus the fence call.
BEGIN;
INSERT INTO bench_fenced_writes (writer, epoch) VALUES (:client_id, :epoch);
COMMIT;
