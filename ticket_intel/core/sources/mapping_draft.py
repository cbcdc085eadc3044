"""A column mapping drafted from an export no profile reads (`ticket-intel mapping suggest FILE`).

A helpdesk this project has no profile for (Salesforce cases, HubSpot or Help Scout exports, a
shop's own table) needs a mapping (docs/sources.md); its columns say most of it. Each canonical
field takes the column whose name says it and whose values fit it: the creation time is a column
whose values parse as timestamps and whose name says created or opened rather than updated or
closed; the message is the text column with the most words; the id a column with a distinct value
in every row. The draft names what it chose and what it left out, for a person to check; it is
never read without being saved in a mappings folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ticket_intel.core.sources.base import RecordError, parse_timestamp, records, text_or_none
from ticket_intel.core.sources.mapped import flattened, message_ref

# Column names that say a field, tried on the name lower-cased with separators and camelCase as spaces,
# in English and in the languages triage reads (German, French, Spanish, Italian, Portuguese, Dutch:
# a helpdesk's export takes its agents' language, and a German one's "Ticket-Nr.", "Kunde" were left out).
_NAMES: dict[str, str] = {
    "ticket_id": r"(?:^|\s)(?:id|number|no|nr|nummer|num[eé]ro|número|key|ref|reference|#)$|#",
    "created_at": (r"creat|open|submit|receiv|start|sent|posted|requested|reported|logged|^date|timestamp|^time$"
                   r"|erstell|angelegt|eingegangen|créé|cr[eé]ation|creado|creaci|creato|criado|aangemaakt|^datum"
                   r"|^fecha|^data$"),
    "message": (r"descr|body|message|text|content|question|comment|detail|problem|query|inquiry|enquiry|note"
                r"|beschreibung|nachricht|anfrage|inhalt|mensaje|messaggio|mensagem|bericht|omschrijving|vraag"),
    "subject": r"subject|title|summary|topic|headline|betreff|objet|sujet|asunto|oggetto|assunto|onderwerp|titel|titre|t[ií]tulo|titolo",
    "customer_id": (r"e-?mail|requester|customer|contact|user|author|creator|from|client|submitter|reporter|caller"
                    r"|sender|kunde|absender|anfragende|benutzer|klant|utilisateur|usuario|utente|usu[aá]rio|gebruiker"),
    "account_id": r"company|organi[sz]ation|account|^org|firma|unternehmen|soci[eé]t[eé]|empresa|azienda|bedrijf|organisatie",
    "plan": r"plan|tier|segment|subscription|abonnement|abo$|suscripci|abbonamento|assinatura",
    "monthly_revenue": r"mrr|revenue|umsatz|chiffre|ingresos|ricavi|receita|omzet",
    "channel": r"channel|source|via|origin|medium|kanal|canal|quelle",
    "tags": r"tags?$|labels?$|categor|topics?$|kategorie|schlagw|étiquette|etiqueta|etichett|etiket",
    "priority": r"priority|urgency|severity|priorit|priorid|dringlich|urgen",
    "status": r"status|state|stage|statut|stato|estado|zustand",
    "product": r"product|brand|app$|application|service$|produkt|produit|producto|prodotto|produto|marke|marque|marca|merk",
    "reply": r"resolution|answer|response|reply|solution|antwort|l[öo]sung|réponse|respuesta|risposta|resposta|oplossing",
}
# A column holding the id of the message a row answers: rows form conversations (`thread.reply_to`).
_REPLY_TO = re.compile(r"in.?response.?to|reply.?to|replied.?to|parent")
_INBOUND = re.compile(r"inbound|incoming|from.?customer|is.?customer")
_OUTBOUND = re.compile(r"outbound|outgoing|is.?agent|is.?staff|from.?agent|from.?company")
_ROLE = re.compile(r"role|author.?type|sender.?type|user.?type|direction|from.?type")
_COMPANY_ROLES = frozenset({"agent", "admin", "staff", "support", "operator", "company", "bot", "outbound", "outgoing"})
# An id column names what it identifies: a ticket's ("Case Number", "hs_object_id"), not a customer's.
_TICKET_WORDS = re.compile(r"ticket|case|issue|conversation|request|incident|thread|message|object|record")
_OTHERS_IDS = ("customer_id", "account_id", "product")
# Times that are not when the customer wrote: they never date a ticket.
_NOT_CREATED = re.compile(r"updat|modif|clos|resolv|solv|due|last|first.?response|assign|reply|replied|sla|birth|reopen"
                          r"|aktualisiert|geändert|geschlossen|gelöst|fällig|ferm|mis à jour|actualiz|cerrad|resuelt"
                          r"|aggiornat|chius|risolt|atualiz|fechad|resolvid|bijgewerkt|gesloten|opgelost")
# Chosen in this order (the required fields first, so no other field takes their columns).
_ROLE_ORDER = ("created_at", "message", "ticket_id", "subject", "customer_id", "account_id", "status", "priority",
               "tags", "channel", "product", "plan", "monthly_revenue", "reply")
PARSED_SHARE = 0.9  # of a column's filled values that must parse as timestamps for it to date tickets


@dataclass(frozen=True)
class Draft:
    """A mapping as YAML text, and what was chosen: canonical field -> column."""

    yaml: str
    columns: dict[str, str]


def _said(column: str, field: str) -> bool:
    name = re.sub(r"[_\-./]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", str(column))).strip().lower()  # caseId: case id
    return re.search(_NAMES[field], name) is not None


def _filled(values: pd.Series) -> pd.Series:
    return values[values.map(lambda v: text_or_none(v) is not None)]


def _dates(values: pd.Series) -> float:
    """The share of a column's filled values that parse as ticket timestamps."""
    filled = _filled(values)
    if filled.empty or filled.map(lambda v: isinstance(v, bool)).all():
        return 0.0

    def parses(value: object) -> bool:
        try:
            parse_timestamp(value)
            return True
        except RecordError:
            return False

    return float(filled.map(parses).mean())


