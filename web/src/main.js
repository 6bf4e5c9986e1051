// Pinhole Web: the shell (navigation, badges, live updates) and the table of screens. A screen is one
// module under screens/; a new screen is one import and one row in ROUTES.
import { render } from 'preact';
import { useEffect, useErrorBoundary, useRef, useState } from 'preact/hooks';
import * as api from './api.js';
import { loadConfig } from './config.js';
import { currentPath, match, navigate, href, usePath } from './router.js';
import { clearSession, forgetRefreshToken, onSessionChange, storedRefreshToken } from './session.js';
import { get, set, toast, update, useStore } from './store.js';
import { ErrorNote, Loading, html } from './ui.js';
import * as ws from './ws.js';
import { AccountData, AccountDeleted } from './screens/account.js';
import { ForgotPassword, Login, Signup } from './screens/auth.js';
import { Compose } from './screens/compose.js';
import { ModerationCase, ModerationLog, ModerationQueue, MyReports } from './screens/moderation.js';
import { Feed } from './screens/feed.js';
import { Conversations, NewGroup, Thread, refreshUnreadMessages } from './screens/messages.js';
import { Notifications, refreshUnreadNotifications } from './screens/notifications.js';
import { PostScreen } from './screens/post.js';
import { MyProfile, People, Profile, Requests } from './screens/profile.js';
import { Saved, Search, TagPage } from './screens/search.js';
import { PeopleList } from './screens/lists.js';
import { NotificationSettings } from './screens/notification_settings.js';
import { Security } from './screens/security.js';
import { Settings } from './screens/settings.js';
import { StoryViewer } from './screens/stories.js';

const PUBLIC = [
  { path: '/login', view: (_, app) => html`<${Login} onSignedIn=${app.signedIn} next=${returnTo} />` },
  { path: '/signup', view: (_, app) => html`<${Signup} onSignedIn=${app.signedIn} />` },
  { path: '/forgot', view: () => html`<${ForgotPassword} />` },
];
/** The screen a signed-out person asked for (a deep link, a screen whose session ended): the log-in leads there. */
let returnTo = '/';

const ROUTES = [
  { path: '/', view: () => html`<${Feed} />` },
  { path: '/new', view: () => html`<${Compose} />` },
  { path: '/new-story', view: () => html`<${Compose} story=${true} />` },
  { path: '/p/:postId', view: (p) => html`<${PostScreen} postId=${p.postId} />` },
  { path: '/me', view: () => html`<${MyProfile} />` },
  { path: '/u/:username', view: (p) => html`<${Profile} username=${p.username} />` },
  { path: '/u/:username/followers', view: (p) => html`<${People} username=${p.username} which="followers" />` },
  { path: '/u/:username/following', view: (p) => html`<${People} username=${p.username} which="following" />` },
  { path: '/requests', view: () => html`<${Requests} />` },
  { path: '/stories/:username', view: (p) => html`<${StoryViewer} username=${p.username} />`, fullScreen: true },
  { path: '/search', view: () => html`<${Search} />` },
  { path: '/tags/:tag', view: (p) => html`<${TagPage} tag=${p.tag} />` },
  { path: '/saved', view: () => html`<${Saved} />` },
  { path: '/saved/:collection', view: (p) => html`<${Saved} collection=${p.collection} />` },
  { path: '/messages', view: () => html`<${Conversations} />` },
  { path: '/messages/new-group', view: () => html`<${NewGroup} />` },
  { path: '/messages/c/:conversationId', view: (p) => html`<${Thread} conversationId=${p.conversationId} />` },
  { path: '/messages/:username', view: (p) => html`<${Thread} username=${p.username} />` },
  { path: '/notifications', view: () => html`<${Notifications} />` },
  { path: '/settings', view: (_, app) => html`<${Settings} onSignOut=${app.signOut} onSignOutEverywhere=${app.signOutEverywhere} />` },
  { path: '/settings/security', view: () => html`<${Security} />` },
  { path: '/settings/blocked', view: () => html`<${PeopleList} which="blocked" />` },
  { path: '/settings/muted', view: () => html`<${PeopleList} which="muted" />` },
  { path: '/settings/notifications', view: () => html`<${NotificationSettings} />` },
  { path: '/settings/account', view: (_, app) => html`<${AccountData} onDeleted=${app.deleted} />` },
  { path: '/settings/reports', view: () => html`<${MyReports} />` },
  { path: '/moderation', view: () => html`<${ModerationQueue} />` },
  { path: '/moderation/log', view: () => html`<${ModerationLog} />` },
  { path: '/moderation/cases/:caseId', view: (p) => html`<${ModerationCase} caseId=${p.caseId} />` },
];

