CREATE TABLE "device_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" uuid,
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_latest" (
	"device_id" uuid NOT NULL,
	"metric" text NOT NULL,
	"time" timestamp with time zone NOT NULL,
	"value" double precision NOT NULL,
	CONSTRAINT "device_latest_device_id_metric_pk" PRIMARY KEY("device_id","metric")
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "online" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "connected_node" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "connected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "disconnected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "disconnect_reason" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "transport" text;--> statement-breakpoint
CREATE INDEX "device_events_device_time_idx" ON "device_events" USING btree ("device_id","time" DESC NULLS FIRST);