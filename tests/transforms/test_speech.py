"""Quotes by their marks in any script, with the speaker as written, speech verbs from data."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from transforms.models import Article, Mention
from transforms.quote_marks import find_marked_spans
from transforms.speech import SpeechCues, extract_marked_quotes, parse_speech_cues

CUES = parse_speech_cues(tomllib.loads((Path(__file__).resolve().parents[2] / "transforms" / "speech_cues.toml")
                                       .read_text(encoding="utf-8")))


def _quotes(text: str, language: str, mentions: list[Mention] | None = None) -> list[tuple[str, str | None, str | None]]:
    article = Article("a", "h", "u", "seed", text, language=language)
    return [(q.text, q.speaker, q.cue) for q in extract_marked_quotes(article, mentions or [], CUES.get(language))]


def test_every_language_in_the_data_has_verbs() -> None:
    assert {"en", "fr", "de", "ru", "es", "it", "pt", "nl"} <= set(CUES)
    assert all(cues.verbs for cues in CUES.values())
    with pytest.raises(ValueError):
        parse_speech_cues({"xx": ["not", "a", "table"]})


@pytest.mark.parametrize("text, language, quote, speaker, cue", [
    ("«Мы готовы к диалогу», — сказал Сергей Лавров.", "ru", "«Мы готовы к диалогу»", "Сергей Лавров", "сказал"),
    ("«Мы готовы к диалогу», — сказала Мария Захарова журналистам.", "ru", "«Мы готовы к диалогу»",
     "Мария Захарова", "сказала"),
    ("Глава МИД заявил: «Переговоры продолжатся в пятницу».", "ru", "«Переговоры продолжатся в пятницу»",
     "Глава МИД", "заявил"),
    ("« Nous ne céderons pas », a déclaré Emmanuel Macron lors d'un discours.", "fr", "« Nous ne céderons pas »",
     "Emmanuel Macron", "a déclaré"),
    ("« C'est une victoire », explique-t-elle.", "fr", "« C'est une victoire »", "elle", "explique"),
    ("« Il est trop tôt », a-t-il affirmé.", "fr", "« Il est trop tôt »", "il", "a-t-il affirmé"),
    ("„Wir legen das Gesetz vor“, sagte Olaf Scholz am Montag.", "de", "„Wir legen das Gesetz vor“", "Olaf Scholz",
     "sagte"),
    ("«Es demasiado pronto para cantar victoria», afirmó su gobernador, Miguel Ortega, en rueda de prensa.", "es",
     "«Es demasiado pronto para cantar victoria»", "su gobernador, Miguel Ortega", "afirmó"),
    ('"We will not back down," union leader Maria Lopez said.', "en", '"We will not back down,"',
     "union leader Maria Lopez", "said"),
])
def test_speaker_patterns(text: str, language: str, quote: str, speaker: str, cue: str) -> None:
    assert (quote, speaker, cue) in _quotes(text, language)


def test_dialogue_dashes_at_a_paragraph_start_and_inside_one() -> None:
    text = ("Итоги выборов\n\n— Все жалобы будут рассмотрены, — сказал Дмитрий Соловьёв. — Результаты пока не "
            "утверждены.\n\nКомиссия работала всю ночь. — Нарушений нет, — заявила Ирина Волкова. Подсчёт закончен.")
    found = _quotes(text, "ru")
    assert ("— Все жалобы будут рассмотрены,", "Дмитрий Соловьёв", "сказал") in found
    assert ("Результаты пока не утверждены.", "Дмитрий Соловьёв", "сказал") in found
    assert ("— Нарушений нет,", "Ирина Волкова", "заявила") in found
    assert not any("Подсчёт" in q for q, _, _ in found)  # the writer's next sentence is not speech
    # a dash that opens a list item, with no speech verb after it, is not a quotation
    assert _quotes("Итоги:\n\n— пять погибших;\n\n— десять раненых.", "ru") == []


def test_cjk_brackets_and_scare_quotes() -> None:
    text = "首相は「経済対策を『早急に』まとめたい」と述べた。"
    assert [text[s.start : s.end] for s in find_marked_spans(text)] == ["「経済対策を『早急に』まとめたい」"]
    assert _quotes("首相は「経済対策を早急にまとめたい」と述べた。", "ja")[0][0] == "「経済対策を早急にまとめたい」"
    assert _quotes("Auf Plakaten wurde das Kalifat als „die Lösung“ bezeichnet.", "de") == []  # no cue, 2 words


def test_speaker_entities_only_from_mentions() -> None:
    text = "« Nous ne céderons pas », a déclaré Emmanuel Macron. « Jamais », a-t-il ajouté."
    start = text.index("Emmanuel")
    macron = Mention("a", start, start + len("Emmanuel Macron"), "Emmanuel Macron", "PERSON", "Emmanuel Macron", "p1")
    article = Article("a", "h", "u", "seed", text, language="fr")
    quotes = extract_marked_quotes(article, [macron], CUES["fr"])
    assert [(q.speaker, q.speaker_entity_id) for q in quotes] == [("Emmanuel Macron", "p1"), ("il", "p1")]
    assert all(q.speaker_entity_id is None for q in extract_marked_quotes(article, [], CUES["fr"]))


def test_no_cue_data_still_finds_quotes_by_marks() -> None:
    article = Article("a", "h", "u", "seed", "Il a dit: «Wir kommen morgen wieder zurück». Fertig.", language="xx")
    quotes = extract_marked_quotes(article, [], None)
    assert [(q.text, q.speaker, q.method) for q in quotes] == [("«Wir kommen morgen wieder zurück»", None,
                                                                "marks_unattributed")]
    assert SpeechCues("xx", ()).verbs == ()
