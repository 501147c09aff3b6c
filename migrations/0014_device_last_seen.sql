CREATE TABLE "device_last_seen" (
	"device_id" uuid PRIMARY KEY NOT NULL,
	"last_seen_at" timestamp with time zone
);
--> statement-breakpoint
-- Custom part: every device's last-seen time moves here before its column goes (the index is built after, at once).
INSERT INTO "device_last_seen" ("device_id", "last_seen_at") SELECT "id", "last_seen_at" FROM "devices";--> statement-breakpoint
ALTER TABLE "device_last_seen" ADD CONSTRAINT "device_last_seen_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "device_last_seen_key_idx" ON "device_last_seen" USING btree (coalesce("last_seen_at", '-infinity'::timestamptz),"device_id");--> statement-breakpoint
-- Custom part: one row per device, made with it however it is inserted (the API, a bulk insert, SQL by hand), so
-- the list's last-seen order holds every device (never seen: null) and writes only ever update a row.
CREATE FUNCTION telehub_add_device_last_seen() RETURNS trigger
LANGUAGE plpgsql AS $rows$
BEGIN
  INSERT INTO device_last_seen (device_id) SELECT id FROM inserted_devices;
  RETURN NULL;
END
$rows$;--> statement-breakpoint
CREATE TRIGGER "devices_add_last_seen" AFTER INSERT ON "devices" REFERENCING NEW TABLE AS inserted_devices
FOR EACH STATEMENT EXECUTE FUNCTION telehub_add_device_last_seen();--> statement-breakpoint
ALTER TABLE "devices" DROP COLUMN "last_seen_at";
