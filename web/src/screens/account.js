// Your data and your account (GDPR): download everything Pinhole keeps about you (an export made in the
// background, at most once a day), and delete the account (deactivated at once, purged after a grace
// period; logging in before then keeps it), and the screen right after deleting it, which can take it back.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href } from '../router.js';
import { set, toast } from '../store.js';
import { ErrorNote, Screen, Time, dateTime, html, useAction } from '../ui.js';
import { Field } from './auth.js';

const EXPORT_POLL_MS = 2000;
const EXPORT_POLL_FOR_MS = 5 * 60 * 1000;

/** The next UTC midnight after `iso`: one export may be asked for in each UTC day (API_NOTES, "privacy: export"). */
function nextUtcDay(iso) {
  const day = new Date(iso);
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1)).toISOString();
}

function ExportSection() {
  const [job, setJob] = useState(null); // GET /me/export, or null when none was asked for
  const action = useAction();
  useEffect(() => {
    let stopped = false;
    let timer = null;
    const started = Date.now();
    const poll = async () => {
      try {
        const found = await api.exportStatus();
        if (stopped) return;
        setJob(found);
        if (found.status === 'pending' && Date.now() - started < EXPORT_POLL_FOR_MS) timer = setTimeout(poll, EXPORT_POLL_MS);
      } catch (failure) {
        if (!stopped && failure.status !== 404) action.setError(failure);
      }
    };
    if (!job || job.status === 'pending') poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [job && job.requested_at]);
  const request = () =>
    action.run(async () => {
      const started = await api.requestExport();
      setJob({ status: started.status, requested_at: new Date().toISOString() });
      toast('Your export is being prepared.');
    });
  const nextAllowed = job && job.requested_at ? nextUtcDay(job.requested_at) : null;
  const waiting = Boolean(job) && (job.status === 'pending' || (nextAllowed !== null && Date.parse(nextAllowed) > Date.now()));
  return html`<section class="card form" aria-labelledby="export-title">
    <h2 id="export-title">Download your data</h2>
    <p class="muted">Your profile, posts, comments, likes, messages and the photos and videos you shared, in one archive.</p>
    ${job && job.status === 'pending' && html`<p role="status" data-testid="export-state">Preparing your export…</p>`}
    ${job && job.status === 'failed' && html`<p class="error" role="alert" data-testid="export-state">The export failed. Ask for a new one.</p>`}
    ${job && job.status === 'ready' && job.url &&
    html`<p data-testid="export-state">
      <a class="button" href=${job.url} download>Download your data</a>
      ${job.expires_at && html` <small class="muted">The link works until <${Time} iso=${job.expires_at} />.</small>`}
    </p>`}
    <${ErrorNote} error=${action.error} />
    <p><button type="button" class="secondary" onClick=${request} disabled=${action.busy || waiting}
      aria-describedby=${waiting ? 'export-next' : undefined}>Ask for an export</button></p>
    ${waiting &&
    html`<p class="muted" id="export-next">${nextAllowed
      ? `One export a day: you can ask for another from ${dateTime(nextAllowed)}.`
      : 'You can ask for another once this one is ready.'}</p>`}
  </section>`;
}

function DeleteSection({ onDeleted }) {
  const [password, setPassword] = useState('');
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      if (!window.confirm('Delete your account? It disappears now, and is deleted for good after the grace period.')) return;
      const answer = await api.deleteAccount(password);
      onDeleted(answer.purge_after);
    });
  };
  return html`<form class="card form" onSubmit=${submit} aria-labelledby="delete-title">
    <h2 id="delete-title">Delete your account</h2>
    <p class="muted">Your profile, posts and messages disappear at once. Everything is deleted for good after a grace
      period; logging in before then cancels the deletion.</p>
    <${Field} id="delete-password" label="Your password" type="password" autocomplete="current-password" required
      value=${password} onInput=${(event) => setPassword(event.currentTarget.value)} />
    <${ErrorNote} error=${action.error} />
    <button type="submit" class="danger" disabled=${action.busy || !password}>Delete my account</button>
  </form>`;
}

export function AccountData({ onDeleted }) {
  return html`<${Screen} title="Your data and account">
    <p><a href=${href('/settings')}>Back to settings</a></p>
    <${ExportSection} />
    <${DeleteSection} onDeleted=${onDeleted} />
  <//>`;
}

/** Right after `DELETE /me`: every session is signed out, but this tab still holds an access token, which
 * is enough to change one's mind (`POST /me/reactivate`) until it expires; logging in does it after that. */
export function AccountDeleted({ purgeAfter, onKept, onLeave }) {
  const action = useAction();
  useEffect(() => document.getElementById('screen-title')?.focus({ preventScroll: true }), []); // announced, as a new page
  const keep = () =>
    action.run(async () => {
      const me = await api.reactivate();
      set({ me });
      onKept();
    });
  return html`<${Screen} title="Your account is deleted">
    <div class="card form">
      <p data-testid="purge-after">Nobody can see your profile, posts or messages any more. Everything is deleted for good
        after <strong><time datetime=${purgeAfter}>${new Date(purgeAfter).toLocaleDateString(undefined, { dateStyle: 'long' })}</time></strong>.</p>
      <p>Changed your mind? Keep your account and everything comes back as it was.</p>
      <${ErrorNote} error=${action.error} />
      <div class="row-actions">
        <button type="button" onClick=${keep} disabled=${action.busy}>${action.busy ? 'Restoring…' : 'Keep my account'}</button>
        <button type="button" class="secondary" onClick=${onLeave}>Log out</button>
      </div>
      <p class="muted">Logging in again before that date keeps the account too.</p>
    </div>
  <//>`;
}
