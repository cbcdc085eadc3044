"""Every setting ticket_intel reads: its environment variable, YAML key, default and meaning.

A setting's value comes from, in order: the environment variable, the key of the same name in
`ticket_intel.yaml` (the variable's name, lower-cased, without `TICKET_INTEL_`; the file's path
is `TICKET_INTEL_CONFIG`, default `./ticket_intel.yaml`), then the default here. `apply()` writes
the resolved values into the environment once, so the Dagster resources can name each variable
literally (`EnvVar("TICKET_INTEL_…")`) and load-time settings read the same values.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticket_intel.core.yaml_text import load_yaml

PREFIX = "TICKET_INTEL_"
CONFIG_FILE_ENV = "TICKET_INTEL_CONFIG"
VALUE, FILE, OPERATIONAL = "value", "file", ""  # Setting.shapes


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    meaning: str
    load_time: bool = False  # read when definitions load: it shapes the graph
    shapes: str = VALUE  # what of it shapes a week's results (run_inputs.py): its VALUE, the FILE it names, or nothing
    themes: bool = False  # read by a stage that builds the week's themes or their areas: recorded per week

    @property
    def yaml_key(self) -> str:
        return self.env.removeprefix(PREFIX).lower()


def _s(name: str, default: object, meaning: str, load_time: bool = False, shapes: str = VALUE,
       themes: bool = False) -> Setting:
    return Setting(PREFIX + name, str(default), meaning, load_time, shapes, themes)


SETTINGS: tuple[Setting, ...] = (
    _s("WAREHOUSE", "data/warehouse.duckdb", "the DuckDB warehouse file, or a DuckLake: "
       "`ducklake:postgres:dbname=... host=...` (docs/scale.md)", shapes=OPERATIONAL),
    _s("WAREHOUSE_DATA_PATH", "", "a new DuckLake's data files: a folder every writer sees, or `s3://bucket/prefix/`",
       shapes=OPERATIONAL),
    _s("INBOX", "data/inbox", "folder of exports the pipeline and `inbox_sensor` read", shapes=OPERATIONAL),
    _s("MAPPINGS_DIR", "", "folder of extra YAML column mappings (the shipped ones always load)", shapes=FILE),
    _s("TIMEZONE", "UTC", "the time zone of exported times written without an offset (a Freshdesk CSV's, a "
       "spreadsheet's): an IANA name such as `America/Los_Angeles`; weeks are UTC weeks whatever it is"),
    _s("PARSE_CACHE_DIR", "", "where each export's parse is kept, so an unchanged file is never parsed again "
       "(empty: `<warehouse>_parse_cache/` beside it; a DuckLake without it parses every run; docs/operations.md)",
       shapes=OPERATIONAL),
    _s("MAX_REJECTION_RATE", 0.2, "data-quality ceiling on the share of rejected records"),
    _s("PRUNE_GONE_EXPORTS", "false", "`true`: a run removes, in the weeks it materializes, the tickets of exports "
       "no longer in the inbox (default: they are kept and reported; `ticket-intel run --prune` prunes once)",
       shapes=OPERATIONAL),  # the weeks a prune changes are planned by their tickets (runner.plan_changed)
    _s("HELP_CENTER", "", "help-center articles: a Zendesk Guide or Intercom export, or a folder of Markdown/HTML "
       "files and exports (empty: the inbox's `help_center/` folder, if any)", shapes=FILE),
    _s("RELEASES", "", "`releases.csv` (`released_at,version,notes`) or a GitHub releases JSON export (empty: "
       "the inbox's `releases.csv` or `releases.json`, if any)", shapes=FILE),
    _s("ORDER_PATTERNS", "", "extra regular expressions for order numbers to redact, one per line"),
    _s("KEEP_WORDS", "", "comma-separated words never redacted as names (product names)"),
    _s("EMBEDDING_MODEL", "all-MiniLM-L6-v2", "sentence-transformers model (the bundled one loads offline)", themes=True),
    _s("EMBEDDING_BACKEND", "onnx", "`onnx`, `onnx-int8` or `torch` (see docs/themes.md)", themes=True),
    _s("EMBEDDING_BATCH_SIZE", 64, "texts per length-sorted embedding batch", shapes=OPERATIONAL),
    _s("WRITER_WAIT_SECONDS", 1800, "how long a run or review waits for the run writing the warehouse before giving up",
       shapes=OPERATIONAL),
    _s("CONTEXT_CACHE_MB", 1024, "memory a run keeps week contexts in (each week's clustered window and vectors, "
       "read once and shared by summaries, ranking, alerts and the report); a backfill's weeks past it are read "
       "again by each stage, a weekly run's week is always kept", shapes=OPERATIONAL),
    _s("WINDOW_WEEKS", 8, "weeks of history each week's clustering and trend see", load_time=True, themes=True),
    _s("PARTITIONS_START", "2015-01-05", "first weekly partition (a Monday); unset, a warehouse's first "
       "`ticket-intel run` chooses it from the data and records it in the warehouse's instance folder",
       load_time=True),
    _s("REFIT_WEEKS", "window", "a week's themes are fit in full when the last full fit is this many weeks old "
       "(`window`: the window's length; 0 or 1: every week), else placed into last week's "
       "themes (docs/themes.md)", themes=True),
    _s("SEED", 42, "clustering seed (same input and seed give the same themes and ids)", themes=True),
    _s("EMBEDDING_LANGUAGES", "en", "languages the embedding model understands (`*` for a multilingual model); "
       "tickets in others are counted per language, not themed", themes=True),
    _s("THEMES_BY_PRODUCT", "auto", "cluster each product (brand) on its own: `auto` (when the window holds "
       "several and most tickets name theirs), `on` or `off`", themes=True),
    _s("TAXONOMY", "taxonomy.yaml", "product areas and tag synonyms", shapes=FILE, themes=True),
    _s("TRIAGE", "triage.yaml", "triage categories and subcategories (docs/triage.md)", shapes=FILE),
    _s("ROUTING", "routing.yaml", "team, escalation team and SLA hours per triage category", shapes=FILE),
    _s("ESCALATION", "", "a team's escalation phrases (churn, legal threats, …; any language) that extend or replace "
       "the shipped ticket_intel/escalation.yaml (docs/triage.md)", shapes=FILE),
    _s("MIN_THEME_TICKETS", 5, "a theme needs at least this many tickets in the week", themes=True),
    _s("MIN_THEME_CUSTOMERS", 3, "... from at least this many distinct customers", themes=True),
    _s("MIN_WEEK_TICKETS", 30, "below this a week is ranked over the fewest weeks of the window that reach it", themes=True),
    _s("SEVERITY_WEIGHTS", "P0=16,P1=8,P2=4,P3=2,P4=1", "impact weight per severity"),
    _s("PLAN_WEIGHTS", "free=1,trial=1,starter=1,pro=2,team=2,business=2,premium=2,paid=2,enterprise=4",
       "known plans and their impact weight (an unknown plan counts like the lowest)"),
    _s("PAID_PLANS", "", "plans that count as paid (empty: every plan weighted above the lowest)"),
    _s("SPIKE_MIN_RATIO", 2.0, "a spike is at least this many times the baseline ...", themes=True),
    _s("SPIKE_MAX_P_VALUE", 0.01, "... with a tail probability under the baseline below this ...", themes=True),
    _s("SPIKE_MIN_COUNT", 10, "... and at least this many tickets", themes=True),
    _s("SPIKE_BASELINE_WEEKS", 6, "weeks the spike baseline averages over", themes=True),
    _s("SPIKE_MIN_BASELINE_WEEKS", 4, "weeks of history a theme needs before it can spike", themes=True),
    _s("SPIKE_DISTRIBUTION", "poisson", "`poisson` or `negative_binomial` tail (see docs/alerts.md)", themes=True),
    _s("NEW_GROUP_MAX_P_VALUE", 0.1, "level of the test for a new issue inside an old theme, per week and window: "
       "higher finds new issues sooner and raises more false new patterns (docs/alerts.md)", themes=True),
    _s("RELEASE_WINDOW_DAYS", 7, "a theme that starts or spikes at most this many days after a release is "
       "linked to it"),
    _s("FIX_ALPHA", 0.05, "level of the fix and help-center rate tests (regressions use the spike level)"),
    _s("SEGMENT_MIN_TICKETS", 5, "a segment claim needs at least this many of the theme's tickets in the segment"),
    _s("SEGMENT_MAX_P_VALUE", 0.05, "false-discovery rate of the segment claims (Benjamini-Hochberg)"),
    _s("NOTIFIER", "log", "`log`, `slack` (incoming webhook) or `webhook` (signed JSON)", shapes=OPERATIONAL),
    _s("NOTIFY_URL", "", "webhook URL for alerts", shapes=OPERATIONAL),
    _s("NOTIFY_SECRET", "", "HMAC secret signing webhook alerts", shapes=OPERATIONAL),
    _s("NOTIFY_TIMEOUT_SECONDS", 10, "per alert delivery request", shapes=OPERATIONAL),
    _s("ALERT_INTERVAL_SECONDS", 60, "how often the alert sensors look for alerts to send (the daemon's tick)",
       load_time=True, shapes=OPERATIONAL),
    _s("ALERT_MAX_AGE_WEEKS", 2, "alerts page while their week is among the newest this many weeks of alerts (0: "
       "every week's); older ones, of a first run over history or a backfill, stay in the report", shapes=OPERATIONAL),
    _s("NOTIFY_BUDGET_SECONDS", 30, "delivery time per sensor tick (Dagster stops a tick at 60 s); the rest waits for the next tick",
       shapes=OPERATIONAL),
    _s("UI_URL", "http://127.0.0.1:3000", "base of the Dagster UI links in alerts", shapes=OPERATIONAL),
    _s("REPORTS_URL", "", "where HTML reports are published (e.g. file:///srv/reports); empty: no link"),
    _s("REPORTS_DIR", "", "where weekly Markdown and HTML reports are written (empty: `<warehouse>_reports/` beside it)",
       shapes=OPERATIONAL),
    _s("TICKET_URL_TEMPLATE", "", "link to a ticket in your helpdesk, e.g. `https://acme.zendesk.com/agent/tickets/{source_id}`"),
    _s("TRACKER", "", "`jira` or `linear`: where `backlog_sync` keeps an issue per top theme (empty: no sync)"),
    _s("BACKLOG_SELECT", "top", "`top` (the top N themes by impact) or `confirmed` (themes a reviewer confirmed, renamed or merged another into)"),
    _s("BACKLOG_TOP_N", 5, "N for `top`"),
    _s("JIRA_URL", "", "Jira Cloud site, e.g. `https://acme.atlassian.net`", shapes=OPERATIONAL),
    _s("JIRA_EMAIL", "", "the Jira account's email (basic auth)", shapes=OPERATIONAL),
    _s("JIRA_API_TOKEN", "", "the Jira account's API token", shapes=OPERATIONAL),
    _s("JIRA_PROJECT", "", "Jira project key, e.g. `SUP`"),
    _s("JIRA_ISSUE_TYPE", "Task", "Jira issue type of new issues"),
    _s("LINEAR_API_KEY", "", "Linear personal API key", shapes=OPERATIONAL),
    _s("LINEAR_TEAM_ID", "", "Linear team id new issues belong to"),
    _s("LINEAR_LABEL_IDS", "", "comma-separated Linear label ids for new issues"),
    _s("LINEAR_URL", "https://api.linear.app/graphql", "Linear's GraphQL endpoint", shapes=OPERATIONAL),
    _s("LLM_MODEL", "", "any litellm model, e.g. `openai/gpt-4o-mini`; empty: offline summaries"),
    _s("LLM_API_BASE", "", "provider endpoint, if not the default"),
    _s("LLM_TIMEOUT_SECONDS", 60, "per attempt of an LLM request (the provider's client retries a failed one twice)",
       shapes=OPERATIONAL),
    _s("LLM_MOCK_RESPONSE", "", "litellm's offline test hook; never set in production"),
    _s("LLM_MAX_COST_USD", 0, "the most one run spends on LLM answers, over all its steps, in US dollars by "
       "litellm's price list (0: no limit); past it the run's other items keep their offline results",
       shapes=OPERATIONAL),
    _s("LLM_STEPS", "triage,summaries,drafts", "the weekly steps that ask the LLM (comma-separated: `triage` "
       "asks per ticket, `summaries` per theme, `drafts` per ticket awaiting a reply); the others stay offline"),
    _s("LLM_CONCURRENCY", 4, "LLM requests in flight at once (tickets triaged, themes summarized, replies drafted)",
       shapes=OPERATIONAL),
    _s("SIMILAR_K", 5, "similar resolved tickets shown by `similar` and `serve`, and given to a reply draft"),
    _s("SERVE_SECRET", "", "shared secret of `serve`: requests must carry its HMAC signature (empty: none needed)",
       shapes=OPERATIONAL),
    _s("SERVE_MAX_BYTES", 262144, "largest request body `serve` accepts", shapes=OPERATIONAL),
    _s("SERVE_LLM_MAX_COST_USD_PER_DAY", 0, "the most `serve` spends on LLM answers in a day (UTC), in US dollars "
       "by litellm's price list (0: no limit); past it requests get the offline triage until the day ends",
       shapes=OPERATIONAL),
)
BY_ENV = {s.env: s for s in SETTINGS}
# TICKET_INTEL_ variables that are no setting: the settings file's path, and the benchmarks' own (bench/).
OTHER_VARIABLES = (CONFIG_FILE_ENV, "TICKET_INTEL_BENCH_CACHE", "TICKET_INTEL_BENCH_TMP")
# Variables `apply` filled from a default (not set by the user, nor in the file).
DEFAULTED: set[str] = set()


def config_file() -> Path | None:
    """The settings file: `./ticket_intel.yaml` if there is one, or the file TICKET_INTEL_CONFIG names,
    which must exist (a misspelt path must not pass silently); set empty, none is read."""
    named = os.environ.get(CONFIG_FILE_ENV)
    if named is None:
        default = Path("ticket_intel.yaml")
        return default if default.exists() else None
    if named and not Path(named).is_file():
        raise ValueError(f"{CONFIG_FILE_ENV} names {named}, which is not a file (set it empty to read no settings file)")
    return Path(named) if named else None


def file_values(path: Path | None) -> dict[str, Any]:
    """The YAML file's settings, refusing keys that are not settings (a typo must not pass silently)."""
    if path is None:
        return {}
    doc = load_yaml(path.read_text(encoding="utf-8"), str(path)) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{path} must be a mapping of setting: value")
    if unknown := _unknown(doc, [s.yaml_key for s in SETTINGS]):
        raise ValueError(f"{path}: unknown setting(s) {unknown}; see the README's configuration table")
    return doc


