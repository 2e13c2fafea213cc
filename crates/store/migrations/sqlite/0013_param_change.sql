-- A new value for a district parameter is proposed by one account and applied
-- by another with the publish permission (maker ≠ checker), like a policy version.
CREATE TABLE param_change (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL REFERENCES policy_param (name),
    from_date   TEXT NOT NULL,
    value       INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'applied', 'discarded')),
    proposed_by INTEGER NOT NULL REFERENCES account (id),
    proposed_at TEXT NOT NULL,
    decided_by  INTEGER REFERENCES account (id),
    decided_at  TEXT,
    reason      TEXT,
    CHECK (status <> 'applied' OR decided_by <> proposed_by)
);
CREATE INDEX param_change_open ON param_change (name) WHERE status = 'proposed';
