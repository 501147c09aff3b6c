CREATE TABLE "commands" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"name" text NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"send_count" integer DEFAULT 0 NOT NULL,
	"result" jsonb,
	"error" text,
	"transitions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "commands_status_check" CHECK ("commands"."status" IN ('queued','sent','delivered','succeeded','failed','expired','cancelled'))
);
--> statement-breakpoint
ALTER TABLE "commands" ADD CONSTRAINT "commands_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "commands_device_idempotency_key_idx" ON "commands" USING btree ("device_id","idempotency_key") WHERE "commands"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "commands_device_id_idx" ON "commands" USING btree ("device_id","id");--> statement-breakpoint
CREATE INDEX "commands_pending_idx" ON "commands" USING btree ("device_id","id") WHERE "commands"."status" IN ('queued','sent');--> statement-breakpoint
CREATE INDEX "commands_open_expires_idx" ON "commands" USING btree ("expires_at") WHERE "commands"."status" IN ('queued','sent','delivered');