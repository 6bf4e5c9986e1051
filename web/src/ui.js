// Shared pieces of every screen: media with srcset and blurhash, avatars, errors, paging.
import { decode } from 'blurhash';
import { html } from 'htm/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { href } from './router.js';

export { html };

/** A field of the API as the person knows it on the screen. */
const FIELD_NAMES = {
  username: 'Username',
  email: 'E-mail',
  password: 'Password',
  current_password: 'Current password',
  new_password: 'New password',
  display_name: 'Name',
  bio: 'Bio',
  caption: 'Caption',
  text: 'Text',
  q: 'Search',
  code: 'Code',
  note: 'Note',
  title: 'Title',
  collection: 'Collection',
};

/** What the person can do about one `details` entry of a 422: the server's words are pydantic's ("String should
 * match pattern '^[A-Za-z0-9._]{3,30}$'"), written for developers, so the common kinds are said again in words. */
export function detailInWords(detail) {
  const field = (detail.field || '').split('.').pop();
  const name = FIELD_NAMES[field] || field.replace(/_/g, ' ');
  const limit = /(\d+)/.exec(detail.message || '');
  let words = detail.message;
  if (detail.type === 'string_pattern_mismatch') {
    words =
      {
        username: 'Use letters, digits, . and _ (3–30 characters, a letter or digit among them), with no . first, last or twice in a row.',
        email: 'Enter a valid e-mail address, like name@example.com.',
        code: 'Enter the 6-digit code.',
      }[field] || 'Use ordinary characters, on one line where one line is asked for.';
  } else if (detail.type === 'string_too_long' && limit) {
    words = `At most ${limit[1]} characters.`;
  } else if (detail.type === 'string_too_short' && limit) {
    words = limit[1] === '1' ? 'This cannot be empty.' : `At least ${limit[1]} characters.`;
  } else if (detail.type === 'missing') {
    words = 'This is needed.';
  }
  return name ? `${name.charAt(0).toUpperCase()}${name.slice(1)}: ${words}` : words;
}

export function ErrorNote({ error, id }) {
  if (!error) return null;
  const details = (error.details || []).filter((detail) => detail && detail.message);
  return html`<div class="error" role="alert" id=${id}>
    <p>${error.message || String(error)}</p>
    ${details.length > 0 &&
    html`<ul>
      ${details.map((detail) => html`<li>${detailInWords(detail)}</li>`)}
    </ul>`}
  </div>`;
}

export function Screen({ title, children, wide = false, actions = null }) {
  useEffect(() => {
    document.title = `${title} · Pinhole`;
  }, [title]);
  return html`<section class=${wide ? 'screen wide' : 'screen'} aria-labelledby="screen-title">
    <div class="screen-head">
      <h1 id="screen-title" tabindex="-1">${title}</h1>
      ${actions}
    </div>
    ${children}
  </section>`;
}

export function Loading({ label = 'Loading…' }) {
  return html`<p class="muted" role="status">${label}</p>`;
}

export function Avatar({ user, size = 40 }) {
  const initial = (user.display_name || user.username || '?').trim().charAt(0).toUpperCase();
  if (user.avatar && user.avatar.renditions) {
    // the square crops (48, 150, 320 px), WebP first, the browser picks by the density it needs
    const { webp, fallback } = srcsets(user.avatar.renditions, { square: true });
    return html`<picture class="avatar-picture">
      ${webp && html`<source type="image/webp" srcset=${webp} sizes=${`${size}px`} />`}
      <img class="avatar" src=${user.avatar.url} srcset=${fallback || undefined} sizes=${`${size}px`} width=${size}
        height=${size} alt="" loading="lazy" decoding="async" />
    </picture>`;
  }
  if (user.avatar_url) {
    return html`<img class="avatar" src=${user.avatar_url} width=${size} height=${size} alt="" loading="lazy" />`;
  }
  return html`<span class="avatar initials" style=${{ width: `${size}px`, height: `${size}px` }} aria-hidden="true"
    >${initial}</span
  >`;
}

export function UserLink({ user }) {
  return html`<a class="user-link" href=${href(`/u/${user.username}`)}>
    <${Avatar} user=${user} size=${32} />
    <span><strong>${user.display_name || user.username}</strong> <span class="muted">@${user.username}</span></span>
  </a>`;
}

export function UserRow({ user, children }) {
  return html`<li class="user-row"><${UserLink} user=${user} /><span class="row-actions">${children}</span></li>`;
}

export function timeAgo(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return 'just now';
  const units = [
    [60 * 60 * 24 * 7, 'w'],
    [60 * 60 * 24, 'd'],
    [60 * 60, 'h'],
    [60, 'm'],
  ];
  for (const [size, unit] of units) if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
  return 'just now';
}

