-- The epoch fence, for the sidecar's own writes and the control plane's.
--
-- Call cp_ha_fence(epoch) first in each write transaction, with the epoch
-- from GET /v1/health/leader. It locks the singleton row (FOR SHARE by
-- default, so fenced writers do not queue behind each other; FOR UPDATE when
-- asked) and raises SQLSTATE CPHA1 when the durable epoch is another one,
-- which aborts the caller's transaction: a stale leader can never commit.
-- Only the epoch bump takes the row exclusively, so it waits for fenced
-- writers already past the fence and makes every later one fail.
--
-- Rejections are counted in a sequence, because nextval() survives the
-- rollback that the rejection causes: one count per rejection, cluster-wide,
-- whoever the caller and whichever sidecar leads.
CREATE SEQUENCE IF NOT EXISTS cp_ha_fence_rejections;

CREATE OR REPLACE FUNCTION cp_ha_fence(expected_epoch bigint,
                                       exclusive boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  durable bigint;
BEGIN
  IF exclusive THEN
    SELECT current_epoch INTO durable
      FROM leadership_state WHERE id = 1 FOR UPDATE;
  ELSE
    SELECT current_epoch INTO durable
      FROM leadership_state WHERE id = 1 FOR SHARE;
  END IF;

  IF durable IS DISTINCT FROM expected_epoch THEN
    PERFORM nextval('cp_ha_fence_rejections');
    RAISE EXCEPTION 'stale epoch: the write carries epoch %, the durable epoch is %',
      expected_epoch, durable
      USING ERRCODE = 'CPHA1';
  END IF;
  RETURN durable;
END
$$;

-- Rejections so far, cluster-wide (0 before the first one).
CREATE OR REPLACE FUNCTION cp_ha_fence_rejections_total()
RETURNS bigint
LANGUAGE sql
SET search_path FROM CURRENT
AS $$
  SELECT CASE WHEN is_called THEN last_value ELSE 0 END
    FROM cp_ha_fence_rejections
$$;
