"""Offline triage: each rule family, severity and urgency, frustration, zero-shot category, routing."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ticket_intel.core import parallel
from ticket_intel.core import triage as triage_module
from ticket_intel.core import triage_rules as rules
from ticket_intel.core.triage import OUTPUT_COLUMNS, choose, triage, triage_one
from ticket_intel.core.triage_config import load_routing, load_taxonomy, parse_taxonomy
from ticket_intel.core.vocabulary import (
    CHURN_RISKS,
    ESCALATION_SIGNALS,
    FRUSTRATION_LEVELS,
    SIGNAL_TYPES,
    URGENCIES,
)


@pytest.fixture(scope="module")
def config():
    return load_taxonomy(), load_routing()


def fake_encode(texts) -> np.ndarray:
    """Bag of hashed words, L2-normalised: texts sharing words are close, as with a real encoder."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in rules.clean(text).lower().replace("?", " ").replace(".", " ").split():
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1
    return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-9, None)


def test_clean_drops_handles_urls_and_placeholders():
    assert rules.clean("@AmazonHelp my order [ORDER_ID] https://t.co/x #fail it\u2019s late") == "my order fail it's late"
    assert rules.clean("#WorstRideEver #iOS11 #iPhoneX") == "Worst Ride Ever iOS11 iPhone X"


@pytest.mark.parametrize(("signal", "says", "does_not"), [
    ("churn", "I want to close my account and switch to another bank", "I need to cancel this one transaction"),
    ("legal_threat", "My lawyer will hear about this, I'll take legal action", "Is this legal in France?"),
    ("public_complaint", "I'll leave a bad review and tell everyone to stay away", "Where can I read reviews?"),
    ("strong_negative", "This is the worst, absolutely unacceptable service", "The service was a bit slow"),
    ("refund_chargeback", "I want my money back or I'll file a chargeback", "How do I pay by card?"),
    ("manager_request", "Let me speak to a manager right now", "The Plugin Manager crashes on start"),
    ("long_wait", "I have been waiting for 3 weeks and got no reply", "I ordered it this morning"),
    # Look-alikes a support lead found escalated on real tickets (GitHub titles, twcs, the sample).
    ("public_complaint", "I'm going to the press with this", "PowerToys Run crashes when I press Alt+Space"),
    ("public_complaint", "Never use them. Ever.", "I normally don't use ATMs, but this time I needed cash"),
    ("public_complaint", "contacting the newspapers about this", "why the removal of newspapers from the store"),
    ("public_complaint", "I'm telling everyone on Twitter", "Press and hold the power button for 10 seconds"),
    ("churn", "I'm switching to Verizon", "How do I switch to dark mode in the app?"),
    ("churn", "We are evaluating alternatives to your product", "I switched to dark mode and the text vanished"),
    ("legal_threat", "see you in court", "waiting at the food court for my order"),
    ("legal_threat", "I will report you to the FTC", "Please report this to the TensorFlow team"),
    ("legal_threat", "I'm considering legal options", "Is this legal in France?"),
    ("strong_negative", "why tf is my order late", "Training OOM when tf.function retraces"),
    ("strong_negative", "worst service ever", "worst case the job restarts"),
    ("strong_negative", "You guys are a joke", "Is this a joke?"),
    ("long_wait", "Third time I'm asking!!", "Second time this week the app crashed"),
])
def test_each_escalation_rule_fires_on_what_it_names_only(signal, says, does_not):
    assert signal in rules.escalation_signals(rules.clean(says))
    assert signal not in rules.escalation_signals(rules.clean(does_not))


