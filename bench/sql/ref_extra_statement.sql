-- Reference, not a fence: unfenced plus one more statement that reads
-- nothing, to tell the cost of the fence's extra round trip from the cost
-- of its row lock.
BEGIN;
SELECT :epoch;
INSERT INTO bench_fenced_writes (writer, epoch) VALUES (:client_id, :epoch);
COMMIT;
