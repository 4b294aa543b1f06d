"""The client's address, for the sign-in lockout and the audit log.

Behind the TLS proxy every request arrives from the proxy's address, so a lockout keyed on REMOTE_ADDR would let
five wrong passwords from anywhere lock a user out for everyone. X-Forwarded-For says who the proxy served, but
anyone can send that header: it is believed only when the request comes from a configured trusted proxy.

django-ipware's own trusted-proxy option matches the addresses *inside* the header, not the connecting address,
so a forged header naming a trusted proxy would pass it; hence this small resolver (axes' AXES_CLIENT_IP_CALLABLE).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks if address.version == network.version)


def client_ip(request: HttpRequest) -> str:
    """The address of the person at the other end: X-Forwarded-For's right-most untrusted hop when the request came
    through a trusted proxy, else the connecting address."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    remote_address = _address(remote)
    if remote_address is None or not networks or not _trusted(remote_address, networks):
        return str(remote_address) if remote_address else remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    # Each proxy appends the address it was connected from, so walking from the right, the first address that is
    # not one of our proxies is the client; anything further left was written by the client and proves nothing.
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        if not _trusted(address, networks):
            return str(address)
    return str(remote_address)