@pytest.mark.parametrize(("signal", "says"), [
    ("long_wait", "Waiting 3 weeks now and nothing"),
    ("long_wait", "It's been over 72 hours and my bag is still not here"),
    ("long_wait", "The line has been dropping for the past 2-3 days"),
    ("long_wait", "You have been sitting on my refund for an entire week"),
    ("long_wait", "My parcel is 4 days late"),
    ("long_wait", "I ordered on the 12th and still nothing has shipped"),
    ("long_wait", "I still haven't received the replacement card"),
    ("long_wait", "I sent a message but no one is responding"),
    ("long_wait", "Why is your support team ignoring me?"),
    ("long_wait", "How many times do I have to call about this?"),
    ("long_wait", "I have resent the form 3 times"),
    ("churn", "This is the last time I fly with you"),
    ("churn", "Time to make the switch to a better provider"),
    ("churn", "I will be changing banks tomorrow"),
    ("manager_request", "How do I file a complaint about the driver?"),
    ("manager_request", "Can I talk to a human please"),
    ("legal_threat", "We will make a legal claim against you"),
    ("long_wait", "More than 24hrs passed and my bag is still lost"),
    ("long_wait", "Having a terrible support experience since 26 hrs"),
    ("long_wait", "I ordered 4 days ago. Charged twice. Still. No. Pizza."),
    ("long_wait", "I've contacted support about the fare but no joy"),
    ("long_wait", "Again I need to ask why you can't extend the service area"),
    ("long_wait", "Prime orders take a week to arrive"),
    ("manager_request", "Who do I contact to complain about your staff?"),
    ("refund_chargeback", "The bankers refused to give me my money"),
    ("strong_negative", "Y'all suck"),
    ("strong_negative", "Please do something about this garbage software update"),
    ("strong_negative", "Are u guys are fraud? Shame on you"),
    ("strong_negative", "IM SEETHING. The driver cancelled my order"),
    ("churn", "Thanks, I'll now exclusively be using your competitor"),
    ("churn", "A side of roach #nevereatinghereagain"),
    ("strong_negative", "n/n #WorstRideEver, we walked 15 minutes"),  # a camel-case hashtag's words
    ("strong_negative", "What the hell is going on with my order"),  # swearing the rule does not list
    ("strong_negative", "I've had enough."),
    ("long_wait", "I keep getting the run around from customer service"),
    # Paraphrased from the third escalation draw's misses (2026-12-03), one per principle.
    ("long_wait", "I tried to reach a representative by phone but they don't answer"),  # no reply after contact
    ("long_wait", "Are you going to answer your phones today?"),
    ("long_wait", "My bonus points have been missing for a really long time"),  # a span without a count
    ("long_wait", "Sending the same request again"),  # contacting again
    ("refund_chargeback", "You charged me for a plan I never signed up for"),  # a charge disputed
    ("refund_chargeback", "Fees I should not have had to pay, every month"),
    ("churn", "They want to charge me an early termination fee because I'm moving"),  # the contract ends
    ("churn", "You just lost a loyal customer"),
    ("strong_negative", "Where tf is my order"),  # swearing abbreviated
    # Paraphrased from the fourth escalation draw's misses (2026-12-03), one per principle.
    ("strong_negative", "Wrapping undone on the bottle I bought #fuming"),
    ("strong_negative", "I am so mad at this update, I hate you"),
    ("strong_negative", "Your rewards card is Bull Sh*t"),  # swearing masked
    ("refund_chargeback", "I was unfairly over charged for the ride"),  # a charge the text calls wrong
    ("refund_chargeback", "I was charged extra for my trip, please explain why"),
    ("refund_chargeback", "Help me understand how you charge me for a driver who never came"),
    ("churn", "Cancelled again. I'm sticking with @rival in future!"),  # the handle is cleaned away
    ("long_wait", "I have been on hold to you for over an hour"),  # hours on hold
    ("long_wait", "Thanks for not calling me at 2 am as promised"),  # a promised call that never came
    # Paraphrased from the fifth escalation draw's misses (2026-12-03), one per principle.
    ("long_wait", "Remember how you said you'd call me back this morning?"),  # a promised call
    ("long_wait", "They wasted almost 3 whole hours of my evening"),  # hours spent with the company's staff
    ("long_wait", "I'm tired of calling your help line"),  # contacting again and again
    ("long_wait", "Made several calls about my lost ring, nothing"),
    ("long_wait", "Please could I get a reply to my email from Monday"),  # asking again for a reply
    ("strong_negative", "Absolutely shocking service tonight"),
    ("strong_negative", "Two hours late and still no food, not acceptable"),
    ("legal_threat", "Firm files class action against the carrier"),
    ("public_complaint", "Practice caution when ordering a laptop from them"),  # a warning to others
    ("public_complaint", "Fine for savings, but don't ever get a credit card with them"),
    ("public_complaint", "Maybe the papers would like to hear about this"),
    ("refund_chargeback", "We've been charged for the cables the rep said were free"),  # a charge disputed
    ("refund_chargeback", "Why did I pay three times the price shown online?"),
    ("refund_chargeback", "I paid $200 and my bill is still $200"),
    ("refund_chargeback", "Please do a reversal of this payment"),
    ("refund_chargeback", "Now you're charging me a late fee after ten years"),
    ("refund_chargeback", "You took money out of my account after I closed it"),
    ("churn", "I'm unsubscribing today"),
    ("churn", "Fourth missed install. New provider tomorrow!"),
    ("churn", "I'd walk to work before I ever sign up with you again"),
    # Paraphrased from the sixth escalation draw's misses (2026-12-04), one per principle.
    ("strong_negative", "Die App hat die schlechteste Performance"),  # other languages, their own words
    ("strong_negative", "Ce sont vraiment des incomp\u00e9tents"),
    ("strong_negative", "This is why people can't stand you"),
    ("strong_negative", "Delayed again #theseairlinessuck"),  # a hashtag of one lower-case word
    ("strong_negative", "Honestly I'm very over them"),
    ("churn", "Ten years with you and nobody bothered about keeping me. It's off to @rival for me"),
    ("churn", "Never flying with you from Boston until you fix the lines"),  # leaving until fixed
    ("churn", "Guess I should look for a new service"),
    ("churn", "We might have to leave @carrier"),  # the handle is cleaned away
    ("churn", "Thanks to flight 190 you just lost a gold customer"),
    ("long_wait", "Hundreds of hours a year lost on this account"),
    ("long_wait", "I guess I'm not that important to answer"),  # ignored
    ("refund_chargeback", "The driver cancelled and I was still charged $5"),
    ("refund_chargeback", "Stop deducting money illegally from my account"),
    ("refund_chargeback", "Reversion request for the ride"),
])
def test_escalation_signals_as_customers_phrase_them(signal, says):
    assert signal in rules.escalation_signals(rules.clean(says))


