-- The control plane's own tables, as far as the sidecar reads (and, for
-- recovery, writes) them. Created only with --create-app-schema (the lab and
-- tests); in production the control plane owns them.
CREATE TABLE IF NOT EXISTS evidence_snapshots (
  snapshot_id text        PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  epoch       bigint,
  payload     jsonb
);

CREATE TABLE IF NOT EXISTS promotion_decisions (
  decision_id          bigserial   PRIMARY KEY,
  rollout_plan_id      text        NOT NULL,
  stage_id             text        NOT NULL,
  epoch                bigint,
  outcome              text        NOT NULL,
  promotion_origin     text,
  decided_at           timestamptz NOT NULL DEFAULT now(),
  reason               text,
  evidence_snapshot_id text
);

CREATE TABLE IF NOT EXISTS stage_status (
  plan_id     text        NOT NULL,
  stage_id    text        NOT NULL,
  phase       text        NOT NULL,
  promoted_at timestamptz,
  PRIMARY KEY (plan_id, stage_id)
);

-- A NULL epoch marks an event written before the HA schema: a legacy event.
CREATE TABLE IF NOT EXISTS rollout_events (
  event_id    bigserial   PRIMARY KEY,
  plan_id     text        NOT NULL,
  stage_id    text        NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  epoch       bigint
);

CREATE TABLE IF NOT EXISTS outbox (
  id            bigserial   PRIMARY KEY,
  created_at    timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz
);
