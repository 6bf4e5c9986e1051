// Account security: the e-mail address (verify it with the mailed code, change it), the password, and
// two-factor authentication (TOTP: set up with the key or its otpauth:// link and turned on with a code and the
// password, turned off with a code), and
// its recovery codes (made with the password, shown once).
import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { href, navigate } from '../router.js';
import { clearSession } from '../session.js';
import { get, set, toast, useStore } from '../store.js';
import { ErrorNote, Screen, html, useAction } from '../ui.js';
import { Field, PASSWORD_HINT, useForm } from './auth.js';

function EmailSection() {
  const me = useStore('me');
  const [code, setCode] = useState('');
  const [email, setEmail] = useState(me.email);
  const [password, setPassword] = useState('');
  const verify = useAction();
  const change = useAction();
  const submitCode = (event) => {
    event.preventDefault();
    verify.run(async () => {
      await api.verifyEmail(me.username, code.trim());
      set({ me: { ...get('me'), email_verified: true } });
      setCode('');
      toast('E-mail address verified.');
    });
  };
  const resend = () =>
    verify.run(async () => {
      await api.resendVerification();
      toast(`A new code is on its way to ${me.email}.`);
    });
  const submitEmail = (event) => {
    event.preventDefault();
    change.run(async () => {
      set({ me: { ...get('me'), ...(await api.updateMe({ email: email.trim(), current_password: password })) } });
      setPassword('');
      toast('E-mail address changed. Enter the code sent to it.');
    });
  };
  return html`<section class="card form" aria-labelledby="email-title">
    <h2 id="email-title">E-mail</h2>
    <p>
      ${me.email} ·
      <strong class=${me.email_verified ? 'ok' : 'warn'} data-testid="email-state">${me.email_verified ? 'Verified' : 'Not verified'}</strong>
    </p>
    ${!me.email_verified &&
    html`<form class="form" onSubmit=${submitCode}>
      <${Field} id="verify-code" label="Verification code" hint="The 6-digit code e-mailed to you. A verified address lets you reset a forgotten password."
        inputmode="numeric" autocomplete="one-time-code" maxLength="6" required value=${code}
        onInput=${(event) => setCode(event.currentTarget.value)} />
      <${ErrorNote} error=${verify.error} />
      <div class="row-actions">
        <button type="submit" disabled=${verify.busy}>Verify</button>
        <button type="button" class="secondary" onClick=${resend} disabled=${verify.busy}>Send a new code</button>
      </div>
    </form>`}
    <form class="form" onSubmit=${submitEmail}>
      <${Field} id="settings-email" label="E-mail address" type="email" autocomplete="email" required value=${email}
        onInput=${(event) => setEmail(event.currentTarget.value)} />
      ${email.trim() !== me.email &&
      html`<${Field} id="settings-email-password" label="Your password" type="password"
        hint="Your password, to move the account to another address." autocomplete="current-password" required
        value=${password} onInput=${(event) => setPassword(event.currentTarget.value)} />`}
      <${ErrorNote} error=${change.error} />
      <button type="submit" class="secondary" disabled=${change.busy || email.trim() === me.email}>Change e-mail</button>
    </form>
  </section>`;
}

function PasswordSection() {
  const [values, bind, setValues] = useForm({ current: '', fresh: '' });
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      await api.changePassword(values.current, values.fresh);
      setValues({ current: '', fresh: '' });
      // the server signed every session out, this one too: the new password logs in again
      clearSession();
      navigate('/login');
      toast('Password changed: every device is signed out, this one too. Log in with the new password.');
    });
  };
  return html`<form class="card form" onSubmit=${submit} aria-labelledby="password-title">
    <h2 id="password-title">Password</h2>
    <${Field} id="password-current" label="Current password" type="password" autocomplete="current-password" required
      ...${bind('current')} />
    <${Field} id="password-new" label="New password" type="password" autocomplete="new-password" required minLength="10"
      hint=${PASSWORD_HINT} ...${bind('fresh')} />
    <${ErrorNote} error=${action.error} />
    <button type="submit" disabled=${action.busy}>Change password</button>
  </form>`;
}

