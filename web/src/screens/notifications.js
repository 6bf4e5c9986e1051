// Notifications, newest first, arriving live (grouped: "Ada and 2 others liked your post"); opening the
// screen marks them read (the badge clears).
import { useEffect } from 'preact/hooks';
import * as api from '../api.js';
import { href } from '../router.js';
import { set } from '../store.js';
import { More, Screen, Time, UserLink, html, usePaged } from '../ui.js';
import * as ws from '../ws.js';

const WORDS = {
  like: 'liked your post',
  comment: 'commented on your post',
  follow: 'started following you',
  follow_request: 'asked to follow you',
  mention: 'mentioned you',
  export_ready: 'Your data export is ready to download',
  content_removed: 'A moderator removed your content',
  content_restored: 'A moderator restored your content',
};

/** The badge: `GET /notifications/unread-count` (one cheap read). */
export async function refreshUnreadNotifications() {
  set({ unreadNotifications: (await api.unreadNotificationCount()).count });
}

/** Who else a grouped notification is about, after its latest actor: "", "and Grace ", "and 3 others ". */
function others(notification) {
  if (!notification.actor) return '';
  const actors = notification.actors && notification.actors.length ? notification.actors : [notification.actor];
  const count = Math.max(notification.actor_count || 1, actors.length);
  if (count === 1) return '';
  if (count === 2 && actors.length >= 2) return `and ${actors[1].display_name || actors[1].username} `;
  return `and ${count - 1} others `;
}

function target(notification) {
  if (notification.type === 'follow_request') return '/requests';
  if (notification.type === 'export_ready') return '/settings/account';
  if (notification.post_id) return `/p/${notification.post_id}`;
  // moderation notices have no actor (no moderator is named)
  return notification.actor ? `/u/${notification.actor.username}` : '/notifications';
}

export function Notifications() {
  const paged = usePaged((cursor) => api.notifications(cursor), [], (notification) => notification.notification_id);
  useEffect(() => {
    const newest = paged.items[0];
    if (newest && !newest.read) {
      api.markNotificationsRead(newest.notification_id).then(() => set({ unreadNotifications: 0 }), () => {});
    } else if (!paged.loading) {
      set({ unreadNotifications: 0 });
    }
  }, [paged.items.length && paged.items[0].notification_id]);
  useEffect(() => {
    const offNotification = ws.on('notification', ({ notification, replaces }) =>
      paged.setItems((items) => {
        // a grouped notification comes back under a new id and `replaces` the one it grew from
        const kept = items.filter((item) => item.notification_id !== replaces);
        return kept.some((item) => item.notification_id === notification.notification_id) ? kept : [notification, ...kept];
      }),
    );
    const offMissed = ws.onMissedFrames(() => paged.reload()); // notifications pushed meanwhile never arrived
    return () => {
      offNotification();
      offMissed();
    };
  }, []);
  return html`<${Screen} title="Notifications">
    <ul class="notifications card" aria-live="polite">
      ${paged.items.map(
        (notification) => html`<li key=${notification.notification_id} class=${notification.read ? '' : 'unread'}>
          ${notification.actor && html`<${UserLink} user=${notification.actor} />`}
          <a href=${href(target(notification))}>${others(notification)}${WORDS[notification.type] || notification.type}</a>
          <small class="muted"><${Time} iso=${notification.created_at} />${notification.read ? '' : ' · new'}</small>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="Nothing yet: likes, comments, follows and mentions appear here as they happen." />
  <//>`;
}