@pytest.mark.parametrize("text", [
    "A 3 day late fee is steep", "It hangs for 5 minutes", "Switching from light to dark theme crashes",
    "The app is not responding", "I booked the room for 2 days", "If I port my number to you, what do I get?",
    "Does it take 3 days to arrive?", "Garbage collection pauses the app", "Deleted files do not go to the trash",
    "I think there is fraud on my card", "Check if it works since 2 days ago",
    "It charges me and then says I haven't purchased the song", "The app doesn't respond when I tap it",
    "TF Lite model fails to load", "How do I answer calls on my watch?", "I lost customer service's number",
    "I'm on hold, and the hold music is torture", "30 minutes on hold to reach the fraud team",  # no hours on hold
    "Stuck in a plane for 2 hours on the runway", "Sitting for 3 hours on this plane",  # a delay, no wait for support
    "Someone stole my money", "How do you charge such a high premium for these flights?",  # fraud; a price
    "My laptop takes ages to shut down",  # the device's slowness, no wait for the company
    "Why did I get charged a fee for a cash withdrawal?",  # a question about a fee (GUIDE.md, banking77)
    "In case you don't read the papers you sell", "I want to set up a new bank account",
    "Thanks for not charging me for the bag",
    "I was charged for a cash withdrawal, why?",  # a question about a fee (GUIDE.md, banking77)
])
def test_look_alikes_carry_no_escalation_signal(text):
    assert rules.escalation_signals(rules.clean(text)) == []


def test_swearing_in_a_positive_text_is_no_signal():
    text = rules.clean("What the hell is this beautiful creation I found")
    assert rules.escalation_signals(text, mood=0.6) == []
    assert rules.escalation_signals(text, mood=-0.4) == ["strong_negative"]
    assert rules.escalation_signals(rules.clean("I had enough money for it")) == []


def test_neutral_tickets_carry_no_escalation_signal():
    for text in ("How do I change my PIN?", "The app crashes when I open settings", "Thanks for the help!"):
        assert rules.escalation_signals(rules.clean(text)) == []