function TwoFactorSection() {
  const me = useStore('me');
  const [setup, setSetup] = useState(null); // {secret, otpauth_uri} while turning it on
  const [code, setCode] = useState('');
  const [password, setPassword] = useState(''); // turning it on needs the password: a token alone must not
  const action = useAction();
  const start = () =>
    action.run(async () => {
      setSetup(await api.startTotp());
      setCode('');
      setPassword('');
    });
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      if (me.mfa_enabled) {
        await api.disableTotp(code.trim());
        set({ me: { ...get('me'), mfa_enabled: false } });
        toast('Two-factor authentication is off.');
      } else {
        await api.enableTotp(code.trim(), password);
        set({ me: { ...get('me'), mfa_enabled: true } });
        setSetup(null);
        setPassword('');
        toast('Two-factor authentication is on.');
      }
      setCode('');
    });
  };
  const codeField = html`<${Field} id="totp-code" label="Code from your authenticator app" inputmode="numeric"
    autocomplete="one-time-code" pattern="[0-9]{6}" maxLength="6" required value=${code}
    onInput=${(event) => setCode(event.currentTarget.value)} />`;
  return html`<section class="card form" aria-labelledby="mfa-title">
    <h2 id="mfa-title">Two-factor authentication</h2>
    <p data-testid="mfa-state">${me.mfa_enabled ? 'On: logging in asks for a code from your authenticator app.' : 'Off.'}</p>
    ${!me.mfa_enabled && !setup &&
    html`<p><button type="button" onClick=${start} disabled=${action.busy}>Set up two-factor authentication</button></p>`}
    ${!me.mfa_enabled && setup &&
    html`<form class="form" onSubmit=${submit}>
      <p>Add Pinhole to your authenticator app with this key (or open the link on your phone), then enter the code it shows.</p>
      <p><span class="muted">Key: </span><code class="secret" data-testid="totp-secret">${setup.secret}</code></p>
      <p><a href=${setup.otpauth_uri}>Open in an authenticator app</a></p>
      ${codeField}
      <${Field} id="totp-password" label="Your password" type="password" autocomplete="current-password" required
        hint="Your password, to turn two-factor on." value=${password}
        onInput=${(event) => setPassword(event.currentTarget.value)} />
      <${ErrorNote} error=${action.error} />
      <div class="row-actions">
        <button type="submit" disabled=${action.busy}>Turn on</button>
        <button type="button" class="secondary" onClick=${() => setSetup(null)}>Cancel</button>
      </div>
    </form>`}
    ${me.mfa_enabled &&
    html`<form class="form" onSubmit=${submit}>
      ${codeField}
      <${ErrorNote} error=${action.error} />
      <button type="submit" class="danger" disabled=${action.busy}>Turn off</button>
    </form>`}
    ${!setup && !me.mfa_enabled && html`<${ErrorNote} error=${action.error} />`}
  </section>`;
}

/** Recovery codes: the password makes a new set (the old one stops working), shown here once. */
function RecoveryCodesSection() {
  const [password, setPassword] = useState('');
  const [codes, setCodes] = useState(null);
  const action = useAction();
  const submit = (event) => {
    event.preventDefault();
    action.run(async () => {
      const answer = await api.issueRecoveryCodes(password);
      setPassword('');
      setCodes(answer.recovery_codes);
    });
  };
  const download = () => {
    const file = new Blob([`Pinhole recovery codes for @${get('me').username}\n\n${codes.join('\n')}\n`], { type: 'text/plain' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(file);
    link.download = 'pinhole-recovery-codes.txt';
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  };
  return html`<section class="card form" aria-labelledby="recovery-title">
    <h2 id="recovery-title">Recovery codes</h2>
    <p class="muted">If you lose your phone, a recovery code logs you in instead of a code from the app (and turns
      two-factor off, so you can set it up again). Each works once.</p>
    ${codes &&
    html`<div role="status">
      <p><strong>Save these codes now: they are shown only once.</strong> Your previous codes no longer work.</p>
      <ol class="recovery-codes" data-testid="recovery-codes">${codes.map((code) => html`<li key=${code}><code>${code}</code></li>`)}</ol>
      <p class="row-actions">
        <button type="button" class="secondary" onClick=${download}>Download the codes</button>
        <button type="button" onClick=${() => setCodes(null)}>I saved them</button>
      </p>
    </div>`}
    ${!codes &&
    html`<form class="form" onSubmit=${submit}>
      <${Field} id="recovery-password" label="Your password" type="password" autocomplete="current-password" required
        hint="Needed to make new codes." value=${password} onInput=${(event) => setPassword(event.currentTarget.value)} />
      <${ErrorNote} error=${action.error} />
      <button type="submit" class="secondary" disabled=${action.busy || !password}>Make new recovery codes</button>
    </form>`}
  </section>`;
}

function MfaRecovery() {
  const me = useStore('me');
  return me.mfa_enabled ? html`<${RecoveryCodesSection} />` : null;
}

export function Security() {
  return html`<${Screen} title="Password, e-mail and two-factor">
    <p><a href=${href('/settings')}>Back to settings</a></p>
    <${EmailSection} />
    <${PasswordSection} />
    <${TwoFactorSection} />
    <${MfaRecovery} />
  <//>`;
}
