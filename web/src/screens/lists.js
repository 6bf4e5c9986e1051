// Whom I blocked and whom I muted, each with the way back.
import * as api from '../api.js';
import { href } from '../router.js';
import { toast } from '../store.js';
import { ErrorNote, More, Screen, UserRow, html, useAction, usePaged } from '../ui.js';

/** Whom I blocked or muted, each with the way back (unblock, unmute). */
export function PeopleList({ which }) {
  const blocked = which === 'blocked';
  const paged = usePaged((cursor) => (blocked ? api.blocked(cursor) : api.muted(cursor)), [which]);
  const action = useAction();
  const undo = (user) =>
    action.run(async () => {
      await (blocked ? api.unblock(user.username) : api.unmute(user.username));
      paged.setItems((items) => items.filter((item) => item.user_id !== user.user_id));
      toast(blocked ? `@${user.username} is unblocked.` : `@${user.username} is unmuted.`);
    });
  return html`<${Screen} title=${blocked ? 'Blocked accounts' : 'Muted accounts'}>
    <p class="muted">
      ${blocked
        ? 'You and the people you block cannot see each other.'
        : 'Posts and stories of muted people stay out of your feed; they are not told, and you still follow them.'}
      <a href=${href('/settings')}> Back to settings</a>
    </p>
    <ul class="users card">
      ${paged.items.map(
        (user) => html`<${UserRow} key=${user.user_id} user=${user}>
          <button type="button" class="secondary" onClick=${() => undo(user)} disabled=${action.busy}>
            ${blocked ? 'Unblock' : 'Unmute'}<span class="visually-hidden"> @${user.username}</span>
          </button>
        <//>`,
      )}
    </ul>
    <${ErrorNote} error=${action.error} />
    <${More} paged=${paged} empty=${blocked ? 'You have not blocked anyone.' : 'You have not muted anyone.'} />
  <//>`;
}
