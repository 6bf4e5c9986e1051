// The one API client: every HTTP route the app uses, the error envelope, silent token refresh and
// pre-signed uploads with progress. Screens call these functions and never build a URL themselves.
import { config } from './config.js';
import { accessToken, clearSession, setTokens, storedRefreshToken } from './session.js';
import { durationInWords } from './ui.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy or the network answered, not Pinhole
  }
  const error = body && body.error;
  if (error && error.message) {
    const retry = response.headers.get('Retry-After');
    const seconds = Number(retry);
    const suffix = retry && response.status === 429 && seconds > 0 ? ` (try again in ${durationInWords(seconds)})` : '';
    return new ApiError(response.status, error.code, error.message + suffix, error.details);
  }
  return new ApiError(response.status, 'http_error', `The server answered HTTP ${response.status}.`);
}

/** Whether a 401 says the access token itself is no good (expired, forged, signed out): API Gateway's authorizer
 * answers with a body of its own, `{"message": "Unauthorized"}` (docs/API_NOTES.md, "errors"), and our code with
 * the envelope's `unauthorized`. Any other envelope 401 (`invalid_credentials`, `invalid_code`) answers what the
 * person typed: refreshing and sending it again would count a wrong password twice against the server's limits. */
async function tokenRefused(response) {
  let body = null;
  try {
    body = await response.clone().json();
  } catch {
    // not JSON: not our envelope, so not an answer about what was typed
  }
  const error = body && body.error;
  return error ? error.code === 'unauthorized' : true;
}

let refreshing = null;

