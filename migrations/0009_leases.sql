-- Work that one herald process at a time may do, held by lease (the Matrix sync
-- loop): a holder renews its lease before `expires_at`; after that anyone may take it.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL,
    -- When the current holder took it (kept across renewals).
    since      INTEGER NOT NULL
);

-- Chat events herald has answered, so that no process answers one twice (a new leader
-- replaying what the old one already answered). Kept for a week.
CREATE TABLE answered_events (
    platform    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    answered_at INTEGER NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX answered_events_by_age ON answered_events (answered_at);
