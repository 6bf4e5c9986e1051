// Sign up and log in. Signing up logs the new account straight in.
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { href, navigate } from '../router.js';
import { ErrorNote, Screen, html, useAction } from '../ui.js';

function Field({ id, label, hint, ...input }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} name=${id} aria-describedby=${hint ? `${id}-hint` : undefined} ...${input} />
    ${hint && html`<small id=${`${id}-hint`} class="muted">${hint}</small>`}
  </div>`;
}

function useForm(initial) {
  const [values, setValues] = useState(initial);
  const bind = (name) => ({ value: values[name], onInput: (event) => setValues({ ...values, [name]: event.currentTarget.value }) });
  return [values, bind];
}

export function Login({ onSignedIn }) {
  const [values, bind] = useForm({ username: '', password: '' });
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      await api.login(values.username.trim(), values.password);
      await onSignedIn();
      navigate('/');
    });
  };
  return html`<${Screen} title="Log in">
    <form class="card form" onSubmit=${submit} aria-describedby="login-error">
      <${Field} id="login-username" label="Username" autocomplete="username" required autocapitalize="none" ...${bind('username')} />
      <${Field} id="login-password" label="Password" type="password" autocomplete="current-password" required ...${bind('password')} />
      <${ErrorNote} error=${action.error} id="login-error" />
      <button type="submit" disabled=${action.busy}>${action.busy ? 'Logging in…' : 'Log in'}</button>
      <p>New to Pinhole? <a href=${href('/signup')}>Create an account</a></p>
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
      <${Field} id="signup-username" label="Username" hint="3–30 characters: a–z, 0–9, dots and underscores." autocomplete="username"
        required minLength="3" maxLength="30" autocapitalize="none" ...${bind('username')} />
      <${Field} id="signup-display-name" label="Name (optional)" autocomplete="name" maxLength="64" ...${bind('display_name')} />
      <${Field} id="signup-email" label="Email" type="email" autocomplete="email" required ...${bind('email')} />
      <${Field} id="signup-password" label="Password" type="password" autocomplete="new-password" required minLength="10"
        hint="At least 10 characters, with upper and lower case letters and a digit." ...${bind('password')} />
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy}>${action.busy ? 'Creating…' : 'Sign up'}</button>
      <p>Already have an account? <a href=${href('/login')}>Log in</a></p>
    </form>
  <//>`;
}
