"""The settings of virtual-number calls, with their defaults.

Each is read from Django's settings when declared there (the tests override them that way),
else from the environment variable of the same name. See docs/adr/0009-virtual-numbers.md.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from django.conf import settings


def _get(name: str, default: str) -> Any:
    value = getattr(settings, name, None)
    return value if value is not None else os.environ.get(name, default)


def binding_minutes() -> int:
    """How long a binding (requester A, handler B, virtual number X) lasts."""
    return int(_get("MINYI_CALL_BINDING_MINUTES", "30"))


def sip_gateway() -> str:
    """Where the 302 sends the switch: `host[:port]` of the gateway that reaches the PSTN.
    Empty: the address the INVITE came from (the switch routes the target number itself)."""
    return str(_get("MINYI_SIP_GATEWAY", "")).strip()


def sip_allowed_peers() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The switches that may ask the SIP server (addresses or networks, comma-separated).
    Requests from elsewhere are dropped unanswered: the server must not tell strangers which
    numbers are bound."""
    spec = str(_get("MINYI_SIP_ALLOWED_PEERS", "127.0.0.0/8,::1"))
    return [ipaddress.ip_network(item.strip(), strict=False) for item in spec.split(",") if item.strip()]


def callback_secret() -> str:
    """The shared secret a switch or carrier sends with call records (empty: callbacks refused)."""
    return str(_get("MINYI_CALL_CALLBACK_SECRET", ""))


def axb_carrier() -> str:
    """The name (VirtualNumber.provider) of the numbers a carrier hosts."""
    return str(_get("MINYI_AXB_CARRIER", "carrier")).strip() or "carrier"


def axb_url() -> str:
    """The base URL of the carrier's AXB API (`/bind`, `/unbind` are appended); empty: none."""
    return str(_get("MINYI_AXB_URL", "")).strip().rstrip("/")


def axb_token() -> str:
    return str(_get("MINYI_AXB_TOKEN", ""))


def axb_timeout() -> float:
    return float(_get("MINYI_AXB_TIMEOUT", "5"))
