"""Calendars for tests: a made-up State Council notice for 2027, as a newer chinesecalendar would bring it."""

from __future__ import annotations

import datetime

from townships.holidays import Entry, statutory_days

d = datetime.date
ONE_DAY = datetime.timedelta(days=1)

# Invented for the tests (the real notice comes in late 2026): the Spring Festival bridged to nine
# days, Friday 5 to Saturday 13 February, paid for by working Saturday 30 January and Sunday 21 February.
SPRING_FESTIVAL_2027 = [d(2027, 2, 5) + ONE_DAY * i for i in range(9)]
MAKEUP_2027 = [d(2027, 1, 30), d(2027, 2, 21)]


def published_2027() -> list[Entry]:
    entries = []
    for e in statutory_days(2027):
        if e.date in SPRING_FESTIVAL_2027:
            entries.append(Entry(e.date, False, "holiday", "春节"))
        elif e.date in MAKEUP_2027:
            entries.append(Entry(e.date, True, "makeup_workday", "春节"))
        else:
            entries.append(e)
    return entries
