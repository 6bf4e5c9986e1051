// Home: the stories tray, then the feed, newest first, loading the next page by cursor as you scroll.
import * as api from '../api.js';
import { PostCard } from '../post_card.js';
import { href } from '../router.js';
import { More, Screen, html, usePaged } from '../ui.js';
import { StoriesTray } from './stories.js';

export function Feed() {
  const paged = usePaged((cursor) => api.feed(cursor), []);
  const actions = html`<span class="row-actions">
    <button type="button" class="secondary" onClick=${paged.reload}>Refresh</button>
    <a class="button" href=${href('/new')}>New post</a>
  </span>`;
  return html`<${Screen} title="Home" actions=${actions}>
    <${StoriesTray} />
    <div class="feed">
      ${paged.items.map((post, index) => html`<${PostCard} key=${post.post_id} post=${post} eager=${index === 0} />`)}
    </div>
    <${More} paged=${paged} empty="Your feed is empty: follow people (Search) or share your first post." label="Load more posts" />
  <//>`;
}