@pytest.mark.parametrize(("text", "signal_type", "level"), [
    ("Someone used my card without permission", "billing", "P0"),
    ("The whole site is down for everyone", "bug", "P0"),
    ("I can't log in, it says error 500", "bug", "P1"),
    ("Why hasn't my parcel arrived?", "bug", "P1"),
    ("Export works but the dates are wrong", "bug", "P2"),
    ("Sync doesn't work properly, it only works after a restart", "bug", "P2"),
    ("Checkout button colour is off on mobile", "bug", "P4"),
    ("Out of monitor space on the settings page", "bug", "P2"),  # a bug of unknown impact
    ("How do I export my invoices?", "billing", "P3"),
    ("What happens if my card payment is declined?", "docs_gap", "P3"),  # "what if", nothing happened
    ("Your staff were so rude to me", "other", "P3"),  # a complaint
    ("Great flight, thank you!", "other", "P4"),
    # Security and lost data by name, rated P4 "no impact" before (GUIDE.md: P0).
    ("XSS in next/image", "bug", "P0"),
    ("Server Actions allow remote code execution", "bug", "P0"),
    ("Environment variables with secrets are exposed to the client bundle", "bug", "P0"),
    ("Prisma migrate reset deleted my production database", "bug", "P0"),
    ("Memory leaks in the worker", "bug", "P2"),
])
def test_severity_rules(text, signal_type, level):
    assert rules.severity(rules.clean(text), signal_type, -0.5 if "rude" in text else 0.5)[0] == level


# The same meanings in the other languages the tool reads (the reviewer's European queue, 2026-12-07:
# none of 106 German, French and Spanish cancellations, lawyer threats and refund requests carried a
# signal), each beside a look-alike that names another thing.
@pytest.mark.parametrize(("signal", "says", "does_not"), [
    ("churn", "Hiermit kündige ich mein Konto fristlos.", "Wie hoch ist der Betrag meiner Karte?"),
    ("churn", "KÜNDIGUNG meines Vertrags zum Monatsende", "Bitte schicken Sie die Karte an meine Adresse."),
    ("churn", "Ich wechsle zu einer anderen Bank.", "Ich habe Geld von einer anderen Bank überwiesen."),
    ("churn", "Veuillez résilier mon compte.", "Our platform is resilient to outages"),
    ("churn", "Je veux clôturer mon compte, je passe à une autre banque.", "Où est mon compte ?"),
    ("churn", "Por favor, den de baja mi cuenta.", "¿Cuál es el saldo de mi cuenta?"),
    ("churn", "Quiero cerrar mi cuenta, me cambio a otro banco.", "Quiero cambiar mi PIN."),
    ("churn", "Voglio la disdetta del contratto", "Voglio cambiare il PIN"),
    ("churn", "Ik wil mijn abonnement opzeggen", "Ik wil mijn pincode wijzigen"),
    ("legal_threat", "Mein Anwalt wird sich bei Ihnen melden.", "Mein Antrag wurde abgelehnt."),
    ("legal_threat", "Je vais contacter mon avocat.", "Je vais contacter ma banque."),
    ("legal_threat", "C'est inadmissible, je vais porter plainte.", "Je porte une robe."),
    ("legal_threat", "Voy a hablar con mi abogado.", "Voy a hablar con mi hermano."),
    ("legal_threat", "Voy a poner una denuncia.", "Voy a poner una transferencia."),
    ("refund_chargeback", "Ich habe eine Rückerstattung vom Händler bekommen.", "Ich habe eine Karte bekommen."),
    ("refund_chargeback", "Où est mon remboursement ?", "Où est ma carte ?"),
    ("refund_chargeback", "¿Dónde está mi reembolso?", "¿Dónde está mi tarjeta?"),
    ("refund_chargeback", "Si no me devuelven el dinero…", "Si no me llaman…"),
])
def test_escalation_rules_read_other_languages(signal, says, does_not):
    assert signal in rules.escalation_signals(rules.clean(says))
    assert signal not in rules.escalation_signals(rules.clean(does_not))


