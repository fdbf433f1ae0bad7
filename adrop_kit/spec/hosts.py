"""Which hosts are this machine: the one place that decides where plain http:// is allowed.

Shared by both sides of the contract: the sender refuses http:// to any other host
(`InsecureEndpoint`: the app key would travel unencrypted), and the local server, bound on
loopback, answers `/_local/*` only to this machine's names.
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True for `localhost` and any loopback address (`127.0.0.1`, `127.1.2.3`, `::1`, `[::1]`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


__all__ = ["is_loopback"]
