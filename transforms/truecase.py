"""Headline true-casing: entities of all-caps sentences, tagged from a true-cased copy.

NER trained on ordinary text misreads headlines set in capitals ("MERKEL MEETS
MACRON IN PARIS"). The spaCy component registered here as "newsdesk_truecase"
(added by `transforms.entities.prepare_pipeline`; the factory name is part of
every prepared pipeline's config and must not change) finds such sentences,
writes each word as the document spells it elsewhere (else stop words and common
verbs, adjectives and adverbs in lower case, other words in title case), runs the
components before it on that copy and takes its entities.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from transforms.gazetteer import to_country

__all__ = ["HeadlineTruecaser", "is_caps_word"]


@Language.factory("newsdesk_truecase")
def _make_truecaser(nlp: Language, name: str) -> "HeadlineTruecaser":
    return HeadlineTruecaser(nlp, name)


class HeadlineTruecaser:
    """Re-tags all-caps sentences (headlines) from a true-cased copy.

    Each word takes the casing it has elsewhere in the document, stop words
    go lower case, other words title case; the components before this one
    run on that copy and its entities replace those of the all-caps text.
    """

    def __init__(self, nlp: Language, name: str) -> None:
        self.nlp = nlp
        self.name = name
        self._common: frozenset[str] | None = None

    @property
    def common_words(self) -> frozenset[str]:
        """Read on first use: a pipeline loaded from disk gets its lemmatizer tables after this component."""
        if self._common is None:
            self._common = _common_words(self.nlp)
        return self._common

    def __call__(self, doc: Doc) -> Doc:
        sentences = _caps_sentences(doc)
        if not sentences:
            return doc
        casing = _casing_evidence(doc, sentences)
        common = self.common_words
        replaced: list[Span] = []
        kept = [ent for ent in doc.ents if not any(s.start <= ent.start < s.end for s in sentences)]
        for sent in sentences:
            text = _truecase(sent, casing, common)
            copy = self.nlp.make_doc(text)
            for pipe_name, proc in self.nlp.pipeline:
                if pipe_name == self.name:
                    break
                copy = proc(copy)
            for ent in copy.ents:
                span = doc.char_span(sent.start_char + ent.start_char, sent.start_char + ent.end_char,
                                     label=ent.label_, alignment_mode="expand")
                if span is not None:
                    replaced.append(span)
        doc.ents = filter_spans(kept + replaced)
        return doc


def is_caps_word(text: str) -> bool:
    """A word of two letters or more, all of them capitals ("MERKEL", not "A" or "G7")."""
    return len(text) > 1 and text.isalpha() and text.isupper()


def _caps_sentences(doc: Doc) -> list[Span]:
    sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
    found = []
    for sent in (line for s in sents for line in _split_lines(s)):
        words = [t.text for t in sent if t.is_alpha and len(t.text) > 1]
        caps = [w for w in words if w.isupper()]
        if len(caps) >= 2 and len(caps) >= 0.6 * len(words):
            found.append(sent)
    return found


def _split_lines(sent: Span) -> list[Span]:
    """A sentence cut at line breaks (a headline runs into the next paragraph otherwise)."""
    lines, start = [], sent.start
    for token in sent:
        if "\n" in token.text or "\n" in token.whitespace_:
            end = token.i if "\n" in token.text else token.i + 1
            if end > start:
                lines.append(sent.doc[start:end])
            start = token.i + 1
    if sent.end > start:
        lines.append(sent.doc[start:sent.end])
    return lines


def _casing_evidence(doc: Doc, skip: Sequence[Span]) -> dict[str, str]:
    """Most frequent non-initial, not all-caps spelling of each word in the doc."""
    skipped = {i for s in skip for i in range(s.start, s.end)}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for token in doc:
        if token.i in skipped or token.is_sent_start or not token.is_alpha or token.text.isupper():
            continue
        counts[token.lower_][token.text] += 1
    return {word: forms.most_common(1)[0][0] for word, forms in counts.items()}


def _common_words(nlp: Language) -> frozenset[str]:
    """Verbs, adjectives and adverbs of the lemmatizer's word index: lower case in a headline."""
    if "lemmatizer" not in nlp.pipe_names:
        return frozenset()
    lookups = getattr(nlp.get_pipe("lemmatizer"), "lookups", None)
    if lookups is None or not lookups.has_table("lemma_index"):
        return frozenset()
    table = lookups.get_table("lemma_index")
    words: set[str] = set()
    for pos in ("verb", "adj", "adv"):
        if pos in table:
            words.update(w for w in table[pos] if w.isalpha())
    return frozenset(words)


def _is_common(lower: str, common: frozenset[str]) -> bool:
    if not common or to_country(lower):
        return False
    stems = [lower]
    if lower.endswith("ies"):
        stems.append(lower[:-3] + "y")
    if lower.endswith("es"):
        stems.append(lower[:-2])
    if lower.endswith("s"):
        stems.append(lower[:-1])
    if lower.endswith("ed"):
        stems += [lower[:-2], lower[:-1], lower[:-3]]
    if lower.endswith("ing"):
        stems += [lower[:-3], lower[:-3] + "e", lower[:-4]]
    return any(stem in common for stem in stems)


def _truecase(sent: Span, casing: dict[str, str], common: frozenset[str] = frozenset()) -> str:
    parts = []
    for token in sent:
        text = token.text
        if is_caps_word(text):
            lower = text.lower()
            if lower in casing:
                cased = casing[lower]
            elif token.is_stop or not token.is_alpha or _is_common(lower, common):
                cased = lower
            else:
                cased = text[0] + text[1:].lower()
            text = cased if len(cased) == len(text) else text
        parts.append(text + token.whitespace_)
    return "".join(parts)
