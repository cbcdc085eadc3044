"""The configuration a week's themes were built with, and what differs from it.

Each week records the settings that shape its themes and their areas (`settings.Setting.themes`: the
embedding model, the clustering seed and thresholds, the window length, the taxonomy, ...): a value as
it was set, a file by its content digest and path. Two weeks, or a week and a shell, differ in a
setting when both know it and its values differ; a setting a week did not record (a week built
before it was recorded) is unknown, not different. So a run in a shell that lacks the variable a
backfill had, and a report whose window holds weeks built two ways, can name the setting and the weeks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ticket_intel.core.weeks import span


@dataclass(frozen=True)
class Value:
    """One setting's value as a week recorded it. Two are the same when their `value` is: a file's
    content digest (a copy elsewhere is the same taxonomy), else the value itself."""

    value: str
    file: str | None = None  # a file setting's path; "": a file not recorded (its digest alone is known)

    def __str__(self) -> str:
        if self.file is None:
            return self.value or "(empty)"
        return f"{self.file or 'a file not recorded'} (digest {self.value})"

    @property
    def short(self) -> str:
        """As a report says it: a file by its name."""
        if self.file is None:
            return str(self)
        return f"{Path(self.file).name if self.file else 'a file not recorded'} ({self.value})"


Config = Mapping[str, Value]  # setting (its variable) -> value
TAXONOMY = "TICKET_INTEL_TAXONOMY"  # the setting a week's product areas come from
Differences = dict[str, list[tuple[date, date, Value]]]  # setting -> the runs of weeks recorded otherwise


def of_digest(digest: str, known: Iterable[Value]) -> Value:
    """A file's digest recorded without its path, with the path among `known` that has it, if any."""
    return next((v for v in known if v.value == digest), Value(digest, ""))


def runs(weeks: Mapping[date, Value]) -> list[tuple[date, date, Value]]:
    """The weeks as runs of consecutive weeks of one value: (first, last, value), oldest first."""
    out: list[tuple[date, date, Value]] = []
    for week in sorted(weeks):
        if out and out[-1][2].value == weeks[week].value:
            out[-1] = (out[-1][0], week, out[-1][2])
        else:
            out.append((week, week, weeks[week]))
    return out


def by_setting(weeks: Mapping[date, Config]) -> dict[str, dict[date, Value]]:
    """Per setting, the weeks that recorded it and their value."""
    out: dict[str, dict[date, Value]] = {}
    for week, config in weeks.items():
        for setting, value in config.items():
            out.setdefault(setting, {})[week] = value
    return out


def differences(current: Config, weeks: Mapping[date, Config]) -> Differences:
    """Per setting of `current` some of `weeks` recorded another value of, those weeks' runs."""
    recorded = by_setting(weeks)
    out = {}
    for setting, value in current.items():
        if others := [r for r in runs(recorded.get(setting, {})) if r[2].value != value.value]:
            out[setting] = others
    return out


def said(current: Config, differ: Differences, whose: str = "this shell") -> str:
    """Each differing setting in one clause: the weeks' value(s), then `whose`."""
    return "; ".join(f"{setting} {', '.join(f'{v} in {span(first, last)}' for first, last, v in others)}, "
                     f"not {whose}'s {current[setting]}" for setting, others in differ.items())


def keep_settings(differ: Differences) -> str:
    """The variables a shell needs to build the weeks as they were: each with the one value (or file)
    on record, else named alone."""
    def one(setting: str, others: list[tuple[date, date, Value]]) -> str:
        values = {v for _, _, v in others}
        if len(values) == 1 and (v := values.pop()).file != "":
            return f"{setting}={v.file if v.file is not None else v.value}"
        return f"{setting} as the weeks had it"
    return " ".join(one(setting, others) for setting, others in differ.items())


def mixed_note(weeks: Mapping[date, Config], rebuild: str) -> str:
    """What a report says when the weeks it draws on were built with more than one value of a setting
    that shapes themes ("" when none differs); `rebuild` is the run that builds them all one way, with
    its inbox and warehouse (`runner.run_command`)."""
    mixed = [(setting, runs(values)) for setting, values in by_setting(weeks).items()
             if len({v.value for v in values.values()}) > 1]
    if not mixed:
        return ""
    each = "; ".join(f"{setting}: " + ", ".join(f"{span(first, last)} {v.short}" for first, last, v in parts)
                     for setting, parts in mixed)
    return (f"The weeks this report draws on were built with more than one configuration: {each}. Themes, their "
            f"areas and trends may differ across the change; `{rebuild}`, in a shell set "
            "as the weeks should be, builds every week one way.")
