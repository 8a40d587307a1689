"""A scene for the security tests: referrals in every state, one of each record, each persona's token.

The personas are those of ``tests/conftest.py``; the referrals are walked there through the real
workflow by ``Story``. Uploads go to the test's own folder.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field

import pytest
from rest_framework.authtoken.models import Token

from mediation.models import Attachment, MediationSession
from mediation.workflow import add_attachment, issue_supervision
from notifications.models import Notification
from referrals import workflow
from referrals.models import Referral
from tests.conftest import Personas, Story
from tests.files import pdf_upload
from tests.fixtures.rosters import builders as b
from townships.importers import start_roster_import
from townships.models import RosterImport

PERSONAS = ("officer", "reviewer", "mediator", "other_mediator", "supervisor", "city", "outsider")
EVERYONE = (*PERSONAS, "anonymous")
STATES = ("draft", "submitted", "mediating", "declined", "succeeded", "failed", "closed")


@pytest.fixture(autouse=True)
def _private_media(_fast_hasher, settings, tmp_path):
    # Other processes run the suite at the same time: each test keeps its uploads to itself.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@dataclass
class Scene:
    people: Personas
    referrals: dict[str, Referral]
    session: MediationSession
    attachment: Attachment
    order: int  # supervision order id, on the mediating referral
    bureau_submitted: Referral  # submitted to the 蓬江区 justice bureau (dispatch)
    imports: dict[str, RosterImport]  # "preview" (clean dry run), "mistakes" (with an error list)
    notifications: dict[str, list[int]]  # persona → their notification ids
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, persona: str):
        return None if persona == "anonymous" else getattr(self.people, persona)

    @property
    def referral_ids(self) -> list[int]:
        return sorted({r.pk for r in self.referrals.values()} | {self.bureau_submitted.pk})

    @property
    def notification_ids(self) -> list[int]:
        return sorted(i for ids in self.notifications.values() for i in ids)


def roster_upload(rows: list, name: str = "花名册.xlsx"):
    return b.upload(name, b.xlsx_bytes(rows))


def build_scene(people: Personas) -> Scene:
    story = Story(people)
    referrals = {state: story.at("with_session" if state == "mediating" else state) for state in STATES}
    mediating = referrals["mediating"]
    session = MediationSession.objects.filter(referral=mediating).get()
    attachment = add_attachment(mediating, by=people.mediator, kind="identity_proof", upload=pdf_upload())
    order = issue_supervision(mediating, by=people.supervisor, note="请报告进展。", respond_by=datetime.date.today())
    bureau_submitted = workflow.submit_referral(story.draft(target=people.bureau), by=people.officer)
    imports = {
        "preview": start_roster_import(user=people.supervisor, upload=roster_upload([b.person(1)]), dry_run=True),
        "mistakes": start_roster_import(
            user=people.supervisor, upload=roster_upload([b.person(2, 手机号码="x")]), dry_run=True
        ),
    }
    assert imports["mistakes"].error_count and imports["mistakes"].file.name
    notifications = {
        persona: list(Notification.objects.filter(recipient=getattr(people, persona)).values_list("pk", flat=True))
        for persona in PERSONAS
    }
    tokens = {persona: Token.objects.get_or_create(user=getattr(people, persona))[0].key for persona in PERSONAS}
    return Scene(
        people=people,
        referrals=referrals,
        session=session,
        attachment=attachment,
        order=order.pk,
        bureau_submitted=bureau_submitted,
        imports=imports,
        notifications=notifications,
        tokens=tokens,
    )


@pytest.fixture
def scene(people) -> Scene:
    return build_scene(people)


def xlsx_rows(content: bytes) -> list[tuple]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
