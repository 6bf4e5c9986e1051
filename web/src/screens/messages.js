// Messages, live over the WebSocket: the conversation list (direct and group) with unread counts and mutes,
// a new group, and a thread — text, photo and video messages, typing, unsend, "Seen", mute, and a group's
// members (rename, add people, leave; the admin removes people).
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href, navigate } from '../router.js';
import { get, set, toast } from '../store.js';
import { Avatar, ErrorNote, Loading, MediaView, More, Screen, Time, html, useAction, usePaged } from '../ui.js';
import * as ws from '../ws.js';

const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOWN_FOR_MS = 5000;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic'];
const VIDEO_TYPES = ['video/mp4', 'video/quicktime'];
const VIDEO_MAX_BYTES = 200 * 1024 * 1024; // API.md "Upload"; the server answers 413 above it too
const VIDEO_MAX_SECONDS = 90; // a longer one would be rejected after its upload: say so before

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

const isGroup = (conversation) => conversation.kind === 'group';

/** A group's title, or its other members' names. */
function groupName(conversation) {
  if (conversation.title) return conversation.title;
  const me = get('me');
  const others = (conversation.members || []).filter((member) => member.user_id !== me.user_id);
  return others.map((member) => member.display_name || member.username).join(', ') || 'Group';
}

function conversationPath(conversation) {
  return isGroup(conversation) ? `/messages/c/${conversation.conversation_id}` : `/messages/${conversation.with.username}`;
}

/** One line about a message, for the list: a photo or a video, a system event, or its text. */
function preview(message) {
  if (!message) return '';
  if (message.kind === 'system') return systemText(message);
  if (message.kind === 'media') {
    const video = message.media && message.media.type === 'video';
    return `${video ? '🎬' : '📷'} ${message.text || (video ? 'Video' : 'Photo')}`;
  }
  return message.text;
}

function systemText(message) {
  const event = message.event || {};
  const who = message.sender.username;
  const names = (event.usernames || []).map((name) => `@${name}`).join(', ');
  switch (event.type) {
    case 'created':
      return `@${who} started the group${event.title ? ` “${event.title}”` : ''}`;
    case 'joined':
      return `@${who} added ${names}`;
    case 'left':
      return `@${who} left`;
    case 'removed':
      return `@${who} removed ${names}`;
    case 'title_changed':
      return event.title ? `@${who} named the group “${event.title}”` : `@${who} cleared the group's name`;
    default:
      return message.text || 'Something changed';
  }
}

export function Conversations() {
  const paged = usePaged((cursor) => api.conversations(cursor), []);
  useEffect(() => {
    const offMessage = ws.on('message', ({ message }) => {
      const mine = message.sender.user_id === get('me').user_id;
      paged.setItems((items) => {
        const existing = items.find((item) => item.conversation_id === message.conversation_id);
        const others = items.filter((item) => item.conversation_id !== message.conversation_id);
        if (!existing) {
          paged.reload(); // a conversation this list has not shown yet: the server's view of it
          return items;
        }
        return [{ ...existing, last_message: message, unread_count: existing.unread_count + (mine ? 0 : 1) }, ...others];
      });
    });
    const offConversation = ws.on('conversation', () => paged.reload());
    const offMissed = ws.onMissedFrames(() => paged.reload()); // messages pushed meanwhile never arrived
    return () => {
      offMessage();
      offConversation();
      offMissed();
    };
  }, []);
  const actions = html`<a class="button" href=${href('/messages/new-group')}>New group</a>`;
  return html`<${Screen} title="Messages" actions=${actions}>
    <ul class="conversations card">
      ${paged.items.map((conversation) => {
        const group = isGroup(conversation);
        const face = group ? (conversation.members || []).find((member) => member.user_id !== get('me').user_id) : conversation.with;
        return html`<li key=${conversation.conversation_id}>
          <a href=${href(conversationPath(conversation))} class="conversation">
            ${face ? html`<${Avatar} user=${face} />` : null}
            <span class="conversation-text">
              <strong>${group ? groupName(conversation) : conversation.with.display_name || conversation.with.username}</strong>
              <span class="muted">${group ? `group of ${(conversation.members || []).length}` : `@${conversation.with.username}`}</span>
              <span class="muted last">${preview(conversation.last_message)}</span>
            </span>
            ${conversation.muted && html`<span class="muted-mark"><span aria-hidden="true">🔕 </span>Muted</span>`}
            ${conversation.unread_count > 0 &&
            html`<span class="badge">${conversation.unread_count}<span class="visually-hidden"> unread</span></span>`}
          </a>
        </li>`;
      })}
    </ul>
    <${More} paged=${paged} empty="No conversations yet. Open someone's profile and press Message, or start a group." />
  <//>`;
}