function Badge({ count, label }) {
  if (!count) return null;
  return html`<span class="badge" data-badge=${label}>${count > 99 ? '99+' : count}<span class="visually-hidden"> ${label}</span></span>`;
}

function Nav({ path }) {
  const me = useStore('me');
  const messages = useStore('unreadMessages');
  const notices = useStore('unreadNotifications');
  const link = (to, label, badge = null) => {
    const current = to === '/' ? path === '/' || path.startsWith('/?') : path.startsWith(to);
    return html`<li><a href=${href(to)} aria-current=${current ? 'page' : undefined}>${label}${badge}</a></li>`;
  };
  return html`<nav class="main-nav" aria-label="Main">
    <ul>
      ${link('/', 'Home')} ${link('/search', 'Search')} ${link('/new', 'Post')}
      ${link('/messages', 'Messages', html`<${Badge} count=${messages} label="unread messages" />`)}
      ${link('/notifications', 'Notifications', html`<${Badge} count=${notices} label="unread notifications" />`)}
      ${me && link(`/u/${me.username}`, 'Profile')}
    </ul>
  </nav>`;
}

/** A screen that throws shows what happened and a way on, never a blank page. */
function Boundary({ children }) {
  const [error, reset] = useErrorBoundary();
  if (error) {
    return html`<section class="screen">
      <h1 id="screen-title" tabindex="-1">Something went wrong on this screen</h1>
      <${ErrorNote} error=${error} />
      <p><button type="button" onClick=${reset}>Try again</button> <a href=${href('/')}>Home</a></p>
    </section>`;
  }
  return children;
}

function Toast() {
  const message = useStore('toast');
  return html`<div class="toast" role="status" aria-live="polite">${message}</div>`;
}

async function startSignedIn() {
  set({ me: await api.me() });
  ws.connect();
  refreshUnreadMessages().catch(() => {});
  refreshUnreadNotifications().catch(() => {});
}

ws.on('message', ({ message }) => {
  const me = get('me');
  const open = get('openThread');
  if (me && message.sender.user_id !== me.user_id && open !== message.sender.username && open !== message.conversation_id) {
    update('unreadMessages', (count) => count + 1);
  }
});
ws.onMissedFrames(() => {
  // what was pushed while no socket was open never arrived: the server's counts
  refreshUnreadMessages().catch(() => {});
  refreshUnreadNotifications().catch(() => {});
});
ws.on('notification', () => {
  // a grouped notification may replace an unread one: the server's count, not a local +1
  if (!window.location.hash.startsWith('#/notifications')) refreshUnreadNotifications().catch(() => {});
});

