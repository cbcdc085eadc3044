"""The shape of the sample: timeline, volumes, sources, accounts, PII mix, timing and defects.

Every number a reader may want to tune is here; the planted patterns keep their own numbers in their modules
(``spike``, ``new_pattern``).
"""

from datetime import UTC, date, datetime

SEED = 77
N_WEEKS = 12
WEEK1 = date(2026, 8, 31)  # a Monday; week 12 starts 2026-11-16
# "Now" as seen by the exports: statuses and update times depend on ticket age, never on the real clock.
EXPORT_TIME = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

# Mean tickets per week of each base intent (labels verbatim from banking77, including its capital "R").
BASE_WEEKLY = {
    "cash_withdrawal_charge": 14,
    "wrong_amount_of_cash_received": 14,
    "transfer_not_received_by_recipient": 14,
    "Refund_not_showing_up": 13,
    "card_arrival": 12,
    "pending_top_up": 11,
    "top_up_failed": 11,
    "beneficiary_not_allowed": 11,
    "change_pin": 10,
    "edit_personal_details": 9,
    "country_support": 9,
    "exchange_rate": 9,
    "passcode_forgotten": 8,
    "verify_my_identity": 7,
    "lost_or_stolen_card": 6,
    "terminate_account": 6,
    "unable_to_verify_identity": 5,
    "get_physical_card": 4,
    "age_limit": 4,
    "atm_support": 3,
}
BASE_WEEK_TOTAL = (180, 188)  # the base intents of one week sum to a number in this range
# Texts for malformed records come from intents outside the sample, so they never touch its statistics.
MALFORMED_TEXT_INTENTS = ("apple_pay_or_google_pay", "top_up_limits", "exchange_via_app", "receiving_money")
# Triage area of each base intent, for helpdesk tags and groups; planted patterns name their own area.
AREAS = {
    "cards": ("card_arrival", "lost_or_stolen_card", "change_pin", "get_physical_card"),
    "cash": ("cash_withdrawal_charge", "wrong_amount_of_cash_received", "atm_support"),
    "transfers": ("transfer_not_received_by_recipient", "beneficiary_not_allowed", "Refund_not_showing_up"),
    "top_up": ("pending_top_up", "top_up_failed", "exchange_rate"),
    "account": (
        "edit_personal_details",
        "country_support",
        "passcode_forgotten",
        "verify_my_identity",
        "terminate_account",
        "unable_to_verify_identity",
        "age_limit",
    ),
}

SOURCES = ("zendesk", "intercom", "freshdesk")
SOURCE_WEIGHTS = (40, 30, 30)
FILES = {
    "zendesk": "zendesk_tickets.json",
    "intercom": "intercom_conversations.json",
    "freshdesk": "freshdesk_tickets.csv",
}

# Accounts per source with an organization/company record, and free customers without one.
ACCOUNTS_PER_SOURCE = {"zendesk": 150, "intercom": 110, "freshdesk": 110}
ORGLESS_PER_SOURCE = {"zendesk": 70, "intercom": 55, "freshdesk": 55}
PLAN_SHARES = {"free": 0.6, "pro": 0.3, "enterprise": 0.1}
SEATS = {"free": (1, 2), "pro": (1, 4), "enterprise": (3, 9)}
REVENUE = {"free": (0, 0), "pro": (49, 499), "enterprise": (1500, 20000)}
FILING_WEIGHTS = (1, 1, 1, 1, 2, 2, 3, 5, 8)  # per-customer propensity to file: a few file often

PII_SHARE = 0.11
PII_TYPE_WEIGHTS = {"email": 25, "phone": 20, "card": 15, "person": 25, "order": 15}
PII_KINDS = tuple(PII_TYPE_WEIGHTS)

SUPPORT_DOMAIN = "example-bank.com"

DAY_WEIGHTS = (18, 17, 16, 16, 15, 9, 9)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2)

# Defect code -> short description, per source. Each code is planted exactly once.
DEFECTS = {
    "zendesk": {
        "missing_id": "ticket has no id (and url is null)",
        "bad_date_slash": "created_at is '31/31/2026'",
        "bad_date_word": "created_at is 'yesterday'",
        "empty_message": "empty subject and description, no comments",
        "not_an_object": "tickets[] element is a string (truncated JSON), not an object",
    },
    "intercom": {
        "only_bot_admin_parts": "bot-initiated conversation with only bot/admin parts, no customer message",
        "empty_message": "customer-initiated with empty source.body and no user part",
        "missing_id": "conversation id is null",
        "bad_date_slash": "created_at is the string '31/31/2026', not an epoch integer",
    },
    "freshdesk": {
        "empty_created": "Created time is empty",
        "bad_date_slash": "Created time is '31/31/2026'",
        "bad_date_word": "Created time is 'yesterday'",
        "missing_id": "Ticket ID is empty",
        "empty_message": "empty Subject and Description",
    },
}
MESSAGELESS_DEFECTS = {"empty_message", "only_bot_admin_parts", "not_an_object"}
