"""Tencent Cloud SMS (腾讯云短信) through its official SDK: ``SMS_BACKEND=tencent``.

An optional extra (``pip install -r requirements-tencent.txt``): a city on another platform does not
install it, and the SDK is imported only when this backend is chosen.

Mainland platforms send only texts whose template and signature (签名) they approved beforehand, with
the variable parts passed apart as positional parameters ({1}, {2} …). So each of our messages is
mapped to a template registered on the platform and the order of its parameters,
``SMS_TENCENT_TEMPLATES`` (JSON)::

    {"referral_made": {"id": "2040001", "params": ["number", "committee", "url"]}, ...}

The names are the placeholders of ``messaging/texts.py`` (``ALLOWED``) plus ``url``, the party's
link; ``check`` (a system check, so at start-up) refuses a mapping that names anything else or
leaves a message out. The text an administrator wrote is still what staff see on the referral; the platform's
registered template is what the phone gets, so the two should say the same (docs/sms.md).

What is retried: a refused number (wrong, blacklisted after 退订, not mainland) or parameters the
template cannot take are permanent; anything else — the network, the platform's limits, a wrong
credential or template the operator will correct — is retried like any failed send.
"""

from __future__ import annotations

import importlib.util
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from messaging.backends import SendFailed
from messaging.models import Message

# The platform's answers that no retry can change (per number or per message).
PERMANENT = {
    "InvalidParameterValue.IncorrectPhoneNumber",
    "InvalidParameterValue.TemplateParameterFormatError",
    "InvalidParameterValue.TemplateParameterLengthLimit",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberParseFail",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    "UnsupportedOperation.UnsupportedRegion",
}


def template_problems(mapping: object) -> list[str]:
    """What is wrong with an ``SMS_TENCENT_TEMPLATES`` value (empty: nothing)."""
    from messaging.texts import ALLOWED

    if not isinstance(mapping, dict):
        return ["SMS_TENCENT_TEMPLATES must be a JSON object: message kind → {id, params}."]
    problems = []
    for template in Message.Template.values:
        entry = mapping.get(template)
        if not isinstance(entry, dict) or not str(entry.get("id", "")).strip():
            problems.append(f"SMS_TENCENT_TEMPLATES has no template id for {template!r}.")
            continue
        params = entry.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            problems.append(f"SMS_TENCENT_TEMPLATES[{template!r}].params must be a list of names.")
            continue
        if unknown := sorted(set(params) - ALLOWED[template] - {"url"}):
            problems.append(
                f"SMS_TENCENT_TEMPLATES[{template!r}] names {', '.join(unknown)}; "
                f"it may use {', '.join(sorted(ALLOWED[template] | {'url'}))}."
            )
    problems += [
        f"SMS_TENCENT_TEMPLATES names an unknown message kind {k!r}."
        for k in mapping.keys() - set(Message.Template.values)
    ]
    return problems


class TencentBackend:
    def __init__(self) -> None:
        try:
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.sms.v20210111 import sms_client
        except ImportError:
            raise SendFailed("SMS_BACKEND=tencent needs the SDK: pip install -r requirements-tencent.txt") from None
        if problems := template_problems(settings.SMS_TENCENT_TEMPLATES):
            raise SendFailed(" ".join(problems))
        endpoint = urlsplit(settings.SMS_TENCENT_ENDPOINT)
        http = HttpProfile(protocol=endpoint.scheme, endpoint=endpoint.netloc, reqTimeout=settings.SMS_HTTP_TIMEOUT)
        self.client = sms_client.SmsClient(
            credential.Credential(settings.SMS_TENCENT_SECRET_ID, settings.SMS_TENCENT_SECRET_KEY),
            settings.SMS_TENCENT_REGION,
            ClientProfile(httpProfile=http),
        )

    def send(self, *, to: str, text: str, template: str, params: dict[str, str], reference: str) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        entry = settings.SMS_TENCENT_TEMPLATES[template]
        if missing := [name for name in entry.get("params", []) if name not in params]:
            # A message written before its values were kept (or for another template): it cannot be
            # filled in, and retrying will not change that.
            raise SendFailed(f"the message lacks {', '.join(missing)} for template {entry['id']}", permanent=True)
        request = models.SendSmsRequest()
        request.SmsSdkAppId = settings.SMS_TENCENT_SDK_APP_ID
        request.SignName = settings.SMS_TENCENT_SIGN_NAME
        request.TemplateId = str(entry["id"])
        request.TemplateParamSet = [str(params[name]) for name in entry.get("params", [])]
        request.PhoneNumberSet = [to if to.startswith("+") else f"+86{to}"]
        # Comes back in the platform's delivery report: which of our messages it was.
        request.SessionContext = reference
        try:
            answer = self.client.SendSms(request)
        except TencentCloudSDKException as e:
            code = e.get_code() or "Error"
            raise SendFailed(f"{code}: {e.get_message()}"[:500], permanent=code in PERMANENT) from None
        statuses = answer.SendStatusSet or []
        if not statuses:
            raise SendFailed("the platform answered without a send status")
        status = statuses[0]
        if status.Code != "Ok":
            raise SendFailed(f"{status.Code}: {status.Message}"[:500], permanent=status.Code in PERMANENT)
        if not status.SerialNo:
            raise SendFailed("the platform answered without a serial number")
        return str(status.SerialNo)[:100]


def check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """At start-up (and ``manage.py check``): with ``SMS_BACKEND=tencent``, the SDK is installed and
    every message has a registered template, instead of each message failing later at the gateway."""
    if settings.SMS_BACKEND != "tencent":
        return []
    errors = [
        checks.Error(problem, id="messaging.E001") for problem in template_problems(settings.SMS_TENCENT_TEMPLATES)
    ]
    if importlib.util.find_spec("tencentcloud") is None:
        errors.append(
            checks.Error(
                "SMS_BACKEND=tencent needs the SDK: pip install -r requirements-tencent.txt", id="messaging.E002"
            )
        )
    return errors
