// A profile: counts, follow (or request, for a private account), message, mute, block; the grid of posts;
// followers and following; the follow requests waiting for me.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href, navigate } from '../router.js';
import { get, toast } from '../store.js';
import { ReportButton } from './moderation.js';
import { Avatar, ErrorNote, Loading, MediaView, More, Screen, UserRow, html, useAction, usePaged } from '../ui.js';

function Grid({ username }) {
  const paged = usePaged((cursor) => api.userPosts(username, cursor), [username]);
  if (paged.error && paged.error.status === 403) {
    return html`<p class="card">This account is private. Follow it to see its photos.</p>`;
  }
  return html`<section aria-labelledby="grid-title">
    <h2 id="grid-title" class="visually-hidden">Posts</h2>
    <ul class="grid">
      ${paged.items.map(
        (post) => html`<li key=${post.post_id}>
          <a href=${href(`/p/${post.post_id}`)}>
            <${MediaView} media=${post.media[0]} square=${true} sizes="(min-width: 700px) 200px, 33vw"
              alt=${`Post: ${post.caption || 'no caption'}`} />
            ${post.media.length > 1 &&
            html`<span class="badge-corner">${post.media.length}<span class="visually-hidden"> items</span></span>`}
          </a>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="No posts yet." label="More posts" />
  </section>`;
}

function FollowButton({ profile, onChange }) {
  const action = useAction();
  const state = profile.followed_by_me ? 'following' : profile.follow_requested_by_me ? 'requested' : 'none';
  const click = () =>
    action.run(async () => {
      if (state === 'none') {
        const answer = await api.follow(profile.username);
        onChange({
          followed_by_me: answer.status === 'following',
          follow_requested_by_me: answer.status === 'requested',
          follower_count: profile.follower_count + (answer.status === 'following' ? 1 : 0),
        });
      } else {
        await api.unfollow(profile.username);
        onChange({
          followed_by_me: false,
          follow_requested_by_me: false,
          follower_count: profile.follower_count - (state === 'following' ? 1 : 0),
        });
      }
    });
  const label = { none: profile.is_private ? 'Request to follow' : 'Follow', following: 'Unfollow', requested: 'Cancel request' }[state];
  return html`<button type="button" class=${state === 'none' ? '' : 'secondary'} onClick=${click} disabled=${action.busy}>${label}</button>
    <${ErrorNote} error=${action.error} />`;
}

/** Whether `username` is on one of my lists (`api.muted`, `api.blocked`), read page by page (50 a page). */
async function isListed(list, username) {
  let cursor = null;
  do {
    const found = await list(cursor, 50);
    if (found.items.some((user) => user.username === username)) return true;
    cursor = found.next_cursor;
  } while (cursor);
  return false;
}

/** Whether I muted `username`: the API's User has no such flag, so my muted list is read. */
const isMuted = (username) => isListed(api.muted, username);

function MuteButton({ username }) {
  const [muted, setMuted] = useState(null); // null while unknown
  const action = useAction();
  useEffect(() => {
    let current = true;
    setMuted(null);
    isMuted(username).then(
      (value) => current && setMuted(value),
      () => current && setMuted(false),
    );
    return () => {
      current = false;
    };
  }, [username]);
  const click = () =>
    action.run(async () => {
      if (muted) {
        await api.unmute(username);
        setMuted(false);
        toast(`@${username} is unmuted.`);
      } else {
        await api.mute(username);
        setMuted(true);
        toast(`@${username} is muted: their posts and stories stay out of your feed.`);
      }
    });
  return html`<button type="button" class="secondary" onClick=${click} disabled=${action.busy || muted === null}>
      ${muted ? 'Unmute' : 'Mute'}
    </button>
    <${ErrorNote} error=${action.error} />`;
}

export function Profile({ username }) {
  const [profile, setProfile] = useState(null);
  const [error, setError] = useState(null);
  const [blocked, setBlocked] = useState(false);
  const action = useAction();
  const me = get('me');
  const mine = me && me.username === username.toLowerCase();
  useEffect(() => {
    setProfile(null);
    setError(null);
    setBlocked(false);
    let current = true;
    api.user(username).then(
      (found) => current && setProfile(found),
      async (failure) => {
        // someone I blocked is a 404 by design (API_NOTES): my blocked list tells them from nobody
        const mineBlocked = failure.status === 404 && (await isListed(api.blocked, username.toLowerCase()).catch(() => false));
        if (!current) return;
        if (mineBlocked) setBlocked(true);
        else setError(failure);
      },
    );
    return () => {
      current = false;
    };
  }, [username]);
  const change = (changes) => setProfile({ ...profile, ...changes });
  const toggleBlock = () =>
    action.run(async () => {
      if (blocked) {
        await api.unblock(username);
        setBlocked(false);
        setProfile(await api.user(username));
      } else {
        if (!window.confirm(`Block @${username}? They will not see you, and you will not see them.`)) return;
        await api.block(username);
        setBlocked(true);
      }
    });
  if (blocked) {
    return html`<${Screen} title=${`@${username}`}>
      <p class="card">You blocked @${username}. Neither of you can see the other.</p>
      <button type="button" class="secondary" onClick=${toggleBlock}>Unblock</button>
      <${ErrorNote} error=${action.error} />
    <//>`;
  }
  return html`<${Screen} title=${profile ? profile.display_name || profile.username : `@${username}`}>
    <${ErrorNote} error=${error} />
    ${!profile && !error && html`<${Loading} />`}
    ${profile &&
    html`<div class="profile-head card">
        <${Avatar} user=${profile} size=${88} />
        <div>
          <p class="muted">@${profile.username}${profile.is_private ? ' · private account' : ''}</p>
          ${profile.bio && html`<p class="bio">${profile.bio}</p>`}
          <ul class="counts">
            <li><strong>${profile.post_count}</strong> ${profile.post_count === 1 ? 'post' : 'posts'}</li>
            <li><a href=${href(`/u/${profile.username}/followers`)}><strong>${profile.follower_count}</strong> ${
              profile.follower_count === 1 ? 'follower' : 'followers'}</a></li>
            <li><a href=${href(`/u/${profile.username}/following`)}><strong>${profile.following_count}</strong> following</a></li>
          </ul>
          <div class="row-actions">
            ${mine
              ? html`<a class="button secondary" href=${href('/settings')}>Edit profile</a>
                  <a class="button secondary" href=${href('/saved')}>Saved</a>
                  <a class="button secondary" href=${href('/requests')}>Follow requests</a>`
              : html`<${FollowButton} profile=${profile} onChange=${change} />
                  <a class="button secondary" href=${href(`/messages/${profile.username}`)}>Message</a>
                  <${MuteButton} username=${profile.username} />
                  <button type="button" class="danger" onClick=${toggleBlock}>Block</button>
                  <${ReportButton} targetType="user" targetId=${profile.user_id} label="Report" />`}
          </div>
          <${ErrorNote} error=${action.error} />
        </div>
      </div>
      ${mine || !profile.is_private || profile.followed_by_me
        ? html`<${Grid} username=${profile.username} key=${`${profile.username}-${profile.followed_by_me}`} />`
        : html`<p class="card">This account is private. Follow it to see its photos.</p>`}`}
  <//>`;
}

