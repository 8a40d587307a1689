"""The tokens of rest_framework.authtoken become tokens of ours, so that existing clients keep working.

Each key is kept as its SHA-256 only, with a full lifetime from now; the rows holding keys in clear
are deleted. Not reversible: the keys cannot be recovered from their hashes (going back leaves the
clients to log in again).
"""

import datetime
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def adopt_authtoken_tokens(apps, schema_editor):
    Legacy = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS)
    legacy = list(Legacy.objects.all())
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user_id=token.user_id,
                name="",
                prefix=token.key[:8],
                key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
                created_at=token.created,
                expires_at=expires_at,
            )
            for token in legacy
        ]
    )
    Legacy.objects.filter(pk__in=[token.pk for token in legacy]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(adopt_authtoken_tokens, migrations.RunPython.noop)]