def _unknown(names: Iterable[str], known: Collection[str], prefix: str = "") -> str:
    """The names that are not known, each with the known one closest to it after their common
    `prefix` (which makes every variable alike): "taxonmy (taxonomy?)"."""
    said, bare = [], {k.removeprefix(prefix): k for k in known}
    for name in sorted(set(names) - set(known)):
        close = difflib.get_close_matches(name.removeprefix(prefix), bare, n=1)
        said.append(f"{name} ({bare[close[0]]}?)" if close else name)
    return ", ".join(said)


def check_variables(env: Iterable[str]) -> None:
    """A TICKET_INTEL_ variable that is no setting is an error, as an unknown key of the file is: a
    misspelt `TICKET_INTEL_TAXONMY` ran on the shipped taxonomy, silently."""
    if unknown := _unknown((k for k in env if k.startswith(PREFIX)), [*BY_ENV, *OTHER_VARIABLES], PREFIX):
        raise ValueError(f"unknown environment variable(s) {unknown}; see the README's configuration table")


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def apply(environ: MutableMapping[str, str] | None = None) -> None:
    """Resolve every setting into the environment (variables already set win)."""
    env = os.environ if environ is None else environ
    check_variables(env)
    values = file_values(config_file())
    for s in SETTINGS:
        if s.env in env:
            continue
        if s.yaml_key in values:
            env[s.env] = _text(values[s.yaml_key])
        else:
            env[s.env] = s.default
            if env is os.environ:
                DEFAULTED.add(s.env)


