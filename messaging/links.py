"""The parties' personal links and the one-time codes that open them (docs/sms.md, "Personal links").

A link is ``/p/<token>/``: the ``PartyLink`` row's id and nonce, signed with the site's key. It shows
nothing until the person holding it types the code just sent by SMS to the party's own number, so
that a forwarded or overheard link is not enough. Every refusal looks the same (404 for a bad,
expired or revoked token), so a guessed token learns nothing.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from messaging import outbox
from messaging.models import AccessCode, Message, PartyLink
from referrals.models import Party

SALT = "messaging.links"
CODE_DIGITS = 6
CODE_MINUTES = 5
CODE_TRIES = 5  # wrong entries that end one code
CODE_RESEND_SECONDS = 60  # between two codes to one link
CODES_PER_HOUR = 5  # per link
CODES_PER_ADDRESS_HOUR = 20  # per client address, whatever the links
WRONG_CODES_BEFORE_LOCK = 3  # codes spent on wrong entries in a row: the link rests
LOCK_MINUTES = 30


class TooSoon(Exception):
    """No code now; ``message`` says why and when, in words for the party."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, algorithm="sha256")


def token(link: PartyLink) -> str:
    return _signer().sign(f"{link.pk}.{link.nonce}")


def url(link: PartyLink) -> str:
    return settings.PUBLIC_BASE_URL + reverse("portal:case", args=[token(link)])


def resolve(value: str, now: datetime.datetime | None = None) -> PartyLink | None:
    """The live link a token names, or None (bad signature, unknown, revoked or expired alike)."""
    try:
        pk, _sep, nonce = _signer().unsign(value).partition(".")
    except signing.BadSignature:
        return None
    if not pk.isdigit():
        return None
    link = (
        PartyLink.objects.select_related("party", "referral", "referral__target")
        .filter(pk=int(pk), revoked_at__isnull=True, expires_at__gt=now or timezone.now())
        .first()
    )
    if link is None or not constant_time_compare(link.nonce, nonce):
        return None
    return link


def live_link(party: Party, *, by=None, now: datetime.datetime | None = None) -> PartyLink:
    """The party's live link, made if it has none (one per party: a unique constraint keeps it so)."""
    now = now or timezone.now()
    current = PartyLink.objects.filter(party=party, revoked_at__isnull=True).first()
    if current is not None and current.expires_at > now:
        return current
    with transaction.atomic():
        if current is not None:  # expired: retire it for a fresh one
            PartyLink.objects.filter(pk=current.pk).update(revoked_at=now)
        try:
            with transaction.atomic():
                return PartyLink.objects.create(
                    referral_id=party.referral_id,
                    party=party,
                    nonce=secrets.token_urlsafe(9),
                    created_at=now,
                    created_by=by,
                    expires_at=now + datetime.timedelta(days=settings.PARTY_LINK_DAYS),
                )
        except IntegrityError:  # another request made it first
            return PartyLink.objects.get(party=party, revoked_at__isnull=True)


def send_link(party: Party, *, by) -> PartyLink:
    """Make (or keep) the party's link and send it to the party's mobile by SMS."""
    number = outbox.policy.mobile_of(party)
    if number is None:
        from referrals.errors import InvalidInput

        raise InvalidInput({"party": [_("该当事人没有登记手机号码，无法发送短信链接。")]})
    link = live_link(party, by=by)
    outbox.direct(party, Message.Template.PARTY_LINK, number)
    return link


def revoke(link: PartyLink, *, by) -> None:
    PartyLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=by)


# --- One-time codes -------------------------------------------------------------------------------


def _digest(link: PartyLink, code: str) -> str:
    return salted_hmac(SALT + ".code", f"{link.pk}:{code}", algorithm="sha256").hexdigest()


def request_code(link: PartyLink, *, ip_address: str | None, now: datetime.datetime | None = None) -> AccessCode:
    """Send a new code to the party's number (the only number a code ever goes to), within limits."""
    now = now or timezone.now()
    if link.locked_until and link.locked_until > now:
        raise TooSoon(_("验证码错误次数过多，请%d分钟后再试。") % _minutes(link.locked_until - now))
    recent = AccessCode.objects.filter(link=link, created_at__gt=now - datetime.timedelta(hours=1))
    last = recent.order_by("-created_at").first()
    if last is not None and (now - last.created_at).total_seconds() < CODE_RESEND_SECONDS:
        raise TooSoon(_("验证码已发送，请稍候%d秒后再获取。") % (CODE_RESEND_SECONDS - (now - last.created_at).seconds))
    if recent.count() >= CODES_PER_HOUR or (
        ip_address
        and AccessCode.objects.filter(ip_address=ip_address, created_at__gt=now - datetime.timedelta(hours=1)).count()
        >= CODES_PER_ADDRESS_HOUR
    ):
        raise TooSoon(_("获取验证码过于频繁，请一小时后再试。"))
    number = outbox.policy.mobile_of(link.party)
    if number is None:
        raise TooSoon(_("该当事人没有登记手机号码，请联系调解委员会。"))
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        # A new code ends the earlier ones: only the last one sent is good.
        AccessCode.objects.filter(link=link, used_at__isnull=True).update(expires_at=now)
        row = AccessCode.objects.create(
            link=link,
            digest=_digest(link, code),
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=CODE_MINUTES),
            ip_address=ip_address,
        )
        outbox.direct(link.party, Message.Template.ACCESS_CODE, number, code=code)
    return row


def check_code(link: PartyLink, code: str, *, now: datetime.datetime | None = None) -> bool:
    """True once for the right code; every wrong entry counts, and enough of them rest the link."""
    now = now or timezone.now()
    if link.locked_until and link.locked_until > now:
        return False
    current = (
        AccessCode.objects.filter(link=link, used_at__isnull=True, expires_at__gt=now, tries__lt=CODE_TRIES)
        .order_by("-created_at")
        .first()
    )
    if current is None:
        return False
    code = (code or "").strip()
    if code.isdigit() and len(code) == CODE_DIGITS and constant_time_compare(current.digest, _digest(link, code)):
        # Conditional: of two requests with the right code, one opens the link.
        return bool(AccessCode.objects.filter(pk=current.pk, used_at__isnull=True).update(used_at=now))
    AccessCode.objects.filter(pk=current.pk).update(tries=F("tries") + 1)
    spent = AccessCode.objects.filter(
        link=link, created_at__gt=now - datetime.timedelta(hours=1), tries__gte=CODE_TRIES
    )
    if current.tries + 1 >= CODE_TRIES and spent.count() >= WRONG_CODES_BEFORE_LOCK:
        PartyLink.objects.filter(pk=link.pk).update(locked_until=now + datetime.timedelta(minutes=LOCK_MINUTES))
    return False


def _minutes(delta: datetime.timedelta) -> int:
    return max(1, int(delta.total_seconds() + 59) // 60)
