-- The lead agent's memory (issue 9): the relations between artists, labels, releases and
-- sets (a set is a sync: a tracklist, playlist or chart the person handed over) and the
-- tracks the fleet resolved, derived from `tracks`, `items` and `syncs` (the consolidator
-- stays their only writer; nothing is copied, so the memory can never disagree with them),
-- plus a per-sync acquisition policy the lead sets from the person's words. Additive only
-- (see the policy in the first migration).

-- One row per resolved track with its label, release and whether the person has it: a
-- file the fleet filed (`library_files`) or a copy in an imported Rekordbox library (same
-- ISRC). `label_key` / `artist_key` are what the memory API looks up.
CREATE VIEW lead_memory_tracks AS
SELECT t.id AS track_id, t.artist, t.title, t.mix, t.isrc, t.label,
       lower(btrim(t.label)) AS label_key,
       t.album AS release, t.catalog_number, t.release_date,
       t.artist_key, t.norm_artist,
       EXISTS (SELECT 1 FROM library_files f WHERE f.track_id = t.id) AS filed,
       (t.isrc IS NOT NULL AND EXISTS (
            SELECT 1 FROM rekordbox_tracks r WHERE upper(r.isrc) = upper(t.isrc))) AS in_rekordbox,
       t.created_at
  FROM tracks t;

-- The relations as edges (subject, relation, object), one row per fact and track:
--   artist released_on label, release released_by label, track on_release release,
--   track played_in set (the sync that asked for it).
CREATE VIEW lead_memory_relations AS
SELECT 'artist'::text AS subject_kind, t.artist AS subject, 'released_on'::text AS relation,
       'label'::text AS object_kind, t.label AS object, t.id AS track_id, NULL::uuid AS sync_id
  FROM tracks t WHERE t.label IS NOT NULL
UNION ALL
SELECT 'release', t.album, 'released_by', 'label', t.label, t.id, NULL::uuid
  FROM tracks t WHERE t.label IS NOT NULL AND t.album IS NOT NULL
UNION ALL
SELECT 'track', t.artist || ' - ' || t.title, 'on_release', 'release', t.album, t.id, NULL::uuid
  FROM tracks t WHERE t.album IS NOT NULL
UNION ALL
SELECT 'track', t.artist || ' - ' || t.title, 'played_in', 'set', s.name, t.id, s.id
  FROM items i JOIN tracks t ON t.id = i.track_id JOIN syncs s ON s.id = i.sync_id;

-- "What else did this label release": tracks by label, case and surrounding spaces ignored.
CREATE INDEX tracks_label_key_idx ON tracks (lower(btrim(label))) WHERE label IS NOT NULL;

-- The acquisition policy of one sync, when the person's words made it stricter than the
-- configured one (`{"min_quality": "lossless", "formats": [...], "trusted_labels": [...],
-- "skip_owned": true}`); NULL = the configured policy. The consolidator only ever
-- tightens the configured policy with it (never loosens it, never enables auto-approval).
ALTER TABLE syncs ADD COLUMN policy jsonb NULL;
