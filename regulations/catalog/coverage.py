"""Every duty sentence of a binding text accounted for.

A source is split into sentences and list items; each one with a duty marker must either be
catalogued (an obligation's quote or lead lies in it, or it lies in a quote) or be listed in the
instrument's ``left_out`` with a reason. The markers are the words Chinese rules use to impose
a duty or a prohibition. 应 alone is one of them, but not inside words where it means
something else: 应用 (application), 相应 (corresponding), 供应 (supply), 响应, 反应, 适应,
对应, 应急 (emergency), 应对 (respond to), 应变. 负责 marks the responsible party of a task;
不予 a refusal the text imposes (不予受理, 不予立项).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from .validation import normalize

MARKER = re.compile(r"应当|必须|不得|禁止|严禁|不准|不予|负责|须(?!知)|(?<![相供响反适对回答效])应(?![用急对变])")

# Sentences end at 。；！？ (full or half width) and at line breaks; a list item starts a new one
# at （一） (1) 1. ① so that each item of a requirement list is its own sentence.
_BREAK = re.compile(
    r"(?<=[。；！？;!?])|\n|(?=（[一二三四五六七八九十]+）)|(?=\([一二三四五六七八九十0-9]+\))|(?=(?<![0-9.])[0-9]{1,2}\.(?![0-9]))|(?=[①-⑳])"
)

# Which instruments the coverage test holds: binding rules and notices, and trial and draft
# measures. Plans, opinions and work points set tasks for governments; their sentences are
# read one by one in the audits instead.
BINDING_NATURES = frozenset({"departmental_rule", "local_regulation", "local_government_rule", "normative_document"})


def held(instrument: Mapping) -> bool:
    return instrument.get("nature") in BINDING_NATURES or instrument["status"] in ("trial", "draft_for_comment")


# An article's number and heading open its first sentence ("第三条 【职责】…"); quotes leave
# them out.
_ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇]+条\s*(【[^】]*】)?\s*")


def sentences(text: str) -> Iterator[str]:
    for piece in _BREAK.split(text):
        piece = _ARTICLE.sub("", normalize(piece))
        if len(piece) >= 4:
            yield piece


# A list item: （一） (一) 1. ①. Under a chapeau with a duty marker that ends in a colon
# ("应当符合下列要求：") each item carries the duty, marker or not.
LIST_ITEM = re.compile(r"^(（[一二三四五六七八九十]+）|\([0-9一二三四五六七八九十]+\)|[0-9]{1,2}\.|[①-⑳])")


def modal_sentences(text: str) -> Iterator[str]:
    chapeau = False
    for sentence in sentences(text):
        item = LIST_ITEM.match(sentence)
        if MARKER.search(sentence) or (chapeau and item):
            yield sentence
        if not item:
            chapeau = sentence.endswith(("：", ":")) and bool(MARKER.search(sentence))


def uncovered(instrument: Mapping, source: str) -> list[str]:
    """The duty sentences of ``source`` neither catalogued nor left out with a reason."""
    quotes = [normalize(ob[key]) for ob in instrument["obligations"] for key in ("quote_zh", "lead_zh") if ob.get(key)]
    left_out = [normalize(entry["text"]) for entry in instrument.get("left_out", [])]
    missing = []
    for sentence in modal_sentences(source):
        core = sentence.rstrip("。；;，,")
        if any(q in sentence or core in q for q in quotes) or any(text in sentence for text in left_out):
            continue
        missing.append(sentence)
    return missing
