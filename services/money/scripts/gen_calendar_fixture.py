#!/usr/bin/env python3
"""Regenerate the independent cross-check of the CN business calendar (R-C6).

Writes one line per date with its status according to the `chinesecalendar` package
(PyPI, import name `chinese_calendar`), an independent transcription of the same State
Council notices that `data/calendar/cn.json` is written from. `tests/calendar_fixture.rs`
walks every line against our data.

Usage (from the repository root):

    python3 -m venv .venv-cal
    .venv-cal/bin/pip install chinesecalendar
    .venv-cal/bin/python services/money/scripts/gen_calendar_fixture.py \
        --from-year 2020 --to-year 2026 \
        > services/money/tests/fixtures/cn_calendar_2020_2026.csv
"""

import argparse
import datetime
import importlib.metadata
import sys

from chinese_calendar.constants import holidays, workdays


def status(day: datetime.date) -> tuple[str, str]:
    """(status, holiday name) of one date, as the package sees it."""
    if day in workdays:
        return "makeup", workdays[day]
    if day in holidays:
        return "holiday", holidays[day]
    if day.weekday() >= 5:
        return "weekend", ""
    return "workday", ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-year", type=int, default=2020)
    parser.add_argument("--to-year", type=int, default=2026)
    args = parser.parse_args()
    years = {d.year for d in holidays}
    missing = [y for y in range(args.from_year, args.to_year + 1) if y not in years]
    if missing:
        print(f"chinesecalendar has no data for {missing}", file=sys.stderr)
        return 1
    version = importlib.metadata.version("chinesecalendar")
    print(f"# source: chinesecalendar {version} (PyPI); regenerate with "
          "services/money/scripts/gen_calendar_fixture.py")
    print("# date,status,holiday  (status: workday | weekend | holiday | makeup)")
    day = datetime.date(args.from_year, 1, 1)
    end = datetime.date(args.to_year, 12, 31)
    while day <= end:
        kind, name = status(day)
        print(f"{day.isoformat()},{kind},{name or ''}")
        day += datetime.timedelta(days=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
