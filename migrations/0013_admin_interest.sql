CREATE TABLE "admin_interest" (
	"instance_id" uuid NOT NULL,
	"device_id" uuid,
	"points" boolean NOT NULL,
	"events" boolean NOT NULL
);
--> statement-breakpoint
ALTER TABLE "admin_interest" ADD CONSTRAINT "admin_interest_instance_id_hub_nodes_instance_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."hub_nodes"("instance_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admin_interest_instance_idx" ON "admin_interest" USING btree ("instance_id");