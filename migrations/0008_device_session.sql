-- The details of a device's current (else last) session: protocol level, client id, keep-alive, remote address.
-- Not indexed, so presence writes stay HOT.
ALTER TABLE "devices" ADD COLUMN "session" jsonb;
