import { Store } from './store.js';

/** sessionStorage: the token lives as long as the tab, survives a reload, and is gone when the tab closes. */
const TOKEN_KEY = 'telehub.adminToken';

function readToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: sign in again after a reload
  }
}

export const adminToken = new Store<string | null>(readToken());

/** Why the last session ended, shown on the sign-in page. */
export const signOutReason = new Store<string | null>(null);

export function signIn(token: string): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // kept in memory only
  }
  signOutReason.set(null);
  adminToken.set(token);
}

export function signOut(reason: string | null = null): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
  signOutReason.set(reason);
  adminToken.set(null);
}
