"""Redaction: every PII type becomes its placeholder, product words survive, and redaction is
idempotent on any text (hypothesis)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ticket_intel.core.redact as redact_module
from ticket_intel.core.redact import (
    PLACEHOLDER,
    RedactionSettings,
    candidate_entities,
    detect,
    redact,
    redact_many,
    redact_tickets,
    surviving_pii,
    url_carries_secret,
)

CASES = [
    ("EMAIL", "Please reply to maria.ivanova+bank@gmail.com today", "maria.ivanova+bank@gmail.com"),
    ("EMAIL", "my work address is J.Smith@Example.co.uk", "J.Smith@Example.co.uk"),
    ("PHONE", "Call me on +44 7700 900542 please", "+44 7700 900542"),
    ("PHONE", "my number is (555) 010-1154", "(555) 010-1154"),
    ("PHONE", "reach me at +49 30 23125 272", "+49 30 23125 272"),
    ("PHONE", "call +33 1 42 68 53 00 after 5", "+33 1 42 68 53 00"),
    ("PHONE", "my cell: 415-555-0194", "415-555-0194"),
    ("CARD", "card 4127-0034-2389-9024 was declined", "4127-0034-2389-9024"),
    ("CARD", "number 5319 2707 2517 3151 please", "5319 2707 2517 3151"),
    ("CARD", "amex 3782 822463 10005 got charged", "3782 822463 10005"),
    ("CARD", "2-series mastercard 2223003122003222", "2223003122003222"),
    ("IBAN", "refund to GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN", "my iban DE89370400440532013000 thanks", "DE89370400440532013000"),
    ("SSN", "SSN 219-09-9999 on file", "219-09-9999"),
    ("SSN", "my social security number is 219099999", "219099999"),
    ("IP_ADDRESS", "blocked from 203.0.113.54 since Monday", "203.0.113.54"),
    ("IP_ADDRESS", "ipv6 2001:db8:85a3::8a2e:370:7334 fails", "2001:db8:85a3::8a2e:370:7334"),
    ("URL", "reset via https://bank.example.com/reset?token=9f8e7d6c5b4a39281706", "token=9f8e7d6c5b4a39281706"),
    ("URL", "link https://app.example.org/verify?email=jo%40mail.com", "jo%40mail.com"),
    ("PERSON", "Hi, my name is Olga Mensah and my card is stuck", "Olga Mensah"),
    ("PERSON", "I spoke to Hiroshi Nakamura yesterday about it", "Hiroshi Nakamura"),
    ("PERSON", "Thanks, Siobhan", "Siobhan"),
    ("PERSON", "Regards, Kwame Adeyemi", "Kwame Adeyemi"),
    ("PERSON", "Zanele Dlamini here, the app crashed", "Zanele Dlamini"),
    ("PERSON", "my name is john smith", "john smith"),
    ("PERSON", "Crystal Bailey: My card is due to expire", "Crystal Bailey"),  # a chat's speaker label
    ("PERSON", "chat started\n  John Smith: my card broke", "John Smith"),
    ("PERSON", "My card never arrived, please help - Isolde", "Isolde"),  # a dash sign-off
    # the cues that named no one in bug titles still name people in tickets (test_cues_in_file_names_...)
    ("PERSON", "Hi it's Louise, my card is stuck", "Louise"), ("PERSON", "Crash Reported By Mr Duprat", "Duprat"),
    ("PERSON", "Crash Seen By Louise Again, Thanks Siobhan", "Siobhan"),  # a closing, "ask": a name in any line
    ("PERSON", "XLA Compilation Bug Please ask Ivonn Draskovics to call me back.", "Draskovics"), ("PERSON", "MS. OLGA MENSAH called", "OLGA"),
    ("PERSON", "Booking KZBCKZ Name: Alliyha Dacian", "Alliyha"), ("PERSON", "name: Zanele\nemail: none", "Zanele"),
    ("PERSON", "Mx Zanele asked for a refund", "Zanele"), ("PERSON", "Cc Siobhan", "Siobhan"),
    ("PERSON", "Please DM us your account number so we can help. -Shawn\nsent from my phone", "Shawn"),
    ("ORDER", "This is about ORD-929396 which never came", "929396"),
    ("ORDER", "where is order #1721072?", "1721072"),
    ("ADDRESS", "I live at 518 Elm Grove, Leeds LS6 2AB, please send it there", "518 Elm Grove, Leeds LS6 2AB"),
    ("ADDRESS", "updated the delivery address to 755 Hauptstraße, 10115 Berlin", "755 Hauptstraße, 10115 Berlin"),
    ("ADDRESS", "ship to 104 Amphitheatre Parkway, Mountain View, CA 94043 asap", "Mountain View, CA 94043"),
    ("ADDRESS", "514 Kingsway, Bristol BS1 4DJ is my address", "514 Kingsway"),  # no street type: city and postcode
    ("ADDRESS", "envoyez-le au 12 rue de la Paix, 75002 Paris", "12 rue de la Paix"),
    ("ADDRESS", "mi dirección es Calle Mayor 12, 28013 Madrid", "Calle Mayor 12"),
    # Stated in words, sent to an LLM as written before (core/stated_pii.py).
    ("EMAIL", "I sent a fresh link to liam.wood@mail.example", "liam.wood@mail.example"),
    ("EMAIL", "ping me at a.ng@corp.local", "a.ng@corp.local"),
    ("EMAIL", "it's john dot smith at gmail dot com", "john dot smith at gmail dot com"),
    ("DATE_OF_BIRTH", "my date of birth 14/02/1987 is on file", "14/02/1987"),
    ("DATE_OF_BIRTH", "DOB: 1987-02-14", "1987-02-14"),
    ("DATE_OF_BIRTH", "I was born on March 3rd, 1990", "March 3rd, 1990"),
    ("CARD", "the cvv is 123 and it still fails", "123"),
    # A product's name that is a first name too, before a surname: a person ("Chase" is kept as a bank).
    ("PERSON", "I spoke to Chase Miller yesterday", "Chase Miller"),
    # Boundaries no test pinned (mutation review): each was redacted, and a one-character change
    # to its rule let it through.
    ("EMAIL", "email me at john dot smith at gmail dot com", "john dot smith"),  # "me at john dot smith" first
    ("EMAIL", "Please write to jane.doe@corp.internal about the refund", "jane.doe@corp.internal"),
    ("EMAIL", "contact john dot smith at web dot de", "john dot smith at web dot de"),  # a country domain
    ("CARD", "my amex security code is 1234 and it was declined", "1234"),  # Amex's four digits
    ("CARD", "card 4222222222222 was charged twice", "4222222222222"),  # a 13-digit Visa
    ("DATE_OF_BIRTH", "my birthday 12/05/1990 is on the account", "12/05/1990"),
    ("PHONE", "call me on 555-1234 tonight", "555-1234"),  # seven digits
    ("URL", "reset link https://example.com/r/abcdefgh12345678 fails", "abcdefgh12345678"),
    ("URL", "I opened https://shop.example.com/login?password=hunter2 and it failed", "hunter2"),
    # Real personal data beside versions and title case (the version rules leave it alone).
    ("IP_ADDRESS", "my server 192.168.1.20 is down since v6.0.0.5", "192.168.1.20"),
    ("IP_ADDRESS", "Server 10.1.2.3 Is Down After The Update", "10.1.2.3"),
    ("IP_ADDRESS", "ssh admin@10.0.0.7 hangs", "10.0.0.7"),
    ("PHONE", "call me at 415.555.0123 about release 2.15.1", "415.555.0123"),
    ("PHONE", "appelez le 01.23.45.67.89 svp", "01.23.45.67.89"),
    ("PERSON", "Crash Reported By Lauren Duprat", "Lauren Duprat"),  # title case, a known given name
    ("PERSON", "I spoke to Zanele Brown about Swift 6", "Zanele Brown"),
    ("PERSON", "Marijn Rutgers here, my card is blocked", "Marijn Rutgers"),  # a surname readers know, a rare given name
    ("PERSON", "@comcastcares Chuck Bordeaux 206 870 3013 the box freezes", "Chuck Bordeaux"),
    ("PERSON", "Sorry, Ben! Please reboot your modem", "Ben"), ("PERSON", "Apologies Jenny, we were not aware", "Jenny"),
    # Before the surname of a GitHub title's "Unsupported Bridge" (`_known_word`), a word no reader knows, and a
    # name whose base would be a name ("linda") or too short for a word ("sat"); a known given name after a cue.
    ("PERSON", "[DevTools Bug] Zanele Bridge reported this operation", "Zanele Bridge"),
    ("PERSON", "Relinda Bridge reported the crash", "Relinda"), ("PERSON", "Resat Bridge reported the crash", "Resat"),
    ("PERSON", "Thanks Bridget Jones for the help", "Bridget Jones"),
    # A product's name before a number to call, or an address of large parts, makes no version.
    ("PHONE", "ring Amazon 415-555-0123 please", "415-555-0123"),
    ("PHONE", "call support 0800 123 4567", "0800 123 4567"),
    ("PHONE", "Call Apple 800.275.2273 now", "800.275.2273"),
    ("IP_ADDRESS", "Apple 192.168.1.20 blocked", "192.168.1.20"),
    # Phones beside the punctuation that marks a number in code (in_code): a colon and a space, a
    # full stop, a bracket, a number after "no." or a trailing "x" extension word.
    ("PHONE", "my cell: 415-555-0194: call after 5", "415-555-0194"),
    ("PHONE", "check for me this no.0728865609 please", "0728865609"),
    ("PHONE", "Reach me at 503.417.9740x5429 after 5pm", "503.417.9740"),  # an extension is no hex literal
    ("PHONE", "I entered the code. 5018323045 is my number", "5018323045"),  # a sentence ended at "code"
    ("PHONE", "call me, country code +44 7700 900542", "+44 7700 900542"),  # a phone's own codes are no
    ("PHONE", "my area code 415 555 0123 is the number", "415 555 0123"),  # program's exit code
    ("PHONE", "reach us at (855) 551 2113.", "(855) 551 2113"),
    ("PHONE", "my number (+44 7700 900542) is new", "+44 7700 900542"),
    ("PHONE", "电话13812345678谢谢", "13812345678"),  # glued to words of a script without spaces
    ("PHONE", "電話番号は09012345678です", "09012345678"), ("PHONE", "телефон89161234567", "89161234567"),
    # A European queue (a reviewer's de/fr/es inbox, 2026-12-07): a name after a title, in the letter's language,
    # also beside the formal "you"; a lone first name that ends a line after a closing in any language.
    ("PERSON", "Senden Sie Ihre Antwort an Frau Weber.", "Weber"),
    ("PERSON", "Sr. García, mi tarjeta está bloqueada", "García"),
    ("PERSON", "La Sra. López me llamó ayer", "López"),
    ("PERSON", "Mevrouw de Vries belde gisteren", "Vries"),
    ("PERSON", "la Sig.ra Bianchi ha chiamato", "Bianchi"),
    ("PERSON", "Ma carte ne marche pas. Merci!\nJulie", "Julie"),
    ("PERSON", "Meine Karte ist gesperrt.\nDanke\nJürgen", "Jürgen"),
    ("PERSON", "My card is blocked. Thanks.\nAmy", "Amy"),
    ("PERSON", "Ma carte est bloquée.\nCordialement,\nMartin Bernard", "Bernard"),
    ("PERSON", "Bonjour, I can't log into l'application since yesterday. Merci! Oliver Brown", "Oliver"),  # cleaned
    ("PERSON", "Mi tarjeta está bloqueada.\nSaludos,\nCarmen", "Carmen"),
    ("NATIONAL_ID", "Mi DNI es 12345678Z.", "12345678"),
    ("NATIONAL_ID", "Mi NIE es X1234567L, gracias", "1234567"),
    ("NATIONAL_ID", "il mio codice fiscale è RSSMRA85T10A562S", "RSSMRA85T10A562S"),
    ("NATIONAL_ID", "Meine Steuer-ID lautet 86095742719", "86095742719"),
    ("DATE_OF_BIRTH", "Geburtsdatum: 14.02.1987", "14.02.1987"),
    ("DATE_OF_BIRTH", "Mein Geburtsdatum ist der 14.02.1987.", "14.02.1987"),
    ("DATE_OF_BIRTH", "Fecha de nacimiento: 14/02/1987", "14/02/1987"),
    ("DATE_OF_BIRTH", "Né le 14/02/1987 à Lyon", "14/02/1987"),
    ("DATE_OF_BIRTH", "data di nascita: 14/02/1987", "14/02/1987"),
    ("ADDRESS", "Envíenla a C/ de Alcalá 45, 3º izq., 28014 Madrid", "Alcalá 45"),
    ("ADDRESS", "Bitte an Am Markt 4, 28195 Bremen schicken", "28195 Bremen"),
    # "I am" and "my name is" in the other languages: a known first name after them
    ("PERSON", "Hallo, ich bin Jürgen und meine Karte ist gesperrt.", "Jürgen"),
    ("PERSON", "Bonjour, je suis Marie, ma carte est bloquée.", "Marie"),
    ("PERSON", "Hola, soy Lucía y no puedo entrar.", "Lucía"),
    ("PERSON", "Ciao, sono Giulia e non riesco ad accedere.", "Giulia"),
    ("PERSON", "Ich heiße Jürgen.", "Jürgen"),
    ("PERSON", "je m'appelle Hélène, j'ai un souci", "Hélène"),
    ("PERSON", "Lei Zhang reported this crash", "Zhang"),
    ("PERSON", "Mr. J. Smith called", "Mr. J."),  # an initial after a title, which is no everyday word  # Lei, the formal you, is a name before a surname
    ("DATE_OF_BIRTH", "Geburtsdatum: 14. Februar 1987", "Februar"),  # a month's name in the cue's language
    ("DATE_OF_BIRTH", "geboren am 3. März 1990 in Köln", "März"),
    ("DATE_OF_BIRTH", "Né le 14 février 1987 à Lyon", "février"),
    ("DATE_OF_BIRTH", "Fecha de nacimiento: 14 de febrero de 1987", "febrero"),
    ("DATE_OF_BIRTH", "I was born 14 February 1987 in Leeds", "February"),
]


@pytest.mark.parametrize(("kind", "text", "value"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_type_is_replaced_by_its_placeholder(kind, text, value):
    red = redact(text)
    assert value not in red.text
    assert f"[{kind}]" in red.text, red.text
    assert red.found[kind] >= 1


PRODUCT_TEXTS = [
    "I paid with my Visa card via Apple Pay on Monday",
    "Google Pay and PayPal both fail since May",
    "Moving my salary from Monzo to Revolut in June",
    "Mastercard declined on Friday, Amex works",
    "Will my card arrive by Wednesday? I hope so.",
    "The Grace Period for my Chase Sapphire card ended in August",
    "Windows update broke Excel and Outlook",
    "docs at https://monzo.com/help/cards and https://t.co/3ou2uHc0h9",
    "Transfer of 2500 EUR on 2024-03-18 at 14:05, version 1.2.3",
    "The Star Date on my statement is wrong",
    "Grace Period: how long is it?",  # a heading, not a speaker: the colon follows an ordinary word
    "Error: Billing failed after the update",
    "ValueError: Attempt to convert a value\nTensorflow Lite: types fail",  # code words, not speakers
    "Reason: unknown\nGrace Period: 30 days",
    "I ordered the 777 deal online @116076 4 days ago",  # a numeric handle and a count, not a phone
    "PowerToys Run - Crashing", "Key Remap does not work as expected - FancyZones",  # a title's last word after a dash
    "Getting value from Dictionary crashes when built with -Onone",
    "delivery date 14/02/2024, error 404 at checkout", "meet at the store dot com", "npm i package@1.2.3 fails",
    "My Chase Sapphire card was declined", "Chase Bank froze my account",
    "the total was 1234567.89 dollars",  # an amount, not a phone
    # GitHub titles whose first word readers know by its base: un-, re-, pre- or -ing and a known word (`_known_word`)
    '[DevTools Bug] Unsupported Bridge operation "0"', "Revisit Company name / description on products",
    "Bert Preprocess Model not working on windows 10", "Multiplying Read/Writes for persistent PM2 services",
]


@pytest.mark.parametrize("text", PRODUCT_TEXTS)
def test_product_words_dates_and_plain_links_survive(text):
    assert redact(text).text == text


@pytest.mark.parametrize("text", [
    "Können Sie Ihre Antwort bitte beschleunigen?", "Bitte prüfen Sie Ihre letzten Umsätze.",  # were [PERSON]
    "Wir haben Ihnen die Karte geschickt.", "Vous Pouvez Me Rappeler ?", "¿Usted Puede llamarme?",
    "Ich habe am 14.02.2024 bestellt.", "Commande du 14/02/2024, livrée le 20/02/2024",  # a date with no birth cue
    "Mit freundlichen Grüßen\nKundenservice",  # a closing before no first name
    "Mi DNI es 12345678A.",  # the check letter of 12345678 is Z
    "Ich bin Kunde seit 2019.", "Ich bin Koch und zahle bar.", "Soy Herrero desde 2010.",  # "I am", a job
    "Je suis Premium depuis 2020.", "Sono cliente da anni.", "Ich bin Student und brauche Hilfe.",
    "Hello, Lei può verificare il mio conto?", "Gentile cliente, Lei ha ricevuto un rimborso.",  # the formal you
    "We need a Sr. Engineer to look at this.", "Our Sr. Developer found the bug.",  # a title before a job
    "Ich habe am 14. Februar 2024 bestellt.",  # a month's name with no birth cue
])
def test_the_formal_you_ordinary_dates_and_teams_survive_in_other_languages(text):
    assert not {"PERSON", "DATE_OF_BIRTH", "NATIONAL_ID"} & {kind for _, _, kind, _ in detect(text)}, redact(text).text


@pytest.mark.parametrize(("text", "kept"), [
    ("Meine Adresse: Hauptstraße 12, 10115 Berlin. MfG Jürgen Müller", "MfG"),  # the city took "MfG"
    ("Mon adresse : 12 rue de la Paix, 75002 Paris. Merci d'avance, Hélène Dubois", "Merci"),
    ("I can't log in. Merci! Oliver Brown", "Merci"),
    ("Sehr geehrte Frau Weber, Können Sie mir helfen?", "Sehr geehrte Frau [PERSON], Können Sie"),
    ("Meine Adresse: Hauptstraße 12, 10115 Berlin. MfG", "[ADDRESS]. MfG"),  # the city's full stop stays
    ("Mon adresse : 12 rue de la Paix, 75002 Paris. Merci d'avance", "[ADDRESS]. Merci"),
    ("Send it to 221B Baker Street, London NW1 6XE. Thanks", "[ADDRESS]. Thanks"),
])
def test_the_words_around_a_redacted_value_stay(text, kept):
    assert kept in redact(text).text


@pytest.mark.parametrize("text", [  # GitHub bug titles whose versions, dates and words were placeholders
    "Swift 6.0.0.5 concurrency regression in actor init",  # a product name before a dotted quad
    "Swift 6.0.0.4.52 Double deinit called for non-copyable type",  # more than four parts: no address
    "Crash with 2024-08-26/6.1 toolchain/C++ interop",  # a date opens it: no phone
    "WinSDK import fails with Windows SDK 10.0.17763.0",  # a one-digit part: a version
    "TF 2.15.0/2.15.1 breaks saved model", "No Stack Trace on Linux Ubuntu 16.04/18.04",  # a pair of versions
    "Incorrect runtime behavior starting with 2020.03.27 snapshots", "Swift 703.0.18.5 segfaults",
    "depends on archived version of nvidia-cudnn-cu12==8.9.7.29", "crash after updating to 0.51.0.0",
    "PowerToys v 0.76.1.0 and Version=13.0.0.0", "Tensorboard 0.0.0.0:6006 cannot work",
    "[SR-11382] 5.1: clang importer sees things differently", "Vulnerability CVE-2022-37434",
    "CI error in rdar74087339-debug-scope.swift", "tf.ones returns zeroes in tf-nightly 2.4.0-dev20200811",
    "[FAILED] Swift(iphonesimulator-x86_64) :: stdlib/NSSlowTaggedLocalizedString.swift",
    "Swift 6 Sendable Key Path Dynamic Member Lookup Regression",  # title case: capitals mark no name
    "Poor Constant Propagation", "[SR-5321] Case Exhaustion Check Bug",
    "Add ExtractImagePatches op to the whitelist", "name: EagerVariableNameReuse",  # CamelCase identifiers
    # A given name that is an everyday word before a feature's word, a product's word before a surname (_in_role)
    "Link from App Router to Page Router removes trailing 4 characters", "Dev Server Error: Invalid hook call",
    "Yarn Berry + inspect/debugger mode fails", "TensorFlow is broken, unusable on Raspberry Pi",
    "FZ explorer-add-on overwrites Adobe Reader explorer-add-on", "Parsing nested objects gives Invalid Date",
    # Numbers in code, logs and times read as phones (in_code; 45 of the 60 titles of 55,045 with a "[PHONE]")
    "Error: error:0308010C:digital envelope routines::unsupported",  # an identifier's letters after it
    "The migration `20210501202953_name_of_previous_migration` was modified",
    'ConversionFailure("51062868-8142-47da-9ca3-3d90954579e2", "Int")',  # a UUID
    "System.Runtime.InteropServices.COMException (0x80263001)",  # a hex literal
    "it is inside '中' (bytes 1805..1808) of the schema",  # a range
    "Win 11 22543.1000 and Windows 10 Pro 21H2 (19044.1288)",  # builds
    "write EPROTO 140171848166400:error:1408F10B:SSL routines",  # a colon continues it
    'Error inserting date "0001-01-01 00:00:00"', "completed on 05-11-2017 14:42:58",  # times
    "reduce_max on empty int32 array returns -2147483648",  # a negative number
    "truncated file: eof = 2568306, sblock->base_addr = 0",  # an assigned value
    "buffer with 1392640 bytes and a Java Buffer with 4177920 bytes",  # a count of bytes
    "Command failed with exit code 3221225781", "Digest: 329735291",  # a code
])
def test_versions_dates_and_technical_words_in_bug_titles_survive(text):
    assert redact(text).text == text


@pytest.mark.parametrize("text", [  # real GitHub titles and tweets where a cue took a word for a name
    "Graph_transformations/propagate_fixed_sizes.cc Unhandled operator type",  # a file's extension, not "Cc"
    "[setup] installation with MS Configuration Manager fails", "Logitech MX Master mouse Gesture action",  # no title
    "MS POWER TOYS- Keyboard manager KEY STROKES",
    "ValueError: Found two metrics with the same name: Dense_xx Accuracy.",  # a program's key, an identifier
    "physical GPU (device: 0, name: Tesla T4, pci bus id: 0000:00:07.0)",
    "Value Requires Conformance to Hashable, But Then Says It's Redundant",  # "it's" in a title-cased line
    "Swift Failing To Properly Optimize Inout Parameter Unless It's Manually Copied",
    "Chinese Translation issues - General", "Mouse without Borders feature description - German",  # no sign-off
    "Live stream today at 6pm MT! https://t.co/0Es97NbnOj Hope to catch ya",  # a link's slug
])
def test_cues_in_file_names_code_links_and_titles_name_no_one(text):
    assert redact(text).text == text


@pytest.mark.parametrize("text", [  # a number before street-type words: none of 55,045 GitHub titles is an address
    "Nginx 502 Bad Gateway after v13.4.15", "Keyboard Manager Caplocks + 2 Different Keys No Longer Works!",
    "Swift 6 Sendable Key Path Dynamic Member Lookup Regression", "Workspaces: Placement of 3 Microsoft Edge Windows",
    "FancyZones shows the wrong layout after reconnecting the dock (via Thunderbolt 3)",
    "I pay for 3 Google Drive plans and String 5 is wrong", "0.20.0 PT Run got an error",
])
def test_numbers_beside_street_type_words_are_no_address(text):
    assert "ADDRESS" not in {kind for _, _, kind, _ in detect(text)}


def test_configured_order_pattern_and_keep_words():
    custom = RedactionSettings(order_patterns=(r"\bTCK-\d{6}\b",), keep_words=("Klarna",))
    assert redact("see TCK-123456 again", custom).text == "see [ORDER] again"
    assert "TCK-123456" in redact("see TCK-123456 again").text
    assert redact("Thanks, Klarna", custom).text == "Thanks, Klarna"


def test_a_configured_product_name_makes_the_dotted_quad_after_it_a_version():
    custom = RedactionSettings(keep_words=("Klarna",))
    assert redact("Klarna 6.0.0.5 fails at checkout", custom).text == "Klarna 6.0.0.5 fails at checkout"
    assert redact("Klarna 6.0.0.5 fails at checkout").text == "Klarna [IP_ADDRESS] fails at checkout"


def test_url_secret_rule():
    assert url_carries_secret("https://x.com/reset?token=abc")
    assert url_carries_secret("https://x.com/u/jane@example.com")
    assert url_carries_secret("https://x.com/s/4f9a8b7c6d5e4f3a2b1c")
    assert not url_carries_secret("https://x.com/help/cards?lang=en")


def test_surviving_pii_flags_only_what_redaction_removes():
    leaky = ("write to ana@example.org, card 4127 0034 2389 9024, IBAN GB82WEST12345698765432, SSN 219-09-9999, "
             "DNI 12345678Z")
    assert {h.split(":")[0] for h in surviving_pii(leaky)} == {"EMAIL", "CARD", "IBAN", "SSN", "NATIONAL_ID"}
    assert surviving_pii(redact(leaky).text) == []
    assert surviving_pii("card ending 9024, order 4127003423899025") == []  # Luhn fails


def test_sample_messages_keep_no_planted_value(planted):
    """Every planted PII value of the bundled sample is gone after redaction."""
    from pathlib import Path

    from ticket_intel import PROJECT_ROOT
    from ticket_intel.core.normalize import clean_message
    from ticket_intel.core.sources import list_exports, read_exports

    tickets = read_exports(list_exports(Path(PROJECT_ROOT / "data" / "sample"))).tickets
    with_pii = {f"{p['source']}:{p['source_id']}" for p in planted["pii"]}
    texts = {t: redact(clean_message(m)).text for t, m in zip(tickets["ticket_id"], tickets["message"], strict=True)
             if t in with_pii}
    leaked = [p["value"] for p in planted["pii"] if p["value"] in texts.get(f"{p['source']}:{p['source_id']}", "")]
    assert len(texts) == len(with_pii)
    assert leaked == []


PII_FRAGMENTS = st.sampled_from([
    "jane.doe@example.com", "+44 7700 900542", "4127-0034-2389-9024", "GB82 WEST 1234 5698 7654 32",
    "219-09-9999", "10.0.0.1", "https://x.io/r?token=abcdef1234567890ab", "Olga Mensah", "ORD-12345",
    "[EMAIL]", "[PERSON]", "Thanks, ", "my name is ", " ", "\n", "-", "@", "#",
])
TEXT = st.lists(st.one_of(st.text(max_size=40), PII_FRAGMENTS), max_size=12).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_redaction_never_crashes_and_is_idempotent(text):
    once = redact(text)
    assert redact(once.text).text == once.text
    assert sum(once.found.values()) >= len(PLACEHOLDER.findall(once.text)) - len(PLACEHOLDER.findall(text))


# The pre-filter (redact.candidate_entities) skips the analyzer for texts that cannot hold a type.
# It must be conservative: whatever the full analyzer finds, the filtered one finds too.


def _luhn_complete(digits: str) -> str:
    total = sum(d if i % 2 else (2 * d - 9 if 2 * d > 9 else 2 * d)
                for i, d in enumerate(int(c) for c in reversed(digits + "0")))
    return digits + str((10 - total % 10) % 10)


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=12)
GROUPED = st.builds(lambda d, sep: sep.join(d[i:i + 4] for i in range(0, len(d), 4)),
                    st.text(alphabet="0123456789", min_size=7, max_size=19), st.sampled_from(["", " ", "-", "."]))
CARDS = st.builds(lambda first, rest, sep: sep.join(_luhn_complete(first + rest)[i:i + 4] for i in range(0, 16, 4)),
                  st.sampled_from("23456"), st.text(alphabet="0123456789", min_size=14, max_size=14),
                  st.sampled_from(["", " ", "-"]))
IBANS = st.builds(_iban, st.sampled_from(["GB", "DE", "FR", "NL", "ES", "IT", "NO", "PL"]),
                  st.text(alphabet="0123456789", min_size=11, max_size=22))
SSNS = st.builds(lambda a, g, s, sep: f"{a:03d}{sep}{g:02d}{sep}{s:04d}", st.integers(1, 899), st.integers(1, 99),
                 st.integers(1, 9999), st.sampled_from(["-", " ", ""]))
PHONES = st.builds(lambda fmt, d: fmt.format(*d), st.sampled_from(["+44 7700 9{}{}{}{}{}", "(555) 01{}-{}{}{}{}",
                   "+49 30 2{}{}{}{} 27{}", "0{}{}{} 5{}{}{}{}{}", "+1-415-555-01{}{}"]),
                   st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9))
URLS = st.builds(lambda host, key, token: f"https://{host}/r?{key}={token}", st.sampled_from(["x.io", "bank.example.com"]),
                 st.sampled_from(["token", "email", "lang", "session"]), st.text(alphabet="abcdef0123456789@.%", max_size=24))
PERSONS = st.builds(lambda cue, name: cue + name, st.sampled_from(["", "my name is ", "Thanks, ", "Mr ", "spoke to ",
                    "name: ", "Regards,\n", "ask ", "Frau ", "Sr. ", "Merci!\n", "Danke ", "ich bin ", "Soy ", "je m'appelle "]),
                    st.sampled_from(["Olga Mensah", "Siobhan", "john smith", "Zanele Dlamini", "JEAN DUPONT", "Lauren Duprat",
                                     "van der Berg", "Ivančić", "Engineer", "Lei"]))
ORDERS = st.builds(lambda label, d: label + d, st.sampled_from(["order #", "ORD-", "booking ref: ", "account no. ",
                   "tracking ", "Confirmation: AB", "ref:"]), DIGITS)
ADDRESSES = st.builds(lambda n, street, tail: f"{n} {street}{tail}", st.integers(1, 99999),
                      st.sampled_from(["Elm Grove", "Baker Street", "Hauptstraße", "rue de la Paix", "Calle Mayor",
                                       "Bad Gateway", "Different Keys", "Kingsway", "Via Roma"]),
                      st.sampled_from(["", ", Leeds LS6 2AB", ", 10115 Berlin", ", Mountain View, CA 94043", " 12", ","]))
NATIONAL_IDS = st.sampled_from(["12345678Z", "12345678A", "X1234567L", "Y-7654321", "RSSMRA85T10A562S", "86095742719",
                                "Geburtsdatum: 14.02.1987", "née le 01/02/1990", "geb. 14. Februar 1987",
                                "nacida el 1 de marzo de 1990"])
NEAR_MISSES = st.sampled_from(["@AmazonHelp ", "#jetblue", "10:30", "v1.2.3", "1.2.3.4.5", "::", "2024-03-18",
                               "https://t.co/3ou2uHc0h9", "?", "%40", "/", "@", ":", "ssn ", "phone ", "iban ", " ", "\n"])
PII_TEXT = st.lists(st.one_of(st.text(max_size=16), DIGITS, GROUPED, CARDS, IBANS, SSNS, PHONES, URLS, PERSONS, ORDERS,
                              ADDRESSES, NATIONAL_IDS, NEAR_MISSES, st.emails(), st.ip_addresses().map(str)), max_size=7).map(" ".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PII_TEXT)
def test_prefilter_never_skips_what_the_full_analyzer_finds(text):
    full = detect(text, prefilter=False)
    assert {kind for _, _, kind, _ in full} <= set(candidate_entities(text))
    assert detect(text) == full
    assert redact(text).text == redact(text, prefilter=False).text


@pytest.mark.parametrize(("kind", "text", "value"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_prefilter_keeps_every_type(kind, text, value):
    assert kind in candidate_entities(text)


@pytest.mark.parametrize("text", [
    "My card hasn't arrived yet, what should I do?",
    "@AmazonHelp my order never arrived https://t.co/3ou2uHc0h9",
    "Crash when opening Settings in v2.3.1 on Windows 11",
    "@115879 @VerizonSupport still no signal since 10:30 #fail",
])
def test_prefilter_skips_ordinary_tickets(text):
    assert candidate_entities(text) == []


@pytest.mark.parametrize(("text", "url"), [
    ("@" * 20_000, False), ("a@" * 10_000, False), ("x.y" + "@" * 20_000, True), ("see a.b/" + "q" * 20_000, True),
    ("login at https://user:pw@example.com", True), ("@support.team is slow", False),
])
def test_the_url_gate_reads_a_long_token_once(text, url):
    """The URL gate looked around every @ for a dot in its token: a request of 20,000 @s held a
    server's CPU for seconds (`redact._GATES`). It now starts at token starts only, with the same
    verdicts (the property test above checks it never skips what the recognizers find)."""
    assert ("URL" in candidate_entities(text)) is url


def raw_tickets(messages: list[str], **columns: object) -> pd.DataFrame:
    """raw.tickets rows holding `messages`, with the columns `redact_tickets` reads (and `columns`)."""
    n = len(messages)
    return pd.DataFrame({
        "ticket_id": [f"t:{i}" for i in range(n)], "week_start": pd.Timestamp("2026-01-05"),
        "created_at": pd.Timestamp("2026-01-05 10:00"), "source": "zendesk", "customer_id": "c",
        "account_id": None, "plan": None, "monthly_revenue": None, "channel": "email", "tags": [[]] * n,
        "priority": None, "message": messages, "subject": None, **columns,
    })


def test_redact_many_redacts_each_distinct_text_once(monkeypatch):
    texts = [c[1] for c in CASES] + PRODUCT_TEXTS + [CASES[0][1], PRODUCT_TEXTS[0]]
    expected = [redact(t) for t in texts]
    seen = []
    monkeypatch.setattr(redact_module, "redact", lambda t, settings: seen.append(t) or expected[texts.index(t)])
    assert redact_many(texts) == expected
    assert sorted(seen) == sorted(set(texts))


def test_forked_workers_stop_when_the_parent_ignores_sigterm():
    """A handler that does not exit (servers and frameworks install them) is inherited by forked
    workers; the pool used to SIGTERM them and then wait forever (it hung the test suite)."""
    script = textwrap.dedent("""
        import signal
        signal.signal(signal.SIGTERM, lambda *_: None)
        import ticket_intel.core.redact as r
        from ticket_intel.core import parallel
        from ticket_intel_tests.test_redact import raw_tickets
        r.POOL_MIN_TICKETS = 2
        parallel.available_cpus = lambda: 2
        raw = raw_tickets([f"call me at 555-01{i:02d} about order {i}" for i in range(40)])
        for _ in range(25):
            r.redact_tickets(raw, r.RedactionSettings())
        print("done")
    """)
    try:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240,
                             cwd=Path(__file__).resolve().parents[1])  # where `ticket_intel_tests` imports from
    except subprocess.TimeoutExpired:
        pytest.fail("redaction's worker pool never stopped")
    assert out.stdout.strip() == "done", out.stderr


def test_blocking_check_still_sees_leaks_the_prefilter_passes():
    hits = surviving_pii("card 4127 0034 2389 9024, ana@example.org, DE89370400440532013000, SSN 219-09-9999")
    assert sorted(h.split(":")[0] for h in hits) == ["CARD", "EMAIL", "IBAN", "SSN"]


def test_prefilter_runs_configured_order_patterns_that_need_no_digit():
    custom = RedactionSettings(order_patterns=(r"\bTCK-[A-Z]{6}\b",))
    assert candidate_entities("see TCK-ABCDEF", custom) == ["ORDER"]
    assert candidate_entities("see TCK-ABCDEF") == []
    assert redact("see TCK-ABCDEF again", custom).text == "see [ORDER] again"


def test_building_the_engines_imports_neither_torch_nor_transformers_and_leaves_them_importable():
    from ticket_intel_tests.processes import python

    child = python("""
        import sys
        from ticket_intel.core import redact
        redact._engines(redact.RedactionSettings())
        print(redact.redact("call me at +44 20 7946 0958").text)
        print(sorted(m for m in redact.UNUSED_BY_REDACTION if m in sys.modules))
    """)
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert out.splitlines() == ["call me at [PHONE]", "[]"]  # a None entry left behind would show here


def test_a_large_batch_of_tickets_is_redacted_alike_in_forked_workers(monkeypatch):
    """Each ticket's cleaning, redaction and text for meaning are its own: shared among forked
    workers (`POOL_MIN_TICKETS`), the rows are the same, in order, follow-ups and subjects too."""
    from ticket_intel.core import parallel

    messages = [c[1] for c in CASES] + PRODUCT_TEXTS
    n = len(messages)
    raw = raw_tickets(messages, subject=[None if i % 3 else f"Order {i} for ana@example.org" for i in range(n)],
                      followup_text=[None if i % 2 else f"call me on +1 415 555 01{i:02d}" for i in range(n)],
                      product=[None if i % 4 else "Acme Pay" for i in range(n)], language="en", followups=1)
    alone = redact_tickets(raw, RedactionSettings())
    monkeypatch.setattr(redact_module, "POOL_MIN_TICKETS", 2)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    pd.testing.assert_frame_equal(redact_tickets(raw, RedactionSettings()), alone)
    assert alone["followup_text"].notna().any() and "[PHONE]" in " ".join(alone["followup_text"].dropna())


def test_a_kept_word_that_is_a_first_name_keeps_no_one_s_full_name():
    """With `Tabitha` kept (a product of that name), "Ask Tabitha Smith why" stayed whole."""
    kept = RedactionSettings(keep_words=("Tabitha",))
    assert redact("Ask Tabitha Smith why the export failed", kept).text == "Ask [PERSON] why the export failed"
    assert redact("Tabitha is our app and it crashes", kept).text == "Tabitha is our app and it crashes"


def test_the_warm_up_text_wakes_every_detector():
    """The engines read `WARM_UP` once when built, so the redaction pool's forked workers inherit
    compiled patterns and the suffix list (perf review: each worker compiled them again); a detector
    the text does not exercise would still pay its first use in every worker."""
    import re

    from ticket_intel.core.redact import ENTITIES, WARM_UP

    found = set(re.findall(r"\[([A-Z_]+)\]", redact(WARM_UP, RedactionSettings()).text))
    assert found == set(ENTITIES)


def test_tags_are_redacted_and_checked_for_surviving_pii():
    """A helpdesk tag holding an address reached the report's segment line and a tracker issue's body
    ("Segment: 48% tagged `escalated-by-zofia.privacy@gmail.com` …"): tags are free text agents type."""
    from ticket_intel.core import quality

    raw = raw_tickets(["my card was declined", "refund please", "hello"],
                      tags=[np.array(["vip", "escalated-by-ana@example.org"]), ["billing"], None])
    tags = redact_tickets(raw, RedactionSettings())["tags"].tolist()
    assert tags == [["vip", "[EMAIL]"], ["billing"], None]
    leaky = pd.DataFrame({"ticket_id": ["a"], "text": ["ok"], "subject": [None], "tags": [["call 4127 0034 2389 9024"]]})
    assert quality.pii_survivors(leaky).details["tickets_with_pii"] == {"a": ["CARD"]}


def test_a_redacted_ticket_keeps_its_text_for_meaning_split_into_phrases():
    """The summaries read each window ticket's phrases every week; redaction stores them once."""
    from ticket_intel.core.summarize import _read_phrases, _sentences

    out = redact_tickets(raw_tickets(["Payment declined, email me at ana@example.org", "Hi"]), RedactionSettings())
    assert [_read_phrases(p, "") for p in out["meaning_phrases"]] == [_sentences(m) for m in out["meaning_text"]]
    assert ("payment", "declined") in _read_phrases(out["meaning_phrases"][0], "")
