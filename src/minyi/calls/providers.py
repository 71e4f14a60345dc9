"""Who routes the calls of a virtual number: the platform's own pool (`LocalPool`: the switch
asks Minyi's SIP redirect server) or a carrier that hosts the numbers (`HttpAxbProvider`: Minyi
tells it each binding through its AXB API, and it posts each call to the callback endpoint).

The interface has the shape of the carriers' privacy-number (隐私号) AXB APIs: bind A and B to
a number X (proposed, or chosen by the carrier) until an expiry, returning X and the carrier's
binding id; unbind by that id; and a call-record callback (`actions.record_call`,
`POST /api/v1/calls/callback`). Requests carry no ticket data besides the numbers they bind.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext as _

from minyi.calls import conf
from minyi.calls.models import LOCAL
from minyi.calls.numbers import normalise_number
from minyi.core import clock
from minyi.core.errors import DomainError

log = logging.getLogger(__name__)


class ProviderError(DomainError):
    """The carrier refused or did not answer; nothing was bound."""

    http_status = 502
    default_code = "provider_error"


@dataclass(frozen=True)
class ProviderBinding:
    number: str  # X, as bound
    ref: str = ""  # the provider's binding id ("" for the local pool)


class AxbProvider(Protocol):
    name: str

    def bind(self, a: str, b: str, x: str | None, expires_at: dt.datetime) -> ProviderBinding:
        """Bind A and B to X (or to a number the provider chooses when `x` is None) until
        `expires_at`; raise ProviderError when refused."""

    def unbind(self, number: str, ref: str) -> None:
        """End the binding `ref` on `number` (raise on failure: the task retries)."""


class LocalPool:
    """The platform's own numbers: the binding is the database row, which the SIP redirect
    server reads. Nothing to tell anyone."""

    name = LOCAL

    def bind(self, a: str, b: str, x: str | None, expires_at: dt.datetime) -> ProviderBinding:
        if not x:
            raise ProviderError(_("The local pool needs a number to bind."))
        return ProviderBinding(x)

    def unbind(self, number: str, ref: str) -> None:
        return None


class HttpAxbProvider:
    """A carrier's AXB API over HTTPS with a bearer token:

    - ``POST {url}/bind`` ``{"a", "b", "x" (or null), "expires_at" (ISO 8601), "ttl_seconds"}``
      → ``{"x", "binding_id"}``;
    - ``POST {url}/unbind`` ``{"binding_id", "x"}`` → any 2xx.

    Adapt `_post`'s body in a subclass for a carrier whose field names differ.
    """

    def __init__(self, name: str, url: str, token: str, timeout: float = 5.0):
        if not url.startswith(("https://", "http://")):
            raise ProviderError(_("The carrier's API address is not set."), "provider_not_configured")
        self.name, self.url, self.token, self.timeout = name, url.rstrip("/"), token, timeout

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            f"{self.url}/{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            # Log the status only: the carrier's body may echo the numbers.
            log.warning("AXB %s at %s: HTTP %s", path, self.name, exc.code)
            raise ProviderError(_("The carrier refused the binding (HTTP %(status)s).") % {"status": exc.code}) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            log.warning("AXB %s at %s: %s", path, self.name, type(exc).__name__)
            raise ProviderError(_("The carrier's service did not answer.")) from None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise ProviderError(_("The carrier's answer was not understood.")) from None
        return data if isinstance(data, dict) else {}

    def bind(self, a: str, b: str, x: str | None, expires_at: dt.datetime) -> ProviderBinding:
        ttl = max(60, int((expires_at - clock.now()).total_seconds()))
        data = self._post("bind", {"a": a, "b": b, "x": x, "expires_at": expires_at.isoformat(), "ttl_seconds": ttl})
        number = normalise_number(str(data.get("x") or ""))
        ref = str(data.get("binding_id") or "")[:64]
        if not number or not ref:
            raise ProviderError(_("The carrier's answer was not understood."))
        return ProviderBinding(number, ref)

    def unbind(self, number: str, ref: str) -> None:
        self._post("unbind", {"binding_id": ref, "x": number})


def get_provider(name: str) -> AxbProvider:
    """The provider that routes numbers marked `name` (ProviderError if it is not configured)."""
    if name == LOCAL:
        return LocalPool()
    if name == conf.axb_carrier() and conf.axb_url():
        return HttpAxbProvider(name, conf.axb_url(), conf.axb_token(), conf.axb_timeout())
    raise ProviderError(_("No provider is configured for these numbers."), "provider_not_configured")


def usable_providers() -> list[str]:
    """The providers whose numbers can be bound now."""
    names = [LOCAL]
    if conf.axb_url():
        names.append(conf.axb_carrier())
    return names
