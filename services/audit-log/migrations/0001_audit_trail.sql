-- The audit trail. Runs with search_path set to the configured schema.

-- One row per recorded Kafka record, chained per stream:
-- hash = SHA-256(prev_hash || canonical columns); see src/canonical.rs.
CREATE TABLE audit_records (
    stream_id       uuid        NOT NULL,
    -- Gapless per stream: 1, 2, 3, ... in the order the records were appended.
    position        bigint      NOT NULL CHECK (position >= 1),
    stream_kind     text        NOT NULL CHECK (stream_kind IN ('account', 'transfer')),
    -- The event's stream sequence; NULL for a rejected command.
    sequence        bigint,
    -- The event id, or the command id of a rejected command.
    event_id        uuid        NOT NULL,
    record_type     text        NOT NULL,
    payload         jsonb       NOT NULL,
    kafka_topic     text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea       NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (stream_id, position),
    CONSTRAINT audit_records_event_id_key UNIQUE (event_id),
    CONSTRAINT audit_records_source_key UNIQUE (kafka_topic, kafka_partition, kafka_offset)
);

-- Where each chain ends. Appenders lock a stream's head (SELECT ... FOR
-- UPDATE) before extending it, so two instances appending to one chain (a
-- rejection arrives on another partition than the account's events)
-- serialise; verify also checks that every chain ends at its head, which
-- exposes a deleted tail.
CREATE TABLE stream_heads (
    stream_id     uuid   PRIMARY KEY,
    stream_kind   text   NOT NULL,
    last_position bigint NOT NULL,
    last_hash     bytea  NOT NULL
);

-- The consumer's position, written in the same transaction as the records
-- it covers (exactly-once sink); Kafka-committed offsets are never used.
CREATE TABLE consumer_offsets (
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    next_offset bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);

-- Append-only, enforced by the database whoever connects.
CREATE FUNCTION audit_records_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_records is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the audit trail can only be appended to';
END;
$$;

CREATE TRIGGER audit_records_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_refuse_change();

CREATE TRIGGER audit_records_no_truncate
    BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_records_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_records FROM PUBLIC;
