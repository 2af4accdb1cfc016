"""Which service a question is about: the words that may name one, and fuzzy matching against the
service names that really sent data.

Mentions come in two strengths. An explicit one says "service" ("the agent service", "service
billing-worker"): when nothing matches it, the answer lists the services that exist. A loose one is a word
after a preposition or before a metric ("for the gateway", "what about billing?", "agent errors"): it
counts only when it matches a service, since it may just be an ordinary word.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

TYPO_CUTOFF = 0.8

_STOP_WORDS = """
    a an the this that these those all any each every per by of in on for from to at about with within
    across over under during since until and or but not no is are was were be been do does did how what
    which who where when why show me give tell list get find see please can could would you i we our us my
    it its there their them here top most more least many much few some common frequent frequently usual
    biggest worst main recent recently latest new last past previous prior next today yesterday tonight now
    currently week weeks day days hour hours minute minutes month months year time times window so far just
    right moment ago before after whole entire total overall average avg mean median error errors exception
    exceptions failure failures issue issues problem problems crash crashes bug bugs slow slowest slower
    fastest fast latency latencies duration durations response responses p50 p90 p95 p99 endpoint endpoints
    route routes request requests trace traces span spans record records log logs event events call calls
    status statuses code codes http count counts number rate rates volume throughput traffic load token
    tokens cost costs spend usage model models llm llms ai price prices service services svc app apps
    application applications system systems instead also only again then everything everywhere breakdown
    split grouped group chart graph plot percentile percentiles happened happening going on look like do
    doing up down mode answer question questions name get got have had has receive received handle handled
    serve served use used see saw
"""
_STOP = frozenset(_STOP_WORDS.split())
_LOOSE_ONLY_STOP = frozenset({"api", "web", "server", "backend", "frontend", "prod", "production"})
_NAME = r"[`'\"]?([a-z0-9][\w.-]*(?:[ -][a-z0-9][\w.-]*)?)[`'\"]?"
_EXPLICIT = [
    re.compile(_NAME + r"\s+(?:service|svc)\b"),
    re.compile(r"\b(?:service|svc|service_name)\b\s*(?:=|:|named|called)?\s*" + _NAME),
]
_LOOSE = [
    re.compile(r"\b(?:in|for|from|of|on|about|within|at)\s+(?:the\s+)?" + _NAME),
    re.compile(r"\b(?:did|does|do|is|was|has|had)\s+(?:the\s+)?" + _NAME),
    re.compile(
        r"\b([a-z0-9][\w.-]*)(?:'s)?\s+(?:errors?|exceptions?|failures?|latency|traffic|volume|requests|traces|"
        r"logs|spans|records|endpoints|routes|status|tokens|costs?|usage|llm|throughput)\b"
    ),
]
_ALL = re.compile(r"\b(?:all|every|each|any|per|across)\s+(?:the\s+)?services?\b|\bwhole system\b")


@dataclass(frozen=True)
class ServiceMention:
    text: str  # as the question put it, normalized ("billing worker")
    explicit: bool


@dataclass(frozen=True)
class AllServices:
    """The question asks about every service ("across all services"): drop an inherited service."""


def find_mentions(text: str) -> list[ServiceMention] | AllServices:
    """The possible service names in a question (lower-cased), explicit ones first."""
    if _ALL.search(text):
        return AllServices()
    found: list[ServiceMention] = []
    for patterns, explicit in ((_EXPLICIT, True), (_LOOSE, False)):
        for pattern in patterns:
            for match in pattern.finditer(text):
                name = _trim(match.group(1), loose=not explicit)
                if name and not any(set(name.split()) <= set(m.text.split()) for m in found):
                    found.append(ServiceMention(name, explicit))
    return found


def _trim(candidate: str, *, loose: bool) -> str | None:
    """The candidate without its leading and trailing ordinary words; None when nothing else is left."""
    stop = _STOP | _LOOSE_ONLY_STOP if loose else _STOP
    words = normalize(candidate).split()
    while words and _ordinary(words[0], stop):
        words.pop(0)
    kept: list[str] = []
    for word in words:
        if _ordinary(word, stop):
            break
        kept.append(word)
    return " ".join(kept) or None


def _ordinary(word: str, stop: frozenset[str]) -> bool:
    return word in stop or word.isdigit() or bool(re.fullmatch(r"\d+(?:st|nd|rd|th|[mhdw])", word))


def normalize(name: str) -> str:
    """Lower case, separators as single spaces, no trailing "service": "Billing_Worker" → "billing worker"."""
    words = re.sub(r"[\s_.\-/:]+", " ", name.lower()).strip().split()
    if len(words) > 1 and words[-1] in ("service", "svc"):
        words.pop()
    return " ".join(words)


def match_service(mention: str, names: list[str]) -> list[str]:
    """The service names `mention` fits best, best level only: exact, then all its words among a name's
    words (or their prefixes), then near spellings. Several names back means the mention is ambiguous."""
    wanted = normalize(mention)
    if not wanted:
        return []
    levels = (
        lambda name: normalize(name) == wanted or normalize(name).replace(" ", "") == wanted.replace(" ", ""),
        lambda name: _words_fit(wanted.split(), normalize(name).split()),
        lambda name: _near(wanted, normalize(name)),
    )
    for fits in levels:
        found = [name for name in names if fits(name)]
        if found:
            return found
    return []


def _words_fit(wanted: list[str], words: list[str]) -> bool:
    return all(any(word.startswith(w) and len(w) >= 3 for word in words) for w in wanted)


def _near(wanted: str, name: str) -> bool:
    """A close spelling of the whole name or of each wanted word against some word of the name."""
    if difflib.SequenceMatcher(None, wanted, name).ratio() >= TYPO_CUTOFF:
        return True
    words = name.split()
    return all(difflib.get_close_matches(w, words, n=1, cutoff=TYPO_CUTOFF) for w in wanted.split())