/** "ada, @grace bo" → ['ada', 'grace', 'bo']: what people type in a members field. */
function parseUsernames(text) {
  return text
    .split(/[\s,]+/)
    .map((name) => name.replace(/^@/, '').trim().toLowerCase())
    .filter(Boolean);
}

export function NewGroup() {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      const created = await api.createConversation(parseUsernames(members), title.trim() || undefined);
      navigate(`/messages/c/${created.conversation_id}`);
    });
  };
  return html`<${Screen} title="New group">
    <form class="card form" onSubmit=${submit}>
      <div class="field">
        <label for="group-members">People</label>
        <input id="group-members" value=${members} required autocapitalize="none" aria-describedby="group-members-hint"
          onInput=${(event) => setMembers(event.currentTarget.value)} />
        <small id="group-members-hint" class="muted">2 to 31 usernames, separated by commas or spaces.</small>
      </div>
      <div class="field">
        <label for="group-title">Name (optional)</label>
        <input id="group-title" value=${title} maxLength="100" onInput=${(event) => setTitle(event.currentTarget.value)} />
      </div>
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy}>Start the group</button>
    </form>
  <//>`;
}

/** A group's members, and what any member may do: rename it, add people, leave; its admin removes people. */
function GroupMembers({ conversation, onChanged, onLeave }) {
  const [title, setTitle] = useState(conversation.title || '');
  const [people, setPeople] = useState('');
  const rename = useAction();
  const add = useAction();
  const remove = useAction();
  const me = get('me');
  const adminId = conversation.admin ? conversation.admin.user_id : null;
  const iAmAdmin = adminId === me.user_id;
  useEffect(() => setTitle(conversation.title || ''), [conversation.title]); // renamed by someone else too
  const submitTitle = (event) => {
    event.preventDefault();
    rename.run(async () => {
      onChanged(await api.renameConversation(conversation.conversation_id, title.trim() || null));
      toast(title.trim() ? 'Group renamed.' : "The group's name was cleared.");
    });
  };
  const submitPeople = (event) => {
    event.preventDefault();
    add.run(async () => {
      const usernames = parseUsernames(people);
      onChanged(await api.addMembers(conversation.conversation_id, usernames));
      setPeople('');
      toast(`Added ${usernames.map((name) => `@${name}`).join(', ')}.`);
    });
  };
  const removeMember = (member) => {
    if (!window.confirm(`Remove @${member.username} from the group?`)) return;
    remove.run(async () => {
      await api.removeMember(conversation.conversation_id, member.username);
      // at once; the `conversation` frame (before or after this answer) brings the server's view, and a system message
      onChanged((current) => ({ ...current, members: current.members.filter((other) => other.user_id !== member.user_id) }));
      toast(`Removed @${member.username}.`);
    });
  };
  return html`<details class="card group-members">
    <summary>${conversation.members.length} members</summary>
    <ul>
      ${conversation.members.map(
        (member) => html`<li key=${member.user_id}>
          <a href=${href(`/u/${member.username}`)}>@${member.username}</a>
          ${member.user_id === adminId && html` <span class="role">admin</span>`}
          ${iAmAdmin && member.user_id !== me.user_id &&
          html` <button type="button" class="link danger" disabled=${remove.busy} onClick=${() => removeMember(member)}>
            Remove<span class="visually-hidden"> @${member.username}</span>
          </button>`}
        </li>`,
      )}
    </ul>
    ${!adminId && html`<p class="muted">Nobody manages this group until its next change.</p>`}
    <${ErrorNote} error=${remove.error} />
    <form class="inline-form" onSubmit=${submitTitle}>
      <label for="group-rename">Group name</label>
      <input id="group-rename" value=${title} maxLength="100" aria-describedby="group-rename-hint"
        onInput=${(event) => setTitle(event.currentTarget.value)} />
      <button type="submit" class="secondary" disabled=${rename.busy || title.trim() === (conversation.title || '')}>Rename</button>
      <small id="group-rename-hint" class="muted">Empty: the group is named after its members.</small>
    </form>
    <${ErrorNote} error=${rename.error} />
    <form class="inline-form" onSubmit=${submitPeople}>
      <label for="group-add">Add people</label>
      <input id="group-add" value=${people} required autocapitalize="none" aria-describedby="group-add-hint"
        onInput=${(event) => setPeople(event.currentTarget.value)} />
      <button type="submit" class="secondary" disabled=${add.busy || !people.trim()}>Add</button>
      <small id="group-add-hint" class="muted">Usernames, separated by commas or spaces (at most 32 members).</small>
    </form>
    <${ErrorNote} error=${add.error} />
    <button type="button" class="danger" onClick=${onLeave}>Leave group</button>
  </details>`;
}

