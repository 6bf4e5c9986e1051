// Safety: reporting a post, comment or person (anyone), my reports, and the moderators' screens — the queue
// of cases (most urgent first), one case with its reports and the actions, and the audit log. The server
// decides who is a moderator (`cognito:groups` of the access token); the app only hides the link.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href } from '../router.js';
import { toast } from '../store.js';
import { ErrorNote, Loading, MediaView, More, Screen, Time, UserLink, html, useAction, usePaged } from '../ui.js';

export const REASONS = [
  ['spam', 'Spam'],
  ['nudity', 'Nudity or sexual content'],
  ['harassment', 'Harassment or bullying'],
  ['violence', 'Violence'],
  ['hate', 'Hate speech'],
  ['self_harm', 'Self-harm'],
  ['intellectual_property', 'Intellectual property'],
  ['other', 'Something else'],
];
const REASON = Object.fromEntries(REASONS);
const NOTE_MAX = 1000;

/** "Report" and, once opened, its form: a reason (required) and a note for the moderators. */
export function ReportButton({ targetType, targetId, label = 'Report', onOpen = () => {} }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [done, setDone] = useState(false);
  const action = useAction();
  const id = `report-${targetType}-${targetId}`.replace(/[^A-Za-z0-9_-]/g, '-');
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      await api.report({ target_type: targetType, target_id: targetId, reason, ...(note.trim() ? { note: note.trim() } : {}) });
      setOpen(false);
      setDone(true);
      toast('Thank you. The moderators will look at it.');
    });
  };
  if (done) return html`<span class="muted" role="status">Reported</span>`;
  if (!open) {
    return html`<button type="button" class="secondary" aria-expanded="false" onClick=${() => {
      setOpen(true);
      onOpen();
    }}>${label}</button>`;
  }
  return html`<form class="card form report-form" onSubmit=${submit} aria-labelledby=${`${id}-title`}>
    <h2 id=${`${id}-title`}>Report this ${targetType}</h2>
    <fieldset>
      <legend>Why?</legend>
      ${REASONS.map(
        ([value, text]) => html`<div class="check" key=${value}>
          <input type="radio" id=${`${id}-${value}`} name=${`${id}-reason`} value=${value} checked=${reason === value} required
            onChange=${() => setReason(value)} />
          <label for=${`${id}-${value}`}>${text}</label>
        </div>`,
      )}
    </fieldset>
    <div class="field">
      <label for=${`${id}-note`}>Anything the moderators should know (optional)</label>
      <textarea id=${`${id}-note`} rows="2" maxLength=${NOTE_MAX} value=${note} onInput=${(event) => setNote(event.currentTarget.value)}></textarea>
    </div>
    <${ErrorNote} error=${action.error} />
    <div class="row-actions">
      <button type="submit" disabled=${action.busy || !reason}>Send report</button>
      <button type="button" class="secondary" onClick=${() => setOpen(false)}>Cancel</button>
    </div>
  </form>`;
}

export function MyReports() {
  const paged = usePaged((cursor) => api.myReports(cursor), []);
  return html`<${Screen} title="My reports">
    <p><a href=${href('/settings')}>Back to settings</a></p>
    <ul class="card reports">
      ${paged.items.map(
        (report) => html`<li key=${report.report_id}>
          <strong>${REASON[report.reason] || report.reason}</strong> · a ${report.target_type} ·
          <span data-status=${report.status}>${{ open: 'waiting for a moderator', actioned: 'action taken', dismissed: 'no action needed' }[report.status] || report.status}</span>
          <small class="muted"> · <${Time} iso=${report.created_at} /></small>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="You have not reported anything." />
  <//>`;
}

function Reasons({ reasons }) {
  return Object.entries(reasons || {})
    .map(([reason, count]) => `${REASON[reason] || reason} × ${count}`)
    .join(', ');
}

export function ModerationQueue() {
  const paged = usePaged((cursor) => api.moderationQueue(cursor), []);
  return html`<${Screen} title="Moderation" actions=${html`<a class="button secondary" href=${href('/moderation/log')}>Audit log</a>`}>
    <ul class="card cases">
      ${paged.items.map(
        (item) => html`<li key=${item.case_id}>
          <a href=${href(`/moderation/cases/${item.case_id}`)}>
            A ${item.target_type}${item.author ? ` by @${item.author.username}` : ''}: ${item.report_count} report${item.report_count === 1 ? '' : 's'}
          </a>
          <span class="muted"> · ${item.status} · severity ${item.severity} · <${Reasons} reasons=${item.reasons} />
            ${item.labels.length ? ` · screening: ${item.labels.map((label) => label.name).join(', ')}` : ''}</span>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="Nothing to review." />
  <//>`;
}

