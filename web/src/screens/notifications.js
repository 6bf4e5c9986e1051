// Notifications, newest first, arriving live; opening the screen marks them read (the badge clears).
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
};

/** The badge: unread notifications on the first page (the API has no unread count yet). */
export async function refreshUnreadNotifications() {
  const page = await api.notifications();
  set({ unreadNotifications: page.items.filter((item) => !item.read).length });
}

function target(notification) {
  if (notification.type === 'follow_request') return '/requests';
  if (notification.type === 'export_ready') return '/settings/account';
  if (notification.post_id) return `/p/${notification.post_id}`;
  return `/u/${notification.actor.username}`;
}

export function Notifications() {
  const paged = usePaged((cursor) => api.notifications(cursor), []);
  useEffect(() => {
    const newest = paged.items[0];
    if (newest && !newest.read) {
      api.markNotificationsRead(newest.notification_id).then(() => set({ unreadNotifications: 0 }), () => {});
    } else if (!paged.loading) {
      set({ unreadNotifications: 0 });
    }
  }, [paged.items.length && paged.items[0].notification_id]);
  useEffect(
    () =>
      ws.on('notification', ({ notification }) =>
        paged.setItems((items) =>
          items.some((item) => item.notification_id === notification.notification_id) ? items : [notification, ...items],
        ),
      ),
    [],
  );
  return html`<${Screen} title="Notifications">
    <ul class="notifications card" aria-live="polite">
      ${paged.items.map(
        (notification) => html`<li key=${notification.notification_id} class=${notification.read ? '' : 'unread'}>
          <${UserLink} user=${notification.actor} />
          <a href=${href(target(notification))}>${WORDS[notification.type] || notification.type}</a>
          <small class="muted"><${Time} iso=${notification.created_at} />${notification.read ? '' : ' · new'}</small>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="Nothing yet: likes, comments, follows and mentions appear here as they happen." />
  <//>`;
}
