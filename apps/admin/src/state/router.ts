import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`#/devices/…`): the hub serves one index.html and needs no fallback for client routes. */
export type Route =
  | { page: 'overview' }
  | { page: 'devices' }
  | { page: 'device'; id: string }
  | { page: 'admin-tokens' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  // A page's own state (the device list's filters) may follow the path as a query: `#/devices?status=offline`.
  const path = hash.replace(/^#/, '').replace(/\?.*$/, '') || '/';
  if (path === '/' || path === '') return { page: 'overview' };
  if (path === '/devices') return { page: 'devices' };
  if (path === '/admin-tokens') return { page: 'admin-tokens' };
  const device = path.match(/^\/devices\/([^/?#]+)$/);
  if (device) return { page: 'device', id: decodeURIComponent(device[1]!) };
  return { page: 'not-found', path };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/';
    case 'devices':
      return '#/devices';
    case 'device':
      return `#/devices/${encodeURIComponent(route.id)}`;
    case 'admin-tokens':
      return '#/admin-tokens';
    case 'not-found':
      return `#${route.path}`;
  }
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
