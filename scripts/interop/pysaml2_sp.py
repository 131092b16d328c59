#!/usr/bin/env python3
"""A pysaml2 Service Provider run against the omakase IdP.

    pysaml2_sp.py metadata --work DIR --entity-id ID --acs URL --out FILE
                           [--nameid-format email|persistent]
    pysaml2_sp.py check    --work DIR --entity-id ID --acs URL
                           --idp-metadata FILE --idp-base URL
                           --username U --password-file F --email E --name N
                           [--persistent-entity-id ID2 --persistent-acs URL2]

The SP runs in-process: nobody listens on the ACS URL. The scripted browser
takes the auto-post form from the IdP and hands its SAMLResponse straight to
Saml2Client.parse_authn_request_response, which checks the signatures, the
audience, the destination, InResponseTo and the validity window.
"""
from __future__ import annotations

import argparse
import base64
import logging
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT  # noqa: E402
from saml2.client import Saml2Client  # noqa: E402
from saml2.config import SPConfig  # noqa: E402
from saml2.metadata import create_metadata_string  # noqa: E402
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT  # noqa: E402

from browser import Browser, FlowError, describe, parse_forms  # noqa: E402
from checks import CheckFailed, Checks, LogWatch, expect, expect_eq  # noqa: E402

LOG_NAME = "pysaml2.log"


NAMEID_FORMATS = {"email": NAMEID_FORMAT_EMAILADDRESS, "persistent": NAMEID_FORMAT_PERSISTENT}
DS = "{http://www.w3.org/2000/09/xmldsig#}"
SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def sp_config(work: str, entity_id: str, acs: str, idp_metadata: str | None,
              nameid_format: str = NAMEID_FORMAT_EMAILADDRESS) -> SPConfig:
    xmlsec = shutil.which("xmlsec1")
    if not xmlsec:
        raise SystemExit("pysaml2_sp.py: xmlsec1 not found on PATH (run scripts/interop/deps.sh)")
    key = os.path.join(work, "sp-key.pem")
    cert = os.path.join(work, "sp-cert.pem")
    conf = {
        "entityid": entity_id,
        "name": "omakase interop pysaml2 SP",
        "description": "pysaml2 Service Provider used by the omakase interop tests",
        "service": {
            "sp": {
                "name": "omakase interop pysaml2 SP",
                "endpoints": {
                    "assertion_consumer_service": [(acs, BINDING_HTTP_POST)],
                },
                "want_response_signed": True,
                "want_assertions_signed": True,
                "authn_requests_signed": False,
                "allow_unsolicited": True,
                "name_id_format": [nameid_format],
                "required_attributes": ["mail"],
                "optional_attributes": ["displayName", "uid", "o", "ou", "telephoneNumber"],
            },
        },
        "key_file": key,
        "cert_file": cert,
        "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
        "xmlsec_binary": xmlsec,
        "allow_unknown_attributes": True,
        "accepted_time_diff": 60,
        "organization": {
            "name": "omakase interop",
            "display_name": "omakase interop",
            "url": entity_id,
        },
        "contact_person": [
            {"contact_type": "technical", "email_address": "mailto:interop@example.com"},
        ],
    }
    if idp_metadata:
        conf["metadata"] = {"local": [idp_metadata]}
    config = SPConfig()
    config.load(conf)
    return config


def cmd_metadata(args: argparse.Namespace) -> int:
    config = sp_config(args.work, args.entity_id, args.acs, None, NAMEID_FORMATS[args.nameid_format])
    xml = create_metadata_string(None, config=config, sign=False)
    if isinstance(xml, bytes):
        xml = xml.decode("utf-8")
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(xml)
        if not xml.endswith("\n"):
            fh.write("\n")
    print(args.out)
    return 0


