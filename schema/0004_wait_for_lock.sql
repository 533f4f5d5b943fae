-- A follower's server-side wait for the election lock, bounded by a
-- timeout, that returns false instead of raising: pg_advisory_lock under a
-- lock_timeout would write "canceling statement due to lock timeout" into
-- the server log once per follower per campaign interval. The lock it takes
-- is session-level and outlives the call.
CREATE OR REPLACE FUNCTION cp_ha_wait_for_lock(lock_key bigint,
                                               timeout_ms integer,
                                               poll_ms integer DEFAULT 10)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
  deadline timestamptz := clock_timestamp() + timeout_ms * interval '1 ms';
BEGIN
  LOOP
    IF pg_try_advisory_lock(lock_key) THEN
      RETURN true;
    END IF;
    EXIT WHEN clock_timestamp() >= deadline;
    PERFORM pg_sleep(poll_ms / 1000.0);
  END LOOP;
  RETURN false;
END
$$;
