"""One-use signed rating links (评价链接) sent with a reply.

The token signs the ticket and the reply it rates; it is "one use" because a reply is rated
once per ticket (a database constraint), and it expires with the rating window or when a newer
reply supersedes it. Nothing personal is in the token.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from minyi.core.errors import NotFound

SALT = "minyi.feedback.rating-link"
#: A hard limit on a token's age, whatever the window (the window is checked on the ticket).
MAX_AGE_DAYS = 60


def make_token(ticket_id: int, reply_id: int) -> str:
    return signing.dumps({"t": ticket_id, "r": reply_id}, salt=SALT, compress=True)


def read_token(token: str) -> tuple[int, int]:
    """(ticket id, reply id) of a valid token; a forged, damaged or very old one is refused
    with the same answer."""
    refused = NotFound(_("This rating link is not valid."), "link_invalid")
    try:
        data = signing.loads(token or "", salt=SALT, max_age=MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        raise refused from None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int) or not isinstance(data.get("r"), int):
        raise refused
    return data["t"], data["r"]


def rating_url(ticket_id: int, reply_id: int) -> str:
    return f"{settings.MINYI_PUBLIC_URL}/rate/{make_token(ticket_id, reply_id)}"
