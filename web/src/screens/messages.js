// Direct messages, live over the WebSocket: the conversation list with unread counts, and a thread.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href } from '../router.js';
import { get, set } from '../store.js';
import { Avatar, ErrorNote, Loading, More, Screen, Time, html, usePaged } from '../ui.js';
import * as ws from '../ws.js';

/** Unread messages over every conversation (the badge), from the first pages of the list. */
export async function refreshUnreadMessages() {
  let total = 0;
  let cursor = null;
  for (let pages = 0; pages < 3; pages += 1) {
    const page = await api.conversations(cursor);
    total += page.items.reduce((sum, conversation) => sum + conversation.unread_count, 0);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  set({ unreadMessages: total });
}

export function Conversations() {
  const paged = usePaged((cursor) => api.conversations(cursor), []);
  useEffect(
    () =>
      ws.on('message', ({ message }) => {
        const mine = message.sender.user_id === get('me').user_id;
        paged.setItems((items) => {
          const existing = items.find((item) => item.conversation_id === message.conversation_id);
          const others = items.filter((item) => item.conversation_id !== message.conversation_id);
          if (!existing) {
            if (mine) {
              paged.reload();
              return items;
            }
            return [{ conversation_id: message.conversation_id, with: message.sender, last_message: message, unread_count: 1 }, ...others];
          }
          return [{ ...existing, last_message: message, unread_count: existing.unread_count + (mine ? 0 : 1) }, ...others];
        });
      }),
    [],
  );
  return html`<${Screen} title="Messages">
    <ul class="conversations card">
      ${paged.items.map(
        (conversation) => html`<li key=${conversation.conversation_id}>
          <a href=${href(`/messages/${conversation.with.username}`)} class="conversation">
            <${Avatar} user=${conversation.with} />
            <span class="conversation-text">
              <strong>${conversation.with.display_name || conversation.with.username}</strong>
              <span class="muted">@${conversation.with.username}</span>
              <span class="muted last">${conversation.last_message ? conversation.last_message.text : ''}</span>
            </span>
            ${conversation.unread_count > 0 &&
            html`<span class="badge">${conversation.unread_count}<span class="visually-hidden"> unread</span></span>`}
          </a>
        </li>`,
      )}
    </ul>
    <${More} paged=${paged} empty="No conversations yet. Open someone's profile and press Message." />
  <//>`;
}

async function findConversation(username) {
  let cursor = null;
  do {
    const page = await api.conversations(cursor);
    const found = page.items.find((item) => item.with.username === username);
    if (found) return found;
    cursor = page.next_cursor;
  } while (cursor);
  return null;
}

export function Thread({ username }) {
  const [conversationId, setConversationId] = useState(null);
  const [messages, setMessages] = useState(null); // oldest first
  const [older, setOlder] = useState(null); // cursor of older messages
  const [text, setText] = useState('');
  const [error, setError] = useState(null);
  const [seenUpTo, setSeenUpTo] = useState(null);
  const [peer, setPeer] = useState(null);
  const idRef = useRef(null);
  const list = useRef(null);
  const me = get('me');

  const markRead = (id, upTo) => {
    if (!id || !upTo) return;
    api.markConversationRead(id, upTo).then(refreshUnreadMessages, () => {});
  };
  useEffect(() => {
    let current = true;
    set({ openThread: username });
    setMessages(null);
    setError(null);
    (async () => {
      try {
        const [found, profile] = await Promise.all([findConversation(username), api.user(username)]);
        if (!current) return;
        setPeer(profile);
        if (!found) {
          setMessages((items) => items || []);
          return;
        }
        idRef.current = found.conversation_id;
        setConversationId(found.conversation_id);
        const page = await api.messages(found.conversation_id);
        if (!current) return;
        const loaded = [...page.items].reverse();
        // keep what arrived or was sent while the page loaded
        setMessages((items) => [...loaded, ...(items || []).filter((item) => !loaded.some((old) => old.message_id === item.message_id))]);
        setOlder(page.next_cursor);
        if (page.items.length) markRead(found.conversation_id, page.items[0].message_id);
      } catch (failure) {
        if (current) setError(failure);
      }
    })();
    return () => {
      current = false;
      set({ openThread: null });
    };
  }, [username]);

  useEffect(() => {
    const offMessage = ws.on('message', ({ message }) => {
      const fromPeer = message.sender.username === username;
      const ours = idRef.current ? message.conversation_id === idRef.current : fromPeer;
      if (!ours) return;
      if (!idRef.current) {
        idRef.current = message.conversation_id;
        setConversationId(message.conversation_id);
      }
      setMessages((items) => (items && !items.some((item) => item.message_id === message.message_id) ? [...items, message] : items));
      if (fromPeer) markRead(message.conversation_id, message.message_id);
    });
    const offAck = ws.on('ack', ({ client_id: clientId, message }) => {
      if (!idRef.current) {
        idRef.current = message.conversation_id;
        setConversationId(message.conversation_id);
      }
      setMessages((items) => (items || []).map((item) => (item.client_id === clientId ? message : item)));
    });
    const offRead = ws.on('read', (frame) => {
      if (frame.conversation_id === idRef.current && frame.by === username) setSeenUpTo(frame.up_to);
    });
    const offError = ws.on('error', (frame) => {
      if (frame.client_id) {
        setMessages((items) => (items || []).filter((item) => item.client_id !== frame.client_id));
        setError(new Error(frame.message));
      }
    });
    return () => [offMessage, offAck, offRead, offError].forEach((off) => off());
  }, [username]);

  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [messages && messages.length]);

  const send = async (event) => {
    event.preventDefault();
    const body = text.trim();
    if (!body) return;
    const clientId = crypto.randomUUID ? crypto.randomUUID() : String(Date.now());
    setText('');
    setError(null);
    const pending = { message_id: `pending-${clientId}`, client_id: clientId, sender: me, text: body, created_at: new Date().toISOString(), pending: true };
    setMessages((items) => [...(items || []), pending]);
    if (ws.send({ action: 'sendMessage', to: username, text: body, client_id: clientId })) return;
    try {
      const message = await api.sendMessage(username, body, clientId);
      idRef.current = message.conversation_id;
      setConversationId(message.conversation_id);
      setMessages((items) => items.map((item) => (item.client_id === clientId ? message : item)));
    } catch (failure) {
      setMessages((items) => items.filter((item) => item.client_id !== clientId));
      setText(body);
      setError(failure);
    }
  };
  const loadOlder = async () => {
    try {
      const page = await api.messages(conversationId, older);
      setMessages((items) => [...[...page.items].reverse(), ...items]);
      setOlder(page.next_cursor);
    } catch (failure) {
      setError(failure);
    }
  };
  const lastMine = messages && [...messages].reverse().find((item) => item.sender.user_id === me.user_id && !item.pending);
  return html`<${Screen} title=${`Chat with @${username}`}>
    ${peer && html`<p><a href=${href(`/u/${username}`)}>View profile</a></p>`}
    ${!messages && !error && html`<${Loading} />`}
    ${older && html`<button type="button" class="secondary" onClick=${loadOlder}>Older messages</button>`}
    <ol class="thread card" ref=${list} aria-label="Messages" aria-live="polite">
      ${(messages || []).map(
        (message) => html`<li key=${message.message_id} class=${message.sender.user_id === me.user_id ? 'mine' : 'theirs'}
          data-pending=${message.pending ? 'true' : undefined}>
          <span class="visually-hidden">${message.sender.username}: </span>
          <p>${message.text}</p>
          <small class="muted">${message.pending ? 'Sending…' : html`<${Time} iso=${message.created_at} />`}
            ${lastMine && message.message_id === lastMine.message_id && seenUpTo && seenUpTo >= message.message_id ? ' · Seen' : ''}</small>
        </li>`,
      )}
      ${messages && !messages.length && html`<li class="muted">Say hello to @${username}.</li>`}
    </ol>
    <${ErrorNote} error=${error} />
    <form class="inline-form composer" onSubmit=${send}>
      <label for="message-text" class="visually-hidden">Message</label>
      <input id="message-text" value=${text} maxLength="2000" placeholder="Message…" autocomplete="off"
        onInput=${(event) => setText(event.currentTarget.value)} />
      <button type="submit" disabled=${!text.trim() || messages === null}>Send</button>
    </form>
  <//>`;
}
