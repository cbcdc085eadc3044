"""Language detection: offline, on the words only, `und` for noise and very short texts."""

from __future__ import annotations

import socket

import pytest

from ticket_intel import PROJECT_ROOT
from ticket_intel.core import language
from ticket_intel.core.language import UNDETERMINED, detect_language, detect_languages, language_text
from ticket_intel.core.sources import list_exports, read_exports


@pytest.mark.parametrize("text, expected", [
    ("@AmazonHelp my order never arrived and nobody answers https://t.co/abc", "en"),
    ("@Movistar_ES hola, mi pedido no ha llegado todavía y nadie me responde", "es"),
    ("<p>Bonjour, ma commande est bloquée depuis hier, pouvez-vous m'aider ?</p>", "fr"),
    ("Hallo, meine Bestellung ist seit drei Tagen nicht angekommen. Was ist los?", "de"),
    ("Olá, não estou conseguindo comprar jogos com o meu cartão de crédito", "pt"),
    ("注文した物はちゃんと届けてください。勝手にキャンセルしないでください。", "ja"),
    ("Ciao, il mio ordine non è ancora arrivato e nessuno mi risponde", "it"),
])
def test_detects_languages_of_support_messages(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", [
    None, "", "   ", "😂😂😂", "Yes!", "Danke!", "@AmazonHelp https://t.co/x7Yz", "__email__",
    "[PERSON] [EMAIL] [PHONE]", "0012155087386 27/10", "iOS 11.1.1", "#100daydeepclean",
])
def test_noise_and_very_short_texts_are_undetermined(text):
    assert detect_language(text) == UNDETERMINED


@pytest.mark.parametrize("text, expected", [
    ("未找到命令", "zh"),  # "command not found": five characters, five letters' worth of words each
    ("键盘映射失效", "zh"),  # the model is unsure (Malay, p = 0.35); the script is not
    ("powerrename、filelocksmith两项在右键菜单中重复", "zh"),  # mostly Han around two tool names
    ("バグが発生しました", "ja"),
    ("한국어 버그", "ko"),
    ("鼠标荧光笔右键拖动有残留", "zh"),  # the model alone says Russian
])
def test_short_chinese_japanese_and_korean_texts_are_not_undetermined(text, expected):
    assert detect_language(text) == expected


def test_a_few_latin_letters_do_not_make_a_chinese_title_german():
    title = "PowerToys Runs打开报错"  # once the product's name is removed, the model says German (p = 0.99)
    assert language._best(language_text(title, "microsoft_PowerToys"))[0] == "de"
    assert detect_language(title, "microsoft_PowerToys") == "zh"


@pytest.mark.parametrize("text", ["好", "v0.83.0报错", "Update PowerToys 更新"])
def test_one_or_two_cjk_characters_or_a_latin_majority_decide_nothing_by_script(text):
    assert detect_language(text) in (UNDETERMINED, "en")


def test_language_text_keeps_the_words_only():
    text = "@AmazonHelp <b>mi pedido</b> #retraso https://t.co/x a@b.com [PERSON] __email__ no llega"
    assert language_text(text) == "mi pedido retraso no llega"


def test_the_product_name_does_not_decide_the_language():
    title = "jest --watch does'nt work"
    assert detect_language(title) == "pl"  # "jest" is Polish for "is"
    assert detect_language(title, "jestjs_jest") == "en"
    assert language_text("@Acme_Pay Acme Pay app crashes", "Acme Pay") == "app crashes"


def test_detection_never_uses_the_network(monkeypatch):
    language._model.cache_clear()

    def refuse(*args, **kwargs):
        raise AssertionError("language detection tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert detect_languages(["Where is my refund? It has been two weeks.", "¿Dónde está mi reembolso?"]) == [
        "en", "es"]


def test_read_exports_fills_language_on_every_ticket():
    tickets = read_exports(list_exports(PROJECT_ROOT / "data" / "sample")).tickets
    assert tickets["language"].notna().all()
    # The sample's customer texts are English banking questions (banking77).
    assert (tickets["language"] == "en").mean() > 0.9