/** A length of time in words, rounded to its largest unit: "18 hours", "7 days", "1 minute". */
export function durationInWords(seconds) {
  const units = [
    [60 * 60 * 24, 'day'],
    [60 * 60, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const whole = Math.max(1, Math.round(seconds));
  for (const [size, unit] of units) {
    if (whole >= size) {
      const count = Math.round(whole / size);
      return plural(count, unit);
    }
  }
  return plural(whole, 'second');
}

/** "1 post", "2 posts": a count and its noun, in the plural unless it is one. */
export function plural(count, noun, nouns = `${noun}s`) {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** A moment ahead, as a date and a time: "14 Dec, 06:10". */
export function dateTime(iso) {
  return new Date(iso).toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** A past moment as "3h"; a future one (an expiry) as its date and "in 7 days", never "just now" (a minute ahead
 * is a clock a little fast, still "just now"). */
export function Time({ iso }) {
  const ahead = (Date.parse(iso) - Date.now()) / 1000;
  const shown = ahead > 60 ? `${dateTime(iso)} (in ${durationInWords(ahead)})` : timeAgo(iso);
  return html`<time datetime=${iso} title=${new Date(iso).toLocaleString()}>${shown}</time>`;
}

export function Blurhash({ hash }) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!hash || !canvas.current) return;
    try {
      const pixels = decode(hash, 32, 32);
      const context = canvas.current.getContext('2d');
      const image = context.createImageData(32, 32);
      image.data.set(pixels);
      context.putImageData(image, 0, 0);
    } catch {
      // a malformed hash leaves the neutral background
    }
  }, [hash]);
  return html`<canvas class="blurhash" width="32" height="32" ref=${canvas} aria-hidden="true"></canvas>`;
}

/** `{webp, fallback, src}` srcsets of an image's renditions (crops like `thumb` only when asked; a
 * video's still frames: `poster`, and `thumb` in a grid). */
export function srcsets(renditions, { square = false, video = false } = {}) {
  const wanted = (name) =>
    (video ? name.startsWith('poster') || (square && name.startsWith('thumb')) : !name.startsWith('poster')) &&
    (square || !name.startsWith('thumb'));
  const entries = Object.entries(renditions || {}).filter(([name, r]) => r.content_type.startsWith('image/') && wanted(name));
  const set = (type) =>
    entries
      .filter(([, r]) => (r.content_type === 'image/webp') === (type === 'webp'))
      .sort(([, a], [, b]) => a.width - b.width)
      .map(([, r]) => `${r.url} ${r.width}w`)
      .join(', ');
  const fallbacks = entries.filter(([, r]) => r.content_type !== 'image/webp').sort(([, a], [, b]) => a.width - b.width);
  const src = fallbacks.length ? fallbacks[fallbacks.length - 1][1].url : entries.length ? entries[0][1].url : null;
  return { webp: set('webp'), fallback: set('jpeg'), src };
}

/** One media item through its life: pending (a box), blurhash, then the picture or the video. */
export function MediaView({ media, alt = '', sizes = '(min-width: 700px) 600px, 100vw', square = false, eager = false }) {
  const [loaded, setLoaded] = useState(false);
  const width = square ? 1 : media.width || 1;
  const height = square ? 1 : media.height || 1;
  const box = { aspectRatio: `${width} / ${height}` };
  const state = media.status === 'ready' ? (loaded ? 'ready' : 'loading') : media.status;
  let content = null;
  if (media.status === 'rejected') {
    content = html`<p class="media-note">Could not be used: ${media.reason || 'rejected'}</p>`;
  } else if (media.status === 'pending') {
    content = html`<p class="media-note" role="status">Processing…</p>`;
  } else if (media.type === 'video' && !square) {
    const video = (media.renditions || {}).video;
    const poster = srcsets(media.renditions, { video: true }).src;
    content = video
      ? html`<video controls playsinline preload="metadata" poster=${poster} width=${media.width} height=${media.height}
          onLoadedMetadata=${() => setLoaded(true)} aria-label=${alt || 'Video'}>
          <source src=${video.url} type=${video.content_type} />
        </video>`
      : null;
  } else {
    const { webp, fallback, src } = srcsets(media.renditions, { square, video: media.type === 'video' });
    content = html`<picture>
      ${webp && html`<source type="image/webp" srcset=${webp} sizes=${sizes} />`}
      <img src=${src} srcset=${fallback || undefined} sizes=${sizes} width=${square ? 300 : media.width}
        height=${square ? 300 : media.height} alt=${alt} loading=${eager ? 'eager' : 'lazy'} decoding="async"
        onLoad=${() => setLoaded(true)} />
    </picture>`;
  }
  return html`<div class=${`media media-${state}${square ? ' square' : ''}`} style=${box} data-state=${state}>
    ${media.blurhash && state !== 'ready' && html`<${Blurhash} hash=${media.blurhash} />`}
    ${content}
  </div>`;
}

