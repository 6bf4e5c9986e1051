// The one WebSocket: authenticated with the access token offered as a subprotocol (browsers cannot
// set headers), reconnecting with backoff, kept alive with pings, and fanning frames out by `type`.
import { refreshSession } from './api.js';
import { config } from './config.js';
import { accessToken } from './session.js';

const PING_EVERY_MS = 5 * 60 * 1000; // API Gateway drops a connection idle for 10 minutes
const MAX_BACKOFF_MS = 30_000;

let socket = null;
let wanted = false;
let backoff = 1000;
let pingTimer = null;
let reconnectTimer = null;
let refreshTried = false; // since the last open: a refused handshake renews the token once, then only backs off
let missedFrames = false; // no socket was open while one was wanted: what was pushed meanwhile never arrived
const handlers = new Map(); // type -> Set(handler)
const statusListeners = new Set();
const missedFramesListeners = new Set();

function setStatus(status) {
  statusListeners.forEach((listener) => listener(status));
}

function open() {
  const token = accessToken();
  if (!wanted || !token) return;
  socket = new WebSocket(config().WebSocketUrl, ['pinhole', token]);
  socket.addEventListener('open', () => {
    backoff = 1000;
    setStatus('open');
    if (missedFrames) {
      missedFrames = false;
      missedFramesListeners.forEach((listener) => listener());
    }
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ action: 'ping' }), PING_EVERY_MS);
  });
  socket.addEventListener('message', (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    (handlers.get(frame.type) || []).forEach((handler) => handler(frame));
  });
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    refreshTried = false;
  });
  socket.addEventListener('close', () => {
    clearInterval(pingTimer);
    socket = null;
    if (!wanted) return;
    missedFrames = true;
    setStatus('reconnecting');
    if (opened || refreshTried) {
      reconnectLater();
      return;
    }
    // Closed before it opened: the handshake was refused (a browser does not say why), most likely as the token
    // expired or was signed out (a logout, "Sign out everywhere" elsewhere). Renewed as HTTP renews it; a refresh
    // token refused too ends the session (refreshSession clears it: the log-in screen, and disconnect()).
    refreshTried = true;
    refreshSession().then(reconnectLater, (error) => {
      if (error.status === 0) refreshTried = false; // offline: the next refused handshake tries again
      reconnectLater();
    });
  });
}

function reconnectLater() {
  if (!wanted) return;
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(open, backoff);
  backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
}

export function connect() {
  if (wanted) return;
  wanted = true;
  missedFrames = true; // until it opens: a screen read over HTTP meanwhile may have missed a push
  open();
}

export function disconnect() {
  wanted = false;
  missedFrames = false;
  clearTimeout(reconnectTimer);
  clearInterval(pingTimer);
  if (socket) socket.close(1000);
  socket = null;
  setStatus('closed');
}

export function isOpen() {
  return socket !== null && socket.readyState === WebSocket.OPEN;
}

/** Sends a frame if the socket is open; false otherwise (the caller falls back to HTTP). */
export function send(frame) {
  if (!isOpen()) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

/** Calls `handler(frame)` for every frame of this type; returns the unsubscribe function. */
export function on(type, handler) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(handler);
  return () => handlers.get(type).delete(handler);
}

export function onStatus(listener) {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

/** Calls `listener()` each time a socket opens after a time when none was: the first time (what a screen read
 * over HTTP before may have missed a push) and after every reconnection. What the server pushed meanwhile never
 * arrived, so a screen showing pushed state reads it again. Returns the unsubscribe function. */
export function onMissedFrames(listener) {
  missedFramesListeners.add(listener);
  return () => missedFramesListeners.delete(listener);
}