def anchor_paths() -> None:
    """Make the config file and every setting that names an existing relative file or folder absolute,
    before a command changes folder (`dev` serves from the project folder)."""
    found = config_file()
    os.environ[CONFIG_FILE_ENV] = str(found.resolve()) if found else ""
    apply()
    for s in SETTINGS:
        given = os.environ.get(s.env, "")
        if given and not os.path.isabs(given) and Path(given).exists():
            os.environ[s.env] = str(Path(given).resolve())


def is_chosen(env: str) -> bool:
    """Whether the user set this setting (environment or file), rather than leaving the default."""
    if env in os.environ and env not in DEFAULTED:
        return True
    return BY_ENV[env].yaml_key in file_values(config_file())


LAKE_PREFIX = "ducklake:"


def beside(warehouse: str | Path, what: str, setting: str) -> Path:
    """A folder that belongs to one warehouse, next to its file: `data/warehouse_reports/`. A DuckLake
    has no file to sit beside, so there the folder must be configured."""
    if str(warehouse).startswith(LAKE_PREFIX):
        raise ValueError(f"a DuckLake warehouse needs {setting} set (docs/scale.md)")
    path = Path(warehouse)
    return path.with_name(f"{path.stem}_{what}")


def reports_dir(configured: str, warehouse: str | Path) -> Path:
    """Reports go where configured, else beside the warehouse they were computed from."""
    return Path(configured) if configured else beside(warehouse, "reports", "TICKET_INTEL_REPORTS_DIR")