async function findConversation(test) {
  let cursor = null;
  do {
    const page = await api.conversations(cursor);
    const found = page.items.find(test);
    if (found) return found;
    cursor = page.next_cursor;
  } while (cursor);
  return null;
}

/** A video's length in seconds as this browser reads it, or null when it cannot (then the server decides). */
function videoSeconds(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const probe = document.createElement('video');
    const done = (seconds) => {
      URL.revokeObjectURL(url);
      resolve(Number.isFinite(seconds) ? seconds : null);
    };
    probe.preload = 'metadata';
    probe.addEventListener('loadedmetadata', () => done(probe.duration));
    probe.addEventListener('error', () => done(null));
    probe.src = url;
  });
}

/** Why a file cannot be sent in a message, or null. */
async function refusal(file) {
  if (PHOTO_TYPES.includes(file.type)) return null;
  if (!VIDEO_TYPES.includes(file.type)) return `${file.name} is not a JPEG, PNG, WebP or HEIC photo, or an MP4 or MOV video.`;
  if (file.size > VIDEO_MAX_BYTES) return `${file.name} is larger than 200 MB, the most a video may be.`;
  const seconds = await videoSeconds(file);
  if (seconds !== null && seconds > VIDEO_MAX_SECONDS) {
    return `${file.name} lasts ${Math.round(seconds)} s: a video message is at most ${VIDEO_MAX_SECONDS} s.`;
  }
  return null;
}

/** The thread after reading its newest page again (`newest`, oldest first): messages on it replace the
 * shown ones (a photo or video now ready), new ones are added, and shown ones within its span that it lacks
 * (all of them, if it is empty) were unsent meanwhile. Messages still being sent (no id yet) stay. */
function caughtUp(shown, newest) {
  const fresh = new Map(newest.map((message) => [message.message_id, message]));
  const oldest = newest.length ? newest[0].message_id : null;
  const kept = shown
    .filter((item) => !item.message_id || fresh.has(item.message_id) || (oldest !== null && item.message_id < oldest))
    .map((item) => fresh.get(item.message_id) || item);
  const known = new Set(shown.map((item) => item.message_id));
  return [...kept, ...newest.filter((message) => !known.has(message.message_id))];
}

