ALTER TABLE "devices" ADD COLUMN "active" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "inactivity_timeout_seconds" integer;--> statement-breakpoint
CREATE INDEX "devices_name_id_idx" ON "devices" USING btree ("name","id");--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_inactivity_timeout_check" CHECK ("devices"."inactivity_timeout_seconds" > 0);--> statement-breakpoint
-- Custom part (not from the drizzle schema). Device rows are rewritten every few seconds by presence and
-- last-seen writes; room on each page keeps those updates HOT (no new index entries), now that devices carry
-- more indexes. It applies to pages written from now on.
ALTER TABLE "devices" SET (fillfactor = 90);--> statement-breakpoint
-- Substring search on names and ids ("-04" anywhere in a name, a piece of an id) is indexed with pg_trgm where
-- the server has it (contrib; trusted since PostgreSQL 13, so a database owner may create it). Where it cannot be
-- created, search still answers, scanning the table; this function makes the indexes later, once it can be:
-- SELECT telehub_create_search_indexes(); (true when the indexes exist). The hub says so at start-up.
CREATE OR REPLACE FUNCTION telehub_create_search_indexes() RETURNS boolean
LANGUAGE plpgsql AS $search$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX IF NOT EXISTS devices_name_trgm_idx ON devices USING gin (name gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS devices_id_trgm_idx ON devices USING gin ((id::text) gin_trgm_ops);
  EXCEPTION WHEN OTHERS THEN
    -- A failed step rolls back to this block only: the migration goes on without the indexes.
    RAISE NOTICE 'device search is not indexed: pg_trgm could not be used (%)', SQLERRM;
    RETURN false;
  END;
  RETURN true;
END
$search$;--> statement-breakpoint
SELECT telehub_create_search_indexes();