@pytest.mark.parametrize(("text", "not_stolen"), [
    ("Meine Karte wurde gestern gestohlen, bitte sofort sperren!", "Der Betrag wurde gestern abgebucht."),
    ("Ich habe meine Karte verloren.", "Ich habe meine Karte bekommen."),
    ("On m'a volé ma carte hier, bloquez-la immédiatement.", "Mon vol est annulé."),
    ("Mon compte a été piraté", "Is this a pirated copy of the app?"),
    ("J'ai perdu ma carte, qu'est-ce que je dois faire ?", "J'ai reçu ma carte."),
    ("Me robaron la tarjeta ayer, por favor bloquéenla.", "Me enviaron la tarjeta ayer."),
    ("He perdido mi tarjeta.", "He recibido mi tarjeta."),
])
def test_theft_and_lost_cards_are_p0_in_other_languages(text, not_stolen):
    assert rules.severity(rules.clean(text), "other")[0] == "P0"
    assert rules.severity(rules.clean(not_stolen), "other")[0] != "P0"


def test_urgency_follows_severity_and_escalation():
    assert [rules.urgency_of(s, False) for s in ("P0", "P1", "P2", "P3", "P4")] == ["P1", "P2", "P3", "P4", "P4"]
    assert [rules.urgency_of(s, True) for s in ("P0", "P1", "P2", "P3", "P4")] == ["P1", "P1", "P2", "P3", "P3"]


@pytest.mark.parametrize(("text", "level"), [
    ("TypeError: cannot read property of undefined", "low"),  # a calm bug report, however negative its words
    ("How do I top up my card?", "low"),
    ("The app logged me out again, annoying", "medium"),
    ("Worst customer service ever", "high"),
    ("THIS IS RIDICULOUS, FIX IT NOW OR I AM DONE", "critical"),
    ("Absolutely disgusting service, my lawyer will be in touch", "critical"),
])
def test_frustration_levels(text, level, config):
    assert triage_one(text, *config)["frustration"] == level


def test_churn_risk():
    assert rules.churn_risk(["churn"], "low") == "high"
    assert rules.churn_risk(["legal_threat"], "low") == rules.churn_risk([], "high") == "medium"
    assert rules.churn_risk(["long_wait"], "medium") == "low"


@pytest.mark.parametrize(("text", "category", "subcategory"), [
    ("I was charged twice for my order", "account & billing", "technical billing"),
    ("How much does the premium plan cost?", "account & billing", "pricing question"),
    ("I forgot my password and can't log in", "account & billing", "account management"),
    ("I followed the guide in your docs and it still fails", "expectation gap", "docs misled"),
    ("The advert promised next-day delivery", "expectation gap", "marketing misled"),
    ("Why don't you have a family plan?", "expectation gap", "assumed capability"),
    ("The app is so slow it keeps freezing", "bug report", "performance"),
    ("All my settings were reset after the update", "bug report", "data integrity"),
    ("It crashes on Windows 11 since yesterday", "bug report", "integration"),
    ("The export button fails with an error", "bug report", "functional"),
    ("Please add an option to schedule reports", "feature request", "new capability"),
    ("Why was I charged a fee when the app crashed?", "account & billing", "technical billing"),  # money first
    ("Where can I find the export settings?", "how-to", "feature location"),
    ("How long does delivery take?", "how-to", "workflow"),
    ("Do you ship to Canada?", "how-to", "feature discovery"),
    ("How do I share a folder?", "how-to", "feature usage"),
    ("Thanks, you were brilliant today", "other", "feedback"),
    ("Why did my transfer bounce back?", "bug report", "functional"),  # a why-question reports, never a how-to
    ("Is there a reason why my points vanished?", "bug report", "data integrity"),
    ("Why don't u deliver to my town?", "expectation gap", "assumed capability"),
    ("Why must I enter my details every time?", "expectation gap", "assumed capability"),
    ("Two-day delivery they said, and it's still not here", "expectation gap", "marketing misled"),
    ("Why didn't I get the 60 days free when I upgraded?", "expectation gap", "marketing misled"),
    ("When will you support contactless payments?", "feature request", "new capability"),
    ("I'd gladly pay extra to stream old episodes", "feature request", "new capability"),
    ("I saw a $2 charge on my statement, why?", "account & billing", "technical billing"),
])
def test_rule_families_pick_category_and_subcategory(text, category, subcategory, config):
    row = triage_one(text, *config)
    assert (row["category"], row["subcategory"]) == (category, subcategory)


