"""Demo data (docs/architecture.md#demo-data): accounts, mediator rosters and referrals in every state.

Idempotent: accounts are updated in place, rosters and referrals are created only once. The
referrals are walked through the real workflow functions with the clock set back, so that their
history, deadlines, notifications and dossiers are exactly what the system itself would produce.
"""

from __future__ import annotations

import datetime
import random
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from lib.uploads import minimal_pdf
from mediation import group_sessions
from mediation import workflow as mediation
from mediation.models import DossierItem, FollowUp
from mediation.routes import routes_for
from referrals import appeals, assignments, case_groups, intake, lawyers, leader_cases, merging, workflow
from referrals.models import (
    Assignment,
    CaseGroup,
    DeclineReason,
    Exclusion,
    Lawyer,
    LeaderCase,
    Party,
    Referral,
    ScopeGround,
    TerminationReason,
    TimelineEvent,
)
from referrals.permissions import forget_grants
from townships.calendar import add_working_days
from townships.categories import REALISTIC_MIX
from townships.models import Mediator, Membership, Organisation, Role
from townships.validators import make_id_number

User = get_user_model()
PASSWORD = "jiangmen-demo"  # noqa: S105 - the documented demo password (docs/architecture.md#demo-data)
DEMO_PREFIX = "DEMO-"

ACCOUNTS = [
    # username, full name, [(organisation name, region code, role)], superuser
    ("officer", "陈晓敏", [("蓬江区信访局", "440703", Role.OFFICER)], False),
    ("reviewer", "李国强", [("蓬江区信访局", "440703", Role.REVIEWER)], False),
    ("mediator", "黄丽华", [("环市街道人民调解委员会", "440703006", Role.MEDIATOR)], False),
    ("mediator2", "伍志明", [("台城街道人民调解委员会", "440781001", Role.MEDIATOR)], False),
    (
        "supervisor",
        "梁建华",
        [("蓬江区司法局", "440703", Role.DISPATCHER), ("蓬江区司法局", "440703", Role.SUPERVISOR)],
        False,
    ),
    ("city", "张伟", [("江门市司法局", "4407", Role.SUPERVISOR)], False),
    ("cityoffice", "何嘉欣", [("江门市信访局", "4407", Role.OFFICER)], False),
    ("admin", "系统管理员", [], True),
]

SURNAMES = "陈李黄张梁林刘吴伍谭何周邓冯赵罗关麦胡叶区余郑朱杨蔡".replace("", " ").split()
GIVEN = [
    "国强",
    "志明",
    "丽华",
    "秀英",
    "建华",
    "伟",
    "敏",
    "静",
    "海燕",
    "永红",
    "家豪",
    "嘉欣",
    "少芳",
    "锦辉",
    "文杰",
    "惠玲",
    "国华",
    "美玲",
    "振宇",
    "淑贞",
    "志强",
    "翠玲",
    "剑锋",
    "玉兰",
    "俊杰",
    "晓燕",
    "宏伟",
    "雪梅",
    "耀明",
    "丽娟",
]
STREETS = ["建设路", "胜利路", "港口路", "江华路"]
PLACES = ["村委会调解室", "街道综治中心调解室", "镇人民调解委员会调解室", "当事人住所", "社区服务中心"]

STORIES = {
    "neighbour": ("相邻两户因屋檐滴水和排水沟堵塞发生争执，多次争吵并互相推搡。", "请求对方改造排水设施并赔偿损失。"),
    "marriage_family": ("兄弟二人因赡养老人费用分担问题产生矛盾，老人多次到信访部门反映。", "请求明确赡养费分担方式。"),
    "damages": ("申请人电动车被对方货车刮碰受损，双方对赔偿数额分歧较大。", "请求赔偿车辆维修费及误工费。"),
    "housing_homestead": ("两户村民因宅基地界址不清发生纠纷，一方砌墙占用通道。", "请求拆除围墙、恢复通行。"),
    "medical": ("患者家属对某卫生院诊疗过程有异议，要求说明情况并赔偿。", "请求医疗机构赔偿医疗费用。"),
    "contract": ("申请人与装修公司因装修质量和尾款支付发生纠纷。", "请求返工整改或退还部分工程款。"),
    "traffic": ("两车在镇道路口发生轻微碰撞，保险理赔后仍有争议。", "请求对方赔偿车辆贬值损失。"),
    "business": ("养殖户与饲料经销商因货款结算发生争议。", "请求按约定价格结算货款。"),
    "land_requisition": ("村民对征地补偿款在家庭成员之间的分配有异议。", "请求按人口重新分配补偿款。"),
    "forest_land": ("两村村民小组对一片山林的经营权归属存在争议。", "请求确认山林经营权并停止砍伐。"),
    "labour": ("十余名务工人员反映工地包工头拖欠三个月工资。", "请求支付拖欠工资。"),
    "consumer": ("消费者购买的家电出现质量问题，商家拒绝退换。", "请求退货退款。"),
    "pollution": ("居民反映附近小作坊夜间噪声和粉尘影响休息。", "请求停止夜间生产并采取降噪措施。"),
    "property_management": ("业主与物业公司因电梯维修费用分摊发生纠纷。", "请求物业公司公开费用并重新核算。"),
    "other": ("村民因祖坟迁移事宜与邻村村民发生争执。", "请求协商迁移方案。"),
}

