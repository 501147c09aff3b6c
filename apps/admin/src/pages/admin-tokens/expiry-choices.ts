import type { CreateAdminTokenRequest } from '@telehub/contracts';

const DAY = 86_400;

/** How long a new admin token works: a few usual spans, never, or until a chosen day. */
export const EXPIRY_CHOICES = [
  { key: '30d', label: '30 days', seconds: 30 * DAY },
  { key: '7d', label: '7 days', seconds: 7 * DAY },
  { key: '1d', label: '1 day', seconds: DAY },
  { key: '90d', label: '90 days', seconds: 90 * DAY },
  { key: '1y', label: '1 year', seconds: 365 * DAY },
  { key: 'never', label: 'Never', seconds: undefined },
  { key: 'date', label: 'On a date…', seconds: undefined },
] as const;

export type ExpiryKey = (typeof EXPIRY_CHOICES)[number]['key'];

/**
 * The request's expiry fields for a choice; `date` (yyyy-mm-dd from a date input) means the end of that day
 * on this computer's clock. Undefined when a date is needed and missing.
 */
export function expiryFields(
  key: ExpiryKey,
  date: string,
): Pick<CreateAdminTokenRequest, 'expiresInSeconds' | 'expiresAt'> | undefined {
  if (key === 'never') return {};
  if (key === 'date') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
    const end = new Date(`${date}T23:59:59`);
    return Number.isNaN(end.getTime()) ? undefined : { expiresAt: end.toISOString() };
  }
  const choice = EXPIRY_CHOICES.find((item) => item.key === key);
  return { expiresInSeconds: choice?.seconds };
}
