import { z } from 'zod';
import { DeviceParamsSchema } from './device.schemas.js';

export const TOKEN_PREFIX = { device: 'thd_', admin: 'tha_' } as const;

export const IssueTokenRequestSchema = z
  .object({
    /** When the new token stops working; omit for no expiry. */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    /**
     * Rotation without downtime: the device's other active tokens expire this many seconds from now
     * (0 revokes them at once). Omit to leave them as they are.
     */
    expireOthersInSeconds: z
      .number()
      .int()
      .min(0)
      .max(365 * 24 * 3600)
      .optional(),
  })
  .strict()
  .meta({ id: 'IssueTokenRequest' });
export type IssueTokenRequest = z.infer<typeof IssueTokenRequestSchema>;

export const TokenIdParamSchema = z.string().uuid({ message: 'token id must be a UUID' });
export const DeviceTokenParamsSchema = DeviceParamsSchema.extend({ tokenId: TokenIdParamSchema.describe('Token id') });

export const DeviceTokenInfoSchema = z
  .object({
    id: z.string().uuid(),
    hint: z.string().describe('Non-secret: the prefix and last characters, to tell tokens apart.'),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'DeviceTokenInfo' });
export type DeviceTokenInfo = z.infer<typeof DeviceTokenInfoSchema>;

export const IssuedDeviceTokenSchema = DeviceTokenInfoSchema.extend({
  token: z.string().describe('Shown once.'),
}).meta({ id: 'IssuedDeviceToken' });
export type IssuedDeviceToken = z.infer<typeof IssuedDeviceTokenSchema>;
