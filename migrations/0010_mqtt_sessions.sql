CREATE TABLE "mqtt_sessions" (
	"device_id" uuid PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"expiry_interval_s" integer NOT NULL,
	"connection_id" uuid,
	"connected_instance" uuid,
	"disconnected_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"subscriptions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"unacknowledged" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mqtt_sessions_expiry_check" CHECK ("mqtt_sessions"."expiry_interval_s" > 0),
	CONSTRAINT "mqtt_sessions_held_or_expiring_check" CHECK (("mqtt_sessions"."connection_id" IS NULL) <> ("mqtt_sessions"."expires_at" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "mqtt_sessions" ADD CONSTRAINT "mqtt_sessions_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mqtt_sessions_expires_idx" ON "mqtt_sessions" USING btree ("expires_at") WHERE "mqtt_sessions"."expires_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "mqtt_sessions_instance_idx" ON "mqtt_sessions" USING btree ("connected_instance") WHERE "mqtt_sessions"."connection_id" IS NOT NULL;