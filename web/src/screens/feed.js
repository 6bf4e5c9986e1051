// Home: the stories tray, then the feed — ranked (the default) or latest first (`#/?order=chronological`) —
// loading the next page by cursor as you scroll. Posts seen on screen are reported (`POST /feed/seen`, in
// batches) so the ranking moves them down; "caught up" marks where the last 48 hours end.
import { useEffect, useRef } from 'preact/hooks';
import * as api from '../api.js';
import { PostCard } from '../post_card.js';
import { currentPath, href } from '../router.js';
import { More, Screen, html, usePaged } from '../ui.js';
import { StoriesTray } from './stories.js';

const SEEN_BATCH = 50; // the most POST /feed/seen takes at once
const SEEN_FLUSH_MS = 3000;
const SEEN_RATIO = 0.5; // half the post on screen counts as seen

function feedOrder() {
  const query = new URLSearchParams(currentPath().split('?')[1] || '');
  return query.get('order') === 'chronological' ? 'chronological' : 'ranked';
}

/** Reports the posts that were at least half on screen, in batches, once each. */
function useSeenReporter() {
  const pending = useRef(new Set());
  const reported = useRef(new Set());
  const observer = useRef(null);
  useEffect(() => {
    const flush = () => {
      const ids = [...pending.current].slice(0, SEEN_BATCH);
      if (!ids.length) return;
      ids.forEach((id) => {
        pending.current.delete(id);
        reported.current.add(id);
      });
      api.markFeedSeen(ids).catch(() => ids.forEach((id) => reported.current.delete(id)));
    };
    if ('IntersectionObserver' in window) {
      observer.current = new IntersectionObserver(
        (entries) =>
          entries.forEach((entry) => {
            const id = entry.target.getAttribute('data-post-id');
            if (entry.isIntersecting && id && !reported.current.has(id)) pending.current.add(id);
          }),
        { threshold: SEEN_RATIO },
      );
    }
    const timer = setInterval(flush, SEEN_FLUSH_MS);
    return () => {
      clearInterval(timer);
      flush();
      if (observer.current) observer.current.disconnect();
    };
  }, []);
  return (element) => {
    if (element && observer.current) observer.current.observe(element);
  };
}

export function Feed() {
  const order = feedOrder();
  // `caught_up` on a page: it starts past every unseen post of the last 48 hours (what it holds is older,
  // or seen). The note goes before the first such page's items.
  const caughtUpAt = useRef(null);
  const loaded = useRef(0);
  const paged = usePaged(async (cursor) => {
    if (!cursor) {
      caughtUpAt.current = null;
      loaded.current = 0;
    }
    const page = await api.feed(cursor, order);
    if (page.caught_up && caughtUpAt.current === null) caughtUpAt.current = loaded.current;
    loaded.current += page.items.length;
    return page;
  }, [order]);
  const observe = useSeenReporter();
  const articles = useRef(null);
  useEffect(() => {
    if (articles.current) articles.current.querySelectorAll('article.post').forEach(observe);
  }, [paged.items.length]);
  const actions = html`<span class="row-actions">
    <button type="button" class="secondary" onClick=${paged.reload}>Refresh</button>
    <a class="button" href=${href('/new')}>New post</a>
  </span>`;
  const tab = (value, label) =>
    html`<li><a href=${href(value === 'ranked' ? '/' : '/?order=chronological')}
      aria-current=${order === value ? 'page' : undefined}>${label}</a></li>`;
  const at = caughtUpAt.current;
  const caughtUp =
    at !== null && at <= paged.items.length && paged.items.length > 0
      ? html`<p class="caught-up" role="note" key="caught-up">
          <strong>You're all caught up.</strong>
          ${at < paged.items.length && html` <span class="muted">What follows is older, or seen.</span>`}
        </p>`
      : null;
  return html`<${Screen} title="Home" actions=${actions}>
    <${StoriesTray} />
    <nav aria-label="Feed order"><ul class="tabs">${tab('ranked', 'For you')} ${tab('chronological', 'Latest')}</ul></nav>
    <div class="feed" ref=${articles}>
      ${paged.items.map((post, index) => [
        index === at ? caughtUp : null,
        html`<${PostCard} key=${post.post_id} post=${post} eager=${index === 0} />`,
      ])}
      ${at === paged.items.length ? caughtUp : null}
    </div>
    <${More} paged=${paged} empty="Your feed is empty: follow people (Search) or share your first post." label="Load more posts" />
  <//>`;
}
