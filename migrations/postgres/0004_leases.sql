-- As on SQLite (migrations/0009_leases.sql). Work that one herald process at a time may do, held by lease (the Matrix sync
-- loop): a holder renews its lease before `expires_at`; after that anyone may take it.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    -- When the current holder took it (kept across renewals).
    since      BIGINT NOT NULL
);

-- Chat events herald has answered, so that no process answers one twice (a new leader
-- replaying what the old one already answered). Kept for a week.
CREATE TABLE answered_events (
    platform    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX answered_events_by_age ON answered_events (answered_at);
