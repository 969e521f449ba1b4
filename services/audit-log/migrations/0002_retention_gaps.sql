-- Offsets of a source partition that were deleted by retention before the
-- audit log read them (command-results is kept for hours; a rejection exists
-- nowhere else). The trail cannot hold what it never saw, but it must say so:
-- /audit/verify reports every row here and answers complete = false.
CREATE TABLE retention_gaps (
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    -- [from_offset, to_offset): may include transaction markers, which hold
    -- offsets but no record, so the count is an upper bound.
    from_offset bigint      NOT NULL,
    to_offset   bigint      NOT NULL CHECK (to_offset > from_offset),
    detected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, from_offset)
);
