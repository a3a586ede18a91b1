"""Outbound HTTP to addresses organizations give us (webhooks, chat robots), safe for the network
the service runs in.

An admin types a URL; without care, the service would then post to whatever that name resolves
to: the metadata service of a cloud host (169.254.169.254), a database on the private network,
the service itself on 127.0.0.1. So the host is resolved here, every address it resolves to
must be public (not private, loopback, link-local, shared, reserved or multicast), and the
connection goes to the address that was checked, with the host name kept for TLS and the Host
header: a DNS answer that changes between the check and the connection (rebinding) cannot
redirect the request. Redirects are not followed. ``OUTBOUND_ALLOW_PRIVATE`` lifts the address
rule for deployments that post inside their own network (and for the tests, on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

TIMEOUT = urllib3.Timeout(connect=5, read=10)
# What is kept of an answer: enough for an error message or a chat vendor's result code.
MAX_ANSWER = 64 * 1024


class Refused(Exception):
    """The address may not be posted to, or cannot be resolved; the message says why."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) of a URL that may be posted to."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host:
        raise Refused(_("Give an https:// address."))
    if parts.username or parts.password:
        raise Refused(_("Leave the user name and password out of the address."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise Refused(_("The port in the address is not a number from 1 to 65535.")) from None
    private = settings.OUTBOUND_ALLOW_PRIVATE
    if scheme != "https" and not private:
        raise Refused(_("Give an https:// address: what is posted must be encrypted on the way."))
    try:
        addresses = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (socket.gaierror, UnicodeError):
        raise Refused(_("The host %(host)s cannot be found.") % {"host": host}) from None
    if not private and not all(_allowed(a) for a in addresses):
        raise Refused(
            _("The host %(host)s is on a private, loopback or link-local network; only public addresses are allowed.")
            % {"host": host}
        )
    return scheme, host, port, addresses[0]


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` through the checked address. Raises Refused, or OSError (and
    urllib3's errors, which are OSErrors or HTTPErrors) when the connection fails."""
    scheme, host, port, address = resolve(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=TIMEOUT, retries=False, server_hostname=host, assert_hostname=host
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=TIMEOUT, retries=False)
    host_header = host if port in (80, 443) else f"{host}:{port}"
    try:
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers={"Host": host_header, "User-Agent": "compliance-tracker", **headers},
            redirect=False,
            preload_content=False,
        )
        try:
            data = response.read(MAX_ANSWER, decode_content=True)
        finally:
            response.release_conn()
    finally:
        pool.close()
    return Answer(response.status, data.decode("utf-8", "replace"))
