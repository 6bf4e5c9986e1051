// Settings: the profile (name, bio), privacy, and signing out.
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { get, set, toast } from '../store.js';
import { ErrorNote, Screen, html, useAction } from '../ui.js';

const BIO_MAX = 150;

export function Settings({ onSignOut }) {
  const me = get('me');
  const [displayName, setDisplayName] = useState(me.display_name || '');
  const [bio, setBio] = useState(me.bio || '');
  const [isPrivate, setPrivate] = useState(Boolean(me.is_private));
  const profile = useAction();
  const privacy = useAction();
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
  return html`<${Screen} title="Settings">
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
    </section>
    <section class="card form" aria-labelledby="session-title">
      <h2 id="session-title">Session</h2>
      <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>
    </section>
  <//>`;
}
