// Search for people and tags as you type; a tag's page; saved collections.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { PostCard } from '../post_card.js';
import { href } from '../router.js';
import { ErrorNote, MediaView, More, Screen, UserRow, html, usePaged } from '../ui.js';

const DEBOUNCE_MS = 250;
const QUERY_MAX = 100; // GET /search/* `q`

export function Search() {
  const [query, setQuery] = useState('');
  const [people, setPeople] = useState([]);
  const [tags, setTags] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => {
    const q = query.trim().replace(/^[#@]/, '');
    if (!q) {
      setPeople([]);
      setTags([]);
      return undefined;
    }
    let current = true;
    const timer = setTimeout(async () => {
      try {
        const [users, found] = await Promise.all([api.searchUsers(q), api.searchTags(q)]);
        if (!current) return;
        setPeople(users.items);
        setTags(found.items);
        setError(null);
      } catch (failure) {
        if (current) setError(failure);
      }
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query]);
  return html`<${Screen} title="Search">
    <form class="card form" role="search" onSubmit=${(event) => event.preventDefault()}>
      <label for="search-query">People and tags</label>
      <input id="search-query" type="search" value=${query} autocomplete="off" placeholder="Name, username or #tag"
        maxLength=${QUERY_MAX}
        onInput=${(event) => setQuery(event.currentTarget.value)} />
    </form>
    <${ErrorNote} error=${error} />
    <div class="search-results" aria-live="polite">
      ${people.length > 0 &&
      html`<section aria-labelledby="people-title" class="card">
        <h2 id="people-title">People</h2>
        <ul class="users">${people.map((user) => html`<${UserRow} key=${user.user_id} user=${user} />`)}</ul>
      </section>`}
      ${tags.length > 0 &&
      html`<section aria-labelledby="tags-title" class="card">
        <h2 id="tags-title">Tags</h2>
        <ul class="tags">
          ${tags.map(
            (tag) => html`<li key=${tag.tag}><a href=${href(`/tags/${encodeURIComponent(tag.tag)}`)}>#${tag.tag}</a>
              <span class="muted">${tag.post_count} ${tag.post_count === 1 ? 'post' : 'posts'}</span></li>`,
          )}
        </ul>
      </section>`}
      ${query.trim() && !people.length && !tags.length && !error && html`<p class="muted">No matches yet.</p>`}
    </div>
  <//>`;
}

export function TagPage({ tag }) {
  const paged = usePaged((cursor) => api.tagPosts(tag, cursor), [tag]);
  return html`<${Screen} title=${`#${tag}`}>
    <div class="feed">${paged.items.map((post) => html`<${PostCard} key=${post.post_id} post=${post} />`)}</div>
    <${More} paged=${paged} empty="No posts with this tag yet." label="More posts" />
  <//>`;
}

export function Saved({ collection }) {
  const [names, setNames] = useState(null);
  const [error, setError] = useState(null);
  const chosen = collection || 'saved';
  useEffect(() => {
    api.collections().then((answer) => setNames(answer.items), setError);
  }, []);
  const paged = usePaged((cursor) => api.saved(chosen, cursor), [chosen]);
  return html`<${Screen} title="Saved">
    <${ErrorNote} error=${error} />
    <nav aria-label="Collections" class="chips">
      ${(names || [{ name: 'saved', post_count: 0 }]).map(
        (item) => html`<a key=${item.name} href=${href(`/saved/${encodeURIComponent(item.name)}`)}
          aria-current=${item.name === chosen ? 'page' : undefined} class="chip">${item.name} (${item.post_count})</a>`,
      )}
    </nav>
    <ul class="grid">
      ${paged.items.map(
        (post) => html`<li key=${post.post_id}>
          <a href=${href(`/p/${post.post_id}`)}>
            <${MediaView} media=${post.media[0]} square=${true} sizes="(min-width: 700px) 200px, 33vw"
              alt=${`Post by ${post.author.username}: ${post.caption || 'no caption'}`} />
          </a>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="Nothing saved in this collection." />
  <//>`;
}
