-- Tokens made before roles existed could do everything: they become admins. The default only fills those
-- rows and is dropped at once, so every new token states its role.
ALTER TABLE "admin_tokens" ADD COLUMN "role" text DEFAULT 'admin' NOT NULL;--> statement-breakpoint
ALTER TABLE "admin_tokens" ALTER COLUMN "role" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "admin_tokens" ADD COLUMN "source" text;--> statement-breakpoint
-- The hub named its tokens by where they came from: 'environment' (TELEHUB_ADMIN_TOKEN), 'initial' (first start).
UPDATE "admin_tokens" SET "source" = CASE "name" WHEN 'environment' THEN 'environment' WHEN 'initial' THEN 'bootstrap' ELSE 'api' END;--> statement-breakpoint
ALTER TABLE "admin_tokens" ALTER COLUMN "source" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "admin_tokens" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "admin_tokens" ADD CONSTRAINT "admin_tokens_role_check" CHECK ("admin_tokens"."role" IN ('viewer','operator','admin'));--> statement-breakpoint
ALTER TABLE "admin_tokens" ADD CONSTRAINT "admin_tokens_source_check" CHECK ("admin_tokens"."source" IN ('environment','bootstrap','api','cli'));
