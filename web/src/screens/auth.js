// Sign up, log in (with the two-factor step when it is on) and the forgotten password. Signing up logs the
// new account straight in.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api.js';
import { href, navigate } from '../router.js';
import { toast } from '../store.js';
import { ErrorNote, Screen, html, useAction } from '../ui.js';

export const PASSWORD_HINT = 'At least 10 characters, with upper and lower case letters and a digit.';

export function Field({ id, label, hint, ...input }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} name=${id} aria-describedby=${hint ? `${id}-hint` : undefined} ...${input} />
    ${hint && html`<small id=${`${id}-hint`} class="muted">${hint}</small>`}
  </div>`;
}

export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const bind = (name) => ({ value: values[name], onInput: (event) => setValues({ ...values, [name]: event.currentTarget.value }) });
  return [values, bind, setValues];
}

/** The second step of a log-in with two-factor on: the code of the person's authenticator app, or (the
 * phone is lost) one of their recovery codes, which signs in and turns two-factor off. */
function TotpStep({ username, password, session, next, onSignedIn, onCancel }) {
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState(false);
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      if (recovery) {
        await api.loginWithRecoveryCode(username, password, code.trim());
        toast('Signed in with a recovery code. Two-factor authentication is now off: set it up again in Settings.');
      } else {
        await api.loginWithTotp(username, session, code.trim());
      }
      await onSignedIn();
      navigate(next);
    });
  };
  // autofocus works once per page: the field that replaces the other gets the focus here
  useEffect(() => document.getElementById(recovery ? 'login-recovery' : 'login-totp')?.focus(), [recovery]);
  const switchTo = (useRecovery) => {
    setRecovery(useRecovery);
    setCode('');
    action.setError(null);
  };
  const field = recovery
    ? html`<${Field} key="recovery" id="login-recovery" label="Recovery code"
        hint="One of the codes you saved when you made them, like abcde-fgh23. Each works once."
        autocomplete="off" autocapitalize="none" spellcheck=${false} pattern="[A-Za-z2-7]{5}-[A-Za-z2-7]{5}" maxLength="11"
        required autofocus value=${code} onInput=${(event) => setCode(event.currentTarget.value)} />`
    : html`<${Field} key="totp" id="login-totp" label="Authentication code" hint="The 6-digit code your authenticator app shows for Pinhole."
        inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength="6" required autofocus
        value=${code} onInput=${(event) => setCode(event.currentTarget.value)} />`;
  return html`<${Screen} title="Two-factor authentication">
    <form class="card form" onSubmit=${submit}>
      ${field}
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy}>${action.busy ? 'Checking…' : 'Verify'}</button>
      <p>
        ${recovery
          ? html`<button type="button" class="link" onClick=${() => switchTo(false)}>Use your authenticator app</button>`
          : html`<button type="button" class="link" onClick=${() => switchTo(true)}>Lost your phone? Use a recovery code</button>`}
      </p>
      <p><button type="button" class="link" onClick=${onCancel}>Back to log in</button></p>
    </form>
  <//>`;
}

/** `next`: the screen to show once signed in (the one asked for before logging in). */
export function Login({ onSignedIn, next = '/' }) {
  const [values, bind] = useForm({ username: '', password: '' });
  const [challenge, setChallenge] = useState(null);
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      const username = values.username.trim();
      const answer = await api.login(username, values.password);
      if (answer.challenge === 'totp') {
        setChallenge({ username, password: values.password, session: answer.session, next });
        return;
      }
      await onSignedIn();
      navigate(next);
    });
  };
  if (challenge) {
    return html`<${TotpStep} ...${challenge} onSignedIn=${onSignedIn} onCancel=${() => setChallenge(null)} />`;
  }
  return html`<${Screen} title="Log in">
    <form class="card form" onSubmit=${submit} aria-describedby="login-error">
      <${Field} id="login-username" label="Username" autocomplete="username" required autocapitalize="none" ...${bind('username')} />
      <${Field} id="login-password" label="Password" type="password" autocomplete="current-password" required ...${bind('password')} />
      <${ErrorNote} error=${action.error} id="login-error" />
      <button type="submit" disabled=${action.busy}>${action.busy ? 'Logging in…' : 'Log in'}</button>
      <p><a href=${href('/forgot')}>Forgot your password?</a></p>
      <p>New to Pinhole? <a href=${href('/signup')}>Create an account</a></p>
    </form>
  <//>`;
}

