CREATE TABLE "device_rate_buckets" (
	"device_id" uuid PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"admitted" boolean NOT NULL
);
--> statement-breakpoint
ALTER TABLE "device_rate_buckets" ADD CONSTRAINT "device_rate_buckets_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Added by hand: a rate budget is worth nothing after a crash, and an unlogged table writes no WAL for the update each device HTTP request makes.
ALTER TABLE "device_rate_buckets" SET UNLOGGED;
