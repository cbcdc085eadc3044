"""accounts.csv: one row per account that has an organisation or company record in its helpdesk."""

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .common import JSONDict, check
from .constants import PLAN_SHARES, REVENUE, SOURCES
from .model import World

HEADER = ("source", "account_id", "account_name", "plan", "monthly_revenue")


def read_accounts(out: Path) -> list[dict[str, str]]:
    """The written accounts.csv, one dict per row."""
    with (out / ACCOUNTS.name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class AccountsFile:
    """The accounts every helpdesk knows, keyed by the id its tickets carry (see ``Account.account_id``)."""

    name: str

    def render(self, world: World) -> str:
        """Accounts by source, in the order they were created."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        for source in SOURCES:
            for account in world.accounts[source]:
                writer.writerow((source, account.account_id, account.name, account.plan, account.revenue))
        return buffer.getvalue()

    def truth(self, world: World) -> JSONDict:
        """Nothing: the file is reference data, and every value in it is the truth."""
        return {}

    def verify(self, out: Path, truth: JSONDict) -> None:
        """Unique keys, the planned plan shares, and revenue inside each plan's range."""
        accounts = read_accounts(out)
        check(len({(a["source"], a["account_id"]) for a in accounts}) == len(accounts), "duplicate account")
        plans = Counter(a["plan"] for a in accounts)
        for plan, share in PLAN_SHARES.items():
            check(abs(plans[plan] / len(accounts) - share) < 0.02, plans)
            low, high = REVENUE[plan]
            check(all(low <= int(a["monthly_revenue"]) <= high for a in accounts if a["plan"] == plan), plan)


ACCOUNTS = AccountsFile("accounts.csv")