/** What a case is about, as the target is now (even removed or held). A post has a list of media; a story, and a
 * photo message, one. */
function Target({ kind, target }) {
  if (!target) return html`<p class="muted">The ${kind} was deleted.</p>`;
  if (kind === 'user') return html`<p><${UserLink} user=${target} /></p>`;
  const text = target.caption ?? target.text ?? '';
  return html`<div class="case-target">
    ${target.status && html`<p class="muted">Status: <strong>${target.status}</strong></p>`}
    ${[].concat(target.media ?? []).slice(0, 1).map(
      (media) => html`<${MediaView} key=${media.media_id} media=${media} alt=${`The reported ${kind}`} sizes="(min-width: 700px) 400px, 90vw" />`,
    )}
    ${text && html`<blockquote>${text}</blockquote>`}
  </div>`;
}

const ACTIONS = {
  remove: 'Remove',
  restore: 'Restore',
  dismiss: 'Dismiss',
  suspend_user: 'Suspend the author',
  unsuspend_user: 'Lift the suspension',
};

export function ModerationCase({ caseId }) {
  const [found, setFound] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState('');
  const action = useAction();
  useEffect(() => {
    api.moderationCase(caseId).then(setFound, setError);
  }, [caseId]);
  const act = (name) =>
    action.run(async () => {
      setFound(await api.moderationAction(caseId, name, note.trim()));
      setNote('');
      toast(`${ACTIONS[name]}: done.`);
    });
  return html`<${Screen} title="Case">
    <p><a href=${href('/moderation')}>Back to the queue</a></p>
    <${ErrorNote} error=${error} />
    ${!found && !error && html`<${Loading} />`}
    ${found &&
    html`<section class="card" aria-labelledby="case-target-title">
        <h2 id="case-target-title">The ${found.target_type}${found.author ? html` by <${UserLink} user=${found.author} />` : ''}</h2>
        <p class="muted" data-testid="case-status">Case ${found.status}${found.last_action ? ` (last action: ${found.last_action})` : ''}${found.author_suspended ? ' · author suspended' : ''}</p>
        <${Target} kind=${found.target_type} target=${found.target} />
      </section>
      <section class="card" aria-labelledby="case-reports-title">
        <h2 id="case-reports-title">Reports</h2>
        <ul class="reports">
          ${found.reports.map(
            (report) => html`<li key=${report.report_id}>
              <strong>${REASON[report.reason] || report.reason}</strong>
              ${report.reporter ? html` from @${report.reporter.username}` : ''} · ${report.status}
              <small class="muted"> · <${Time} iso=${report.created_at} /></small>
              ${report.note && html`<p>${report.note}</p>`}
            </li>`,
          )}
        </ul>
      </section>
      <form class="card form" onSubmit=${(event) => event.preventDefault()} aria-labelledby="case-actions-title">
        <h2 id="case-actions-title">Decide</h2>
        <div class="field">
          <label for="case-note">Why (kept in the audit log; sent to the author with a removal)</label>
          <textarea id="case-note" rows="2" maxLength=${NOTE_MAX} required value=${note} onInput=${(event) => setNote(event.currentTarget.value)}></textarea>
        </div>
        <${ErrorNote} error=${action.error} />
        <div class="row-actions">
          ${Object.entries(ACTIONS).map(
            ([name, text]) => html`<button type="button" key=${name} class=${name === 'remove' || name === 'suspend_user' ? 'danger' : 'secondary'}
              disabled=${action.busy || !note.trim()} onClick=${() => act(name)}>${text}</button>`,
          )}
        </div>
      </form>`}
  <//>`;
}

export function ModerationLog() {
  const paged = usePaged((cursor) => api.moderationLog(cursor), []);
  return html`<${Screen} title="Audit log">
    <p><a href=${href('/moderation')}>Back to the queue</a></p>
    <ul class="card log">
      ${paged.items.map(
        (entry, index) => html`<li key=${`${entry.case_id}-${entry.at}-${index}`}>
          <strong>${ACTIONS[entry.action] || entry.action}</strong> by @${entry.moderator.username} on a ${entry.target.type}:
          “${entry.note}” <small class="muted"><${Time} iso=${entry.at} /></small>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="No decisions yet." />
  <//>`;
}
