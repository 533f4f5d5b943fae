-- Who did what to the HA layer (failover, backup, restore), and the backups
-- the sidecar made.
CREATE TABLE IF NOT EXISTS ha_operations (
  id           bigserial   PRIMARY KEY,
  operation    text        NOT NULL,
  operator     text        NOT NULL,
  reason       text        NOT NULL,
  epoch        bigint,
  holder_id    text,
  result       text        NOT NULL,
  performed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS backup_inventory (
  id         text        PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  operator   text        NOT NULL,
  reason     text        NOT NULL,
  file       text        NOT NULL,
  size_bytes bigint      NOT NULL,
  epoch      bigint,
  checksum   text        NOT NULL
);
