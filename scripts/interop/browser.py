"""A tiny scripted browser for driving SAML web flows with `requests`.

It follows redirects, parses HTML forms with html.parser, fills in the
omakase login form and hands back the auto-post form that carries the
SAMLResponse, exactly as a person's browser would see it.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

TIMEOUT = 20


class FlowError(Exception):
    """A step of a browser flow did not go as expected."""


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    input_types: dict[str, str] = field(default_factory=dict)
    # Named submit buttons; a browser sends the one that was clicked.
    submitters: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.fields)

    def set(self, name: str, value: str) -> None:
        for i, (key, _) in enumerate(self.fields):
            if key == name:
                self.fields[i] = (key, value)
                return
        self.fields.append((name, value))


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._textarea: str | None = None
        self._textarea_buf: list[str] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._select_first: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._current)
            return
        form = self._current
        if form is None:
            return
        if tag == "input":
            name = a.get("name")
            if not name:
                return
            typ = a.get("type", "text").lower()
            form.input_types[name] = typ
            if typ == "submit":
                form.submitters.append((name, a.get("value", "")))
                return
            if typ in ("button", "image", "reset", "file"):
                return
            if typ in ("checkbox", "radio") and "checked" not in a:
                return
            form.fields.append((name, a.get("value", "on" if typ in ("checkbox", "radio") else "")))
        elif tag == "button":
            name = a.get("name")
            if name and a.get("type", "submit").lower() == "submit":
                form.input_types[name] = "submit"
                form.submitters.append((name, a.get("value", "")))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._textarea_buf = []
        elif tag == "select":
            self._select = a.get("name")
            self._select_value = None
            self._select_first = None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._select_value = value

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea_buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "textarea" and self._textarea is not None:
            if self._current is not None:
                self._current.fields.append((self._textarea, "".join(self._textarea_buf)))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._select_first
            if self._current is not None and value is not None:
                self._current.fields.append((self._select, value))
            self._select = None


def parse_forms(page_html: str, base_url: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page_html)
    parser.close()
    for form in parser.forms:
        form.action = urljoin(base_url, form.action) if form.action else base_url
    return parser.forms


def page_text(page_html: str, limit: int = 1500) -> str:
    """A readable excerpt of an HTML page for error messages."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page_html)
    text = re.sub(r"(?s)<[^>]+>", " ", text)
    text = html.unescape(text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit]


def describe(resp: requests.Response) -> str:
    ctype = resp.headers.get("Content-Type", "")
    body = resp.text
    if "html" in ctype or body.lstrip().startswith("<"):
        body = page_text(body)
    else:
        body = body[:1500]
    chain = " -> ".join(f"{r.status_code} {r.url}" for r in list(resp.history) + [resp])
    return f"{chain}\n    content-type: {ctype}\n    body: {body}"


class Browser:
    def __init__(self, name: str = "browser") -> None:
        self.name = name
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "omakase-interop/1.0 (python-requests)"
        self.session.headers["Accept-Language"] = "en"

    def get(self, url: str, **kw) -> requests.Response:
        kw.setdefault("timeout", TIMEOUT)
        return self.session.get(url, **kw)

    def post(self, url: str, data, **kw) -> requests.Response:
        kw.setdefault("timeout", TIMEOUT)
        return self.session.post(url, data=data, **kw)

    def submit(self, form: Form, **kw) -> requests.Response:
        """Submit like a browser clicking the form's first submit button."""
        data = list(form.fields) + form.submitters[:1]
        if form.method == "post":
            return self.post(form.action, data=data, **kw)
        return self.get(form.action, params=data, **kw)

    @staticmethod
    def find_form(resp: requests.Response, predicate) -> Form | None:
        for form in parse_forms(resp.text, resp.url):
            if predicate(form):
                return form
        return None

    @staticmethod
    def saml_response_form(resp: requests.Response) -> Form | None:
        return Browser.find_form(resp, lambda f: f.has("SAMLResponse"))

    @staticmethod
    def login_form(resp: requests.Response) -> Form | None:
        return Browser.find_form(
            resp, lambda f: f.input_types.get("password") == "password" or f.has("password")
        )

    def login_through(self, resp: requests.Response, username: str, password: str) -> Form:
        """From any IdP page in a flow, log in if asked to and return the
        auto-post form holding the SAMLResponse."""
        for _ in range(4):
            if resp.status_code >= 400:
                raise FlowError(f"IdP answered with an error:\n    {describe(resp)}")
            form = self.saml_response_form(resp)
            if form is not None:
                if form.method != "post":
                    raise FlowError(f"SAMLResponse form uses method {form.method!r}, expected post")
                return form
            login = self.login_form(resp)
            if login is None:
                raise FlowError(
                    "expected the IdP login page or a SAMLResponse form, got:\n    " + describe(resp)
                )
            if login.method != "post":
                raise FlowError(f"login form uses method {login.method!r}, expected post")
            login.set("username", username)
            login.set("password", password)
            resp = self.submit(login)
            if self.login_form(resp) is not None and self.saml_response_form(resp) is None:
                raise FlowError("the IdP showed the login form again after logging in:\n    " + describe(resp))
        raise FlowError("too many steps without reaching a SAMLResponse form")
