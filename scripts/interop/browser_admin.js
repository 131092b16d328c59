// A real headless Chromium, driven with playwright-core: an admin registers
// a service by uploading its metadata, assigns it to a user, and the user
// signs in to that service (a real Shibboleth SP) by clicking its tile.
//
//   node browser_admin.js IDP_BASE SP_BASE SP_METADATA_FILE ADMIN ADMIN_PW_FILE USER USER_PW_FILE EMAIL NAME
//
// Prints PASS/FAIL lines for run.sh and exits non-zero on a failure.
'use strict';
const fs = require('fs');
const { chromium } = require('playwright-core');

const [idp, sp, metadataFile, admin, adminPwFile, user, userPwFile, email, name] = process.argv.slice(2);
const adminPw = fs.readFileSync(adminPwFile, 'utf8');
const userPw = fs.readFileSync(userPwFile, 'utf8');
const SERVICE = 'Shibboleth Wiki（ブラウザ登録）';

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

async function login(page, username, password) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button[type=submit]')]);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  let step = 'start';
  try {
    // The admin registers the service from its metadata file.
    const adminCtx = await browser.newContext({ locale: 'ja-JP' });
    const a = await adminCtx.newPage();
    step = 'admin logs in';
    await a.goto(idp + '/admin/services/new');
    await login(a, admin, adminPw);
    expect(a.url().endsWith('/admin/services/new'), `after login the admin is at ${a.url()}`);
    step = 'admin uploads the metadata';
    await a.setInputFiles('#file', metadataFile);
    await Promise.all([a.waitForNavigation(), a.click('form[action="/admin/services/preview"] button.primary')]);
    const entity = (await a.textContent('#u-entity-id')).trim();
    expect(entity === sp + '/shibboleth', `preview shows entity ID ${entity}`);
    expect((await a.textContent('#u-acs')).includes(sp + '/Shibboleth.sso/SAML2/POST'), 'preview lists the ACS');
    step = 'admin registers the service';
    await a.fill('#name', SERVICE);
    await Promise.all([a.waitForNavigation(), a.click('form[action="/admin/services/save"] button.primary')]);
    expect(/\/admin\/services\/\d+\?saved=1$/.test(a.url()), `saved, now at ${a.url()}`);
    step = 'admin assigns the service';
    await a.fill('#assign-user', user);
    await Promise.all([a.waitForNavigation(), a.click('form[action$="/assign"] button')]);
    expect((await a.textContent('#assigned')).includes(user), 'the user is listed as assigned');
    console.log(`PASS\tbrowser: admin uploads metadata, sees what was understood, registers and assigns the service`);

    // The user signs in through the tile.
    const userCtx = await browser.newContext({ locale: 'ja-JP' });
    const u = await userCtx.newPage();
    step = 'user logs in';
    await u.goto(idp + '/');
    await login(u, user, userPw);
    step = 'user clicks the tile';
    const tile = u.locator('a.tile', { hasText: SERVICE });
    expect(await tile.count() === 1, 'the tile is on ホーム');
    await Promise.all([
      u.waitForURL((url) => url.toString().startsWith(sp), { timeout: 20000 }),
      tile.click(),
    ]);
    step = 'the SP has a session';
    const resp = await u.goto(sp + '/Shibboleth.sso/Session');
    const data = JSON.parse(await resp.text());
    const attrs = {};
    for (const at of data.attributes || []) attrs[at.name] = [].concat(at.values);
    expect(data.identity_provider === idp + '/saml/metadata', `session IdP ${data.identity_provider}`);
    expect(JSON.stringify(attrs.mail) === JSON.stringify([email]), `mail ${JSON.stringify(attrs.mail)}`);
    expect(JSON.stringify(attrs.displayName) === JSON.stringify([name]), `displayName ${JSON.stringify(attrs.displayName)}`);
    console.log(`PASS\tbrowser: the user signs in to the Shibboleth SP by clicking its tile (auto-posted form, strict CSP)`);
  } catch (e) {
    console.log(`FAIL\tbrowser: ${step}: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
