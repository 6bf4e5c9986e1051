// A post as the feed, a tag page, a profile and the post screen show it: media, like (optimistic),
// comments link, save to a collection.
import { useEffect, useState } from 'preact/hooks';
import * as api from './api.js';
import { href } from './router.js';
import { ErrorNote, MediaView, RichText, Time, UserLink, html, plural } from './ui.js';

function Carousel({ post, eager }) {
  const [index, setIndex] = useState(0);
  const count = post.media.length;
  const alt = (position) => `Photo ${position + 1} of ${count} by ${post.author.username}${post.caption ? `: ${post.caption}` : ''}`;
  if (count === 1) return html`<${MediaView} media=${post.media[0]} alt=${alt(0)} eager=${eager} />`;
  return html`<div class="carousel" role="group" aria-roledescription="carousel" aria-label=${`${count} items`}>
    <${MediaView} media=${post.media[index]} alt=${alt(index)} eager=${eager} key=${post.media[index].media_id} />
    <div class="carousel-controls">
      <button type="button" class="secondary" onClick=${() => setIndex((index + count - 1) % count)} aria-label="Previous item">‹</button>
      <span aria-live="polite">${index + 1} / ${count}</span>
      <button type="button" class="secondary" onClick=${() => setIndex((index + 1) % count)} aria-label="Next item">›</button>
    </div>
  </div>`;
}

function SaveControl({ post, onChange }) {
  const [open, setOpen] = useState(false);
  const [collection, setCollection] = useState('');
  const [error, setError] = useState(null);
  const toggle = async (name) => {
    setError(null);
    const saving = !post.saved_by_me || Boolean(name);
    onChange({ saved_by_me: saving });
    try {
      if (saving) await api.save(post.post_id, name || undefined);
      else await api.unsave(post.post_id);
      setOpen(false);
    } catch (failure) {
      onChange({ saved_by_me: post.saved_by_me });
      setError(failure);
    }
  };
  const field = `collection-${post.post_id}`;
  return html`<span class="save">
    <button type="button" class="icon" aria-pressed=${post.saved_by_me ? 'true' : 'false'} onClick=${() => toggle()}>
      ${post.saved_by_me ? '★ Saved' : '☆ Save'}
    </button>
    <button type="button" class="icon" aria-expanded=${open ? 'true' : 'false'} onClick=${() => setOpen(!open)}>Save to…</button>
    ${open &&
    html`<form class="inline-form" onSubmit=${(event) => {
      event.preventDefault();
      if (collection.trim()) toggle(collection.trim());
    }}>
      <label for=${field}>Collection</label>
      <input id=${field} value=${collection} onInput=${(event) => setCollection(event.currentTarget.value)} maxLength="50" />
      <button type="submit">Save</button>
    </form>`}
    <${ErrorNote} error=${error} />
  </span>`;
}

/** A post not (or no longer) published, as its author reads it: a failed one with its media's reasons. */
function statusInWords(post) {
  if (post.status === 'failed') {
    const reasons = [...new Set(post.media.filter((media) => media.status === 'rejected' && media.reason).map((media) => media.reason))];
    return `This post could not be published${reasons.length ? `: ${reasons.join(' ')}` : '.'}`;
  }
  return (
    {
      pending: 'This post is still being processed.',
      in_review: 'This post is being reviewed by a moderator: only you can see it.',
      removed: 'A moderator removed this post: only you can see it.',
    }[post.status] || `This post is not published (${post.status}).`
  );
}

export function PostCard({ post: initial, eager = false, headingLevel = 2 }) {
  const [post, setPost] = useState(initial);
  const [error, setError] = useState(null);
  useEffect(() => setPost(initial), [initial]); // a refreshed list brings fresh counts
  const change = (changes) => setPost((current) => ({ ...current, ...changes }));
  const toggleLike = async () => {
    const before = post;
    const liking = !post.liked_by_me;
    setError(null);
    change({ liked_by_me: liking, like_count: post.like_count + (liking ? 1 : -1) });
    try {
      const answer = liking ? await api.like(post.post_id) : await api.unlike(post.post_id);
      change({ liked_by_me: answer.liked, like_count: answer.like_count });
    } catch (failure) {
      setPost(before);
      setError(failure);
    }
  };
  const Heading = `h${headingLevel}`;
  return html`<article class="post" aria-label=${`Post by ${post.author.username}`} data-post-id=${post.post_id}>
    <header class="post-head">
      <${Heading} class="visually-hidden">Post by ${post.author.display_name || post.author.username}<//>
      <${UserLink} user=${post.author} />
      <a class="muted" href=${href(`/p/${post.post_id}`)}><${Time} iso=${post.created_at} /></a>
    </header>
    ${post.status !== 'published' && html`<p class="status-note" role="status">${statusInWords(post)}</p>`}
    <${Carousel} post=${post} eager=${eager} />
    <div class="post-actions">
      <button type="button" class="icon like" aria-pressed=${post.liked_by_me ? 'true' : 'false'} onClick=${toggleLike}>
        ${post.liked_by_me ? '♥' : '♡'} <span class="visually-hidden">Like</span>
      </button>
      <span class="like-count">${plural(post.like_count, 'like')}</span>
      <a href=${href(`/p/${post.post_id}`)}>${plural(post.comment_count, 'comment')}</a>
      <${SaveControl} post=${post} onChange=${change} />
    </div>
    <${ErrorNote} error=${error} />
    ${post.caption &&
    html`<p class="caption">
      <strong>${post.author.username}</strong> <${RichText} text=${post.caption} />
      ${post.edited_at && html` <small class="muted edited" title=${new Date(post.edited_at).toLocaleString()}>(edited)</small>`}
    </p>`}
  </article>`;
}
