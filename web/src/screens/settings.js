// Settings: the profile picture, name and bio, privacy, links to the blocked and muted lists and to account
// security, and signing out (this tab, or every device).
import { useEffect, useMemo, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href } from '../router.js';
import { groups } from '../session.js';
import { get, set, toast, useStore } from '../store.js';
import { Avatar, ErrorNote, Screen, html, useAction } from '../ui.js';

const BIO_MAX = 150;
const AVATAR_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic'];
const AVATAR_MAX_BYTES = 10 * 1024 * 1024;
const AVATAR_POLL_MS = 1000;
const AVATAR_POLL_FOR_MS = 60 * 1000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `GET /me` until the avatar upload `avatarId` is no longer pending: the resize pipeline is asynchronous. */
async function settledAvatar(avatarId) {
  const deadline = Date.now() + AVATAR_POLL_FOR_MS;
  for (;;) {
    const me = await api.me();
    const upload = me.avatar_upload;
    if (!upload || upload.avatar_id !== avatarId || upload.status !== 'pending') return me;
    if (Date.now() > deadline) throw new Error('Your picture is still being processed. Look again in a minute.');
    await sleep(AVATAR_POLL_MS);
  }
}

function AvatarEditor() {
  const me = useStore('me');
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(0);
  const [phase, setPhase] = useState('idle'); // idle | uploading | processing
  const [picks, setPicks] = useState(0); // a new file input after each upload, so it shows no stale name
  const action = useAction();
  const preview = useMemo(() => (file ? URL.createObjectURL(file) : null), [file]);
  useEffect(() => () => preview && URL.revokeObjectURL(preview), [preview]);
  const problem =
    file && !AVATAR_TYPES.includes(file.type)
      ? `${file.name} is not a JPEG, PNG, WebP or HEIC photo.`
      : file && file.size > AVATAR_MAX_BYTES
        ? 'A profile picture is at most 10 MB.'
        : null;
  const submit = (event) => {
    event.preventDefault();
    if (!file || problem) return;
    action.run(async () => {
      try {
        setPhase('uploading');
        const { upload } = await api.startAvatar(file);
        await api.upload(upload, file, setProgress);
        setPhase('processing');
        const fresh = await settledAvatar(upload.media_id);
        set({ me: { ...get('me'), ...fresh } });
        if (fresh.avatar_upload && fresh.avatar_upload.status === 'rejected') {
          throw new Error(`That picture could not be used: ${fresh.avatar_upload.reason || 'it was refused'}.`);
        }
        setFile(null);
        setProgress(0);
        setPicks((count) => count + 1);
        toast('Profile picture updated.');
      } finally {
        setPhase('idle');
      }
    });
  };
  const remove = () =>
    action.run(async () => {
      await api.removeAvatar();
      set({ me: { ...get('me'), avatar: null, avatar_url: null, avatar_upload: null } });
      toast('Profile picture removed.');
    });
  return html`<form class="card form" onSubmit=${submit} aria-labelledby="avatar-title">
    <h2 id="avatar-title">Profile picture</h2>
    <div class="avatar-edit">
      ${preview && !problem
        ? html`<img class="avatar" src=${preview} width="88" height="88" alt="Preview of your new profile picture" />`
        : html`<span data-testid="current-avatar"><${Avatar} user=${me} size=${88} /></span>`}
      <div class="field">
        <label for="avatar-file">Choose a photo</label>
        <input id="avatar-file" key=${picks} type="file" accept=${AVATAR_TYPES.join(',')} disabled=${action.busy}
          onChange=${(event) => {
            setFile(event.currentTarget.files[0] || null);
            setProgress(0);
            action.setError(null);
          }} />
      </div>
    </div>
    ${file &&
    html`<div class="field">
      <label for="avatar-progress" class="small">Upload of ${file.name}</label>
      <progress id="avatar-progress" max="1" value=${progress} aria-valuetext=${`${Math.round(progress * 100)}%`}></progress>
    </div>`}
    ${phase === 'processing' && html`<p class="muted" role="status">Processing your picture…</p>`}
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    <${ErrorNote} error=${action.error} />
    <div class="row-actions">
      <button type="submit" disabled=${!file || Boolean(problem) || action.busy}>
        ${phase === 'uploading' ? 'Uploading…' : phase === 'processing' ? 'Processing…' : 'Upload picture'}
      </button>
      ${me.avatar_url &&
      html`<button type="button" class="danger" onClick=${remove} disabled=${action.busy}>Remove picture</button>`}
    </div>
  </form>`;
}

