// Notification settings: which kinds of push the person's phones get, and the phones registered for it (a
// phone registers itself from the mobile app; here it can be removed).
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href } from '../router.js';
import { toast } from '../store.js';
import { ErrorNote, Loading, Screen, Time, html, useAction } from '../ui.js';

const PUSH_KINDS = [
  ['likes', 'Likes'],
  ['comments', 'Comments'],
  ['follows', 'Follows and follow requests'],
  ['mentions', 'Mentions'],
  ['messages', 'Messages'],
];

/** Which kinds of push the person's phones get, and the phones registered (a phone registers itself). */
export function NotificationSettings() {
  const [settings, setSettings] = useState(null);
  const [phones, setPhones] = useState(null);
  const [error, setError] = useState(null);
  const action = useAction();
  useEffect(() => {
    Promise.all([api.notificationSettings(), api.devices()]).then(([loaded, registered]) => {
      setSettings(loaded);
      setPhones(registered.items);
    }, setError);
  }, []);
  const change = (kind, value) =>
    action.run(async () => {
      const before = settings;
      setSettings({ ...settings, [kind]: value });
      try {
        setSettings(await api.changeNotificationSettings({ [kind]: value }));
        toast('Notification settings saved.');
      } catch (failure) {
        setSettings(before);
        throw failure;
      }
    });
  const remove = (device) =>
    action.run(async () => {
      await api.removeDevice(device.device_id);
      setPhones((items) => items.filter((item) => item.device_id !== device.device_id));
      toast('That phone no longer gets notifications.');
    });
  const platform = { apns: 'iPhone (APNs)', apns_sandbox: 'iPhone, test build (APNs sandbox)', fcm: 'Android (FCM)' };
  return html`<${Screen} title="Notifications and devices">
    <p><a href=${href('/settings')}>Back to settings</a></p>
    <${ErrorNote} error=${error} />
    ${!settings && !error && html`<${Loading} />`}
    ${settings &&
    html`<fieldset class="card form">
      <legend>Push to my phones for</legend>
      ${PUSH_KINDS.map(
        ([kind, label]) => html`<div class="check" key=${kind}>
          <input id=${`push-${kind}`} type="checkbox" checked=${settings[kind]} disabled=${action.busy}
            onChange=${(event) => change(kind, event.currentTarget.checked)} />
          <label for=${`push-${kind}`}>${label}</label>
        </div>`,
      )}
    </fieldset>`}
    ${phones &&
    html`<section class="card" aria-labelledby="devices-title">
      <h2 id="devices-title">Phones</h2>
      ${phones.length
        ? html`<ul class="users">
            ${phones.map(
              (device) => html`<li class="user-row" key=${device.device_id}>
                <span>${platform[device.platform] || device.platform} · added <${Time} iso=${device.created_at} /></span>
                <button type="button" class="secondary" onClick=${() => remove(device)} disabled=${action.busy}>
                  Remove<span class="visually-hidden"> ${platform[device.platform] || device.platform} added ${device.created_at}</span>
                </button>
              </li>`,
            )}
          </ul>`
        : html`<p class="muted">No phones yet: the Pinhole app registers a phone when you allow notifications there.</p>`}
    </section>`}
    <${ErrorNote} error=${action.error} />
  <//>`;
}
