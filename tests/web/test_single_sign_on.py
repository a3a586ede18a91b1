"""Single sign-on against a real OpenID Connect provider: django-oauth-toolkit in a project of
its own (tests/oidc_provider/), run as a separate process with an RSA key made for the run. The
tracker runs in gunicorn with the production configuration, set up from the environment as a
deployment is: once with passwords and single sign-on, once with single sign-on only. A client
with a cookie jar follows the redirects as a browser does: the tracker's sign-in page, its
single sign-on link, the provider's sign-in form, and the provider's answer back."""

import html
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from obligations import services
from tests.conftest import require_service
from tests.factories import password_for
from tests.reliability.conftest import (
    ROOT,
    free_port,
    service_environment,
    start_process,
    stop_processes,
    wait_for_port,
)

from .test_browser import browser, shoot  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CLIENT_ID, CLIENT_SECRET = "compliance-tracker", "client-secret-of-the-test-provider"
# The provider's directory: user name -> email address. "unverified-bob" has bob's address, not
# confirmed by the provider (tests/oidc_provider/claims.py).
DIRECTORY = {
    "alice": "ALICE@Example.com",
    "stranger": "stranger@example.com",
    "twin": "twin@example.com",
    "unverified-bob": "bob@example.com",
    "loner": "loner@example.com",
    "operator": "operator@example.com",
}


@dataclass
class Sites:
    provider: str
    tracker: str  # passwords and single sign-on
    sso_only: str  # PASSWORD_SIGN_IN=false


