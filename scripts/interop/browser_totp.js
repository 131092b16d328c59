// A real headless Chromium, driven with playwright-core: a user sets up an
// authenticator app (the QR code is read from a screenshot, as a phone
// would), then signs in with a password and a TOTP code.
//
//   node browser_totp.js IDP_BASE USER PW_FILE
//
// Needs playwright-core, pngjs and jsqr on NODE_PATH (scripts/interop/deps.sh).
// The TOTP codes come from the RFC 6238 implementation below, not from the
// IdP. Takes up to about a minute: one login waits for a fresh 30-second step
// so that no code is used twice. Prints PASS/FAIL lines for run.sh and exits
// non-zero on a failure.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { chromium } = require('playwright-core');
const { PNG } = require('pngjs');
const jsQR = require('jsqr');

const [idp, user, pwFile] = process.argv.slice(2);
if (!idp || !user || !pwFile) {
  console.error('usage: node browser_totp.js IDP_BASE USER PW_FILE');
  process.exit(2);
}
const password = fs.readFileSync(pwFile, 'utf8');
const PERIOD = 30;

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

// RFC 4648 base32 (no padding, case-insensitive) to bytes.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/=+$/, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)} in the secret`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// RFC 6238 TOTP (RFC 4226 HOTP over the time step), HMAC-SHA1, 6 digits.
function totp(secret, step, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', secret).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / PERIOD);
const secondsLeftInStep = () => PERIOD - ((Date.now() / 1000) % PERIOD);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Sleeps until the step after `step` has begun (plus a little margin).
async function waitForStepAfter(step) {
  while (stepNow() <= step) await sleep(Math.min(secondsLeftInStep() * 1000 + 300, 5000));
}

// The RFC 6238 test vector (SHA1, T = 59 s), so a broken implementation
// fails here rather than looking like an IdP bug.
function selfTest() {
  const key = Buffer.from('12345678901234567890');
  expect(totp(key, 1, 8) === '94287082', 'own TOTP implementation fails the RFC 6238 test vector');
  expect(base32Decode('GEZDGNBVGY3TQOJQ').toString() === '1234567890', 'own base32 decoder is wrong');
}

async function login(page, username, pw) {
  await page.fill('#username', username);
  await page.fill('#password', pw);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
}

// Submits a code on the /mfa challenge; returns the HTTP status of the answer.
async function submitChallenge(page, code) {
  await page.fill('#totp-form #totp-code', code);
  const [resp] = await Promise.all([page.waitForNavigation(), page.click('#totp-form button[type=submit]')]);
  return resp ? resp.status() : 0;
}

const path = (page) => new URL(page.url()).pathname;

// Decodes the QR code in a PNG; pads it with white in case the quiet zone
// was cropped.
function decodeQr(png) {
  const img = PNG.sync.read(png);
  const pad = 16;
  const w = img.width + 2 * pad;
  const h = img.height + 2 * pad;
  const data = new Uint8ClampedArray(w * h * 4).fill(255);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 4;
      const d = ((y + pad) * w + x + pad) * 4;
      // Flatten transparency onto white.
      const a = img.data[s + 3] / 255;
      for (let c = 0; c < 3; c++) data[d + c] = Math.round(img.data[s + c] * a + 255 * (1 - a));
    }
  }
  const found = jsQR(data, w, h);
  return found ? found.data : null;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  let step = 'start';
  try {
    selfTest();
    // deviceScaleFactor 2: about 6 screen pixels per QR module.
    const ctx = await browser.newContext({ locale: 'ja-JP', deviceScaleFactor: 2 });
    const p = await ctx.newPage();

    step = 'password login';
    await p.goto(idp + '/login');
    await login(p, user, password);
    expect(path(p) === '/', `after login the user is at ${p.url()}, not ホーム`);
    step = 'open the authenticator app setup from /security';
    await p.goto(idp + '/security');
    expect((await p.textContent('#factor-totp')).includes('未設定'), 'before setup #factor-totp does not say 未設定');
    await Promise.all([p.waitForNavigation(), p.click('a[href^="/mfa/totp/setup"]')]);
    expect(path(p) === '/mfa/totp/setup', `the setup link led to ${p.url()}`);

    step = 'read the QR code';
    const qr = p.locator('#totp-qr');
    await qr.waitFor();
    await p.waitForFunction(() => {
      const img = document.querySelector('#totp-qr');
      return img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 5000 });
    const shown = (await p.textContent('#totp-secret')).replace(/\s+/g, '');
    expect(/^[A-Z2-7]{16,}$/.test(shown), `#totp-secret is not a base32 key: ${JSON.stringify(shown)}`);
    const uri = decodeQr(await qr.screenshot());
    expect(uri, 'no QR code could be decoded from the screenshot of #totp-qr');
    expect(uri.startsWith('otpauth://totp/'), `the QR code holds ${JSON.stringify(uri)}, not an otpauth://totp/ URI`);
    const parsed = new URL(uri);
    const params = parsed.searchParams;
    const label = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    const colon = label.indexOf(':');
    const labelIssuer = colon >= 0 ? label.slice(0, colon).trim() : '';
    const account = (colon >= 0 ? label.slice(colon + 1) : label).trim();
    const issuer = params.get('issuer') || '';
    expect(params.get('secret') === shown,
      `the QR code's secret ${params.get('secret')} differs from the key shown in #totp-secret ${shown}`);
    expect(issuer !== '', `the QR code has no issuer parameter: ${uri}`);
    expect(labelIssuer === '' || labelIssuer === issuer, `label issuer ${JSON.stringify(labelIssuer)} != issuer ${JSON.stringify(issuer)}`);
    expect(account !== '', `the QR code's label has no account name: ${uri}`);
    expect(account.includes(user), `the QR code's account ${JSON.stringify(account)} does not name ${user}`);
    for (const [k, want] of [['digits', '6'], ['period', '30'], ['algorithm', 'SHA1']]) {
      const got = params.get(k);
      expect(got === null || got.toUpperCase() === want, `the QR code says ${k}=${got}, expected ${want}`);
    }
    console.log(`PASS\tbrowser totp: the QR code (read from a screenshot) holds the key shown as text, issuer ${JSON.stringify(issuer)}, account ${JSON.stringify(account)}`);

    step = 'enrol with a computed code';
    const secret = base32Decode(params.get('secret'));
    // Not right at the end of a step, so the code is still current when it arrives.
    if (secondsLeftInStep() < 3) await waitForStepAfter(stepNow());
    const enrolStep = stepNow();
    await p.fill('#totp-setup-form #totp-code', totp(secret, enrolStep));
    const [enrolResp] = await Promise.all([p.waitForNavigation(), p.click('#totp-setup-form button[type=submit]')]);
    expect(enrolResp && enrolResp.status() === 200, `setup answered HTTP ${enrolResp && enrolResp.status()} at ${p.url()}`);
    expect(await p.locator('#recovery-codes').count() === 1, `no #recovery-codes after the setup code, at ${p.url()}`);
    const codes = (await p.locator('#recovery-codes li').allTextContents()).map((c) => c.trim());
    expect(codes.length === 10 && codes.every((c) => /^[a-z0-9]{5}-[a-z0-9]{5}$/.test(c)),
      `the recovery codes page shows ${codes.length} items, not 10 codes like abcde-fghjk: ${JSON.stringify(codes)}`);
    expect(new Set(codes).size === 10, 'the recovery codes are not all different');
    expect(await p.locator('#continue').count() === 1, 'no #continue link on the recovery codes page');
    await Promise.all([p.waitForNavigation(), p.click('#continue')]);
    console.log(`PASS\tbrowser totp: a code computed from the QR code's key enables the app; 10 recovery codes are shown`);

    step = 'log out';
    await Promise.all([p.waitForNavigation(), p.click('form[action="/logout"] button')]);
    step = 'password login asks for the code';
    await p.goto(idp + '/');
    await login(p, user, password);
    expect(path(p) === '/mfa', `after the password the user is at ${p.url()}, not /mfa`);
    expect(await p.locator('#totp-form').count() === 1, 'no #totp-form on /mfa');

    step = 'a wrong code is refused';
    const near = new Set([-2, -1, 0, 1, 2].map((d) => totp(secret, stepNow() + d)));
    let wrong = (Number(totp(secret, stepNow())) + 500000) % 1000000;
    while (near.has(String(wrong).padStart(6, '0'))) wrong = (wrong + 1) % 1000000;
    const wrongStatus = await submitChallenge(p, String(wrong).padStart(6, '0'));
    expect(wrongStatus === 401, `a wrong code answered HTTP ${wrongStatus}, expected 401`);
    // The refusal is the challenge page again, answered to the POST /mfa/totp.
    expect(path(p).startsWith('/mfa'), `after a wrong code the user is at ${p.url()}`);
    expect(await p.locator('#mfa-error').count() === 1, 'no #mfa-error after a wrong code');
    expect(await p.locator('#totp-form').count() === 1, 'no #totp-form to try again after a wrong code');
    console.log(`PASS\tbrowser totp: after the password /mfa asks for the code; a wrong code is refused (HTTP 401, #mfa-error)`);

    step = 'a fresh code signs in';
    // A fresh step, so that the enrolment code is not replayed, and with most
    // of the step left so that the replay check below falls in the same step.
    await waitForStepAfter(enrolStep);
    if (secondsLeftInStep() < 15) await waitForStepAfter(stepNow());
    const loginStep = stepNow();
    const code = totp(secret, loginStep);
    const okStatus = await submitChallenge(p, code);
    expect(okStatus === 200, `the right code answered HTTP ${okStatus} at ${p.url()}`);
    expect(path(p) === '/', `after the right code the user is at ${p.url()}, not ホーム`);
    step = '/security shows the app as set up';
    await p.goto(idp + '/security');
    const row = await p.textContent('#factor-totp');
    expect(row.includes('設定済み'), `#factor-totp says ${JSON.stringify(row.replace(/\s+/g, ' ').trim())}`);
    console.log(`PASS\tbrowser totp: password plus a fresh code leads to ホーム; セキュリティ shows the app as 設定済み`);

    step = 'the same code is refused in a second browser';
    const ctx2 = await browser.newContext({ locale: 'ja-JP' });
    const q = await ctx2.newPage();
    await q.goto(idp + '/');
    await login(q, user, password);
    expect(path(q) === '/mfa', `the second browser is at ${q.url()} after the password, not /mfa`);
    const replayStatus = await submitChallenge(q, code);
    const replayStep = stepNow();
    expect(replayStep === loginStep, `the replay took too long (step ${replayStep - loginStep} later), so it proves nothing`);
    expect(replayStatus === 401, `the replayed code answered HTTP ${replayStatus} at ${q.url()}, expected 401`);
    expect(path(q).startsWith('/mfa') && await q.locator('#mfa-error').count() === 1, `replayed code: at ${q.url()}, no #mfa-error`);
    // Control: that browser is otherwise fine, so the refusal was the replay.
    // The next step's code is within the accepted ±1 window and unused.
    step = 'the next step\'s code is then accepted in the second browser';
    const nextStatus = await submitChallenge(q, totp(secret, loginStep + 1));
    expect(nextStatus === 200 && path(q) === '/', `the next step's code answered HTTP ${nextStatus} at ${q.url()}`);
    console.log(`PASS\tbrowser totp: the code just used is refused in another browser within the same 30-second step (the next step's code then passes)`);
  } catch (e) {
    console.log(`FAIL\tbrowser totp: ${step}: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
