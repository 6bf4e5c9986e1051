// Who is signed in. Access and ID tokens live only in this module's memory; the refresh token is kept
// in sessionStorage (per tab, gone when the tab closes) so a reload does not sign the person out. Why
// there and not in a cookie or localStorage: docs/SECURITY.md, "Pinhole Web".
const REFRESH_KEY = 'pinhole.refresh_token';
const REFRESH_MARGIN_S = 60;

let tokens = null; // {access_token, id_token, expires_at}
let refreshTimer = null;
const listeners = new Set();

export function accessToken() {
  return tokens ? tokens.access_token : null;
}

export function storedRefreshToken() {
  try {
    return sessionStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

/** The Cognito groups of the access token (`cognito:groups`): only to show or hide links; the server checks. */
export function groups() {
  if (!tokens) return [];
  try {
    const payload = tokens.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '=')));
    return Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'] : [];
  } catch {
    return [];
  }
}

export function signedIn() {
  return tokens !== null;
}

/** Keep fresh tokens; `refresher` is called shortly before the access token expires. */
export function setTokens(answer, refresher) {
  tokens = {
    access_token: answer.access_token,
    id_token: answer.id_token,
    expires_at: Date.now() + answer.expires_in * 1000,
  };
  if (answer.refresh_token) sessionStorage.setItem(REFRESH_KEY, answer.refresh_token);
  clearTimeout(refreshTimer);
  const delay = Math.max(5, answer.expires_in - REFRESH_MARGIN_S) * 1000;
  refreshTimer = setTimeout(() => refresher().catch(() => {}), delay);
  listeners.forEach((listener) => listener(true));
}

/** The refresh token is dead (the account was deleted: every session signed out); the access token stays
 * in memory for the rest of its hour, which is what `POST /me/reactivate` needs. */
export function forgetRefreshToken() {
  sessionStorage.removeItem(REFRESH_KEY);
}

export function clearSession() {
  tokens = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
  listeners.forEach((listener) => listener(false));
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
