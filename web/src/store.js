// App-wide state every screen may read: who I am, the unread badges, and a short status message.
import { useEffect, useState } from 'preact/hooks';

const state = { me: null, deletion: null, unreadMessages: 0, unreadNotifications: 0, toast: null };
const listeners = new Set();

export function get(key) {
  return state[key];
}

export function set(changes) {
  Object.assign(state, changes);
  listeners.forEach((listener) => listener());
}

export function update(key, change) {
  set({ [key]: change(state[key]) });
}

/** A hook: re-renders the component when `key` changes. */
export function useStore(key) {
  const [value, setValue] = useState(state[key]);
  useEffect(() => {
    const listener = () => setValue(state[key]);
    listeners.add(listener);
    listener();
    return () => listeners.delete(listener);
  }, [key]);
  return value;
}

let toastTimer = null;
export function toast(message) {
  clearTimeout(toastTimer);
  set({ toast: message });
  toastTimer = setTimeout(() => set({ toast: null }), 4000);
}