# (final state, how many, days since the petition was received (range))
PLAN = [
    ("draft", 6, (1, 6)),
    ("submitted", 10, (2, 12)),
    ("mediating", 26, (8, 50)),
    ("declined", 6, (5, 20)),
    ("succeeded", 14, (20, 60)),
    ("failed", 8, (20, 60)),
    ("closed", 30, (40, 200)),
]


@contextmanager
def clock(moment: datetime.datetime):
    """Run workflow steps as if at ``moment`` (every timestamp the workflow writes follows it).

    A moment later today than the real clock is pulled back to now: nothing is dated in the future.
    """
    moment = min(moment, timezone.now() - datetime.timedelta(seconds=1))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class Command(BaseCommand):
    help = "Create the demo accounts (password jiangmen-demo), rosters and referrals in every state (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow demo accounts with DEBUG off")
        parser.add_argument("--no-referrals", action="store_true", help="accounts and rosters only")

    def handle(self, *args, force: bool, no_referrals: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo accounts with a known password while DEBUG is off. "
                "Use --force only on a training or test server."
            )
        call_command("load_reference_data", stdout=self.stdout)
        self.rng = random.Random(4407)
        with transaction.atomic():
            users = self.accounts()
            rostered = self.rosters(users)
        if not no_referrals and not Referral.objects.filter(petition_no__startswith=DEMO_PREFIX).exists():
            self.referrals(users)
        if not no_referrals and not LeaderCase.objects.filter(referral__petition_no__startswith=DEMO_PREFIX).exists():
            self.leader_cases(users)
        if not no_referrals and not Assignment.objects.filter(referral__petition_no__startswith=DEMO_PREFIX).exists():
            self.assignments(users)
        if not no_referrals and not Lawyer.objects.exists():
            self.lawyers(users)
        if not no_referrals and not Referral.objects.filter(escalated_at__isnull=False).exists():
            self.escalations(users)
        if not no_referrals and not CaseGroup.objects.exists():
            self.case_groups(users)
        if not no_referrals and not TimelineEvent.objects.filter(action="merge").exists():
            self.merges(users)
        if not no_referrals and not Referral.objects.filter(reply_delivered_on__isnull=False).exists():
            appeals_demo(users)
        self.stdout.write(
            f"rosters: {rostered} committees filled; "
            f"demo referrals: {Referral.objects.filter(petition_no__startswith=DEMO_PREFIX).count()}"
        )
        self.stdout.write(self.style.SUCCESS("Demo logins (password: jiangmen-demo):"))
        for username, name, memberships, _superuser in ACCOUNTS:
            where = "、".join(f"{org}·{Role(role).label}" for org, _c, role in memberships) or "超级管理员"
            self.stdout.write(f"  {username:<11} {name}  {where}")

    # --- People ------------------------------------------------------------------------------

    def person_name(self, male: bool | None = None) -> tuple[str, bool]:
        male = self.rng.random() < 0.5 if male is None else male
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN), male

    def accounts(self) -> dict[str, User]:
        users = {}
        for username, name, memberships, superuser in ACCOUNTS:
            user, _created = User.objects.get_or_create(username=username)
            user.first_name = name
            user.is_superuser = user.is_staff = superuser
            user.is_active = True
            user.set_password(PASSWORD)
            user.save()
            for org_name, code, role in memberships:
                org = Organisation.objects.get(name=org_name, region__code=code)
                Membership.objects.get_or_create(user=user, organisation=org, role=role)
            forget_grants(user)
            users[username] = user
        return users

    def staff(self, organisation: Organisation, role: str) -> User:
        """A colleague in an organisation the demo touches: present in the history, cannot log in."""
        username = f"staff-{organisation.pk}-{role}"
        user = User.objects.filter(username=username).first()
        if user is None:
            name, _male = self.person_name()
            user = User.objects.create_user(username=username, first_name=name)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Membership.objects.create(user=user, organisation=organisation, role=role)
        forget_grants(user)
        return user

    def rosters(self, users: dict[str, User]) -> int:
        filled = 0
        positions = [Mediator.Position.CHAIR, Mediator.Position.VICE_CHAIR] + [Mediator.Position.MEMBER] * 2
        for committee in Organisation.objects.filter(kind=Organisation.Kind.MEDIATION_COMMITTEE).select_related(
            "region"
        ):
            if committee.mediators.exists():
                continue
            filled += 1
            size = self.rng.randint(5, 9)
            for i in range(size):
                # At least one woman on every committee (人民调解法 Art. 8).
                name, male = self.person_name(male=False if i == 1 else None)
                born = datetime.date(1960, 1, 1) + datetime.timedelta(days=self.rng.randint(0, 12000))
                Mediator.objects.create(
                    committee=committee,
                    name=name,
                    sex="M" if male else "F",
                    id_number=make_id_number(committee.region.code, born, self.rng.randint(1, 998), male=male),
                    mobile=f"13{self.rng.randint(0, 999999999):09d}",
                    position=positions[i] if i < len(positions) else Mediator.Position.MEDIATOR,
                    employment=Mediator.Employment.FULL_TIME if i < 2 else Mediator.Employment.PART_TIME,
                    specialities=self.rng.sample(list(REALISTIC_MIX), 2),
                )
        for username, code, name in (("mediator", "440703006", "黄丽华"), ("mediator2", "440781001", "伍志明")):
            committee = Organisation.objects.get(kind=Organisation.Kind.MEDIATION_COMMITTEE, region__code=code)
            user = users[username]
            if not Mediator.objects.filter(user=user).exists():
                male = username == "mediator2"
                Mediator.objects.create(
                    committee=committee,
                    name=name,
                    sex="M" if male else "F",
                    user=user,
                    id_number=make_id_number(code, datetime.date(1978, 3, 8), 21 if male else 22, male=male),
                    mobile="13800000001" if username == "mediator" else "13800000002",
                    position=Mediator.Position.VICE_CHAIR,
                    employment=Mediator.Employment.FULL_TIME,
                    specialities=["neighbour", "marriage_family"],
                )
        return filled

    # --- Referrals -----------------------------------------------------------------------------

    def referrals(self, users: dict[str, User]) -> None:
        committees = list(
            Organisation.objects.filter(kind=Organisation.Kind.MEDIATION_COMMITTEE)
            .exclude(committee_type=Organisation.CommitteeType.JOINT)
            .select_related("region__parent")
            .order_by("region__code")
        )
        home = [c for c in committees if c.region.code.startswith("440703")]
        huanshi = next(c for c in committees if c.region.code == "440703006")
        taicheng = next(c for c in committees if c.region.code == "440781001")
        categories = list(REALISTIC_MIX)
        weights = list(REALISTIC_MIX.values())
        serial = 0
        for state, count, (low, high) in PLAN:
            for i in range(count):
                serial += 1
                # Half of the cases belong to the demo accounts' own offices and committees.
                if i % 4 == 0:
                    target = huanshi
                elif i % 4 == 1:
                    target = self.rng.choice(home)
                elif i % 8 == 2:
                    target = taicheng
                else:
                    target = self.rng.choice(committees)
                county = target.region.code[:6]
                origin = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code=county)
                category = self.rng.choices(categories, weights)[0]
                days_ago = self.rng.randint(low, high)
                with transaction.atomic():
                    self.story(users, origin, target, category, state, days_ago, serial, i)

    def officer_of(self, users, origin):
        return users["officer"] if origin.name == "蓬江区信访局" else self.staff(origin, Role.OFFICER)

    def reviewer_of(self, users, origin):
        return users["reviewer"] if origin.name == "蓬江区信访局" else self.staff(origin, Role.REVIEWER)

    def mediator_of(self, users, committee):
        if committee.region.code == "440703006":
            return users["mediator"]
        if committee.region.code == "440781001":
            return users["mediator2"]
        return self.staff(committee, Role.MEDIATOR)

    def parties(self, serial: int, county: str, received: datetime.date) -> list[intake.PartyInput]:
        people = []
        for role in (Party.Role.PETITIONER, Party.Role.RESPONDENT):
            name, male = self.person_name()
            born = datetime.date(1950, 1, 1) + datetime.timedelta(days=self.rng.randint(0, 18000))
            people.append(
                intake.PartyInput(
                    role=role,
                    kind=Party.Kind.PERSON,
                    name=name,
                    id_number=make_id_number(county, born, self.rng.randint(1, 998), male=male),
                    phone=f"13{self.rng.randint(0, 999999999):09d}",
                    address=f"江门市{self.rng.choice(STREETS)}{self.rng.randint(1, 300)}号",
                    # From the serial, not the generator: the rest of the demo stays as it was.
                    ethnicity="壮族" if serial % 17 == 0 else "汉族",
                    consent_given_on=received,
                    consent_method=self.rng.choice([value for value, _label in Party.STAFF_CONSENT_CHOICES]),
                )
            )
        return people

    def story(self, users, origin, target, category, state, days_ago, serial, i) -> None:
        today = timezone.localdate()
        received = today - datetime.timedelta(days=days_ago)
        officer = self.officer_of(users, origin)
        summary, claims = STORIES[category]
        data = intake.ReferralInput(
            received_on=received,
            category=category,
            summary=summary,
            claims=claims,
            petition_no=f"{DEMO_PREFIX}{serial:04d}",
            target=target,
            scope_ground=ScopeGround.CIVIL_BETWEEN_CITIZENS,
            exclusions_absent=list(Exclusion.values),
            parties=self.parties(serial, target.region.code[:6], received),
        )
        with clock(at(received, 9, 30)):
            referral = intake.create_referral(by=officer, origin=origin, data=data)
        if state == "draft":
            return
        day = received + datetime.timedelta(days=self.rng.randint(0, 2))
        with clock(at(day, 10)):
            referral = workflow.submit_referral(referral, by=officer)
        if state == "submitted":
            return
        mediator = self.mediator_of(users, target)
        if state == "declined":
            reasons = [DeclineReason.OUT_OF_SCOPE, DeclineReason.PARTY_REFUSED, DeclineReason.IN_LEGAL_PROCEEDINGS]
            with clock(at(add_working_days(day, 1).date, 15)):
                referral = workflow.decline_referral(
                    referral, by=mediator, reason=self.rng.choice(reasons), note="经核实，当事人一方明确表示不愿调解。"
                )
            if i < 2:  # ping-pong: sent again and returned again
                other = (
                    Organisation.objects.filter(
                        kind=Organisation.Kind.MEDIATION_COMMITTEE, region__parent=target.region.parent
                    )
                    .exclude(pk=target.pk)
                    .first()
                )
                day = add_working_days(day, 2).date
                with clock(at(day, 9)):
                    referral = workflow.redirect_referral(
                        referral, by=officer, target=other, note="改由属地调委会调解。"
                    )
                with clock(at(add_working_days(day, 1).date, 16)):
                    referral = workflow.decline_referral(
                        referral, by=self.mediator_of(users, other), reason=DeclineReason.OUT_OF_SCOPE, note=""
                    )
            return
        accepted_on = add_working_days(day, self.rng.randint(1, 2)).date
        roster = list(Mediator.objects.filter(committee=target, active=True).order_by("-user_id", "pk")[:2])
        with clock(at(accepted_on, 11)):
            referral = workflow.accept_referral(referral, by=mediator, mediators=roster, rights_explained=True)
        session_day = min(accepted_on + datetime.timedelta(days=self.rng.randint(1, 6)), today)
        with clock(at(session_day, 14)):
            mediation.record_session(
                referral,
                by=mediator,
                held_on=session_day,
                location=self.rng.choice(PLACES),
                participants="双方当事人及村(居)委会干部",
                record="听取双方陈述，核实了争议事实，向双方释明相关法律规定。",
            )
        if state == "mediating":
            if i % 7 == 3:
                with clock(at(session_day, 17)):
                    workflow.suspend_referral(referral, by=mediator, reason="等待损失鉴定结果")
            elif i % 7 == 5:
                with clock(at(session_day, 17)):
                    consents = [
                        workflow.PartyConsent(
                            party=p.pk,
                            consented_on=session_day,
                            method=Party.ConsentMethod.WRITTEN if n % 2 else Party.ConsentMethod.ORAL,
                        )
                        for n, p in enumerate(referral.parties.all())
                    ]
                    workflow.extend_referral(
                        referral, by=mediator, days=15, reason="双方同意继续协商", consents=consents
                    )
            return
        concluded = min(session_day + datetime.timedelta(days=self.rng.randint(3, 20)), today)
        outcome = "failed" if state == "failed" or (state == "closed" and i % 5 == 4) else "succeeded"
        with clock(at(concluded, 16)):
            if outcome == "succeeded":
                oral = i % 6 == 5
                agreement = mediation.AgreementInput(
                    form="oral" if oral else "written",
                    terms="一、被申请人于协议签订之日起十日内一次性支付申请人补偿款；二、双方就本纠纷再无其他争议。",
                    amount=Decimal(self.rng.choice([0, 500, 1200, 3000, 8000, 20000])),
                    performance_method="现金或银行转账一次性支付",
                    performance_place="村委会",
                    performance_due=concluded + datetime.timedelta(days=10),
                    signed_on=None if oral else concluded,
                )
                referral = mediation.succeed_referral(referral, by=mediator, agreement=agreement)
            else:
                referral = mediation.fail_referral(
                    referral,
                    by=mediator,
                    reason=self.rng.choice(
                        [TerminationReason.VIEWS_TOO_FAR_APART, TerminationReason.PARTY_REFUSES_TO_CONTINUE]
                    ),
                    routes_explained=routes_for(referral.category),
                )
            for kind in (DossierItem.IDENTITY_PROOF,) + ((DossierItem.AGREEMENT,) if outcome == "succeeded" else ()):
                mediation.add_attachment(referral, by=mediator, kind=kind, upload=demo_scan(kind))
        if state in ("succeeded", "failed"):
            return
        closed_on = min(add_working_days(concluded, self.rng.randint(1, 4)).date, today)
        with clock(at(closed_on, 10)):
            referral = workflow.close_referral(
                referral, by=self.reviewer_of(users, origin), note="经审核，调解程序规范，卷宗材料齐全，同意办结。"
            )
        visit = min(closed_on + datetime.timedelta(days=self.rng.randint(3, 20)), today)
        with clock(at(visit, 15)):
            satisfaction = (
                FollowUp.Satisfaction.DISSATISFIED
                if i % 10 == 9
                else self.rng.choice([FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.BASICALLY_SATISFIED])
            )
            mediation.add_followup(
                referral,
                by=mediator,
                visited_on=visit,
                method=FollowUp.Method.PHONE,
                satisfaction=satisfaction,
                performance="performed" if outcome == "succeeded" else "",
                note="电话回访当事人，了解协议履行情况。",
            )

    # --- 领导包案 ------------------------------------------------------------------------------

    def leader_cases(self, users: dict[str, User]) -> None:
        """A year's 包案 list kept by 蓬江区信访局: a city and a county leader, cases in several states
        (open, overdue, concluded, closed), and one taken off the list with its reason."""
        office = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code="440703")
        demo = Referral.objects.filter(origin=office, petition_no__startswith=DEMO_PREFIX).order_by("petition_no")
        picks = {
            state: list(demo.filter(state=state)[:3]) for state in ("submitted", "mediating", "succeeded", "closed")
        }
        leaders = [
            ("林振华", "江门市副市长", LeaderCase.Level.CITY),
            ("黄志坚", "蓬江区委副书记", LeaderCase.Level.COUNTY),
        ]
        plan = [  # (leader, state, which one of that state)
            (0, "mediating", 0),
            (0, "closed", 0),
            (0, "succeeded", 0),
            (0, "submitted", 0),
            (1, "mediating", 1),
            (1, "closed", 1),
            (1, "mediating", 2),
            (1, "closed", 2),
        ]
        today = timezone.localdate()
        new_year = datetime.date(today.year, 1, 1)
        officer, reviewer = users["officer"], users["reviewer"]
        chosen = []
        for leader, state, n in plan:
            if n >= len(picks[state]):
                continue
            referral = picks[state][n]
            name, post, level = leaders[leader]
            assigned = min(max(referral.received_on + datetime.timedelta(days=3), new_year), today)
            with clock(at(assigned, 9)):
                leader_cases.assign_leader(
                    referral, by=officer, name=name, post=post, level=level, assigned_on=assigned
                )
            chosen.append(referral)
        if len(chosen) > 1:  # the last one goes off the list again, with the reason kept
            with clock(at(today, 8)):
                leader_cases.remove_leader(
                    chosen[-1], by=reviewer, reason="经区信访联席会议研究，矛盾已基本化解，调整出年度包案名单。"
                )

    # --- 交办件 --------------------------------------------------------------------------------

    def assignments(self, users: dict[str, User]) -> None:
        """Two batches handed down to 蓬江区信访局: a provincial one of four cases (one reported back,
        one past its report day without a report) and a national one whose report day is near."""
        office = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code="440703")
        demo = Referral.objects.filter(origin=office, petition_no__startswith=DEMO_PREFIX).order_by("-petition_no")
        pick = {state: list(demo.filter(state=state)[:2]) for state in ("mediating", "succeeded", "closed")}
        provincial = [*pick["closed"], *pick["succeeded"][:1], *pick["mediating"][:1]]
        national = pick["succeeded"][1:] or pick["mediating"][1:]
        if not provincial or not national:
            return
        today = timezone.localdate()
        officer, reviewer = users["officer"], users["reviewer"]
        batch_day = min(r.received_on for r in provincial) - datetime.timedelta(days=1)
        # Sixty days to report, but at least one report day already passed for the demo to show it.
        due = max(batch_day, min(batch_day + datetime.timedelta(days=60), today - datetime.timedelta(days=3)))
        for referral in provincial:
            with clock(at(referral.received_on, 9, 30)):
                assignments.record_assignment(
                    referral,
                    by=officer,
                    level=Assignment.Level.PROVINCIAL,
                    batch=f"{batch_day.year}年第2批",
                    assigned_on=batch_day,
                    report_due_on=due,
                )
        first = provincial[0]
        reported = min(today, timezone.localtime(first.closed_at).date() + datetime.timedelta(days=2))
        with clock(at(reported, 10)):
            assignments.report_back(
                first,
                by=reviewer,
                reported_on=reported,
                report="经区人民调解委员会调解，双方达成协议并已履行完毕，信访人表示满意，已依法依规办结。",
                file=demo_scan("assignment_report"),
            )
        for referral in national:
            assigned = referral.received_on - datetime.timedelta(days=1)
            with clock(at(referral.received_on, 9, 30)):
                assignments.record_assignment(
                    referral,
                    by=officer,
                    level=Assignment.Level.NATIONAL,
                    batch=f"{assigned.year}年第1批",
                    assigned_on=assigned,
                    report_due_on=today + datetime.timedelta(days=5),
                )

    # --- 律师参与信访 ----------------------------------------------------------------------------

    def lawyers(self, users: dict[str, User]) -> None:
        """蓬江区信访局's two 驻点律师, a legal adviser taken off the roster, a year of consultations
        (批次 and 人次, one for a registered referral), and a lawyer in one mediation session."""
        office = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code="440703")
        officer = users["officer"]
        roster = [
            lawyers.add_lawyer(
                by=officer, office=office, name=name, kind=kind, firm=firm, licence_no=licence, mobile=mobile
            )
            for name, kind, firm, licence, mobile in (
                ("谭志远", Lawyer.Kind.LAWYER, "广东五邑律师事务所", "14407201010123456", "13902211234"),
                ("区慧敏", Lawyer.Kind.LAWYER, "广东江门侨乡律师事务所", "14407201410234567", "13802255678"),
                ("梁永康", Lawyer.Kind.ADVISER, "江门市法律援助处", "", ""),
            )
        ]
        topics = [
            "土地承包经营权纠纷的法律途径",
            "拖欠工资如何申请劳动仲裁",
            "宅基地界址争议的处理程序",
            "交通事故赔偿标准",
            "房屋租赁合同解除",
            "婚姻家庭财产分割",
        ]
        today = timezone.localdate()
        for n in range(14):
            day = max(datetime.date(today.year, 1, 1), today - datetime.timedelta(days=9 + n * 23))
            with clock(at(day, 10)):
                lawyers.record_consultation(
                    by=officer, lawyer=roster[n % 2], held_on=day, persons=1 + (n * 5) % 4, topic=topics[n % 6]
                )
        demo = Referral.objects.filter(origin=office, petition_no__startswith=DEMO_PREFIX)
        linked = demo.filter(state="mediating").order_by("petition_no").last()
        if linked is not None:
            with clock(at(linked.received_on, 15)):
                lawyers.record_consultation(
                    by=officer,
                    lawyer=roster[0],
                    held_on=linked.received_on,
                    persons=2,
                    topic="相邻关系纠纷的调解与诉讼",
                    referral=linked,
                )
            session = linked.sessions.order_by("held_on").first()
            if session is not None:
                session.lawyers.add(roster[1])
        lawyers.set_active(roster[2], by=officer, active=False)

    # --- 升级调解 --------------------------------------------------------------------------------

    def escalations(self, users: dict[str, User]) -> None:
        """蓬江区's joint committee, and a dispute a township committee of the district could not resolve,
        escalated to it by the district's justice bureau two days after the termination; the joint
        committee has held its first session."""
        bureau = Organisation.objects.get(kind=Organisation.Kind.JUSTICE_BUREAU, region__code="440703")
        joint, _created = Organisation.objects.get_or_create(
            region=bureau.region,
            name="蓬江区矛盾纠纷联合人民调解委员会",
            defaults={
                "kind": Organisation.Kind.MEDIATION_COMMITTEE,
                "committee_type": Organisation.CommitteeType.JOINT,
                "parent": bureau,
            },
        )
        rng = random.Random(440703)  # its own draws: the rest of the demo stays as it was
        if not joint.mediators.exists():
            for i, (name, male) in enumerate((("冯志坚", True), ("罗淑仪", False), ("关文涛", True))):
                Mediator.objects.create(
                    committee=joint,
                    name=name,
                    sex="M" if male else "F",
                    id_number=make_id_number("440703", datetime.date(1970 + i * 4, 5, 12), 30 + i, male=male),
                    mobile=f"139{rng.randint(0, 99999999):08d}",
                    position=Mediator.Position.CHAIR if i == 0 else Mediator.Position.MEMBER,
                    employment=Mediator.Employment.FULL_TIME,
                    specialities=["land", "neighbour"],
                )
        failed = (
            Referral.objects.filter(petition_no__startswith=DEMO_PREFIX, state="failed", region__level="township")
            .filter(region__parent=bureau.region)
            .order_by("petition_no")
            .first()
        )
        if failed is None or failed.concluded_at is None:
            return
        day = min(timezone.localtime(failed.concluded_at).date() + datetime.timedelta(days=2), timezone.localdate())
        with clock(at(day, 10)):
            referral = workflow.escalate_referral(
                failed,
                by=users["supervisor"],
                target=joint,
                reason="镇街调委会两次组织调解未果，双方分歧较大，涉及多户村民，升级由区联合调委会统筹调解。",
            )
        with clock(at(day, 15)):
            mediation.record_session(
                referral,
                by=self.staff(joint, Role.MEDIATOR),
                held_on=day,
                location="蓬江区矛盾纠纷调处中心",
                participants="双方当事人、镇街调委会调解员、村委会干部",
                record="召集双方重新陈述，镇街调委会介绍前期调解情况，约定一周后再次调解。",
                mediators=list(joint.mediators.order_by("pk")[:2]),
            )

    # --- 类案 ------------------------------------------------------------------------------------

    def case_groups(self, users: dict[str, User]) -> None:
        """A 类案 group of 蓬江区信访局: the referrals it sent 环市's committee that are still mediating, a
        working note, and a combined session held with two of them by 环市's committee."""
        office = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code="440703")
        group = case_groups.create_group(
            by=users["officer"],
            name="江南花园小区物业纠纷",
            lead_organisation=office,
            description="小区业主与物业公司就公共收益分配、停车费收取发生纠纷，多户业主先后到区信访局信访。",
            working_group="区信访局 陈晓敏（组长）；环市街道人民调解委员会 黄丽华；区住建局 物业科",
        )
        members = list(
            Referral.objects.filter(
                origin=office, petition_no__startswith=DEMO_PREFIX, state="mediating", region__code="440703006"
            )
            .filter(suspended_since__isnull=True)
            .order_by("petition_no")[:3]
        )
        if not members:
            return
        today = timezone.localdate()
        with clock(at(today - datetime.timedelta(days=3), 9)):
            for referral in members:
                case_groups.join_case_group(referral, by=users["officer"], group=group)
            note = "召开工作小组会议，确定由环市街道调委会合并调解，区住建局派员参加。"
            case_groups.add_note(group, by=users["officer"], text=note)
        with clock(at(today - datetime.timedelta(days=1), 15)):
            group_sessions.record_group_session(
                group,
                by=users["mediator"],
                referrals=members[:2],
                held_on=today - datetime.timedelta(days=1),
                location="江南花园小区会议室",
                participants="业主代表、物业公司负责人、区住建局物业科工作人员",
                record="召集业主代表与物业公司就公共收益分配方案协商，双方同意一周内公示收支明细后再议。",
            )

    # --- 合并 ------------------------------------------------------------------------------------

    def merges(self, users: dict[str, User]) -> None:
        """Two pairs of 蓬江区信访局's referrals waiting for acceptance: one registered twice and folded into
        the other; one folded in by mistake and restored the next day."""
        office = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code="440703")
        waiting = list(
            Referral.objects.filter(origin=office, petition_no__startswith=DEMO_PREFIX, state="submitted").order_by(
                "petition_no"
            )[:4]
        )
        if len(waiting) < 4:
            return
        today = timezone.localdate()
        with clock(at(today - datetime.timedelta(days=2), 10)):
            twice = "同一信访人就同一事项重复登记，并入先登记的案件。"
            merging.merge_referral(waiting[1], by=users["officer"], into=waiting[0], reason=twice)
            merging.merge_referral(waiting[3], by=users["officer"], into=waiting[2], reason="疑为重复登记。")
        with clock(at(today - datetime.timedelta(days=1), 9)):
            merging.unmerge_referral(waiting[3], by=users["reviewer"], note="经核实为同一小区的另一户，属不同纠纷。")