export function People({ username, which }) {
  const load = which === 'followers' ? api.followers : api.following;
  const paged = usePaged((cursor) => load(username, cursor), [username, which]);
  const title = which === 'followers' ? `Followers of @${username}` : `@${username} follows`;
  return html`<${Screen} title=${title}>
    <ul class="users card">${paged.items.map((user) => html`<${UserRow} key=${user.user_id} user=${user} />`)}</ul>
    <${More} paged=${paged} empty=${paged.error && paged.error.status === 403 ? '' : 'Nobody yet.'} />
  <//>`;
}

export function Requests() {
  const paged = usePaged((cursor) => api.followRequests(cursor), []);
  const action = useAction();
  const answer = (user, approve) =>
    action.run(async () => {
      await api.answerFollowRequest(user.username, approve);
      paged.setItems((items) => items.filter((item) => item.user_id !== user.user_id));
    });
  return html`<${Screen} title="Follow requests">
    <ul class="users card">
      ${paged.items.map(
        (user) => html`<${UserRow} key=${user.user_id} user=${user}>
          <button type="button" onClick=${() => answer(user, true)}>Approve</button>
          <button type="button" class="secondary" onClick=${() => answer(user, false)}>Decline</button>
        <//>`,
      )}
    </ul>
    <${ErrorNote} error=${action.error} />
    <${More} paged=${paged} empty="No one is waiting. Requests arrive when your account is private." />
  <//>`;
}

export function MyProfile() {
  const me = get('me');
  useEffect(() => {
    if (me) navigate(`/u/${me.username}`);
  }, [me]);
  return html`<${Loading} />`;
}