/** A cursor-paged list: `load(cursor)` returns `{items, next_cursor}`. With `keyOf` (an item's id), items a screen
 * adds live (`setItems`) while the first page loads are kept above it, unless the page holds them already: the page
 * was read before they existed, and their push will not come again; a later page never repeats an item shown. */
export function usePaged(load, deps, keyOf = null) {
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState(null);
  const generation = useRef(0);
  const busy = useRef(false);
  // set the moment a page fails (a ref, not state: the scroll observer may fire before the error is rendered)
  const failed = useRef(false);
  const shown = useRef(items);
  shown.current = items;
  const fetchPage = useCallback(
    async (from, reset) => {
      if (busy.current && !reset) return;
      busy.current = true;
      failed.current = false;
      const mine = ++generation.current;
      const before = new Set(shown.current);
      setLoading(true);
      setError(null);
      try {
        const page = await load(from);
        if (mine !== generation.current) return;
        setItems((previous) => {
          if (!reset) {
            if (!keyOf) return [...previous, ...page.items];
            const shownKeys = new Set(previous.map(keyOf));
            return [...previous, ...page.items.filter((item) => !shownKeys.has(keyOf(item)))];
          }
          if (!keyOf) return page.items;
          const onPage = new Set(page.items.map(keyOf));
          const arrived = previous.filter((item) => !before.has(item) && !onPage.has(keyOf(item)));
          return [...arrived, ...page.items];
        });
        setCursor(page.next_cursor || null);
        setDone(!page.next_cursor);
      } catch (failure) {
        if (mine === generation.current) {
          failed.current = true;
          setError(failure);
        }
      } finally {
        if (mine === generation.current) {
          busy.current = false;
          setLoading(false);
        }
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    deps,
  );
  useEffect(() => {
    setItems([]);
    setDone(false);
    fetchPage(null, true);
  }, [fetchPage]);
  return {
    items,
    setItems,
    done,
    loading,
    error,
    // scrolled into view: never after a failure, which waits for `retry`
    more: () => !done && !busy.current && !failed.current && fetchPage(cursor, cursor === null),
    // no cursor yet (the first page failed): the retry is the first page again, merged as a reload is
    retry: () => !busy.current && fetchPage(cursor, cursor === null),
    reload: () => fetchPage(null, true),
  };
}

/** The end of a paged list: loads the next page when scrolled into view, or by its button; after an error, only by
 * its button ("Try again"). */
export function More({ paged, empty = 'Nothing here yet.', label = 'Load more' }) {
  const sentinel = useRef(null);
  useEffect(() => {
    // after a failure the list waits for the button: the sentinel is still in view, and loading again by itself
    // would ask again and again, as fast as the server answers
    if (paged.done || paged.error || !sentinel.current || !('IntersectionObserver' in window)) return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) paged.more();
    });
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [paged.done, paged.items.length, paged.loading, paged.error]);
  return html`<div class="more" ref=${sentinel}>
    <${ErrorNote} error=${paged.error} />
    ${paged.loading && html`<${Loading} />`}
    ${!paged.loading && paged.done && !paged.items.length && !paged.error && html`<p class="muted">${empty}</p>`}
    ${!paged.loading && !paged.done && html`<button type="button" class="secondary" onClick=${paged.error ? paged.retry : paged.more}>${paged.error ? 'Try again' : label}</button>`}
  </div>`;
}

/** Runs an action, showing its error (the envelope's message) until the next try. */
export function useAction() {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (action) => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (failure) {
      setError(failure);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, busy, run, setError };
}

/** Caption text with #tags and @mentions as links. */
export function RichText({ text }) {
  const parts = [];
  const pattern = /([#@])([\p{L}\p{N}_.]+)/gu;
  let last = 0;
  for (const found of text.matchAll(pattern)) {
    if (found.index > last) parts.push(text.slice(last, found.index));
    const word = found[2].replace(/\.+$/, '');
    const target = found[1] === '#' ? `/tags/${encodeURIComponent(word.toLowerCase())}` : `/u/${word.toLowerCase()}`;
    parts.push(html`<a href=${href(target)}>${found[1]}${word}</a>`);
    parts.push(found[2].slice(word.length));
    last = found.index + found[0].length;
  }
  parts.push(text.slice(last));
  return html`<span>${parts}</span>`;
}
