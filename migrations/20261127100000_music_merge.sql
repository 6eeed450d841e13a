-- Music intelligence (issue 5): what the consolidator's metadata merge stores, made
-- queryable, and the index the "catalog number + track" duplicate check needs.
--
-- ADDITIVE ONLY (see the policy in the first migration). The new columns are GENERATED from
-- columns every release already writes (`bpm`, `metadata`), so binaries of the previous
-- release keep inserting tracks unchanged and the values can never drift from their source.
-- The expressions guard on the JSON type, so a track whose metadata lacks a part (or was
-- written by an older binary) gets NULL / '[]' instead of failing the insert.

-- BPM as Rekordbox stores it (djmdContent.BPM = BPM x 100); NULL outside 20-400 BPM.
ALTER TABLE tracks ADD COLUMN rekordbox_bpm integer GENERATED ALWAYS AS (
    CASE WHEN bpm >= 20 AND bpm <= 400 THEN round(bpm::numeric * 100)::integer END
) STORED;

-- The half/double-time alternative the BPM decision kept (metadata.bpm.alternative).
ALTER TABLE tracks ADD COLUMN bpm_alternative real GENERATED ALWAYS AS (
    CASE WHEN jsonb_typeof(metadata #> '{bpm,alternative}') = 'number'
         THEN (metadata #>> '{bpm,alternative}')::real END
) STORED;

-- Camelot code of the stored key (metadata.key.camelot), for harmonic-mixing queries; the
-- `key` column holds the canonical standard spelling ("A minor").
ALTER TABLE tracks ADD COLUMN key_camelot text GENERATED ALWAYS AS (
    CASE WHEN jsonb_typeof(metadata #> '{key,camelot}') = 'string'
         THEN metadata #>> '{key,camelot}' END
) STORED;

-- Fields on which the platforms disagreed, with how each was settled (metadata.conflicts).
ALTER TABLE tracks ADD COLUMN conflicts jsonb GENERATED ALWAYS AS (
    CASE WHEN jsonb_typeof(metadata -> 'conflicts') = 'array'
         THEN metadata -> 'conflicts' ELSE '[]'::jsonb END
) STORED;

-- A field was left empty because its only readings were unusable (an unknown key, an
-- absurd BPM, a malformed ISRC): a person should look (metadata.needs_review).
ALTER TABLE tracks ADD COLUMN needs_review boolean GENERATED ALWAYS AS (
    COALESCE(metadata -> 'needs_review' = 'true'::jsonb, false)
) STORED;

CREATE INDEX tracks_needs_review_idx ON tracks (created_at) WHERE needs_review;

-- Canonical catalog number, the same as music::ids::normalize_catalog: upper case without
-- spaces, hyphens (any dash), dots or underscores, so "ANJ-CDCO-011D" = "ANJCDCO011D".
CREATE FUNCTION catalog_key(catalog text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN upper(regexp_replace(catalog, '[[:space:]._\u2010-\u2015\u2212-]', '', 'g'));

-- "Same catalog number and the same track on that release" looks candidates up by it.
CREATE INDEX tracks_catalog_key_idx ON tracks (catalog_key(catalog_number))
    WHERE catalog_number IS NOT NULL;

-- Fuzzy duplicate candidates by "blocking": the tracks that share the normalised title (the
-- second part of the dedup key "artist|title|mix") or the sorted main artists (the first
-- part) are compared with pg_trgm's similarity() and then rescored in process. A trigram
-- search over the whole library (`tracks_norm_trgm_idx`) must read the posting list of every
-- trigram of the probe, which for common words is a large share of the table: ~60 ms per
-- probe at 1,000,000 tracks (docs/benchmarks.md). The parts are stored (generated from
-- dedup_key, so older binaries keep inserting unchanged) and the indexes cover what the
-- similarity needs, so a block of several hundred tracks is read from the index alone.
ALTER TABLE tracks ADD COLUMN title_key text GENERATED ALWAYS AS (split_part(dedup_key, '|', 2)) STORED;
ALTER TABLE tracks ADD COLUMN artist_key text GENERATED ALWAYS AS (split_part(dedup_key, '|', 1)) STORED;
-- Partial on IS NOT NULL (true of every row: dedup_key is NOT NULL) so that only queries
-- filtering on the key can use them; otherwise the planner may scan them whole in place of
-- the table for unrelated queries.
CREATE INDEX tracks_title_key_idx ON tracks (title_key) INCLUDE (id, norm_artist, norm_title)
    WHERE title_key IS NOT NULL;
CREATE INDEX tracks_artist_key_idx ON tracks (artist_key) INCLUDE (id, norm_artist, norm_title)
    WHERE artist_key IS NOT NULL;
