#!/usr/bin/env python3
"""Drive a Shibboleth SP 3 (Apache + mod_shib + shibd) against the omakase IdP.

    shib_check.py --sp-base URL --sp-entity-id ID --idp-base URL
                  --username U --password-file F --email E --name N --logs DIR

The scripted browser starts at the SP, follows it to the IdP, logs in,
posts the SAMLResponse to the SP's ACS like a browser would, and then reads
the SP's own view of the session from /Shibboleth.sso/Session.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from browser import Browser, describe, page_text  # noqa: E402
from checks import CheckFailed, Checks, LogWatch, expect, expect_eq  # noqa: E402

EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


class ShibChecks:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        with open(args.password_file, encoding="utf-8") as fh:
            self.password = fh.read().strip()
        self.sp = args.sp_base.rstrip("/")
        self.idp = args.idp_base.rstrip("/")
        self.acs = self.sp + "/Shibboleth.sso/SAML2/POST"
        self.session_url = self.sp + "/Shibboleth.sso/Session"
        self.logs = LogWatch(*(os.path.join(args.logs, n) for n in ("shibd.log", "native.log", "apache-error.log")))

    # -- diagnostics -------------------------------------------------------
    def show_logs(self) -> None:
        """Print what shibd (and Apache/mod_shib) logged during the failed check."""
        shibd = os.path.join(self.args.logs, "shibd.log")
        lines = self.logs.new_lines(shibd)
        problems = [ln for ln in lines if " ERROR " in ln or " WARN " in ln or " CRIT " in ln]
        if problems:
            print(f"    --- {shibd}: warnings and errors during this check ---")
            for ln in problems[-25:]:
                print("    " + ln[:1000])
        print(f"    --- {shibd}: last lines written during this check ---")
        for ln in lines[-40:]:
            print("    " + ln[:1000])
        for name in ("native.log", "apache-error.log"):
            path = os.path.join(self.args.logs, name)
            extra = self.logs.new_lines(path)
            if extra:
                print(f"    --- {path} ---")
                for ln in extra[-10:]:
                    print("    " + ln[:1000])

    # -- helpers -----------------------------------------------------------
    def post_to_acs(self, browser: Browser, form) -> str:
        """POST the auto-post form to the SP; return where the SP sends the browser."""
        expect_eq(form.action, self.acs, "form action (the SP's ACS)")
        resp = browser.submit(form, allow_redirects=False)
        if resp.status_code not in (302, 303):
            raise CheckFailed(
                "the SP did not accept the SAMLResponse (no redirect after the ACS POST):\n    "
                f"HTTP {resp.status_code}: {page_text(resp.text)}")
        location = resp.headers.get("Location", "")
        return urljoin(resp.url, location)

    def session(self, browser: Browser) -> dict:
        resp = browser.get(self.session_url)
        if resp.status_code != 200:
            raise CheckFailed(f"GET {self.session_url}: HTTP {resp.status_code}: {page_text(resp.text)}")
        try:
            data = json.loads(resp.text)
        except ValueError as exc:
            raise CheckFailed(f"/Shibboleth.sso/Session is not JSON: {resp.text[:500]!r}") from exc
        return data

    @staticmethod
    def attributes(data: dict) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for attr in data.get("attributes", []) or []:
            name = attr.get("name")
            values = attr.get("values", [])
            if isinstance(values, str):
                values = [values]
            out.setdefault(name, []).extend(values)
        return out

    def verify_session(self, browser: Browser) -> dict:
        data = self.session(browser)
        expect(bool(data), "the SP has no session (empty /Shibboleth.sso/Session)")
        expect_eq(data.get("identity_provider"), self.idp + "/saml/metadata", "session identity_provider")
        attrs = self.attributes(data)
        a = self.args
        expect_eq(attrs.get("mail"), [a.email], f"attribute mail (all: {attrs})")
        expect_eq(attrs.get("displayName"), [a.name], f"attribute displayName (all: {attrs})")
        expect_eq(attrs.get("uid"), [a.username], f"attribute uid (all: {attrs})")
        expect_eq(attrs.get("nameid"), [a.email], f"NameID (emailAddress) (all: {attrs})")
        for key, values in attrs.items():
            expect(all(v != "" for v in values), f"attribute {key} has an empty value")
        return data

    # -- checks ------------------------------------------------------------
    def metadata_served(self) -> None:
        browser = Browser("shib-md")
        resp = browser.get(self.sp + "/Shibboleth.sso/Metadata")
        expect_eq(resp.status_code, 200, "HTTP status of /Shibboleth.sso/Metadata")
        expect(self.args.sp_entity_id in resp.text, "SP entity ID missing from its metadata")

    def sp_initiated(self) -> None:
        browser = Browser("shib-sp-init")
        target = self.session_url
        login = self.sp + "/Shibboleth.sso/Login?" + urlencode({"target": target})
        resp = browser.get(login, allow_redirects=False)
        if resp.status_code not in (302, 303):
            raise CheckFailed(f"the SP did not redirect to the IdP: {describe(resp)}")
        to_idp = urljoin(login, resp.headers["Location"])
        parsed = urlparse(to_idp)
        expect_eq(f"{parsed.scheme}://{parsed.netloc}{parsed.path}", self.idp + "/saml/sso",
                  "where the SP sends the AuthnRequest")
        q = parse_qs(parsed.query)
        expect("SAMLRequest" in q, "no SAMLRequest in the HTTP-Redirect URL")
        relay = q.get("RelayState", [None])[0]
        resp = browser.get(to_idp)
        form = browser.login_through(resp, self.args.username, self.password)
        expect_eq(form.get("RelayState"), relay, "RelayState echoed by the IdP")
        landed = self.post_to_acs(browser, form)
        expect_eq(landed, target, "where the SP sends the browser after login")
        self.verify_session(browser)
        # A page protected by mod_shib ("Require shib-session") is now served.
        resp = browser.get(self.sp + "/secure/index.html", allow_redirects=False)
        expect_eq(resp.status_code, 200, f"protected page with the session ({describe(resp)})")
        expect("secure-ok" in resp.text, "protected page content")

    def idp_initiated(self) -> None:
        browser = Browser("shib-idp-init")
        url = self.idp + "/saml/idp-init?" + urlencode({"sp": self.args.sp_entity_id})
        resp = browser.get(url)
        form = browser.login_through(resp, self.args.username, self.password)
        self.post_to_acs(browser, form)
        self.verify_session(browser)

    def protected_redirects(self) -> None:
        browser = Browser("shib-anon")
        resp = browser.get(self.sp + "/secure/index.html", allow_redirects=False)
        expect(resp.status_code in (302, 303), f"anonymous access was not sent to the IdP: {describe(resp)}")
        expect(resp.headers.get("Location", "").startswith(self.idp + "/saml/sso?SAMLRequest="),
               f"redirect goes to {resp.headers.get('Location')}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sp-base", required=True)
    p.add_argument("--sp-entity-id", required=True)
    p.add_argument("--idp-base", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--logs", required=True)
    args = p.parse_args()
    sc = ShibChecks(args)
    checks = Checks("shibboleth", on_failure=sc.show_logs, on_start=sc.logs.mark)
    checks.run("SP serves its metadata", sc.metadata_served)
    checks.run("protected page sends an anonymous browser to the IdP (HTTP-Redirect)", sc.protected_redirects)
    checks.run("SP-initiated login accepted, session has mail/displayName/uid/NameID", sc.sp_initiated)
    checks.run("IdP-initiated login accepted, session has mail/displayName/uid/NameID", sc.idp_initiated)
    return checks.exit_code()


if __name__ == "__main__":
    sys.exit(main())