export function Settings({ onSignOut, onSignOutEverywhere }) {
  const me = get('me');
  const [displayName, setDisplayName] = useState(me.display_name || '');
  const [bio, setBio] = useState(me.bio || '');
  const [isPrivate, setPrivate] = useState(Boolean(me.is_private));
  const profile = useAction();
  const privacy = useAction();
  const session = useAction();
  const saveProfile = (event) => {
    event.preventDefault();
    profile.run(async () => {
      set({ me: { ...get('me'), ...(await api.updateMe({ display_name: displayName.trim(), bio })) } });
      toast('Profile saved.');
    });
  };
  const changePrivacy = (value) =>
    privacy.run(async () => {
      setPrivate(value);
      try {
        set({ me: { ...get('me'), ...(await api.updateMe({ is_private: value })) } });
        toast(value ? 'Your account is private.' : 'Your account is public.');
      } catch (failure) {
        setPrivate(!value);
        throw failure;
      }
    });
  const everywhere = () =>
    session.run(async () => {
      if (!window.confirm('Sign out on every device, this one included?')) return;
      await onSignOutEverywhere();
    });
  return html`<${Screen} title="Settings">
    <${AvatarEditor} />
    <form class="card form" onSubmit=${saveProfile} aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <p class="muted">@${me.username} · ${me.email}</p>
      <div class="field">
        <label for="settings-name">Name</label>
        <input id="settings-name" value=${displayName} maxLength="64" onInput=${(event) => setDisplayName(event.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="settings-bio">Bio</label>
        <textarea id="settings-bio" rows="3" maxLength=${BIO_MAX} value=${bio} aria-describedby="bio-count"
          onInput=${(event) => setBio(event.currentTarget.value)}></textarea>
        <small id="bio-count" class="muted">${bio.length} / ${BIO_MAX}</small>
      </div>
      <${ErrorNote} error=${profile.error} />
      <button type="submit" disabled=${profile.busy}>Save profile</button>
    </form>
    <section class="card form" aria-labelledby="privacy-title">
      <h2 id="privacy-title">Privacy</h2>
      <div class="check">
        <input id="settings-private" type="checkbox" checked=${isPrivate} disabled=${privacy.busy}
          onChange=${(event) => changePrivacy(event.currentTarget.checked)} aria-describedby="private-hint" />
        <label for="settings-private">Private account</label>
      </div>
      <small id="private-hint" class="muted">Only followers you approve see your posts, followers and following.</small>
      <${ErrorNote} error=${privacy.error} />
      <ul class="links">
        <li><a href=${href('/settings/blocked')}>Blocked accounts</a></li>
        <li><a href=${href('/settings/muted')}>Muted accounts</a></li>
        <li><a href=${href('/settings/security')}>Password, e-mail and two-factor</a></li>
        <li><a href=${href('/settings/notifications')}>Notifications and devices</a></li>
        <li><a href=${href('/settings/account')}>Download your data, delete your account</a></li>
        <li><a href=${href('/settings/reports')}>My reports</a></li>
        ${groups().includes('moderators') && html`<li><a href=${href('/moderation')}>Moderation</a></li>`}
      </ul>
    </section>
    <section class="card form" aria-labelledby="session-title">
      <h2 id="session-title">Session</h2>
      <div class="row-actions">
        <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>
        <button type="button" class="danger" onClick=${everywhere} disabled=${session.busy}>Sign out everywhere</button>
      </div>
      <small class="muted">Signing out everywhere ends the sessions of every device and browser, this one included.</small>
      <${ErrorNote} error=${session.error} />
    </section>
  <//>`;
}