def _words(values: pd.Series) -> float:
    """Mean words per filled value, for columns of text (0 for numbers, dates and ids)."""
    filled = _filled(values)
    if filled.empty or not filled.map(lambda v: isinstance(v, str)).all():
        return 0.0
    return float(filled.map(lambda v: len(v.split())).mean())


def _choose(frame: pd.DataFrame, taken: set[str], field: str, fits: Callable[[pd.Series], bool],
            rank: Callable[[str], float] = lambda c: 0.0, named: bool = True) -> str | None:
    """The column for `field` among those not taken: its name says the field (unless `named` is
    False) and its values fit; ties go to `rank`, then to the leftmost column."""
    found = [c for c in frame.columns if c not in taken and (not named or _said(c, field)) and fits(frame[c])]
    return max(found, key=lambda c: (rank(c), -list(frame.columns).index(c)), default=None)


def _roles(frame: pd.DataFrame) -> dict[str, str]:
    """Canonical field -> column, in `_ROLE_ORDER`. The creation time and the message may also come
    from a column whose name says nothing, when its values are timestamps or text."""
    dated = {c: _dates(frame[c]) for c in frame.columns if not _NOT_CREATED.search(str(c).lower())}
    words = {c: _words(frame[c]) for c in frame.columns}
    chosen: dict[str, str] = {}

    def is_id(values: pd.Series) -> bool:
        return (not any(_said(values.name, f) for f in _OTHERS_IDS) and values.astype(str).is_unique
                and bool(values.map(lambda x: text_or_none(x) is not None).all()))

    def is_subject(values: pd.Series) -> bool:  # fewer words than the message
        return 0 < words[values.name] < words.get(chosen.get("message"), float("inf"))

    def is_text(values: pd.Series) -> bool:
        return words[values.name] >= 3

    rules: dict[str, tuple[Callable[[pd.Series], bool], Callable[[str], float], bool]] = {
        "created_at": (lambda v: dated.get(v.name, 0) >= PARSED_SHARE, lambda c: dated[c], True),
        "message": (is_text, lambda c: words[c], True),
        "ticket_id": (is_id, lambda c: float(bool(_TICKET_WORDS.search(str(c).lower()))), False),
        "subject": (is_subject, lambda c: 0.0, False),
        "reply": (is_text, lambda c: 0.0, False),
    }
    for field in _ROLE_ORDER:
        fits, rank, unnamed = rules.get(field, (lambda v: not _filled(v).empty, lambda c: 0.0, False))
        taken = set(chosen.values())
        column = _choose(frame, taken, field, fits, rank) or (
            _choose(frame, taken, field, fits, rank, named=False) if unnamed else None)
        if column is not None:
            chosen[field] = column
    return chosen


