-- Volunteer self-registration, waiting for a community or street worker's decision.
CREATE TABLE volunteer_application (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    phone_cipher  BLOB NOT NULL,
    phone_bidx    BLOB NOT NULL,
    phone_masked  TEXT NOT NULL,
    email         TEXT,
    id_cipher     BLOB NOT NULL,
    id_bidx       BLOB NOT NULL,
    id_masked     TEXT NOT NULL,
    community     TEXT NOT NULL REFERENCES division (code),
    skills        TEXT NOT NULL,
    availability  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reason        TEXT,
    decided_by    INTEGER REFERENCES account (id),
    decided_at    TEXT,
    account_id    INTEGER REFERENCES account (id),
    created_at    TEXT NOT NULL
);
-- One live application per phone: a rejected applicant may apply again.
CREATE UNIQUE INDEX volunteer_application_phone ON volunteer_application (phone_bidx) WHERE status <> 'rejected';
CREATE INDEX volunteer_application_community ON volunteer_application (community, status);

-- Named sequences, e.g. volunteer numbers.
CREATE TABLE counter (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Second factor: the TOTP secret (encrypted), and single-use recovery codes.
ALTER TABLE account ADD COLUMN totp_cipher BLOB;
ALTER TABLE account ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session ADD COLUMN second_factor_pending INTEGER NOT NULL DEFAULT 0;
CREATE TABLE recovery_code (
    account_id INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (account_id, code_hash)
);
