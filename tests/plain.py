"""What a person reads must be words in their language: no vocabulary key, no instrument code,
no place code, no snake_case token, and in Chinese no English sentence. One checker for every
surface (pages, emails, calendar feeds, files, API texts)."""

import re

from regulations.models import EventType, Fact, Instrument, Jurisdiction, Role

# Word edges in ASCII: Python counts Chinese characters as word characters, so \b would not
# separate "registered_in" from the "为" after it.
SNAKE = re.compile(r"(?<![A-Za-z0-9_])[a-z]+(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")
PLACE_CODE = re.compile(r"(?<![A-Za-z0-9-])CN(?:-[A-Z]{2,})+(?![A-Za-z0-9-])")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Three or more Latin words in a row is a sentence (or a phrase) in English. Single words are
# names: a person's user name, an organization's, a file's, a unit such as "MB".
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ \t,;:]+[A-Za-z][A-Za-z'’]*){2,}")
# A single Latin word on a Chinese page is English too, unless it is a name written that way:
# file formats, the APP of the APP filing notice, keyboard keys, a language's own name.
WORD = re.compile(r"(?<![A-Za-z0-9_.-])[A-Za-z]{3,}(?![A-Za-z0-9_.-])")
NAMES_AS_WRITTEN = {
    "APP",
    "APPs",
    "PDF",
    "Word",
    "Excel",
    "CSV",
    "API",
    "iCal",
    "ICP",
    "AIGC",
    "DCMM",
    "Ctrl",
    "Mac",
    "English",
    # The HTTP header an API token is sent in, which a program must write exactly so.
    "Authorization",
    "Bearer",
    # What WeCom, DingTalk and Feishu call a robot's address in their own Chinese settings.
    "Webhook",
}
URL = re.compile(r"\b(?:https?|webcal)://\S+|\S+@\S+\.\w+")


def vocabulary() -> set[str]:
    """Every key and code a person must never read: instrument codes, and the keys of roles,
    facts, values and events that are not plain words (``app_operator``, ``CN-SH-LG``)."""
    words = set(Instrument.objects.values_list("code", flat=True))
    words |= set(Jurisdiction.objects.values_list("code", flat=True)) - {"CN"}
    keys = set(Role.objects.values_list("key", flat=True)) | set(EventType.objects.values_list("key", flat=True))
    for fact in Fact.objects.all():
        keys.add(fact.key)
        keys |= {value["key"] for value in fact.values or []}
    return words | {key for key in keys if not key.isalpha()}


def problems(text: str, lang: str, words: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    """What in ``text`` a reader of ``lang`` should not see. ``allowed``: strings the reader
    typed or that name something in its own language (an English document title, say)."""
    for phrase in allowed:
        text = text.replace(phrase, " ")
    text = URL.sub(" ", text)
    found = [f"snake_case {m}" for m in SNAKE.findall(text)]
    found += [f"place code {m}" for m in PLACE_CODE.findall(text)]
    found += [f"code {w}" for w in words if re.search(rf"(?<![A-Za-z0-9_-]){re.escape(w)}(?![A-Za-z0-9_-])", text)]
    if lang == "zh":
        found += [f"English “{m}”" for m in ENGLISH.findall(text)]
        words = set(WORD.findall(ENGLISH.sub(" ", text))) - NAMES_AS_WRITTEN
        found += [f"English word “{w}”" for w in words]
    return sorted(set(found))
