"""Who speaks: the entity mention a cue's speaker names, a pronoun's person, the speaker carried over.

A speaker phrase's entity is the mention covering its head, following a name's parts and
appositions but not a noun's modifiers ("a Kremlin insider" has none); a relative pronoun
("who") takes its antecedent's. A pronoun ("he", "she") points at the last named person
speaking in the two paragraphs before, else the last person mentioned. A quotation with
no cue of its own takes the last speaker of its paragraph or of the previous one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc

from transforms.attribution import PRONOUNS, RELATIVES, Cue
from transforms.models import Mention


class MentionIndex:
    """An article's mentions sorted by offset, for lookups in log time (a long article has thousands)."""

    def __init__(self, mentions: Sequence[Mention]) -> None:
        self.items = sorted(mentions, key=lambda m: (m.start, m.end))
        self.starts = [m.start for m in self.items]
        self.people = [m for m in self.items if m.label == "PERSON"]
        self.people_ends = [m.end for m in self.people]

    def at(self, start: int, end: int) -> Mention | None:
        """The mention covering [start, end), else the last one inside it (mentions do not overlap)."""
        k = bisect_right(self.starts, start) - 1
        if k >= 0 and self.items[k].start <= start and end <= self.items[k].end:
            return self.items[k]
        lo, hi = bisect_left(self.starts, start), bisect_left(self.starts, end)
        for mention in reversed(self.items[max(lo, hi - 4) : hi]):
            if mention.end <= end:
                return mention
        return None

    def last_person_before(self, pos: int) -> Mention | None:
        k = bisect_right(self.people_ends, pos)
        return self.people[k - 1] if k else None


def mention_at(mentions: Sequence[Mention] | MentionIndex, start: int, end: int) -> Mention | None:
    """The mention covering [start, end), else the last one inside it."""
    return (mentions if isinstance(mentions, MentionIndex) else MentionIndex(mentions)).at(start, end)


def speaker_mention(doc: Doc, head: int | None, mentions: Sequence[Mention] | MentionIndex) -> Mention | None:
    """The mention for the head of a speaker phrase, following compounds and appositions."""
    if head is None:
        return None
    token = doc[head]
    if token.lower_ in RELATIVES and token.head.dep_ == "relcl":
        token = token.head.head  # "Sarah Aubrey, who said": Sarah Aubrey
    # a name's parts ("Andrei" in "Andrei Piontkowski") and appositions, but not a
    # noun's modifiers ("Kremlin" in "a Kremlin insider")
    deps = ("appos", "compound") if token.pos_ == "PROPN" else ("appos",)
    candidates = [token] + [c for c in token.children if c.dep_ in deps and c.pos_ == "PROPN"]
    mentions = mentions if isinstance(mentions, MentionIndex) else MentionIndex(mentions)
    for candidate in candidates:
        mention = mention_at(mentions, candidate.idx, candidate.idx + len(candidate.text))
        if mention is not None and mention.label in ("PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT"):
            return mention
    return None


def is_pronoun(doc: Doc, head: int | None) -> bool:
    return head is not None and doc[head].lower_ in PRONOUNS


@dataclass(frozen=True)
class Speaker:
    """A speaker as written, its entity, and where its attribution sits (for pronouns and carry-over)."""

    text: str
    start: int
    end: int
    entity_id: str | None
    label: str | None
    pos: int  # where the attribution sits, for carry-over
    paragraph: int


def resolve_pronoun(people: list[Speaker], mentions: MentionIndex, pos: int, paragraph: int) -> str | None:
    """The person a pronoun speaker stands for: the last named person speaking in the two paragraphs
    before, else the last person mentioned. `people` is the timeline's named PERSON speakers, in order."""
    for speaker in reversed(people):
        if paragraph - speaker.paragraph > 2:
            break
        if speaker.pos < pos:
            return speaker.entity_id
    person = mentions.last_person_before(pos)
    return person.entity_id if person else None


def last_speaker(timeline: list[Speaker], anchor: int, paragraph: int) -> Speaker | None:
    """The last speaker before `anchor` in this paragraph or the previous one (carry-over)."""
    for speaker in reversed(timeline):
        if paragraph - speaker.paragraph > 1:
            break
        if speaker.pos < anchor:
            return speaker
    return None


def to_speaker(doc: Doc, text: str, cue: Cue, mentions: MentionIndex, people: list[Speaker], anchor: int,
                paragraph: int) -> Speaker | None:
    if cue.speaker is None:
        return None
    s, e = cue.speaker
    if is_pronoun(doc, cue.speaker_head):
        return Speaker(text[s:e], s, e, resolve_pronoun(people, mentions, s, paragraph), "PERSON", anchor, paragraph)
    mention = speaker_mention(doc, cue.speaker_head, mentions)
    if mention is None and cue.lemma in (":", "—"):
        mention = mentions.at(s, e)
    return Speaker(text[s:e], s, e, mention.entity_id if mention else None, mention.label if mention else None,
                    anchor, paragraph)
