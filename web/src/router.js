// Hash routes (#/u/ada): the app is static files, so no server needs rewriting rules for deep links.
import { useEffect, useState } from 'preact/hooks';

export function currentPath() {
  return window.location.hash.replace(/^#/, '') || '/';
}

export function navigate(path) {
  window.location.hash = path;
}

export function href(path) {
  return `#${path}`;
}

/** The first route whose pattern (`/u/:username`) matches the path, with its decoded parameters. */
export function match(routes, path) {
  const [pathname] = path.split('?');
  const parts = pathname.split('/').filter(Boolean);
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    const ok = pattern.every((segment, index) => {
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = decodeURIComponent(parts[index]);
        return true;
      }
      return segment === parts[index];
    });
    if (ok) return { route, params };
  }
  return null;
}

export function usePath() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const listener = () => setPath(currentPath());
    window.addEventListener('hashchange', listener);
    return () => window.removeEventListener('hashchange', listener);
  }, []);
  return path;
}
