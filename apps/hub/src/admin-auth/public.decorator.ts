import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'telehub:public';

/** Marks a route that the admin-token guard lets through (health checks, device-authenticated routes). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