class Pysaml2Checks:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        with open(args.password_file, encoding="utf-8") as fh:
            self.password = fh.read().strip()
        self.idp_entity_id = args.idp_base.rstrip("/") + "/saml/metadata"
        self.client: Saml2Client | None = None
        self.log_path = os.path.join(args.work, LOG_NAME)
        self.browser = Browser("pysaml2")
        self.logs = LogWatch(self.log_path)

    # -- diagnostics -------------------------------------------------------
    def show_log(self) -> None:
        """Print what pysaml2 logged during the failed check."""
        lines = self.logs.new_lines(self.log_path)
        interesting = [ln for ln in lines if " WARNING " in ln or " ERROR " in ln or " CRITICAL " in ln]
        tail = interesting[-15:] or lines[-8:]
        if tail:
            print(f"    --- {self.log_path} (during this check) ---")
            for ln in tail:
                print("    " + ln[:800])

    # -- helpers -----------------------------------------------------------
    def need_client(self) -> Saml2Client:
        if self.client is None:
            raise CheckFailed("no SAML client (the IdP metadata could not be loaded)")
        return self.client

    @staticmethod
    def check_signatures(saml_response: str) -> None:
        """Both the Response and the Assertion carry an enveloped RSA-SHA256
        signature with SHA-256 digests."""
        root = ET.fromstring(base64.b64decode(saml_response))
        expect_eq(root.tag, SAMLP + "Response", "root element")
        assertion = root.find(SAML + "Assertion")
        expect(assertion is not None, "no plain Assertion in the Response")
        for what, elem in (("Response", root), ("Assertion", assertion)):
            sig = elem.find(DS + "Signature")
            expect(sig is not None, f"the {what} has no ds:Signature child")
            method = sig.find(f"{DS}SignedInfo/{DS}SignatureMethod")
            expect_eq(method.get("Algorithm") if method is not None else None, RSA_SHA256,
                      f"{what} SignatureMethod")
            ref = sig.find(f"{DS}SignedInfo/{DS}Reference")
            expect(ref is not None, f"the {what} signature has no Reference")
            expect_eq(ref.get("URI"), "#" + (elem.get("ID") or ""), f"{what} signature Reference URI")
            digest = ref.find(DS + "DigestMethod")
            expect_eq(digest.get("Algorithm") if digest is not None else None, SHA256,
                      f"{what} DigestMethod")

    def parse(self, client: Saml2Client, form, acs: str, expect_relay: str | None,
              outstanding: dict, expect_irt: str | None):
        """Check the auto-post form and let pysaml2 validate the response."""
        expect_eq(form.action, acs, "form action (ACS URL)")
        if expect_relay is not None:
            expect_eq(form.get("RelayState"), expect_relay, "RelayState")
        saml_response = form.get("SAMLResponse") or ""
        expect(saml_response != "", "empty SAMLResponse")
        try:
            resp = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
        except Exception as exc:  # pysaml2 raises many kinds
            raise CheckFailed(f"pysaml2 rejected the response: {exc.__class__.__name__}: {exc}") from exc
        expect(resp is not None, "pysaml2 returned no response object")
        expect_eq(resp.issuer(), self.idp_entity_id, "Issuer")
        expect(resp.response.signature is not None, "the Response is not signed")
        expect(resp.assertion is not None, "no assertion")
        expect(resp.assertion.signature is not None, "the Assertion is not signed")
        expect_eq(resp.in_response_to, expect_irt, "InResponseTo")
        self.check_signatures(saml_response)
        expect(resp.name_id is not None, "no NameID")
        ident = resp.get_identity()
        a = self.args
        expect_eq(ident.get("mail"), [a.email], "attribute mail")
        expect_eq(ident.get("displayName"), [a.name], "attribute displayName")
        expect_eq(ident.get("uid"), [a.username], "attribute uid")
        for key, values in ident.items():
            expect(all(v not in ("", None) for v in values), f"attribute {key} has an empty value: {values!r}")
        return resp

    def verify(self, form, expect_relay: str | None, outstanding: dict, expect_irt: str | None):
        resp = self.parse(self.need_client(), form, self.args.acs, expect_relay, outstanding, expect_irt)
        expect_eq(resp.name_id.format, NAMEID_FORMAT_EMAILADDRESS, "NameID Format")
        expect_eq(resp.name_id.text, self.args.email, "NameID")
        return resp

    # -- checks ------------------------------------------------------------
    def load_metadata(self) -> None:
        a = self.args
        config = sp_config(a.work, a.entity_id, a.acs, a.idp_metadata)
        client = Saml2Client(config=config)
        md = config.metadata
        expect(self.idp_entity_id in md.identity_providers(),
               f"IdP {self.idp_entity_id} not in the metadata (found {md.identity_providers()})")
        for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
            locs = list(md.single_sign_on_service(self.idp_entity_id, binding))
            expect(locs, f"no SingleSignOnService for {binding}")
        self.client = client

    def sp_initiated_redirect(self) -> None:
        client = self.need_client()
        relay = "/after-redirect-login"
        req_id, info = client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay, binding=BINDING_HTTP_REDIRECT)
        location = dict(info["headers"]).get("Location")
        expect(bool(location), "pysaml2 produced no redirect URL")
        resp = self.browser.get(location)
        form = self.browser.login_through(resp, self.args.username, self.password)
        self.verify(form, relay, {req_id: relay}, req_id)

    def sso_session_reuse(self) -> None:
        client = self.need_client()
        relay = "/again"
        req_id, info = client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay, binding=BINDING_HTTP_REDIRECT)
        resp = self.browser.get(dict(info["headers"])["Location"])
        form = Browser.saml_response_form(resp)
        if form is None:
            raise FlowError("with a live IdP session the IdP did not answer with the SAMLResponse form:\n    "
                            + describe(resp))
        self.verify(form, relay, {req_id: relay}, req_id)

    def sp_initiated_post(self) -> None:
        client = self.need_client()
        relay = "/after-post-login"
        req_id, info = client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay, binding=BINDING_HTTP_POST,
            nameid_format=NAMEID_FORMAT_EMAILADDRESS)
        forms = parse_forms(info["data"], self.args.acs)
        forms = [f for f in forms if f.has("SAMLRequest")]
        expect(len(forms) == 1, "pysaml2 produced no SAMLRequest form")
        req_form = forms[0]
        expect(req_form.action.startswith(self.args.idp_base), f"request form posts to {req_form.action}")
        browser = Browser("pysaml2-post")
        resp = browser.submit(req_form)
        form = browser.login_through(resp, self.args.username, self.password)
        self.verify(form, relay, {req_id: relay}, req_id)

    def idp_initiated(self) -> None:
        self.need_client()
        browser = Browser("pysaml2-idp-init")
        url = self.args.idp_base.rstrip("/") + "/saml/idp-init?" + urlencode({"sp": self.args.entity_id})
        resp = browser.get(url)
        form = browser.login_through(resp, self.args.username, self.password)
        self.verify(form, None, {}, None)

    def persistent_nameid(self) -> None:
        """A second SP registered with --nameid-format persistent gets an
        opaque, stable NameID qualified with both entity IDs."""
        a = self.args
        self.need_client()
        client = Saml2Client(config=sp_config(a.work, a.persistent_entity_id, a.persistent_acs,
                                              a.idp_metadata, NAMEID_FORMAT_PERSISTENT))
        browser = Browser("pysaml2-persistent")
        url = a.idp_base.rstrip("/") + "/saml/idp-init?" + urlencode({"sp": a.persistent_entity_id})
        form = browser.login_through(browser.get(url), a.username, self.password)
        first = self.parse(client, form, a.persistent_acs, None, {}, None).name_id
        relay = "/persistent"
        req_id, info = client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay, binding=BINDING_HTTP_REDIRECT,
            nameid_format=NAMEID_FORMAT_PERSISTENT)
        resp = browser.get(dict(info["headers"])["Location"])
        form = Browser.saml_response_form(resp)
        if form is None:
            raise FlowError("with a live IdP session the IdP did not answer with the SAMLResponse form:\n    "
                            + describe(resp))
        second = self.parse(client, form, a.persistent_acs, relay, {req_id: relay}, req_id).name_id
        for n in (first, second):
            expect_eq(n.format, NAMEID_FORMAT_PERSISTENT, "NameID Format")
            expect(bool(n.text) and a.email not in n.text and n.text != a.username,
                   f"persistent NameID is not opaque: {n.text!r}")
            if n.name_qualifier is not None:
                expect_eq(n.name_qualifier, self.idp_entity_id, "NameQualifier")
            if n.sp_name_qualifier is not None:
                expect_eq(n.sp_name_qualifier, a.persistent_entity_id, "SPNameQualifier")
        expect_eq(second.text, first.text, "persistent NameID across two logins")


