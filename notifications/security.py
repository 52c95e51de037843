"""Where notifications may go (SPEC §10.1), and how their URLs are shown.

Webhook URLs must be http(s).  Their host is resolved and every address it resolves to is
checked: link-local addresses (169.254.0.0/16 — cloud metadata services — and fe80::/10) are
refused always; any other address that is not globally routable (loopback, private,
unique-local, unspecified, multicast, reserved, shared, documentation ranges) is refused
unless ``NOTIFY_ALLOW_PRIVATE`` is on.  The check runs when a target is saved and again
before every send, since DNS answers may change.

Apprise URLs whose service is a plain HTTP request (``json://``, ``form://``, ``xml://`` and
their ``s`` forms, which post to the URL's host) get the same address check when their host
resolves.  Other Apprise services (Discord, Telegram, ntfy, email, …) talk to their own
providers' hosts or to hosts the Apprise URL names in service-specific ways and are not checked.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

# Apprise schemes that are plain HTTP(S) requests to the URL's host.
APPRISE_HTTP_SCHEMES = {
    "json": "http",
    "jsons": "https",
    "form": "http",
    "forms": "https",
    "xml": "http",
    "xmls": "https",
}


class UnsafeUrl(Exception):
    """The URL may not be used; the message says why (safe to show: no credentials)."""


class Unresolvable(UnsafeUrl):
    """The host does not resolve (now); a later attempt may succeed."""


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise Unresolvable(f"The host {host} does not resolve.") from exc
    # Scoped IPv6 addresses come back as "fe80::1%eth0".
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def address_refusal(address, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be contacted, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "link-local"
    if allow_private:
        return None
    for label in ("loopback", "unspecified", "multicast", "private", "reserved"):
        if getattr(address, f"is_{label}"):
            return label
    if not address.is_global:
        return "not globally routable"
    return None


def host_check(url: str, *, allow_private: bool | None = None, require_resolvable: bool = True) -> None:
    """Raise ``UnsafeUrl`` unless ``url`` is http(s) to a host this server may contact."""
    allow = settings.NOTIFY_ALLOW_PRIVATE if allow_private is None else allow_private
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("The URL does not parse.") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("Only http and https URLs are allowed.")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("The URL has no host.")
    try:
        addresses = _addresses(host, port or (443 if parts.scheme == "https" else 80))
    except Unresolvable:
        if require_resolvable:
            raise
        return
    for address in addresses:
        reason = address_refusal(address, allow_private=allow)
        if reason:
            hint = "" if reason == "link-local" else " (NOTIFY_ALLOW_PRIVATE=true allows it)"
            raise UnsafeUrl(f"The host {host} resolves to {address}, a {reason} address{hint}.")


def apprise_http_url(url: str) -> str | None:
    """The http(s) URL an Apprise ``json://``/``form://``/``xml://`` URL posts to; None for other services."""
    scheme, sep, rest = url.partition("://")
    mapped = APPRISE_HTTP_SCHEMES.get(scheme.lower()) if sep else None
    return f"{mapped}://{rest}" if mapped else None


def apprise_check(url: str, *, require_resolvable: bool = False) -> None:
    """The address check of an http-based Apprise URL (other services pass)."""
    http_url = apprise_http_url(url)
    if http_url is not None:
        host_check(http_url, require_resolvable=require_resolvable)


def apprise_plugin(url: str):
    """The Apprise plugin for ``url``, or None when Apprise does not understand it."""
    import apprise

    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def redact_url(url: str, *, kind: str) -> str:
    """``url`` as it may be shown: Apprise URLs with tokens and passwords masked, webhooks'
    passwords masked."""
    if kind == "apprise":
        plugin = apprise_plugin(url)
        if plugin is None:
            return url.partition("://")[0] + "://***"
        return plugin.url(privacy=True)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    return url