function newClientId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function MessageItem({ message, mine, seen, onUnsend }) {
  if (message.kind === 'system') {
    return html`<li class="system"><p>${systemText(message)}</p></li>`;
  }
  const media = message.media;
  const kind = media && media.type === 'video' ? 'Video' : 'Photo';
  const local = message.localMedia; // 'photo' or 'video' while it uploads from this tab
  const progressId = `progress-${message.client_id}`;
  let status = html`<${Time} iso=${message.created_at} />`;
  if (message.pending) status = local ? `${message.uploaded ? 'Processing' : 'Sending'} ${local}…` : 'Sending…';
  return html`<li class=${mine ? 'mine' : 'theirs'} data-pending=${message.pending ? 'true' : undefined} data-message-id=${message.message_id}>
    <span class="visually-hidden">${message.sender.username}: </span>
    ${!mine && message.conversation_id && message.showSender && html`<small class="sender">@${message.sender.username}</small>`}
    ${media && html`<div class="message-media"><${MediaView} media=${media} alt=${`${kind} from @${message.sender.username}`} sizes="240px" /></div>`}
    ${local && !message.uploaded &&
    html`<p class="muted"><label for=${progressId}>${local === 'video' ? 'Video' : 'Photo'}</label>
      <progress id=${progressId} max="1" value=${message.progress || 0}></progress></p>`}
    ${message.text && html`<p>${message.text}</p>`}
    <small class="muted">
      ${status}
      ${seen ? ' · Seen' : ''}
      ${mine && !message.pending &&
      html` · <button type="button" class="link" onClick=${() => onUnsend(message)}>Unsend<span class="visually-hidden"> “${preview(message)}”</span></button>`}
    </small>
  </li>`;
}

/** A thread: with a person (`username`, the direct conversation, made by the first message) or any
 * conversation by id (`conversationId`, groups). */
