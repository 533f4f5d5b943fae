-- Leadership: the singleton that holds the durable epoch (the fencing token)
-- and the history of every epoch ever handed out.
CREATE TABLE IF NOT EXISTS leadership_state (
  id              integer     PRIMARY KEY CHECK (id = 1),
  current_epoch   bigint      NOT NULL DEFAULT 0 CHECK (current_epoch >= 0),
  holder_id       text,
  holder_instance text,
  acquired_at     timestamptz
);

INSERT INTO leadership_state (id, current_epoch)
VALUES (1, 0)
ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS leader_epochs (
  epoch           bigint      PRIMARY KEY CHECK (epoch > 0),
  holder_id       text        NOT NULL,
  holder_instance text,
  acquired_at     timestamptz NOT NULL DEFAULT now(),
  resigned_at     timestamptz,
  notes           text
);

-- Epochs never go backwards, whoever writes the row.
CREATE OR REPLACE FUNCTION cp_ha_forbid_epoch_regression()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.current_epoch < OLD.current_epoch THEN
    RAISE EXCEPTION 'leadership_state.current_epoch may not decrease (% to %)',
      OLD.current_epoch, NEW.current_epoch
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS leadership_state_epoch_monotonic ON leadership_state;
CREATE TRIGGER leadership_state_epoch_monotonic
  BEFORE UPDATE ON leadership_state
  FOR EACH ROW EXECUTE FUNCTION cp_ha_forbid_epoch_regression();
