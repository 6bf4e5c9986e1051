// One post: it follows a fresh upload from pending to published, then comments (oldest first) and likes.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { PostCard } from '../post_card.js';
import { ReportButton } from './moderation.js';
import { navigate } from '../router.js';
import { get, toast } from '../store.js';
import { ErrorNote, Loading, More, RichText, Screen, Time, UserLink, UserRow, html, useAction, usePaged } from '../ui.js';

const POLL_MS = 1500;
const POLL_FOR_MS = 3 * 60 * 1000;

function progressKey(post) {
  return `${post.status}:${post.media.map((media) => `${media.status}${media.blurhash ? 'b' : ''}`).join(',')}`;
}

/** `onCounted(change)`: a comment added (+1) or deleted (-1) here, for the card's count above. */
function Comments({ post, onCounted }) {
  const paged = usePaged((cursor) => api.comments(post.post_id, cursor), [post.post_id]);
  const [text, setText] = useState('');
  const action = useAction();
  const me = get('me');
  const add = (event) => {
    event.preventDefault();
    action.run(async () => {
      const created = await api.comment(post.post_id, text.trim());
      paged.setItems((items) => [...items, created]);
      onCounted(1);
      setText('');
    });
  };
  const remove = (comment) =>
    action.run(async () => {
      await api.deleteComment(post.post_id, comment.comment_id);
      paged.setItems((items) => items.filter((item) => item.comment_id !== comment.comment_id));
      onCounted(-1);
    });
  return html`<section class="card" aria-labelledby="comments-title">
    <h2 id="comments-title">Comments</h2>
    <ul class="comments">
      ${paged.items.map(
        (comment) => html`<li key=${comment.comment_id}>
          <${UserLink} user=${comment.author} />
          <p><${RichText} text=${comment.text} /></p>
          <small class="muted"><${Time} iso=${comment.created_at} /></small>
          ${me && (comment.author.user_id === me.user_id || post.author.user_id === me.user_id) &&
          html`<button type="button" class="link" onClick=${() => remove(comment)}>Delete comment</button>`}
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="No comments yet." label="More comments" />
    <form class="inline-form" onSubmit=${add}>
      <label for="comment-text">Add a comment</label>
      <input id="comment-text" value=${text} maxLength="2200" required onInput=${(event) => setText(event.currentTarget.value)} />
      <button type="submit" disabled=${action.busy || !text.trim()}>Post</button>
    </form>
    <${ErrorNote} error=${action.error} />
  </section>`;
}

function Likers({ postId }) {
  const [open, setOpen] = useState(false);
  const paged = usePaged((cursor) => (open ? api.likes(postId, cursor) : Promise.resolve({ items: [], next_cursor: null })), [
    postId,
    open,
  ]);
  return html`<section class="card" aria-labelledby="likes-title">
    <h2 id="likes-title">Likes</h2>
    ${open
      ? html`<ul class="users">${paged.items.map((user) => html`<${UserRow} key=${user.user_id} user=${user} />`)}</ul>
          <${More} paged=${paged} empty="No likes yet." />`
      : html`<button type="button" class="secondary" onClick=${() => setOpen(true)}>Show who liked this</button>`}
  </section>`;
}

const CAPTION_MAX = 2200;

/** The author's caption edit: tags and mentions follow the new text (the server re-reads them). */
function CaptionEditor({ post, onSaved }) {
  const [open, setOpen] = useState(false);
  const [caption, setCaption] = useState(post.caption || '');
  const action = useAction();
  const save = (event) => {
    event.preventDefault();
    action.run(async () => {
      onSaved(await api.editCaption(post.post_id, caption));
      setOpen(false);
      toast('Caption saved.');
    });
  };
  if (!open) {
    return html`<button type="button" class="secondary" aria-expanded="false" onClick=${() => {
      setCaption(post.caption || '');
      setOpen(true);
    }}>Edit caption</button>`;
  }
  return html`<form class="card form" onSubmit=${save} aria-label="Edit caption">
    <div class="field">
      <label for="edit-caption">Caption</label>
      <textarea id="edit-caption" rows="3" maxLength=${CAPTION_MAX} value=${caption} aria-describedby="edit-caption-count"
        autofocus onInput=${(event) => setCaption(event.currentTarget.value)}></textarea>
      <small id="edit-caption-count" class="muted">${caption.length} / ${CAPTION_MAX}. #tags and @mentions become links.</small>
    </div>
    <${ErrorNote} error=${action.error} />
    <div class="row-actions">
      <button type="submit" disabled=${action.busy}>Save caption</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>Cancel</button>
    </div>
  </form>`;
}

export function PostScreen({ postId }) {
  const [post, setPost] = useState(null);
  const [error, setError] = useState(null);
  const action = useAction();
  useEffect(() => {
    let stopped = false;
    let timer = null;
    const started = Date.now();
    const load = async () => {
      try {
        const fresh = await api.post(postId);
        if (stopped) return;
        setPost(fresh);
        setError(null);
        if (fresh.status === 'pending' && Date.now() - started < POLL_FOR_MS) timer = setTimeout(load, POLL_MS);
      } catch (failure) {
        if (!stopped) setError(failure);
      }
    };
    load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [postId]);
  const me = get('me');
  const remove = () =>
    action.run(async () => {
      if (!window.confirm('Delete this post?')) return;
      await api.deletePost(postId);
      toast('Post deleted.');
      navigate(`/u/${me.username}`);
    });
  return html`<${Screen} title="Post">
    <${ErrorNote} error=${error} />
    ${!post && !error && html`<${Loading} />`}
    ${post &&
    html`<${PostCard} key=${progressKey(post)} post=${post} eager=${true} />
      ${post.status === 'pending' && html`<p class="muted" role="status">Processing your upload… this page updates by itself.</p>`}
      ${me && post.author.user_id === me.user_id &&
      html`<div class="row-actions author-actions">
          <${CaptionEditor} post=${post} onSaved=${setPost} />
          <button type="button" class="danger" onClick=${remove}>Delete post</button>
        </div>
        <${ErrorNote} error=${action.error} />`}
      ${me && post.author.user_id !== me.user_id && html`<div class="author-actions"><${ReportButton} targetType="post" targetId=${post.post_id} label="Report post" /></div>`}
      <${Comments} post=${post} onCounted=${(change) =>
        setPost((current) => ({ ...current, comment_count: Math.max(0, current.comment_count + change) }))} />
      <${Likers} postId=${post.post_id} />`}
  <//>`;
}