/** Forgotten password: the username, then the code e-mailed to the (verified) address and a new password. */
export function ForgotPassword() {
  const [values, bind] = useForm({ username: '', code: '', password: '' });
  const [sent, setSent] = useState(false);
  const action = useAction();
  const send = (event) => {
    event.preventDefault();
    action.run(async () => {
      await api.forgotPassword(values.username.trim());
      setSent(true);
    });
  };
  const reset = (event) => {
    event.preventDefault();
    action.run(async () => {
      await api.resetPassword(values.username.trim(), values.code.trim(), values.password);
      toast('Password changed. Log in with the new one.');
      navigate('/login');
    });
  };
  if (!sent) {
    return html`<${Screen} title="Reset your password">
      <form class="card form" onSubmit=${send}>
        <${Field} id="forgot-username" label="Username" autocomplete="username" required autocapitalize="none" ...${bind('username')} />
        <${ErrorNote} error=${action.error} />
        <button type="submit" disabled=${action.busy}>Send me a code</button>
        <p><a href=${href('/login')}>Back to log in</a></p>
      </form>
    <//>`;
  }
  return html`<${Screen} title="Reset your password">
    <form class="card form" onSubmit=${reset}>
      <p role="status">If @${values.username.trim()} has a verified e-mail address, a code is on its way there.</p>
      <${Field} id="reset-code" label="Code from the e-mail" inputmode="numeric" autocomplete="one-time-code" required
        maxLength="6" ...${bind('code')} />
      <${Field} id="reset-password" label="New password" type="password" autocomplete="new-password" required minLength="10"
        hint=${PASSWORD_HINT} ...${bind('password')} />
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy}>Set the new password</button>
      <p><button type="button" class="link" onClick=${() => setSent(false)}>Send another code</button></p>
    </form>
  <//>`;
}

export function Signup({ onSignedIn }) {
  const [values, bind] = useForm({ username: '', email: '', display_name: '', password: '' });
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      const username = values.username.trim().toLowerCase();
      const body = { username, email: values.email.trim(), password: values.password };
      if (values.display_name.trim()) body.display_name = values.display_name.trim();
      await api.signup(body);
      await api.login(username, values.password);
      await onSignedIn();
      navigate('/');
    });
  };
  return html`<${Screen} title="Create your account">
    <form class="card form" onSubmit=${submit}>
      <${Field} id="signup-username" label="Username" hint="3–30 characters: a–z, 0–9, dots and underscores; no dot first, last or twice in a row." autocomplete="username"
        required minLength="3" maxLength="30" pattern="(?:[A-Za-z0-9_]+[.])*_*[A-Za-z0-9][A-Za-z0-9_]*(?:[.][A-Za-z0-9_]+)*"
        title="3–30 characters: letters, digits, dots and underscores, with a letter or digit; no dot first, last or twice in a row."
        autocapitalize="none" ...${bind('username')} />
      <${Field} id="signup-display-name" label="Name (optional)" autocomplete="name" maxLength="64" ...${bind('display_name')} />
      <${Field} id="signup-email" label="Email" type="email" autocomplete="email" required maxLength="254" ...${bind('email')} />
      <${Field} id="signup-password" label="Password" type="password" autocomplete="new-password" required minLength="10"
        hint=${PASSWORD_HINT} ...${bind('password')} />
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy}>${action.busy ? 'Creating…' : 'Sign up'}</button>
      <p>Already have an account? <a href=${href('/login')}>Log in</a></p>
    </form>
  <//>`;
}
