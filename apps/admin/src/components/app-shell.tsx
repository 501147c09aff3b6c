import type { ComponentChildren } from 'preact';
import { useCan } from '../state/permissions.js';
import { href, type Route } from '../state/router.js';
import { signOut } from '../state/session.js';
import { useStore } from '../state/store.js';
import { setThemeChoice, type ThemeChoice, themeChoice } from '../state/theme.js';
import { ConnectionBanner, ConnectionPill } from './connection-status.js';
import { DevicesIcon, MonitorIcon, MoonIcon, OverviewIcon, ShieldIcon, SignOutIcon, SunIcon } from './icons.js';
import { Logo } from './logo.js';
import { SignedInAs } from './signed-in-as.js';

const THEMES: { choice: ThemeChoice; label: string; Icon: typeof SunIcon }[] = [
  { choice: 'system', label: 'System theme', Icon: MonitorIcon },
  { choice: 'light', label: 'Light theme', Icon: SunIcon },
  { choice: 'dark', label: 'Dark theme', Icon: MoonIcon },
];

/** Navigation (a sidebar on wide screens, a top bar on phones), the connection state, and the page. */
export function AppShell({ route, children }: { route: Route; children: ComponentChildren }) {
  const choice = useStore(themeChoice);
  const admin = useCan('admin');
  const section = route.page === 'device' ? 'devices' : route.page;
  return (
    <div class="shell">
      <aside class="sidebar">
        <a class="brand" href={href({ page: 'overview' })}>
          <Logo />
          <span>telehub</span>
        </a>
        <nav class="nav" aria-label="Main">
          <a
            class={`nav-link ${section === 'overview' ? 'active' : ''}`}
            href={href({ page: 'overview' })}
            title="Overview"
          >
            <OverviewIcon /> <span>Overview</span>
          </a>
          <a
            class={`nav-link ${section === 'devices' ? 'active' : ''}`}
            href={href({ page: 'devices' })}
            title="Devices"
          >
            <DevicesIcon /> <span>Devices</span>
          </a>
          {admin ? (
            <a
              class={`nav-link ${section === 'admin-tokens' ? 'active' : ''}`}
              href={href({ page: 'admin-tokens' })}
              title="Admin tokens"
            >
              <ShieldIcon /> <span>Admin tokens</span>
            </a>
          ) : null}
        </nav>
        <div class="sidebar-footer">
          <SignedInAs />
          <ConnectionPill />
          <div class="theme-switch">
            {THEMES.map((item) => (
              <button
                key={item.choice}
                type="button"
                aria-pressed={choice === item.choice}
                aria-label={item.label}
                title={item.label}
                class={choice === item.choice ? 'active' : ''}
                onClick={() => setThemeChoice(item.choice)}
              >
                <item.Icon size={14} />
              </button>
            ))}
          </div>
          <button type="button" class="button button-ghost button-small sign-out" onClick={() => signOut()}>
            <SignOutIcon size={14} /> <span>Sign out</span>
          </button>
        </div>
      </aside>
      <div class="main">
        <ConnectionBanner />
        <main class="page">{children}</main>
      </div>
    </div>
  );
}
