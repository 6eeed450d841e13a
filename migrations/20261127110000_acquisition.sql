-- Acquisition (issue 7): where a copy of each resolved track can be had, how it ranked,
-- which one a person (or the auto-approve policy) chose, how the download and the
-- verification went, and the files now in the library. Additive only (see the policy in the
-- first migration).

-- One place a copy of an item's track may be had, as the ranking left it.
CREATE TABLE candidates (
    id            uuid        PRIMARY KEY,
    item_id       uuid        NOT NULL REFERENCES items (id),
    -- "soulseek", "bandcamp", "soundcloud", "youtube", "beatport", ...
    source        text        NOT NULL,
    -- stable id within the source (peer + path, page URL): a repeated discovery finds the row
    source_key    text        NOT NULL,
    -- 1 = best downloadable candidate; NULL for buy/listen-only options and rejected ones
    rank          integer     NULL,
    score         real        NOT NULL,
    -- download | purchase | stream
    availability  text        NOT NULL,
    -- the SourceCandidate as the source reported it (untrusted text; display only)
    candidate     jsonb       NOT NULL,
    -- explainable score breakdown [{factor, points, detail}]
    factors       jsonb       NOT NULL DEFAULT '[]',
    -- the required condition that filtered it out, when one did
    rejected      text        NULL,
    state         text        NOT NULL DEFAULT 'offered' CONSTRAINT candidates_state_check CHECK (state IN (
                      'offered', 'downloading', 'downloaded', 'failed', 'rejected_file', 'filed')),
    -- why the download or the verification failed (a sentence)
    failure       text        NULL,
    -- Soulseek peer (reputation key)
    peer          text        NULL,
    -- where the download landed in staging (read back if verification must be repeated)
    staged_path   text        NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT candidates_item_source_unique UNIQUE (item_id, source, source_key)
);

CREATE INDEX candidates_item_rank_idx ON candidates (item_id, rank);

-- What the fleet learned about a peer: completed transfers, failures, stalls and fake files.
-- Feeds the ranking (a peer that sent a fake FLAC drops).
CREATE TABLE peer_reputation (
    source     text        NOT NULL,
    username   text        NOT NULL,
    completed  integer     NOT NULL DEFAULT 0,
    failures   integer     NOT NULL DEFAULT 0,
    stalls     integer     NOT NULL DEFAULT 0,
    fakes      integer     NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, username)
);

-- Files the fleet filed into the library, with what verification measured.
CREATE TABLE library_files (
    id             uuid        PRIMARY KEY,
    item_id        uuid        NOT NULL REFERENCES items (id),
    track_id       uuid        NULL REFERENCES tracks (id),
    candidate_id   uuid        NULL REFERENCES candidates (id),
    -- absolute path inside the library root
    path           text        NOT NULL,
    format         text        NULL,
    bitrate_kbps   integer     NULL,
    sample_rate_hz integer     NULL,
    bit_depth      integer     NULL,
    duration_ms    integer     NULL,
    size_bytes     bigint      NULL,
    -- the quality assessor's report (codec, cutoff, verdict, confidence)
    verify         jsonb       NOT NULL DEFAULT '{}',
    filed_at       timestamptz NOT NULL DEFAULT now(),
    -- when the scheduler wrote it into Rekordbox's master.db (NULL: not yet / not enabled)
    rekordbox_written_at timestamptz NULL,
    CONSTRAINT library_files_path_unique UNIQUE (path)
);

CREATE INDEX library_files_track_idx ON library_files (track_id);
CREATE INDEX library_files_rekordbox_pending_idx ON library_files (filed_at)
    WHERE rekordbox_written_at IS NULL;

-- What discovery looks for (the canonical track, or the line as written when research found
-- no match) and the candidate being downloaded or verified now.
ALTER TABLE items ADD COLUMN acquisition_target jsonb NULL;
ALTER TABLE items ADD COLUMN candidate_id uuid NULL;

-- Items waiting for a person, oldest first (`cratedigger review`).
CREATE INDEX items_awaiting_idx ON items (state_changed_at) WHERE state = 'awaiting_approval';
