"""The notification centre: a user's own notifications, marking them read, and the email opt-in."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications.models import Notification
from notifications.service import (
    email_enabled,
    mark_all_read,
    mark_read,
    notifications_of,
    set_email_enabled,
    unread_count,
)

PAGE_SIZE = 25


def notification_centre(request: HttpRequest) -> HttpResponse:
    only_unread = request.GET.get("unread") == "1"
    qs = notifications_of(request.user)
    if only_unread:
        qs = qs.filter(read_at__isnull=True)
    before = request.GET.get("before", "")
    if before.isdigit():
        qs = qs.filter(pk__lt=int(before))
    rows = list(qs.order_by("-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    here = reverse("notifications:centre") + ("?unread=1" if only_unread else "")
    context = {
        "notifications": rows,
        "only_unread": only_unread,
        "unread": unread_count(request.user),
        "here": here,
        "next_url": f"{here}{'&' if only_unread else '?'}before={rows[-1].pk}" if more else None,
        "is_first_page": not before,
        "email_enabled": email_enabled(request.user),
    }
    template = (
        "notifications/_notification_list.html"
        if request.GET.get("fragment")
        else "notifications/notification_centre.html"
    )
    return render(request, template, context)


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("notifications:centre")


@require_POST
def read_notification(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        mark_read(request.user, pk)
    except Notification.DoesNotExist:
        raise Http404("not your notification") from None
    return redirect(_back(request))


@require_POST
def read_all_notifications(request: HttpRequest) -> HttpResponse:
    marked = mark_all_read(request.user)
    if marked:
        messages.success(request, _("已将%d条通知标为已读。") % marked)
    return redirect(_back(request))


def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way (what a click on a toast does).

    A GET that changes state on purpose: the only effect is on the user's own notification, and a
    link is what a toast and a list can offer without a form.
    """
    try:
        notification = mark_read(request.user, pk)
    except Notification.DoesNotExist:
        raise Http404("not your notification") from None
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("notifications:centre")


@require_POST
def email_preference(request: HttpRequest) -> HttpResponse:
    enabled = request.POST.get("enabled") == "on"
    set_email_enabled(request.user, enabled)
    if enabled and not request.user.email:
        messages.warning(request, _("已开启邮件提醒，但您的账户没有登记邮箱地址，请联系系统管理员补充。"))
    else:
        messages.success(request, _("已开启邮件提醒。") if enabled else _("已关闭邮件提醒。"))
    return redirect(reverse("notifications:centre") + "#email")
