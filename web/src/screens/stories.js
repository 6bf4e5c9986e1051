// Stories: the tray on the home screen, and a full-screen viewer that advances by itself.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href, navigate } from '../router.js';
import { get, toast } from '../store.js';
import { Avatar, ErrorNote, Loading, MediaView, Time, html, useAction } from '../ui.js';
import { ReportButton } from './moderation.js';

const IMAGE_STORY_MS = 5000;
const TICK_MS = 100;
let lastTray = null; // the tray's authors, so the viewer opens without waiting

/** The stories feed's authors (the last ones seen at once, then fresh ones), and the error if any. */
function useTray() {
  const [authors, setAuthors] = useState(lastTray);
  const [error, setError] = useState(null);
  useEffect(() => {
    api
      .storiesFeed()
      .then((answer) => {
        lastTray = answer.items;
        setAuthors(answer.items);
      })
      .catch(setError);
  }, []);
  const forget = (storyId) => {
    const kept = authors
      .map((entry) => ({ ...entry, stories: entry.stories.filter((story) => story.story_id !== storyId) }))
      .filter((entry) => entry.stories.length);
    lastTray = kept;
    setAuthors(kept);
  };
  return [authors, error, forget];
}

export function StoriesTray() {
  const [authors, error] = useTray();
  return html`<nav class="stories-tray" aria-label="Stories">
    <ul>
      <li><a class="story-add" href=${href('/new-story')}><span class="avatar initials" aria-hidden="true">+</span>Your story</a></li>
      ${(authors || []).map(
        (entry) => html`<li key=${entry.author.user_id}>
          <a class="story-author" href=${href(`/stories/${entry.author.username}`)}>
            <${Avatar} user=${entry.author} size=${56} />
            <span>${entry.author.username}<span class="visually-hidden">, ${entry.stories.length} ${entry.stories.length === 1 ? 'story' : 'stories'}</span></span>
          </a>
        </li>`,
      )}
    </ul>
    <${ErrorNote} error=${error} />
  </nav>`;
}

export function StoryViewer({ username }) {
  const [authors, error, forget] = useTray();
  const action = useAction();
  const [position, setPosition] = useState(null); // [author index, story index]
  const [elapsed, setElapsed] = useState(0);
  const [paused, setPaused] = useState(false);
  const closeButton = useRef(null);

  useEffect(() => {
    if (!authors) return;
    const index = authors.findIndex((entry) => entry.author.username === username);
    setPosition(index >= 0 ? [index, 0] : null);
    setElapsed(0);
  }, [authors, username]);
  useEffect(() => closeButton.current && closeButton.current.focus(), [authors]);

  const close = () => navigate('/');
  const step = (direction) => {
    if (!position) return;
    let [author, story] = position;
    story += direction;
    if (story >= authors[author].stories.length) {
      author += 1;
      story = 0;
    } else if (story < 0) {
      author = Math.max(0, author - 1);
      story = 0;
    }
    if (author >= authors.length) {
      close();
      return;
    }
    setPosition([author, story]);
    setElapsed(0);
  };
  const current = position && authors && authors[position[0]] ? authors[position[0]].stories[position[1]] : null;
  const isVideo = current && current.media.type === 'video';
  const me = get('me');
  const mine = current && me && authors[position[0]].author.user_id === me.user_id;
  const remove = () =>
    action.run(async () => {
      setPaused(true);
      if (!window.confirm('Delete this story?')) {
        setPaused(false);
        return;
      }
      await api.deleteStory(current.story_id);
      toast('Story deleted.');
      const [author, story] = position;
      const left = authors[author].stories.length - 1;
      forget(current.story_id);
      setElapsed(0);
      setPaused(false);
      if (left) setPosition([author, Math.min(story, left - 1)]);
      else close();
    });

  useEffect(() => {
    if (!current || paused || isVideo) return undefined;
    const timer = setInterval(() => setElapsed((value) => value + TICK_MS), TICK_MS);
    return () => clearInterval(timer);
  }, [current, paused, isVideo]);
  useEffect(() => {
    if (elapsed >= IMAGE_STORY_MS) step(1);
  }, [elapsed]);
  useEffect(() => {
    const keys = (event) => {
      if (event.target.closest && event.target.closest('input, textarea, select')) return; // typing a report's note
      if (event.key === 'Escape') close();
      else if (event.key === 'ArrowRight') step(1);
      else if (event.key === 'ArrowLeft') step(-1);
    };
    window.addEventListener('keydown', keys);
    return () => window.removeEventListener('keydown', keys);
  });

  let body;
  if (error) body = html`<${ErrorNote} error=${error} />`;
  else if (!authors) body = html`<${Loading} />`;
  else if (!current) body = html`<p>No stories from @${username} right now. <a href=${href('/')}>Back home</a></p>`;
  else {
    const author = authors[position[0]];
    body = html`<div class="story-frame" data-story-id=${current.story_id}>
      <div class="story-progress">
        ${author.stories.map(
          (story, index) => html`<progress key=${story.story_id} max=${IMAGE_STORY_MS}
            value=${index < position[1] ? IMAGE_STORY_MS : index === position[1] ? elapsed : 0}
            aria-label=${`Story ${index + 1} of ${author.stories.length}`}></progress>`,
        )}
      </div>
      <p class="story-meta"><a href=${href(`/u/${author.author.username}`)}>${author.author.username}</a> · <${Time} iso=${current.created_at} /></p>
      <${MediaView} key=${current.story_id} media=${current.media} sizes="100vw" eager=${true}
        alt=${`Story by ${author.author.username}`} />
      ${isVideo && html`<p class="muted">Video stories advance when you press Next.</p>`}
      ${mine
        ? html`<button type="button" class="danger" disabled=${action.busy} onClick=${remove}>Delete story</button>`
        : html`<${ReportButton} key=${current.story_id} targetType="story" targetId=${current.story_id} label="Report story"
            onOpen=${() => setPaused(true)} />`}
      <${ErrorNote} error=${action.error} />
    </div>`;
  }
  return html`<section class="story-viewer" role="dialog" aria-modal="true" aria-labelledby="story-title">
    <h1 id="story-title" class="visually-hidden">Stories of ${username}</h1>
    ${body}
    <div class="story-controls">
      <button type="button" class="secondary" onClick=${() => step(-1)}>Previous</button>
      <button type="button" class="secondary" aria-pressed=${paused ? 'true' : 'false'} onClick=${() => setPaused(!paused)}>
        ${paused ? 'Play' : 'Pause'}
      </button>
      <button type="button" class="secondary" onClick=${() => step(1)}>Next</button>
      <button type="button" ref=${closeButton} onClick=${close}>Close</button>
    </div>
  </section>`;
}