def _reply_link(frame: pd.DataFrame, ids: str | None) -> str | None:
    """The column whose name says a row answers another, whose values are ids of other rows or empty
    on some rows only (a conversation's first message answers nothing)."""
    if ids is None:
        return None
    known = set(frame[ids].map(message_ref))

    def links(values: pd.Series) -> bool:
        filled = _filled(values)
        return bool(known & set(filled.map(message_ref))) or 0 < len(filled) < len(values)

    return next((c for c in frame.columns if c != ids and _REPLY_TO.search(str(c).lower()) and links(frame[c])), None)


def _company_rows(frame: pd.DataFrame) -> tuple[str, list[str]] | None:
    """The column and values that mark the company's own rows in a threaded export: a yes/no column
    saying a row came in from a customer (twcs's `inbound`: its no) or went out from the company (its
    yes), or a role column holding an agent's, admin's or bot's role."""
    for column in frame.columns:
        name, values = str(column).lower(), {str(v).strip() for v in _filled(frame[column])}
        flags = {v.lower(): v for v in values}
        if set(flags) == {"true", "false"} and (side := _INBOUND.search(name) or _OUTBOUND.search(name)):
            return str(column), [flags["false" if side.re is _INBOUND else "true"]]
        if _ROLE.search(name) and (company := sorted(v for v in values if v.lower() in _COMPANY_ROLES)):
            return str(column), company
    return None


def _fields(sample: pd.DataFrame) -> pd.DataFrame:
    """JSON records' fields as a mapping reads them, a field inside an object by its dotted path
    (`requester.email`: `mapped.flattened`): an object was proposed as a column (`customer_id:
    requester`), which the mapping then refused. A table's columns stay as they are."""
    rows = records(sample)
    if not any(isinstance(v, dict) for row in rows for v in row.values()):
        return sample
    return flattened([{k: v for k, v in row.items() if not (pd.api.types.is_scalar(v) and pd.isna(v))}
                      for row in rows])  # a key the record lacks is NaN in `sample`


def _own_key(column: str, keys: list[str]) -> str:
    """The record's own key a column is read from, which `detect` names: the column, or the object
    it is a field of (`requester` for `requester.email`)."""
    return column if column in keys else next((k for k in sorted(keys, key=len, reverse=True)
                                               if column.startswith(f"{k}.")), column)


def draft_mapping(sample: pd.DataFrame, file: Path) -> Draft:
    """A mapping for the export `file` whose first rows are `sample`, as commented YAML."""
    name = re.sub(r"[^a-z0-9]+", "_", file.name.split(".")[0].lower()).strip("_") or "export"
    keys, sample = [str(c) for c in sample.columns], _fields(sample)
    roles = _roles(sample)
    columns = {f: roles[f] for f in ("ticket_id", *_ROLE_ORDER) if f in roles}
    notes = []
    if "ticket_id" not in roles:
        columns = {"ticket_id": "{file}-{record}", **columns}
        notes.append("no column holds a distinct value per row: ids come from the file and the row "
                     "(see docs/sources.md, an export without ids)")
    if "message" not in roles:
        notes.append("no column holds the customers' text: name it under columns as message")
    if "created_at" not in roles:
        notes.append("no column holds when tickets were written: name it, or give the export's date as "
                     "constants: {created_at: YYYY-MM-DD} (docs/sources.md, an export without dates)")
    doc = {"name": name, "description": f"Drafted from {file.name}; check each column", "source": name,
           "detect": list(dict.fromkeys(_own_key(roles[f], keys) for f in ("ticket_id", "created_at", "message")
                                        if f in roles)),
           "columns": columns}
    agents = None
    if (link := _reply_link(sample, roles.get("ticket_id"))) is not None:
        doc["thread"] = {"reply_to": link}
        notes.append(f"rows answer one another through {link}: a thread's first row is its ticket")
        if (agents := _company_rows(sample)) is not None:
            doc["agents"] = {"column": agents[0], "values": agents[1]}
        else:
            notes.append("if the company's answers are rows too, name the column that tells them apart under agents")
    unused = [str(c) for c in sample.columns if c not in {*roles.values(), link, agents and agents[0]}]
    header = [f"# Drafted by `ticket-intel mapping suggest` from {file.name} ({len(sample)} rows read).",
              "# Check each column, then save this file in your mappings folder (TICKET_INTEL_MAPPINGS_DIR);",
              "# docs/sources.md#column-mappings explains every key.",
              *(f"# Note: {n}." for n in notes),
              f"# Columns left out: {', '.join(unused) if unused else 'none'}."]
    return Draft("\n".join(header) + "\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), dict(roles))
