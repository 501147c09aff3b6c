import { SetMetadata } from '@nestjs/common';

export const BODY_LIMIT = 'telehub:body-limit';

/** Which limit a route's body has: admin routes TELEHUB_MAX_REQUEST_BYTES, bulk provisioning its own. */
export type BodyLimit = 'admin' | 'bulk';

/** The route takes bulk bodies (thousands of devices): TELEHUB_BULK_MAX_REQUEST_BYTES instead of the admin limit. */
export const BulkBody = () => SetMetadata(BODY_LIMIT, 'bulk' satisfies BodyLimit);