def _provider_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def _start_provider(folder: Path, port: int, redirect_uris: list[str]) -> subprocess.Popen:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "PROVIDER_DATABASE": str(folder / "provider.sqlite3"),
        "PROVIDER_RSA_KEY": _provider_key(),
    }
    users = [{"username": name, "email": email, "password": password_for(name)} for name, email in DIRECTORY.items()]
    config = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris, "users": users}
    prepare = [sys.executable, "-m", "tests.oidc_provider.prepare", json.dumps(config)]
    subprocess.run(prepare, cwd=ROOT, env=env, check=True, timeout=120)
    command = [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"]
    return start_process(command, env, folder / "provider.log")


def _start_tracker(folder: Path, port: int, redis_url: str, provider: str, **extra: str) -> subprocess.Popen:
    env = _tracker_environment(folder, redis_url, provider, **extra)
    # The production application without config.gunicorn, whose start collects the static files
    # again: they were collected once, for both trackers.
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    return start_process(command, env, folder / f"web-{port}.log")


def _tracker_environment(folder: Path, redis_url: str, provider: str, **extra: str) -> dict:
    return service_environment(
        redis_url,
        folder,
        OIDC_RP_CLIENT_ID=CLIENT_ID,
        OIDC_RP_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_OP_AUTHORIZATION_ENDPOINT=f"{provider}/o/authorize/",
        OIDC_OP_TOKEN_ENDPOINT=f"{provider}/o/token/",
        OIDC_OP_USER_ENDPOINT=f"{provider}/o/userinfo/",
        OIDC_OP_JWKS_ENDPOINT=f"{provider}/o/.well-known/jwks.json",
        **extra,
    )


@pytest.fixture(scope="module")
def sites(django_db_setup, tmp_path_factory):
    """The provider and the two trackers, started once for the module; each test writes the
    people it needs into the database they share."""
    redis_url = require_service("REDIS_URL", "Redis")
    require_service("DATABASE_URL", "PostgreSQL")
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")  # the trackers read the test's rows
    folder = tmp_path_factory.mktemp("sso")
    provider_port, tracker_port, sso_only_port = free_port(), free_port(), free_port()
    provider = f"http://127.0.0.1:{provider_port}"
    urls = [f"http://127.0.0.1:{port}" for port in (tracker_port, sso_only_port)]
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
    collecting = start_process(collect, _tracker_environment(folder, redis_url, provider), folder / "collect.log")
    processes = [_start_provider(folder, provider_port, [f"{url}/oidc/callback/" for url in urls])]
    try:
        assert collecting.wait(timeout=240) == 0, (folder / "collect.log").read_text()
        processes.append(_start_tracker(folder, tracker_port, redis_url, provider, OIDC_PROVIDER_NAME="Example ID"))
        processes.append(_start_tracker(folder, sso_only_port, redis_url, provider, PASSWORD_SIGN_IN="false"))
        for port in (provider_port, tracker_port, sso_only_port):
            wait_for_port(port, timeout=60)
        yield Sites(provider, *urls)
    finally:
        stop_processes(collecting, *processes)


class Visitor:
    """A cookie jar that follows redirects, in one language, as a person's browser does."""

    def __init__(self, site: str, language: str = "en"):
        self.site = site
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = language

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(urljoin(self.site, path), timeout=30, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.session.post(urljoin(self.site, path), data=data, timeout=30, **kwargs)

    def to_provider(self, sites: Sites, start: str = "/accounts/login/") -> requests.Response:
        """Follows the sign-in page's single sign-on link to the provider's sign-in form."""
        link = re.search(r'<a class="button" id="single-sign-on" href="([^"]+)"', self.get(start).text)
        assert link, "no single sign-on link"
        provider_page = self.get(html.unescape(link.group(1)))
        assert provider_page.url.startswith(f"{sites.provider}/accounts/login/"), provider_page.url
        return provider_page

    def single_sign_on(self, sites: Sites, username: str, start: str = "/accounts/login/") -> requests.Response:
        """Signs in at the provider from the sign-in page's single sign-on link; the answer is
        the page the tracker ends on."""
        provider_page = self.to_provider(sites, start)
        form = {
            "username": username,
            "password": password_for(username),
            "csrfmiddlewaretoken": self.session.cookies["provider_csrftoken"],
        }
        answer = self.session.post(provider_page.url, data=form, timeout=30)
        assert answer.status_code == 200, answer.text[-2000:]
        assert answer.url.startswith(self.site), answer.url
        return answer

    def signed_in_as(self) -> str | None:
        answer = self.get("/api/v1/me/")
        return answer.json()["username"] if answer.status_code == 200 else None

    def password_sign_in(self, path: str, username: str) -> requests.Response:
        self.get(path)
        form = {"username": username, "password": password_for(username), "csrfmiddlewaretoken": self.csrf}
        return self.post(path, form, headers={"Referer": urljoin(self.site, path)})

    @property
    def csrf(self) -> str | None:
        return self.session.cookies["csrftoken"]


def errors(page: requests.Response) -> list[str]:
    return [html.unescape(text) for text in re.findall(r'<li class="error">(.*?)</li>', page.text)]


def heading(page: requests.Response) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page.text)
    return found.group(1) if found else ""


@pytest.fixture
def people(alice, make_user, make_organization, add_member, settings):
    """Alice, the admin of Acme Shanghai; two members sharing an address in different cases;
    bob, a member; loner, whose account belongs to no organization; operator, staff of no
    organization. The provider knows them (DIRECTORY), and stranger, who has no account here."""
    # The trackers check passwords with the production hasher, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    alice.set_password(password_for("alice"))
    alice.save()
    acme = make_organization(alice, "Acme Shanghai")
    add_member(acme, make_user("twin1", email="Twin@example.com"))
    add_member(acme, make_user("twin2", email="twin@EXAMPLE.com"))
    add_member(acme, make_user("bob"))
    make_user("loner")
    make_user("operator", is_staff=True)
    return acme


# --- Passwords and single sign-on ------------------------------------------------------------


def test_single_sign_on_signs_in_the_member_whose_address_the_provider_verified(sites, people):
    page = Visitor(sites.tracker).get("/accounts/login/")
    assert re.findall(r'<a class="button" id="single-sign-on" href="([^"]*)">([^<]*)</a>', page.text) == [
        ("/oidc/authenticate/", "Sign in with Example ID")
    ]
    assert 'name="password"' in page.text  # and the password form

    # Alice's address differs in case at the provider; she was on her way to the checklist.
    visitor = Visitor(sites.tracker)
    checklist = f"/organizations/{people.pk}/checklist/"
    page = visitor.single_sign_on(sites, "alice", start=checklist)
    assert (page.url, visitor.signed_in_as()) == (urljoin(sites.tracker, checklist), "alice")
    assert heading(visitor.get("/")) == "Acme Shanghai"

    # An operator belongs to no organization, and works in the admin.
    visitor = Visitor(sites.tracker)
    page = visitor.single_sign_on(sites, "operator", start="/admin/")
    assert (page.status_code, page.url, visitor.signed_in_as()) == (200, urljoin(sites.tracker, "/admin/"), "operator")

    # Passwords still work beside single sign-on.
    visitor = Visitor(sites.tracker)
    page = visitor.password_sign_in("/accounts/login/", "alice")
    assert (heading(page), visitor.signed_in_as()) == ("Acme Shanghai", "alice")


def test_single_sign_on_in_a_real_browser(sites, people, browser):  # noqa: F811
    """Chromium follows the link to the provider and is sent back signed in: no form of the
    tracker's posts to the provider, which its Content-Security-Policy (form-action) would stop."""
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page.goto(f"{sites.tracker}/accounts/login/")
    shoot(page, "sign-in-single-sign-on-zh")
    page.get_by_role("link", name="使用 Example ID 登录").click()
    page.wait_for_url(f"{sites.provider}/accounts/login/**")
    page.get_by_label("Username").fill("stranger")
    page.get_by_label("Password").fill(password_for("stranger"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{sites.tracker}/accounts/login/")
    shoot(page, "sign-in-single-sign-on-refused-zh")

    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 800})
    page.goto(f"{sites.tracker}/accounts/login/")
    shoot(page, "sign-in-single-sign-on-en")
    page.get_by_role("link", name="Sign in with Example ID").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password_for("alice"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{sites.tracker}/organizations/{people.pk}/")
    assert page.locator("h1").inner_text() == "Acme Shanghai"


REFUSALS = {
    "stranger": "No account here has the email address stranger@example.com. Ask an admin of your organization "
    "to invite you.",
    "twin": "More than one account here has the email address twin@example.com, so single sign-on cannot tell "
    "which is yours. Ask the operator of this service to give each account its own address.",
    "unverified-bob": "Single sign-on gave no verified email address, so it cannot tell who you are here.",
    "loner": "The account with the email address loner@example.com is not a member of any organization. Ask an "
    "admin of your organization to invite you again.",
}


def test_single_sign_on_refuses_whom_it_cannot_map_to_one_member_and_counts_no_failure(sites, people):
    told = {}
    for username in REFUSALS:
        visitor = Visitor(sites.tracker)
        page = visitor.single_sign_on(sites, username)
        assert (page.url, heading(page), visitor.signed_in_as()) == (
            urljoin(sites.tracker, "/accounts/login/"),
            "Sign in",
            None,
        )
        told[username] = errors(page)
    assert told == {username: [message] for username, message in REFUSALS.items()}

    # Ten failures from one address lock out a user name (django-axes): refusals are no password
    # guesses, and are not counted.
    for _ in range(10 - len(REFUSALS)):
        assert errors(Visitor(sites.tracker).single_sign_on(sites, "stranger")) == [REFUSALS["stranger"]]
    visitor = Visitor(sites.tracker)
    visitor.single_sign_on(sites, "alice")
    assert visitor.signed_in_as() == "alice"


@pytest.mark.django_db(transaction=False)  # the test writes nothing
def test_a_forged_or_failed_callback_ends_on_the_sign_in_page_with_a_message(sites):
    failed = ["Single sign-on could not be completed. Try again."]
    visitor = Visitor(sites.tracker)
    page = visitor.get("/oidc/callback/?code=forged&state=forged")  # no sign-in was started
    assert (page.url, errors(page)) == (urljoin(sites.tracker, "/accounts/login/"), failed)

    authorize = parse_qs(urlparse(visitor.to_provider(sites).url).query)["next"][0]
    state = parse_qs(urlparse(authorize).query)["state"][0]
    for query in (
        "code=forged&state=another",  # not the state this browser was given
        f"code=forged&state={state}",  # a code the provider never issued: its token endpoint refuses it
        f"error=access_denied&state={state}",  # the person declined at the provider
    ):
        page = visitor.get(f"/oidc/callback/?{query}")
        assert (page.status_code, page.url, errors(page)) == (200, urljoin(sites.tracker, "/accounts/login/"), failed)
    assert visitor.signed_in_as() is None


@pytest.mark.django_db(transaction=False)  # stranger has no account: the test writes nothing
def test_single_sign_on_speaks_the_readers_language(sites):
    for site, label in ((sites.tracker, "使用 Example ID 登录"), (sites.sso_only, "使用单点登录")):
        page = Visitor(site, "zh-hans").get("/accounts/login/")
        assert re.findall(r'<a class="button" id="single-sign-on" href="[^"]*">([^<]*)</a>', page.text) == [label]
    assert "本服务已关闭密码登录。" in page.text

    page = Visitor(sites.tracker, "zh-hans").single_sign_on(sites, "stranger")
    assert (heading(page), errors(page)) == (
        "登录",
        ["本服务中没有邮箱地址为 stranger@example.com 的账号。请向您所在组织的管理员索取邀请。"],
    )


# --- Single sign-on only (PASSWORD_SIGN_IN=false) ----------------------------------------------


def test_without_passwords_only_single_sign_on_and_invitations_sign_in(sites, people, alice):
    visitor = Visitor(sites.sso_only)
    page = visitor.get("/accounts/login/")
    assert re.findall(r'<a class="button" id="single-sign-on" href="[^"]*">([^<]*)</a>', page.text) == [
        "Sign in with single sign-on"
    ]
    assert 'name="password"' not in page.text
    assert "Signing in with a password is turned off here." in page.text

    # The right password signs in nowhere: the sign-in page, the API's browsable sign-in (sent to
    # the sign-in page, whatever it posts), the admin (the same page).
    page = visitor.password_sign_in("/accounts/login/", "alice")
    assert (page.status_code, heading(page), 'name="password"' in page.text) == (200, "Sign in", False)
    # Nor with a code in the address, which only the callback may exchange, after checking the state.
    page = visitor.password_sign_in("/accounts/login/?code=forged&state=forged", "alice")
    assert (page.status_code, heading(page)) == (200, "Sign in")
    page = visitor.password_sign_in("/api/auth/login/", "alice")
    assert ([r.status_code for r in page.history], page.url) == ([302], urljoin(sites.sso_only, "/accounts/login/"))
    assert visitor.get("/admin/").url == urljoin(sites.sso_only, "/accounts/login/?next=/admin/")
    assert visitor.signed_in_as() is None

    # API tokens are not passwords.
    _, secret = services.token_create(user=alice, name="script")
    answer = requests.get(f"{sites.sso_only}/api/v1/me/", headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert (answer.status_code, answer.json()["username"]) == (200, "alice")

    # Single sign-on signs in, and the session holds (its backend is the only one that finds users).
    page = visitor.single_sign_on(sites, "alice")
    assert heading(page) == "Acme Shanghai"
    checklist = f"/organizations/{people.pk}/checklist/"
    assert (visitor.get(checklist).url, visitor.signed_in_as()) == (urljoin(sites.sso_only, checklist), "alice")

    # An invitation still makes an account for a newcomer, and signs it in.
    _, code = services.invitation_create(
        organization=people, email="newcomer@example.com", role="officer", invited_by=alice
    )
    visitor = Visitor(sites.sso_only)
    visitor.get(f"/invitations/accept/?code={code}")
    password = "a-long-new-password-1"
    form = {"code": code, "username": "newcomer", "password": password, "password_again": password}
    page = visitor.post("/invitations/accept/", {**form, "csrfmiddlewaretoken": visitor.csrf})
    assert (page.status_code, heading(page), visitor.signed_in_as()) == (200, "Acme Shanghai", "newcomer")
