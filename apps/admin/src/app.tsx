import { useEffect, useState } from 'preact/hooks';
import { AppShell } from './components/app-shell.js';
import { Toasts } from './components/toasts.js';
import { DevicePage } from './pages/device/device-page.js';
import { DevicesPage } from './pages/devices/devices-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { HubContext, type HubSession, openHubSession } from './state/hub-context.js';
import { href, type Route, useRoute } from './state/router.js';
import { adminToken, signOut } from './state/session.js';
import { useStore } from './state/store.js';

export function App() {
  const token = useStore(adminToken);
  const [session, setSession] = useState<HubSession | null>(null);

  useEffect(() => {
    if (!token) {
      setSession(null);
      return;
    }
    const opened = openHubSession(token, (reason) => signOut(reason));
    setSession(opened);
    return () => opened.dispose();
  }, [token]);

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
    case 'not-found':
      return 'Not found';
  }
}
