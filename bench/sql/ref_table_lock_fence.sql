-- Reference, not the product's fence: bench_table_lock_fence() (created by
-- fenced_writes.sh) takes leadership_state IN ROW SHARE MODE, a table lock
-- that the epoch bump's EXCLUSIVE lock waits for and that waits for the
-- bump, then compares the epoch with a plain read: no row lock, so nothing
-- is written to the singleton's tuple or to the WAL.
BEGIN;
SELECT bench_table_lock_fence(:epoch);
INSERT INTO bench_fenced_writes (writer, epoch) VALUES (:client_id, :epoch);
COMMIT;
