"""Headless login through Keycloak's login form, for the Python interop clients.

Given the authorization URL an OAuth client wants a browser to open, it fills in Keycloak's
login form, accepts the consent page if Keycloak shows one (it does for CIMD clients), and returns
the parameters of the redirect back to the client (code, state, iss). Keycloak marks its cookies Secure even on http://localhost, where browsers still send them,
so they are carried by hand.
"""

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import httpx


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.login_action = None
        # The consent page (Keycloak asks for CIMD clients, which it creates consent-required).
        self.consent_action = None
        self.consent_code = None
        self.title = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "kc-form-login":
            self.login_action = attrs.get("action")
        if tag == "form" and "/login-actions/consent" in (attrs.get("action") or ""):
            self.consent_action = attrs.get("action")
        if tag == "input" and attrs.get("name") == "code" and self.consent_action:
            self.consent_code = attrs.get("value")
        if tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title and data.strip():
            self.title = data.strip()


async def login(
    authorize_url: str, redirect_uri: str, username: str, password: str, answer_consent: bool = True
) -> dict:
    """Returns the redirect's query parameters (code, state, iss, ...). With answer_consent=False
    it leaves a consent page as a user who never answers it does (and raises)."""
    cookies = {}

    def remember(response):
        for header in response.headers.get_list("set-cookie"):
            name, _, value = header.split(";")[0].partition("=")
            cookies[name.strip()] = value.strip()

    def cookie_header():
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as http:
        response = await http.get(authorize_url)
        remember(response)
        submitted = False
        for _ in range(6):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(redirect_uri):
                    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
                response = await http.get(location, headers=cookie_header())
                remember(response)
                continue
            page = _Forms()
            page.feed(response.text)
            if page.consent_action and page.consent_code and not answer_consent:
                raise RuntimeError(f"login of {username} left at the consent page, unanswered")
            if page.consent_action and page.consent_code:
                response = await http.post(
                    urljoin(str(response.url), page.consent_action),
                    data={"code": page.consent_code, "accept": "Yes"},
                    headers=cookie_header(),
                )
                remember(response)
                continue
            if page.login_action is None or submitted:
                message = re.search(r'kc-feedback-text">([^<]*)<|id="input-error[^"]*"[^>]*>\s*([^<]*)<', response.text)
                detail = next((m for m in message.groups() if m), "").strip() if message else ""
                raise RuntimeError(
                    f"login of {username} stopped at page {page.title!r} (HTTP {response.status_code}): {detail!r}"
                )
            submitted = True
            response = await http.post(
                urljoin(str(response.url), page.login_action),
                data={"username": username, "password": password, "credentialId": ""},
                headers=cookie_header(),
            )
            remember(response)
    raise RuntimeError("no redirect back to the client")