ZERO_SHOT = """
fallback: other
categories:
  - name: bug report
    signal_type: bug
    rules: [failure]
    description: [screen flickers purple]
    subcategories:
      - {name: functional, description: [screen flickers purple]}
  - name: how-to
    signal_type: docs_gap
    rules: [question]
    description: [teach me origami folding]
    subcategories:
      - {name: feature usage, description: [teach me origami folding]}
  - name: other
    signal_type: other
    description: [sunny weather today]
    subcategories:
      - {name: general, description: [sunny weather today]}
"""


def test_zero_shot_decides_what_no_rule_speaks_for():
    taxonomy = parse_taxonomy(ZERO_SHOT)
    routing = load_routing()
    frame = pd.DataFrame({"ticket_id": ["a", "b", "c"],
                          "text": ["purple flickers on my screen", "origami folding lesson", "weather is sunny"]})
    out = triage(frame, taxonomy, routing, encode=fake_encode)
    assert out["category"].tolist() == ["bug report", "how-to", "other"]
    rules_only = triage(frame, taxonomy, routing)
    assert set(rules_only["category"]) == {"other"} and (rules_only["confidence"] < 0.5).all()


def test_categories_without_zero_shot_need_a_rule_match():
    taxonomy = parse_taxonomy(ZERO_SHOT.replace("    rules: [question]\n", "    rules: [question]\n    zero_shot: false\n"))
    frame = pd.DataFrame({"text": ["origami folding lesson", "how do I fold origami?"]})
    out = triage(frame, taxonomy, load_routing(), encode=fake_encode)
    assert out["category"].tolist() == ["other", "how-to"]


def test_rules_beat_embedding_but_a_clear_disagreement_needs_review():
    taxonomy = parse_taxonomy(ZERO_SHOT)
    sims = {("bug report", "functional"): 0.1, ("how-to", "feature usage"): 0.9, ("other", "general"): 0.1}
    choice = choose(taxonomy, rules.families("my screen fails"), sims)
    assert choice.category == "bug report" and choice.conflict and choice.confidence < 0.75
    agree = choose(taxonomy, rules.families("my screen fails"), {**sims, ("bug report", "functional"): 0.95})
    assert not agree.conflict and agree.confidence > 0.9


def test_routing_escalates_p1_signals_and_anger(config):
    calm_question = triage_one("How do I export my report?", *config)
    assert not calm_question["escalated"] and calm_question["assigned_team"] == "Customer Support"
    assert calm_question["sla_hours"] == 72.0 and calm_question["urgency"] == "P4"
    outage = triage_one("Your app is down for everyone, we cannot work", *config)
    assert outage["urgency"] == "P1" and outage["escalated"] and outage["assigned_team"] == "Engineering On-Call"
    assert outage["sla_hours"] == 2.0
    angry = triage_one("Worst app ever, the export is slow", *config)
    assert angry["escalated"] and angry["frustration"] == "high"
    # anger alone, no signal and not P1, escalates (the ticket above escalated by its signal too)
    shouted = triage_one("THE EXPORT BUTTON DOES NOTHING WHEN I CLICK IT TODAY", *config)
    assert shouted["frustration"] == "high" and not shouted["escalation_signals"] and shouted["urgency"] != "P1"
    assert shouted["escalated"] and shouted["assigned_team"] != triage_one("The export button does nothing when I "
                                                                          "click it", *config)["assigned_team"]
    refund = triage_one("I want a refund for last month", *config)
    assert refund["escalated"] and refund["assigned_team"] == "Billing Escalations"


def test_tickets_outside_the_rules_language_need_review(config):
    row = triage_one("Mi pedido no ha llegado todavía", *config, language="es")
    assert row["needs_review"] and row["confidence"] <= 0.4 and row["language"] == "es"
    # however sure the English rules are of a ticket tagged another language, its confidence is capped
    sure = "The app crashes when I open it"
    assert triage_one(sure, *config, language="en")["confidence"] > 0.5
    assert triage_one(sure, *config, language="fr")["confidence"] == 0.4
    assert not triage_one("Where can I find the export settings?", *config, language="en")["needs_review"]