def cmd_check(args: argparse.Namespace) -> int:
    pc = Pysaml2Checks(args)
    logging.basicConfig(
        filename=pc.log_path, level=logging.DEBUG,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.INFO)
    checks = Checks("pysaml2", on_failure=pc.show_log, on_start=pc.logs.mark)
    checks.run("load IdP metadata (both SSO bindings present)", pc.load_metadata)
    checks.run("SP-initiated, HTTP-Redirect AuthnRequest, login, signed assertion accepted", pc.sp_initiated_redirect)
    checks.run("second AuthnRequest reuses the IdP session (no login)", pc.sso_session_reuse)
    checks.run("SP-initiated, HTTP-POST AuthnRequest, login, signed assertion accepted", pc.sp_initiated_post)
    checks.run("IdP-initiated (unsolicited) response accepted", pc.idp_initiated)
    if args.persistent_entity_id:
        checks.run("service with persistent NameID: opaque, stable, qualified", pc.persistent_nameid)
    return checks.exit_code()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("metadata", "check"):
        s = sub.add_parser(name)
        s.add_argument("--work", required=True, help="directory with sp-key.pem and sp-cert.pem")
        s.add_argument("--entity-id", required=True)
        s.add_argument("--acs", required=True)
        if name == "metadata":
            s.add_argument("--out", required=True)
            s.add_argument("--nameid-format", choices=sorted(NAMEID_FORMATS), default="email")
        else:
            s.add_argument("--idp-metadata", required=True)
            s.add_argument("--idp-base", required=True)
            s.add_argument("--username", required=True)
            s.add_argument("--password-file", required=True)
            s.add_argument("--email", required=True)
            s.add_argument("--name", required=True)
            s.add_argument("--persistent-entity-id", help="a second SP registered with persistent NameIDs")
            s.add_argument("--persistent-acs")
    args = p.parse_args()
    if args.cmd == "metadata":
        return cmd_metadata(args)
    return cmd_check(args)


if __name__ == "__main__":
    sys.exit(main())
