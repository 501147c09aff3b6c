import type { AdminIdentity } from '@telehub/contracts';
import { Store } from './store.js';

/** sessionStorage: the token lives as long as the tab, survives a reload, and is gone when the tab closes. */
const TOKEN_KEY = 'telehub.adminToken';
/** Who the token belongs to (name, role, expiry): a token's role never changes, so it is kept beside it. */
const IDENTITY_KEY = 'telehub.adminIdentity';

function read(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null; // storage disabled: sign in again after a reload
  }
}

function readIdentity(): AdminIdentity | null {
  try {
    return JSON.parse(read(IDENTITY_KEY) ?? 'null') as AdminIdentity | null;
  } catch {
    return null;
  }
}

export const adminToken = new Store<string | null>(read(TOKEN_KEY));
/** Null while signed out, or after a reload from a tab signed in before identities were kept (asked again). */
export const adminIdentity = new Store<AdminIdentity | null>(adminToken.get() ? readIdentity() : null);

/** Why the last session ended, shown on the sign-in page. */
export const signOutReason = new Store<string | null>(null);

function write(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // kept in memory only
  }
}

export function setIdentity(identity: AdminIdentity): void {
  write(IDENTITY_KEY, JSON.stringify(identity));
  adminIdentity.set(identity);
}

export function signIn(token: string, identity: AdminIdentity): void {
  write(TOKEN_KEY, token);
  signOutReason.set(null);
  setIdentity(identity);
  adminToken.set(token);
}

export function signOut(reason: string | null = null): void {
  write(TOKEN_KEY, null);
  write(IDENTITY_KEY, null);
  signOutReason.set(reason);
  adminIdentity.set(null);
  adminToken.set(null);
}