def parse_cache_dir(configured: str, warehouse: str | Path) -> Path | None:
    """The parse cache goes where configured, else beside the warehouse file; a DuckLake has no file to
    sit beside, and there every run parses the inbox as before unless a folder is configured."""
    if configured:
        return Path(configured)
    return None if str(warehouse).startswith(LAKE_PREFIX) else beside(warehouse, "parse_cache", "TICKET_INTEL_PARSE_CACHE_DIR")


def dagster_home(warehouse: str | Path) -> Path:
    """The Dagster instance of a warehouse: `$DAGSTER_HOME` when set, else `<warehouse>_dagster/` beside it,
    so runs, sensors and UI state of one warehouse never mix with another's."""
    return Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else beside(warehouse, "dagster",
                                                                                          "DAGSTER_HOME")


def words(text: str) -> tuple[str, ...]:
    """A comma-separated setting as its non-empty items."""
    return tuple(w.strip() for w in text.split(",") if w.strip())


def value(env: str) -> str:
    """One setting's resolved value (for load-time settings and the command line)."""
    apply()
    return os.environ[BY_ENV[env].env]


def where(env: str) -> str:
    """Where a setting's value came from, as its errors name it: the settings file's key when the
    value is the file's, else the variable (`min_theme_tickets: three` in the file was said to be
    "TICKET_INTEL_MIN_THEME_TICKETS", a variable the user never set)."""
    path, key = config_file(), BY_ENV[env].yaml_key
    values = file_values(path)
    return f"{key} in {path}" if key in values and os.environ.get(env) == _text(values[key]) else env


@contextmanager
def reading(env: str) -> Iterator[None]:
    """A ValueError inside, about the setting's value, names where it came from (`where`)."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"{where(env)}: {exc}") from None


def parse_number(text: str, kind: type[int] | type[float] = int) -> int | float:
    """`int('abc')` said only "invalid literal for int() with base 10"."""
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"must be {'a whole number' if kind is int else 'a number'}, not {text!r}") from None


def number(env: str, kind: type[int] | type[float] = int) -> int | float:
    """A numeric setting's value; an error naming where it came from when it is not one."""
    with reading(env):
        return parse_number(value(env), kind)


def flag(env: str, text: str | None = None) -> bool:
    """A true/false setting's value (`text`: as a resource resolved it); an error naming it otherwise."""
    said = (value(env) if text is None else text).strip().lower()
    if said not in ("true", "false"):
        raise ValueError(f"{where(env)}: must be true or false, not {said!r}")
    return said == "true"
