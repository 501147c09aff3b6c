import { useEffect, useState } from 'preact/hooks';
import { ApiClient } from './api/api-client.js';
import { AppShell } from './components/app-shell.js';
import { Toasts } from './components/toasts.js';
import { AdminTokensPage } from './pages/admin-tokens/admin-tokens-page.js';
import { DevicePage } from './pages/device/device-page.js';
import { DevicesPage } from './pages/devices/devices-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { HubContext, type HubSession, openHubSession } from './state/hub-context.js';
import { href, type Route, useRoute } from './state/router.js';
import { adminIdentity, adminToken, setIdentity, signOut } from './state/session.js';
import { useStore } from './state/store.js';

export function App() {
  const token = useStore(adminToken);
  const identity = useStore(adminIdentity);
  const [session, setSession] = useState<HubSession | null>(null);

  // A tab signed in before the dashboard kept who the token belongs to: ask the hub once.
  useEffect(() => {
    if (!token || identity) return;
    let cancelled = false;
    new ApiClient(token)
      .me()
      .then((me) => !cancelled && setIdentity(me))
      .catch(() => !cancelled && signOut('Sign in again to continue.'));
    return () => {
      cancelled = true;
    };
  }, [token, identity]);

  useEffect(() => {
    if (!token || !identity) {
      setSession(null);
      return;
    }
    const opened = openHubSession(token, identity, (reason) => signOut(reason));
    setSession(opened);
    return () => opened.dispose();
  }, [token, identity]);

  return (
    <>
      {token && session ? (
        <HubContext.Provider value={session}>
          <SignedIn />
        </HubContext.Provider>
      ) : token ? null : (
        <SignInPage />
      )}
      <Toasts />
    </>
  );
}

function SignedIn() {
  const route = useRoute();
  useEffect(() => {
    document.title = `${titleOf(route)} · telehub`;
  }, [route]);
  return (
    <AppShell route={route}>
      <Page route={route} />
    </AppShell>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'devices':
      return <DevicesPage />;
    case 'device':
      return <DevicePage key={route.id} id={route.id} />;
    case 'admin-tokens':
      return <AdminTokensPage />;
    case 'not-found':
      return (
        <div class="empty-state">
          <h3>Nothing here</h3>
          <p>
            <code>{route.path}</code> is not a page of the dashboard.
          </p>
          <a class="button" href={href({ page: 'overview' })}>
            Overview
          </a>
        </div>
      );
  }
}

function titleOf(route: Route): string {
  switch (route.page) {
    case 'overview':
      return 'Overview';
    case 'devices':
      return 'Devices';
    case 'device':
      return 'Device';
    case 'admin-tokens':
      return 'Admin tokens';
    case 'not-found':
      return 'Not found';
  }
}