def test_a_ticket_with_nothing_to_read_needs_review(config):
    # Left alone, the rules read "Bug report" as a bug and the chat's placeholder as a how-to, confidently.
    texts = ["Bug report", "Chat with [PERSON]", "Call from: [PHONE] Length of phone call: 9 minutes",
             "Where can I find the export settings?", "Where can I find the export settings?"]
    meaning = ["", "", "", texts[3], None]  # None: a warehouse from before texts for meaning
    frame = pd.DataFrame({"ticket_id": [f"z:{i}" for i in range(5)], "text": texts, "meaning_text": meaning})
    assert triage(frame, *config, encode=fake_encode)["needs_review"].tolist() == [True, True, True, False, False]


def test_output_contract(config):
    frame = pd.DataFrame({"ticket_id": ["z:1", "z:2"], "text": ["I will sue you, refund me now", None],
                          "language": ["en", "en"], "tags": [["billing"], None], "product": ["Acme", None]})
    seen = []

    def area_of(text, tags, product):
        seen.append(product)
        return "Billing" if tags else "Unassigned"
    out = triage(frame, *config, encode=fake_encode, area_of=area_of)
    assert seen == ["Acme", None]  # the hook knows each ticket's product (its name is no evidence of an area)
    assert list(out.columns) == OUTPUT_COLUMNS and out["ticket_id"].tolist() == ["z:1", "z:2"]
    first = out.iloc[0]
    assert first["escalation_signals"] == ["legal_threat", "refund_chargeback"] and first["escalation"]
    assert first["product_area"] == "Billing" and out.iloc[1]["product_area"] == "Unassigned"
    assert set(out["urgency"]) <= set(URGENCIES) and set(out["frustration"]) <= set(FRUSTRATION_LEVELS)
    assert set(out["signal_type"]) <= set(SIGNAL_TYPES) and set(out["churn_risk"]) <= set(CHURN_RISKS)
    assert out["sentiment"].between(-1, 1).all() and out["confidence"].between(0, 1).all()
    assert all(set(s) <= set(ESCALATION_SIGNALS) for s in out["escalation_signals"])


def test_forked_workers_triage_every_ticket_as_one_process_does(config, monkeypatch):
    """A large week's rules run in forked workers (`POOL_MIN_TICKETS`); the rows are the same, in order."""
    texts = ["I will sue you, refund me now", "How do I reset my PIN?", "App crashes on login since the update",
             "worst service ever, cancelling my account", "Could you add dark mode?", "thanks!", None]
    frame = pd.DataFrame({"ticket_id": [f"t:{i}" for i in range(28)], "text": texts * 4,
                          "tags": [["billing"], None, None, None, None, None, None] * 4})

    def area_of(text, tags, product):
        return "Billing" if tags else "Unassigned"
    alone = triage(frame, *config, encode=fake_encode, area_of=area_of)
    monkeypatch.setattr(triage_module, "POOL_MIN_TICKETS", 3)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    pd.testing.assert_frame_equal(triage(frame, *config, encode=fake_encode, area_of=area_of), alone)


@pytest.mark.parametrize(("text", "emotion", "signals", "level"), [
    ("WHY DOES THE APP crash", -0.4, [], "critical"),  # four words shouted and a negative tone
    ("WHY DOES THE APP crash every time i open it", 0.0, [], "high"),  # half the words shouted
    ("WHY DOES THE APP crash", -0.25, [], "high"),  # shouted, the tone barely negative
    ("the export crashed", -0.65, [], "high"),  # a strongly negative tone alone
    ("please refund the second payment", 0.0, ["refund_chargeback"], "low"),  # asking for money back is calm
])
def test_frustration_thresholds_at_their_boundaries(text, emotion, signals, level):
    """Each survived a one-character change to its threshold (mutation review)."""
    assert rules.frustration(text, emotion, signals) == level


def test_a_what_if_question_followed_by_what_happened_is_a_report():
    """"What happens if …? It failed yesterday." reports a failure (P1), unlike the question alone (P3)."""
    assert rules.severity("What happens if my card is declined? It failed yesterday.", "bug")[0] == "P1"
    assert rules.severity("what happens if my card is declined?", "bug")[0] == "P3"
