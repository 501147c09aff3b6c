/** Why the dashboard must be built, or undefined when apps/admin/dist is current. */
export function staleReason(): string | undefined;

/** Builds apps/admin into apps/admin/dist when stale (or `force`); resolves with whether it built. */
export function buildAdminIfNeeded(options?: { force?: boolean; log?: (message: string) => void }): Promise<boolean>;
