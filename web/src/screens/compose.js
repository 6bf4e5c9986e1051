// A new post (1–10 photos or one video) or a story (one photo or video): previews before sending, a
// progress bar per file while it uploads, then the post screen shows it processing into a picture.
import { useEffect, useMemo, useState } from 'preact/hooks';
import * as api from '../api.js';
import { navigate } from '../router.js';
import { toast } from '../store.js';
import { ErrorNote, Screen, html, useAction } from '../ui.js';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/avif'];
const VIDEO_TYPES = ['video/mp4', 'video/quicktime'];
const MAX_PHOTOS = 10;
const CAPTION_MAX = 2200;

/** Why these files cannot be sent, or null. */
export function problemWith(files, story) {
  if (!files.length) return 'Choose a photo or a video.';
  const unknown = files.find((file) => !IMAGE_TYPES.includes(file.type) && !VIDEO_TYPES.includes(file.type));
  if (unknown) return `${unknown.name} is not a supported photo or video (JPEG, PNG, WebP, HEIC, AVIF, MP4, MOV).`;
  if (story && files.length > 1) return 'A story is one photo or one video.';
  const videos = files.filter((file) => VIDEO_TYPES.includes(file.type));
  if (videos.length && files.length > 1) return 'A post is 1–10 photos, or one video.';
  if (files.length > MAX_PHOTOS) return `A post has at most ${MAX_PHOTOS} photos.`;
  return null;
}

function Preview({ file }) {
  const url = useMemo(() => URL.createObjectURL(file), [file]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  if (file.type.startsWith('video/')) return html`<video src=${url} muted playsinline controls aria-label=${`Preview of ${file.name}`}></video>`;
  return html`<img src=${url} alt=${`Preview of ${file.name}`} />`;
}

export function Compose({ story = false }) {
  const [files, setFiles] = useState([]);
  const [caption, setCaption] = useState('');
  const [progress, setProgress] = useState({}); // index -> 0..1
  const [key] = useState(() => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now())));
  const action = useAction();
  const problem = files.length ? problemWith(files, story) : null;

  const submit = (event) => {
    event.preventDefault();
    const refusal = problemWith(files, story);
    if (refusal) {
      action.setError(new Error(refusal));
      return;
    }
    action.run(async () => {
      const answer = story ? await api.createStory(files[0]) : await api.createPost(caption, files, key);
      const uploads = story ? [answer.upload] : answer.uploads;
      await Promise.all(
        uploads.map((target, index) =>
          api.upload(target, files[index], (fraction) => setProgress((previous) => ({ ...previous, [index]: fraction }))),
        ),
      );
      if (story) {
        toast('Story shared. It appears once it is processed.');
        navigate('/');
      } else {
        navigate(`/p/${answer.post.post_id}`);
      }
    });
  };
  const title = story ? 'New story' : 'New post';
  return html`<${Screen} title=${title}>
    <form class="card form" onSubmit=${submit}>
      <div class="field">
        <label for="compose-files">${story ? 'Photo or video' : 'Photos (up to 10) or a video'}</label>
        <input id="compose-files" type="file" accept=${[...IMAGE_TYPES, ...VIDEO_TYPES].join(',')} multiple=${!story}
          onChange=${(event) => {
            setFiles([...event.currentTarget.files]);
            setProgress({});
            action.setError(null);
          }} />
      </div>
      ${files.length > 0 &&
      html`<ul class="previews" aria-label="Chosen files">
        ${files.map(
          (file, index) => html`<li key=${`${file.name}-${index}`}>
            <${Preview} file=${file} />
            <label for=${`upload-${index}`} class="small">${file.name}</label>
            <progress id=${`upload-${index}`} max="1" value=${progress[index] || 0}
              aria-valuetext=${`${Math.round((progress[index] || 0) * 100)}%`}></progress>
          </li>`,
        )}
      </ul>`}
      ${problem && html`<p class="error" role="alert">${problem}</p>`}
      ${!story &&
      html`<div class="field">
        <label for="compose-caption">Caption</label>
        <textarea id="compose-caption" rows="3" maxLength=${CAPTION_MAX} value=${caption} aria-describedby="caption-count"
          onInput=${(event) => setCaption(event.currentTarget.value)}></textarea>
        <small id="caption-count" class="muted">${caption.length} / ${CAPTION_MAX}. #tags and @mentions become links.</small>
      </div>`}
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy || Boolean(problem)}>${action.busy ? 'Sharing…' : 'Share'}</button>
    </form>
  <//>`;
}