export function Thread({ username = null, conversationId: givenId = null }) {
  const [conversation, setConversation] = useState(null);
  const [conversationId, setConversationId] = useState(givenId);
  const [messages, setMessages] = useState(null); // oldest first
  const [older, setOlder] = useState(null); // cursor of older messages
  const [text, setText] = useState('');
  const [error, setError] = useState(null);
  const [seenUpTo, setSeenUpTo] = useState(null);
  const [typing, setTyping] = useState({}); // username -> until (ms)
  const [now, setNow] = useState(Date.now());
  const idRef = useRef(givenId);
  const list = useRef(null);
  const lastTypingSent = useRef(0);
  const mediaInput = useRef(null);
  const me = get('me');
  const group = conversation ? isGroup(conversation) : Boolean(givenId && !username);

  const adopt = (id) => {
    if (!idRef.current) {
      idRef.current = id;
      setConversationId(id);
    }
  };
  const markRead = (id, upTo) => {
    if (!id || !upTo) return;
    api.markConversationRead(id, upTo).then(refreshUnreadMessages, () => {});
  };
  useEffect(() => {
    let current = true;
    set({ openThread: username || givenId });
    setMessages(null);
    setError(null);
    (async () => {
      try {
        const found = await findConversation((item) =>
          givenId ? item.conversation_id === givenId : item.kind !== 'group' && item.with && item.with.username === username,
        );
        if (!current) return;
        if (givenId && !found) throw new Error('This conversation does not exist, or you are no longer in it.');
        setConversation(found);
        if (!found) {
          setMessages((items) => items || []);
          return;
        }
        adopt(found.conversation_id);
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
  }, [username, givenId]);

  useEffect(() => {
    const ours = (frameConversation, sender) =>
      idRef.current ? frameConversation === idRef.current : !givenId && sender === username;
    const offMessage = ws.on('message', ({ message }) => {
      if (!ours(message.conversation_id, message.sender.username)) return;
      adopt(message.conversation_id);
      setMessages((items) => {
        if (!items) return items;
        const at = items.findIndex((item) => item.message_id === message.message_id);
        if (at >= 0) return items.map((item, index) => (index === at ? message : item)); // a photo or video, now ready (or rejected)
        return [...items, message];
      });
      setTyping((who) => ({ ...who, [message.sender.username]: 0 }));
      if (message.sender.user_id !== me.user_id) markRead(message.conversation_id, message.message_id);
    });
    const offAck = ws.on('ack', ({ client_id: clientId, message }) => {
      adopt(message.conversation_id);
      setMessages((items) => (items || []).map((item) => (item.client_id === clientId ? message : item)));
    });
    const offRead = ws.on('read', (frame) => {
      if (frame.conversation_id === idRef.current && frame.by !== me.username) setSeenUpTo(frame.up_to);
    });
    const offTyping = ws.on('typing', (frame) => {
      if (frame.conversation_id === idRef.current && frame.by !== me.username) {
        setTyping((who) => ({ ...who, [frame.by]: Date.now() + TYPING_SHOWN_FOR_MS }));
      }
    });
    const offDeleted = ws.on('message_deleted', (frame) => {
      if (frame.conversation_id === idRef.current) {
        setMessages((items) => (items || []).filter((item) => item.message_id !== frame.message_id));
      }
    });
    const offConversation = ws.on('conversation', (frame) => {
      if (frame.conversation.conversation_id === idRef.current) setConversation(frame.conversation);
    });
    const offMissed = ws.onMissedFrames(async () => {
      const id = idRef.current;
      if (!id) return;
      try {
        const [page, found] = await Promise.all([
          api.messages(id),
          findConversation((item) => item.conversation_id === id), // its members and title, for a group
        ]);
        if (id !== idRef.current) return;
        setMessages((items) => (items ? caughtUp(items, [...page.items].reverse()) : items));
        if (found) setConversation(found);
        if (page.items.length) markRead(id, page.items[0].message_id);
      } catch {
        // the thread shows what it had; the next reconnection or a reload reads it again
      }
    });
    const offError = ws.on('error', (frame) => {
      if (frame.client_id) {
        setMessages((items) => (items || []).filter((item) => item.client_id !== frame.client_id));
        setError(new Error(frame.message));
      }
    });
    return () =>
      [offMessage, offAck, offRead, offTyping, offDeleted, offConversation, offMissed, offError].forEach((off) => off());
  }, [username, givenId]);

  // "… is typing" fades by itself
  const typists = Object.entries(typing)
    .filter(([, until]) => until > now)
    .map(([name]) => name);
  useEffect(() => {
    if (!typists.length) return undefined;
    const timer = setTimeout(() => setNow(Date.now()), 1000);
    return () => clearTimeout(timer);
  }, [typists.length, now]);
  useEffect(() => setNow(Date.now()), [typing]);

  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [messages && messages.length]);

  const destination = () => (idRef.current && (group || !username) ? { conversation_id: idRef.current } : { to: username });
  const onInput = (event) => {
    setText(event.currentTarget.value);
    if (idRef.current && Date.now() - lastTypingSent.current > TYPING_SEND_EVERY_MS) {
      lastTypingSent.current = Date.now();
      ws.send({ action: 'typing', conversation_id: idRef.current });
    }
  };
  const send = async (event) => {
    event.preventDefault();
    const body = text.trim();
    if (!body) return;
    const clientId = newClientId();
    setText('');
    setError(null);
    lastTypingSent.current = 0;
    const pending = { message_id: `pending-${clientId}`, client_id: clientId, sender: me, text: body, created_at: new Date().toISOString(), pending: true };
    setMessages((items) => [...(items || []), pending]);
    if (ws.send({ action: 'sendMessage', ...destination(), text: body, client_id: clientId })) return;
    try {
      const message = await api.sendMessage({ ...destination(), text: body }, clientId);
      adopt(message.conversation_id);
      setMessages((items) => items.map((item) => (item.client_id === clientId ? message : item)));
    } catch (failure) {
      setMessages((items) => items.filter((item) => item.client_id !== clientId));
      setText(body);
      setError(failure);
    }
  };
  const sendMedia = async (event) => {
    const file = event.currentTarget.files[0];
    event.currentTarget.value = '';
    if (!file) return;
    setError(null);
    const refused = await refusal(file);
    if (refused) {
      setError(new Error(refused));
      return;
    }
    const clientId = newClientId();
    const localMedia = VIDEO_TYPES.includes(file.type) ? 'video' : 'photo';
    const local = { message_id: `pending-${clientId}`, client_id: clientId, sender: me, text: '', created_at: new Date().toISOString(), pending: true, localMedia, progress: 0 };
    setMessages((items) => [...(items || []), local]);
    const update = (changes) =>
      setMessages((items) => (items || []).map((item) => (item.client_id === clientId ? { ...item, ...changes } : item)));
    try {
      const sent = await api.sendMessage({ ...destination(), media: { content_type: file.type, size_bytes: file.size } }, clientId);
      adopt(sent.conversation_id);
      // until it is processed only I know of it; its `message` frame (same id: ready, or rejected) replaces this one
      update({ message_id: sent.message_id, conversation_id: sent.conversation_id });
      await api.upload(sent.upload, file, (fraction) => update({ progress: fraction }));
      update({ uploaded: true });
    } catch (failure) {
      setMessages((items) => (items || []).filter((item) => item.client_id !== clientId));
      setError(failure);
    }
  };
  const unsend = async (message) => {
    setError(null);
    try {
      await api.unsend(message.conversation_id || idRef.current, message.message_id);
      setMessages((items) => items.filter((item) => item.message_id !== message.message_id));
    } catch (failure) {
      setError(failure);
    }
  };
  const toggleMute = async () => {
    const muted = !conversation.muted;
    setError(null);
    try {
      await api.muteConversation(conversation.conversation_id, muted);
      setConversation((current) => ({ ...current, muted }));
      toast(muted ? 'Muted: its messages still arrive, but not on your phone.' : 'Unmuted.');
    } catch (failure) {
      setError(failure);
    }
  };
  const leave = async () => {
    if (!window.confirm('Leave this group? You will not see its new messages.')) return;
    try {
      await api.removeMember(idRef.current, me.username);
      toast('You left the group.');
      navigate('/messages');
    } catch (failure) {
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
  const lastMine = messages && [...messages].reverse().find((item) => item.sender.user_id === me.user_id && !item.pending && item.kind !== 'system');
  const title = group ? (conversation ? groupName(conversation) : 'Group') : `Chat with @${username}`;
  const actions =
    conversation &&
    html`<button type="button" class="secondary" onClick=${toggleMute}>
      ${conversation.muted ? 'Unmute' : 'Mute'}<span class="visually-hidden"> this conversation</span>
    </button>`;
  return html`<${Screen} title=${title} actions=${actions}>
    ${!group && html`<p><a href=${href(`/u/${username}`)}>View profile</a></p>`}
    ${conversation && conversation.muted && html`<p class="muted">Muted: new messages are not pushed to your phone.</p>`}
    ${group && conversation &&
    html`<${GroupMembers} conversation=${conversation} onChanged=${setConversation} onLeave=${leave} />`}
    ${!messages && !error && html`<${Loading} />`}
    ${older && html`<button type="button" class="secondary" onClick=${loadOlder}>Older messages</button>`}
    <ol class="thread card" ref=${list} aria-label="Messages" aria-live="polite">
      ${(messages || []).map(
        (message, index) => html`<${MessageItem} key=${message.client_id || message.message_id}
          message=${{ ...message, showSender: group && (index === 0 || messages[index - 1].sender.user_id !== message.sender.user_id) }}
          mine=${message.sender.user_id === me.user_id}
          seen=${!group && lastMine && message.message_id === lastMine.message_id && seenUpTo && seenUpTo >= message.message_id}
          onUnsend=${unsend} />`,
      )}
      ${messages && !messages.length && html`<li class="muted">${group ? 'Say hello to the group.' : `Say hello to @${username}.`}</li>`}
    </ol>
    <p class="typing muted" aria-live="polite">${typists.length ? `${typists.map((name) => `@${name}`).join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…` : ''}</p>
    <${ErrorNote} error=${error} />
    <form class="inline-form composer" onSubmit=${send}>
      <label for="message-text" class="visually-hidden">Message</label>
      <input id="message-text" value=${text} maxLength="2000" placeholder="Message…" autocomplete="off" onInput=${onInput} />
      <button type="button" class="secondary attach-button" disabled=${messages === null} onClick=${() => mediaInput.current.click()}>
        Photo or video<span class="visually-hidden"> (attach one)</span>
      </button>
      <input id="message-media" ref=${mediaInput} hidden type="file" accept=${[...PHOTO_TYPES, ...VIDEO_TYPES].join(',')}
        onChange=${sendMedia} />
      <button type="submit" disabled=${!text.trim() || messages === null}>Send</button>
    </form>
  <//>`;
}