def appeals_demo(users: dict[str, User]) -> None:
    """复查复核 of 蓬江区信访局's closed referrals, kept by 江门市信访局 (``cityoffice``): a 复查 upheld and its
    复核 at the province, recorded by the city, both answered; a 复查 past its answer day; one in time;
    and a reply delivered that nobody contested."""
    office = Organisation.objects.get(kind=Organisation.Kind.PETITION_OFFICE, region__code="440703")
    city = users["cityoffice"]
    studio = lawyers.add_lawyer(
        by=city, office=city.memberships.get().organisation, name="周明哲", kind=Lawyer.Kind.LAWYER,
        firm="广东江门法正律师事务所", licence_no="14407201210345678", mobile="13702299876",
    )  # fmt: skip
    closed = list(
        Referral.objects.filter(origin=office, state="closed", merged_into__isnull=True).order_by("closed_at")
    )
    if len(closed) < 4:
        return
    today, day = timezone.localdate(), datetime.timedelta(days=1)

    def reply(referral: Referral, delivered: datetime.date) -> None:
        with clock(at(delivered, 16)):
            appeals.record_reply(referral, by=users["reviewer"], delivered_on=delivered)

    def request(referral: Referral, on: datetime.date, grounds: str, **extra) -> None:
        referral.refresh_from_db()
        with clock(at(on, 10)):
            appeals.register_appeal(referral, by=city, requested_on=on, grounds=grounds, **extra)

    def answer(referral: Referral, on: datetime.date, outcome: str, opinion: str, **extra) -> None:
        referral.refresh_from_db()
        with clock(at(on + 2 * day, 11)):
            appeals.answer_appeal(
                referral, by=city, outcome=outcome, decided_on=on, opinion=opinion, delivered_on=on + 2 * day, **extra
            )

    first, late, current, quiet = closed[0], closed[1], closed[-2], closed[-1]
    start = timezone.localtime(first.closed_at).date()
    reply(first, start + 2 * day)
    request(first, start + 12 * day, "认为调解协议约定的赔偿数额过低，要求重新处理。", lawyer=studio)
    answer(first, start + 28 * day, appeals.Outcome.UPHELD, "原答复意见认定事实清楚，处理恰当，予以维持。")
    request(first, start + 45 * day, "对复查意见不服，请求复核。", body="广东省信访局")
    opinion = "经听证，维持复查意见。"
    answer(first, start + 80 * day, appeals.Outcome.UPHELD, opinion, hearing_days=7, document=demo_scan("appeal"))
    start = timezone.localtime(late.closed_at).date()
    reply(late, start + 1 * day)
    request(late, start + 10 * day, "对调解终止后的处理意见不服，要求上级重新核查。")
    reply(current, today - 20 * day)
    request(current, today - 6 * day, "认为答复意见未回应其全部诉求。", lawyer=studio)
    reply(quiet, today - 10 * day)


def demo_scan(kind: str) -> SimpleUploadedFile:
    """A small, valid PDF standing in for a scanned paper document."""
    return SimpleUploadedFile(f"{kind}.pdf", minimal_pdf(f"Demo scan: {kind}"), content_type="application/pdf")
