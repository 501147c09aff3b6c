import { z } from 'zod';
import { AdminRoleSchema } from './admin-roles.js';
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from './json-safety.js';
import { parseRfc3339 } from './rfc3339.js';

/**
 * Where an admin token came from: `environment` (TELEHUB_ADMIN_TOKEN; replaced when the variable changes),
 * `bootstrap` (made on the first start), `api` (POST /api/v1/admin-tokens), `cli` (`npm run admin`).
 */
export const ADMIN_TOKEN_SOURCES = ['environment', 'bootstrap', 'api', 'cli'] as const;
export const AdminTokenSourceSchema = z.enum(ADMIN_TOKEN_SOURCES).meta({ id: 'AdminTokenSource' });
export type AdminTokenSource = z.infer<typeof AdminTokenSourceSchema>;

export const ADMIN_TOKEN_LIMITS = {
  nameMaxLength: 100,
  /** Ten years: a longer-lived token is better made without an expiry, on purpose. */
  maxLifetimeSeconds: 10 * 365 * 24 * 3600,
} as const;

// Unicode category Cc: C0 and C1 controls and DEL (a name is shown in terminals and tables).
const CONTROL_CHARACTERS = /\p{Cc}/u;

export const AdminTokenNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(ADMIN_TOKEN_LIMITS.nameMaxLength)
  .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
  .refine((name) => !CONTROL_CHARACTERS.test(name), 'must not contain control characters')
  .describe('Says what the token is for, e.g. "wall display" or "ci"; unique among tokens not revoked');

export const CreateAdminTokenRequestSchema = z
  .object({
    name: AdminTokenNameSchema,
    role: AdminRoleSchema,
    expiresInSeconds: z
      .number()
      .int()
      .positive()
      .max(ADMIN_TOKEN_LIMITS.maxLifetimeSeconds)
      .optional()
      .describe('The token stops working this many seconds from now'),
    expiresAt: z
      .string()
      .refine((text) => parseRfc3339(text) !== undefined, 'must be an RFC 3339 time like 2027-01-31T12:00:00Z')
      .optional()
      .describe('The token stops working at this RFC 3339 time'),
  })
  .strict()
  .refine((request) => request.expiresInSeconds === undefined || request.expiresAt === undefined, {
    message: 'give expiresInSeconds or expiresAt, not both',
    path: ['expiresAt'],
  })
  .describe('Without expiresInSeconds or expiresAt the token does not expire')
  .meta({ id: 'CreateAdminTokenRequest' });
export type CreateAdminTokenRequest = z.infer<typeof CreateAdminTokenRequestSchema>;

export const AdminTokenIdParamSchema = z.string().uuid({ message: 'admin token id must be a UUID' });
export const AdminTokenParamsSchema = z.object({ tokenId: AdminTokenIdParamSchema.describe('Admin token id') });

export const AdminTokenInfoSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    hint: z.string().describe('Non-secret: the prefix and last characters, to tell tokens apart.'),
    role: AdminRoleSchema,
    source: AdminTokenSourceSchema,
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    active: z.boolean().describe('Neither revoked nor expired'),
  })
  .meta({ id: 'AdminTokenInfo' });
export type AdminTokenInfo = z.infer<typeof AdminTokenInfoSchema>;

export const IssuedAdminTokenSchema = AdminTokenInfoSchema.extend({
  token: z.string().describe('The secret, shown this once.'),
}).meta({ id: 'IssuedAdminToken' });
export type IssuedAdminToken = z.infer<typeof IssuedAdminTokenSchema>;

/** Who the bearer of the request's admin token is. */
export const AdminIdentitySchema = z
  .object({
    id: z.string().uuid().describe('The admin token id'),
    name: z.string(),
    role: AdminRoleSchema,
    source: AdminTokenSourceSchema,
    expiresAt: z.string().nullable(),
  })
  .meta({ id: 'AdminIdentity' });
export type AdminIdentity = z.infer<typeof AdminIdentitySchema>;