/** Exchange the stored refresh token for fresh tokens (one exchange at a time). */
export function refreshSession() {
  const refreshToken = storedRefreshToken();
  if (!refreshToken) {
    // nothing to renew with (a deleted account kept from this tab): the session ends with its access token
    clearSession();
    return Promise.reject(new ApiError(401, 'unauthorized', 'Please log in.'));
  }
  if (!refreshing) {
    refreshing = call('POST', 'auth/refresh', { body: { refresh_token: refreshToken }, auth: false })
      .then((answer) => {
        setTokens(answer, refreshSession);
        return answer;
      })
      .catch((error) => {
        if (error.status === 401) clearSession();
        throw error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

async function call(method, path, { body, query, auth = true, idempotent = false, retried = false } = {}) {
  const url = new URL(path, config().HttpApiUrl);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && accessToken()) headers.Authorization = `Bearer ${accessToken()}`;
  if (idempotent) headers['Idempotency-Key'] = typeof idempotent === 'string' ? idempotent : newKey();
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network_error', 'Pinhole could not be reached. Check your connection and try again.');
  }
  if (response.status === 401 && auth && !retried && storedRefreshToken() && (await tokenRefused(response))) {
    await refreshSession();
    return call(method, path, { body, query, auth, idempotent, retried: true });
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

const enc = encodeURIComponent;
const page = (cursor, limit) => ({ cursor, limit });

// --- auth and profile ---
export const signup = (body) => call('POST', 'auth/signup', { body, auth: false });
/** The password's answer: tokens (signed in), or `{challenge: 'totp', session}` for `loginWithTotp`. */
export async function login(username, password) {
  const answer = await call('POST', 'auth/login', { body: { username, password }, auth: false });
  if (!answer.challenge) setTokens(answer, refreshSession);
  return answer;
}
export async function loginWithTotp(username, session, code) {
  const answer = await call('POST', 'auth/login/totp', { body: { username, session, code }, auth: false });
  setTokens(answer, refreshSession);
  return answer;
}
/** Revokes this tab's refresh token (the access token lives out its hour in memory only). */
export const logout = (refreshToken) => call('POST', 'auth/logout', { body: { refresh_token: refreshToken }, auth: false });
/** The password and one recovery code instead of the TOTP code: signs in, and turns two-factor off. */
export async function loginWithRecoveryCode(username, password, recoveryCode) {
  const answer = await call('POST', 'auth/login/recovery', {
    body: { username, password, recovery_code: recoveryCode },
    auth: false,
  });
  setTokens(answer, refreshSession);
  return answer;
}
export const signOutEverywhere = () => call('POST', 'me/sign-out-everywhere');
export const forgotPassword = (username) => call('POST', 'auth/password/forgot', { body: { username }, auth: false });
export const resetPassword = (username, code, newPassword) =>
  call('POST', 'auth/password/reset', { body: { username, code, new_password: newPassword }, auth: false });
export const changePassword = (currentPassword, newPassword) =>
  call('POST', 'me/password', { body: { current_password: currentPassword, new_password: newPassword } });
export const verifyEmail = (username, code) => call('POST', 'auth/verify-email', { body: { username, code } });
export const resendVerification = () => call('POST', 'me/email/verification');
export const startTotp = () => call('POST', 'me/mfa/totp');
/** Two-factor on: a code of the new secret and the account's password (a token alone cannot turn it on). */
export const enableTotp = (code, password) => call('POST', 'me/mfa/totp/verify', { body: { code, password } });
export const disableTotp = (code) => call('DELETE', 'me/mfa', { body: { code } });
/** `{recovery_codes}`: a new set, shown once (the previous set stops working). */
export const issueRecoveryCodes = (password) => call('POST', 'me/mfa/recovery-codes', { body: { password } });
export const me = () => call('GET', 'me');
export const updateMe = (changes) => call('PATCH', 'me', { body: changes });
export const user = (username) => call('GET', `users/${enc(username)}`);
export const userPosts = (username, cursor) => call('GET', `users/${enc(username)}/posts`, { query: page(cursor, 12) });
export const followers = (username, cursor) => call('GET', `users/${enc(username)}/followers`, { query: page(cursor) });
export const following = (username, cursor) => call('GET', `users/${enc(username)}/following`, { query: page(cursor) });
export const follow = (username) => call('POST', `users/${enc(username)}/follow`);
export const unfollow = (username) => call('DELETE', `users/${enc(username)}/follow`);
export const followRequests = (cursor) => call('GET', 'me/follow-requests', { query: page(cursor) });
export const answerFollowRequest = (username, approve) =>
  call('POST', `me/follow-requests/${enc(username)}`, { body: { approve } });
export const block = (username) => call('POST', `users/${enc(username)}/block`);
export const unblock = (username) => call('DELETE', `users/${enc(username)}/block`);
export const mute = (username) => call('POST', `users/${enc(username)}/mute`);
export const unmute = (username) => call('DELETE', `users/${enc(username)}/mute`);
export const blocked = (cursor, limit) => call('GET', 'me/blocked', { query: page(cursor, limit) });
export const muted = (cursor, limit) => call('GET', 'me/muted', { query: page(cursor, limit) });
export const startAvatar = (file) =>
  call('POST', 'me/avatar', { body: { content_type: file.type, size_bytes: file.size } });
export const removeAvatar = () => call('DELETE', 'me/avatar');

// --- posts, likes, comments, saved ---
export const createPost = (caption, files, key) =>
  call('POST', 'posts', {
    body: { caption, media: files.map((file) => ({ content_type: file.type, size_bytes: file.size })) },
    idempotent: key,
  });
export const post = (postId) => call('GET', `posts/${enc(postId)}`);
export const deletePost = (postId) => call('DELETE', `posts/${enc(postId)}`);
export const editCaption = (postId, caption) => call('PATCH', `posts/${enc(postId)}`, { body: { caption } });
export const like = (postId) => call('POST', `posts/${enc(postId)}/like`);
export const unlike = (postId) => call('DELETE', `posts/${enc(postId)}/like`);
export const likes = (postId, cursor) => call('GET', `posts/${enc(postId)}/likes`, { query: page(cursor) });
export const comments = (postId, cursor) => call('GET', `posts/${enc(postId)}/comments`, { query: page(cursor) });
export const comment = (postId, text) =>
  call('POST', `posts/${enc(postId)}/comments`, { body: { text }, idempotent: true });
export const deleteComment = (postId, commentId) => call('DELETE', `posts/${enc(postId)}/comments/${enc(commentId)}`);
export const save = (postId, collection) =>
  call('POST', `posts/${enc(postId)}/save`, collection ? { body: { collection } } : {});
export const unsave = (postId, collection) =>
  call('DELETE', `posts/${enc(postId)}/save`, collection ? { body: { collection } } : {});
export const saved = (collection, cursor) => call('GET', 'me/saved', { query: { collection, ...page(cursor, 12) } });
export const collections = () => call('GET', 'me/collections');

// --- feed, stories, discovery, notifications ---
export const feed = (cursor, order) => call('GET', 'feed', { query: { ...page(cursor, 10), order } });
export const markFeedSeen = (postIds) => call('POST', 'feed/seen', { body: { post_ids: postIds } });
export const createStory = (file) =>
  call('POST', 'stories', { body: { media: { content_type: file.type, size_bytes: file.size } }, idempotent: true });
export const storiesFeed = () => call('GET', 'stories/feed');
export const deleteStory = (storyId) => call('DELETE', `me/stories/${enc(storyId)}`);
export const searchUsers = (q) => call('GET', 'search/users', { query: { q, limit: 20 } });
export const searchTags = (q) => call('GET', 'search/tags', { query: { q, limit: 20 } });
export const tagPosts = (tag, cursor) => call('GET', `tags/${enc(tag)}/posts`, { query: page(cursor, 12) });
export const notifications = (cursor) => call('GET', 'notifications', { query: page(cursor) });
export const markNotificationsRead = (upTo) => call('POST', 'notifications/read', upTo ? { body: { up_to: upTo } } : {});
export const unreadNotificationCount = () => call('GET', 'notifications/unread-count');
export const notificationSettings = () => call('GET', 'me/notification-settings');
export const changeNotificationSettings = (changes) => call('PATCH', 'me/notification-settings', { body: changes });
export const devices = () => call('GET', 'me/devices');
export const removeDevice = (deviceId) => call('DELETE', `me/devices/${enc(deviceId)}`);

// --- direct messages ---
/** `body`: `{to}` (a person) or `{conversation_id}`, with `text` and/or `media` (then it answers an `upload`). */
export const sendMessage = (body, key) => call('POST', 'messages', { body, idempotent: key });
export const createConversation = (members, title) => call('POST', 'conversations', { body: title ? { members, title } : { members } });
export const renameConversation = (conversationId, title) =>
  call('PATCH', `conversations/${enc(conversationId)}`, { body: { title } });
export const addMembers = (conversationId, usernames) =>
  call('POST', `conversations/${enc(conversationId)}/members`, { body: { usernames } });
/** To leave (my own username), or, for the group's admin only, to remove someone else. */
export const removeMember = (conversationId, username) =>
  call('DELETE', `conversations/${enc(conversationId)}/members/${enc(username)}`);
/** The caller's own mute: its messages still arrive, but are not pushed to their phones. */
export const muteConversation = (conversationId, muted) =>
  call(muted ? 'POST' : 'DELETE', `conversations/${enc(conversationId)}/mute`);
export const unsend = (conversationId, messageId) =>
  call('DELETE', `conversations/${enc(conversationId)}/messages/${enc(messageId)}`);
export const conversations = (cursor) => call('GET', 'conversations', { query: page(cursor) });
export const messages = (conversationId, cursor) =>
  call('GET', `conversations/${enc(conversationId)}/messages`, { query: page(cursor, 30) });
export const markConversationRead = (conversationId, upTo) =>
  call('POST', `conversations/${enc(conversationId)}/read`, { body: { up_to: upTo } });

// --- privacy: delete account, export ---
export const deleteAccount = (password) => call('DELETE', 'me', { body: { password } });
/** Cancels a deletion within its grace period, with the access token still held (the refresh token went). */
export const reactivate = () => call('POST', 'me/reactivate');
export const requestExport = () => call('POST', 'me/export');
export const exportStatus = () => call('GET', 'me/export');
// --- safety: reports and moderation ---
export const report = (body) => call('POST', 'reports', { body });
export const myReports = (cursor) => call('GET', 'me/reports', { query: page(cursor) });
export const moderationQueue = (cursor) => call('GET', 'moderation/queue', { query: page(cursor) });
export const moderationCase = (caseId) => call('GET', `moderation/cases/${enc(caseId)}`);
export const moderationAction = (caseId, action, note) =>
  call('POST', `moderation/cases/${enc(caseId)}/actions`, { body: { action, note } });
export const moderationLog = (cursor) => call('GET', 'moderation/log', { query: page(cursor) });

/** S3 pre-signed POST: every field, then the file as `file`. `onProgress(fraction)` as bytes leave. */
export function upload(target, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
    form.append('file', file);
    const request = new XMLHttpRequest();
    request.open('POST', target.url);
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener('load', () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      const message = /<Message>([^<]*)<\/Message>/.exec(request.responseText || '');
      reject(new ApiError(request.status, 'upload_failed', `Upload refused: ${message ? message[1] : `HTTP ${request.status}`}`));
    });
    request.addEventListener('error', () =>
      reject(new ApiError(0, 'network_error', 'The upload could not reach storage. Try again.')),
    );
    request.send(form);
  });
}