function App() {
  const path = usePath();
  const me = useStore('me');
  const deletion = useStore('deletion'); // {purgeAfter} right after deleting the account
  const [phase, setPhase] = useState('starting'); // starting | ready | failed
  const [failure, setFailure] = useState(null);

  useEffect(() => {
    (async () => {
      try {
        await loadConfig();
      } catch (error) {
        setFailure(error);
        setPhase('failed');
        return;
      }
      if (storedRefreshToken()) {
        try {
          await api.refreshSession();
          await startSignedIn();
        } catch {
          clearSession();
        }
      }
      setPhase('ready');
    })();
    return onSessionChange((signedIn) => {
      if (!signedIn) {
        ws.disconnect();
        set({ me: null, unreadMessages: 0, unreadNotifications: 0 });
      }
    });
  }, []);

  const shown = useRef(null);
  useEffect(() => {
    if (phase !== 'ready') return;
    // A new screen moves focus to its title (as a page load would announce it); the first one does
    // not, so Tab starts at the skip link.
    const heading = document.getElementById('screen-title');
    if (heading && shown.current !== null && shown.current !== path) heading.focus({ preventScroll: true });
    shown.current = path;
    window.scrollTo(0, 0);
  }, [path, phase, Boolean(me)]);

  const app = {
    signedIn: startSignedIn,
    signOut: () => {
      // this tab's refresh token is revoked on the server too; the tab signs out even if that call fails
      const refreshToken = storedRefreshToken();
      clearSession();
      navigate('/login');
      if (refreshToken) api.logout(refreshToken).catch(() => {});
    },
    deleted: (purgeAfter) => {
      // every session was signed out (the socket closed too); this tab's access token can still take it back
      forgetRefreshToken();
      ws.disconnect();
      set({ deletion: { purgeAfter }, unreadMessages: 0, unreadNotifications: 0 });
    },
    kept: () => {
      set({ deletion: null });
      ws.connect();
      refreshUnreadMessages().catch(() => {});
      refreshUnreadNotifications().catch(() => {});
      navigate('/');
      toast('Welcome back: your account is active again.');
    },
    leaveDeleted: () => {
      const { purgeAfter } = get('deletion');
      set({ deletion: null });
      clearSession();
      navigate('/login');
      toast(`Your account is deleted. Log in before ${new Date(purgeAfter).toLocaleDateString()} to keep it.`);
    },
    signOutEverywhere: async () => {
      await api.signOutEverywhere();
      clearSession();
      navigate('/login');
    },
  };

  if (phase === 'starting') return html`<main id="main" class="screen"><${Loading} label="Starting Pinhole…" /></main>`;
  if (phase === 'failed') {
    return html`<main id="main" class="screen"><h1>Pinhole could not start</h1><${ErrorNote} error=${failure} /></main>`;
  }
  if (me && deletion) {
    return html`<header class="top"><span class="brand">Pinhole</span></header>
      <main id="main"><${AccountDeleted} purgeAfter=${deletion.purgeAfter} onKept=${app.kept} onLeave=${app.leaveDeleted} /></main>
      <${Toast} />`;
  }
  const publicMatch = match(PUBLIC, path);
  if (!me) {
    // the address as it is now: a sign-out moved it to #/login in the same turn, before `path` hears of it
    const asked = currentPath();
    if (!match(PUBLIC, asked)) returnTo = asked;
    const found = publicMatch || match(PUBLIC, '/login');
    return html`<header class="top"><a class="brand" href=${href('/login')}>Pinhole</a></header>
      <main id="main">${found.route.view(found.params, app)}</main>
      <${Toast} />`;
  }
  returnTo = '/'; // signed in: a later log-in starts from home unless another deep link asks otherwise
  if (publicMatch) {
    navigate('/');
    return null;
  }
  const found = match(ROUTES, path);
  if (found && found.route.fullScreen) {
    return html`<main id="main"><${Boundary} key=${path}>${found.route.view(found.params, app)}<//></main>
      <${Toast} />`;
  }
  return html`<a class="skip" href="#main" onClick=${(event) => {
      event.preventDefault();
      document.getElementById('screen-title')?.focus();
    }}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${href('/')}>Pinhole</a>
      <${Nav} path=${path} />
      <a class="settings-link" href=${href('/settings')} aria-current=${path.startsWith('/settings') ? 'page' : undefined}>Settings</a>
    </header>
    <main id="main">
      ${found
        ? html`<${Boundary} key=${path}>${found.route.view(found.params, app)}<//>`
        : html`<section class="screen"><h1 id="screen-title" tabindex="-1">Not found</h1>
            <p>No screen at ${path}. <a href=${href('/')}>Home</a></p></section>`}
    </main>
    <${Toast} />`;
}

render(html`<${App} />`, document.getElementById('app'));
