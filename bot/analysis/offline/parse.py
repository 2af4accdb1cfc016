"""Reading a question in free wording into an `Intent`: keyword rules, most specific family first."""

from __future__ import annotations

import re

from bot.analysis.offline.intent import MAX_LIMIT, Family, Focus, Intent, Statistic
from bot.analysis.offline.services import AllServices, find_mentions
from bot.analysis.offline.windows import parse_window

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30, "fifty": 50,
}  # fmt: skip


def _any(*alternatives: str) -> re.Pattern[str]:
    """One pattern matching any of the alternatives (regular expressions)."""
    return re.compile("|".join(alternatives))


# (family, pattern): the first family whose pattern matches wins, so more specific families come first.
_FAMILIES: list[tuple[Family, re.Pattern[str]]] = [
    ("status_codes", _any(
        r"\bstatus(?:es)?\b", r"\bstatus[ _-]?codes?\b", r"\b(?:response|http|return) codes?\b",
        r"\b[1-5]xx\b",
    )),
    ("llm_usage", _any(
        r"\btokens?\b", r"\bcosts?\b", r"\bcosting\b", r"\bspend(?:ing)?\b", r"\bspent\b",
        r"\bpric(?:e|es|ing)\b", r"\bexpensive\b", r"\bdollars?\b", r"\busd\b", r"\$",
    )),
    ("error_rate", _any(
        r"\b(?:error|failure|exception)[ -]?(?:rates?|ratios?|percentages?)\b",
        r"\b(?:errors?|failures?|exceptions?)\b.*\b(?:over time|per (?:minute|hour|day)|trend\w*|timeline"
        r"|by (?:minute|hour|day)|hourly|each hour|chart)\b",
        r"\bhourly (?:errors|failures|exceptions)\b",
        r"\b(?:rate|percentage|share|%|fraction|ratio) of (?:errors|failures|failed|failing|exceptions)\b",
        r"\bhow often\b.*\bfail",
    )),
    ("latency", _any(
        r"\bslow\w*", r"\blatenc\w*", r"\bp(?:50|90|95|99)\b", r"\bpercentiles?\b", r"\bmedian\b",
        r"\bresponse[- ]?times?\b", r"\bdurations?\b", r"\bfastest\b", r"\btakes? (?:the )?longest\b",
        r"\bhow long\b", r"\bperformance\b", r"\bsluggish\b",
    )),
    ("errors", _any(
        r"\berrors?\b", r"\bexceptions?\b", r"\bfailures?\b", r"\bfailing\b", r"\bfailed\b", r"\bcrash\w*",
        r"\bbugs?\b", r"\bbroken\b", r"\bbreaking\b", r"\bwent wrong\b", r"\bgoing wrong\b", r"\bblew up\b",
        r"\braised?\b", r"\bthrown\b",
    )),
    ("volume", _any(
        r"\bvolumes?\b", r"\bthroughput\b", r"\btraffic\b", r"\bload\b", r"\bbusy\b", r"\bbusiest\b",
        r"\bactivity\b", r"\bhow many (?:records|spans|logs|requests|traces|events)\b", r"\brequest rate\b",
        r"\brps\b", r"\brpm\b",
        r"\b(?:records|spans|logs|requests|traces|events)\b.*\b(?:per|by|over|each)\b",
    )),
]  # fmt: skip
# Weaker hints, used only when no rule above matched.
_WEAK_FAMILIES: list[tuple[Family, re.Pattern[str]]] = [
    ("llm_usage", _any(
        r"\bllms?\b", r"\bgen[ _.-]?ai\b", r"\bmodels?\b", r"\bgpt[\w.-]*", r"\bclaude\b", r"\bopenai\b",
        r"\banthropic\b",
    )),
    ("volume", _any(r"\bhow many\b", r"\bcount\b", r"\bnumber of\b")),
]  # fmt: skip

_LIMIT = re.compile(
    r"\b(?:top|first|worst|biggest|largest|slowest|most common|most frequent)\s+(\d+|"
    + "|".join(_WORD_NUMBERS)
    + r")\b|\b(\d+|"
    + "|".join(_WORD_NUMBERS)
    + r")\s+(?:slowest|most|top|worst|biggest|largest|errors|exceptions|endpoints|routes)\b"
)
_STATISTICS: list[tuple[Statistic, re.Pattern[str]]] = [
    ("p99", re.compile(r"\bp99\b|\b99(?:th)?(?: |-)?percentile\b")),
    ("p90", re.compile(r"\bp90\b|\b90(?:th)?(?: |-)?percentile\b")),
    ("p95", re.compile(r"\bp95\b|\b95(?:th)?(?: |-)?percentile\b")),
    ("p50", re.compile(r"\bp50\b|\bmedian\b|\b50(?:th)?(?: |-)?percentile\b")),
    ("avg", re.compile(r"\bav(?:era)?ge?\b|\bavg\b|\bmean\b|\btypical\b")),
    ("max", re.compile(r"\bmax(?:imum)?\b|\bworst[- ]case\b|\bpeak\b")),
]
_FOCUS: dict[Family, list[tuple[Focus, re.Pattern[str]]]] = {
    "errors": [("exceptions", re.compile(r"\bexceptions?\b"))],
    "llm_usage": [
        ("avg_cost", _any(r"\b(?:av(?:era)?ge?|mean|typical)\b", r"\b(?:per|each) (?:request|trace|call)\b")),
        ("cost", _any(r"\bcosts?\b", r"\bspend(?:ing)?\b", r"\bspent\b", r"\bpric", r"\bexpensive\b", r"\$")),
        ("tokens", _any(r"\btokens?\b")),
    ],
    "volume": [("traces", re.compile(r"\b(?:requests|traces|request rate|rps|rpm|transactions)\b"))],
}


def parse_question(text: str) -> Intent:
    """The intent of one question; fields it does not mention stay None."""
    lowered = normalize_text(text)
    family = _family(lowered)
    mentions = find_mentions(lowered)
    return Intent(
        family=family,
        window=parse_window(lowered),
        services=mentions if isinstance(mentions, AllServices) else (tuple(mentions) or None),
        limit=_limit(lowered),
        statistic=_statistic(lowered),
        focus=_focus(family, lowered),
    )


def normalize_text(text: str) -> str:
    """Lower case, Slack formatting and curly quotes removed, whitespace collapsed."""
    text = re.sub(r"<[@#!][^>]*>", " ", text)  # mentions of users, channels, @here
    text = re.sub(r"<[^>|]*\|([^>]*)>", r"\1", text)  # <url|label> → label
    text = re.sub(r"<([^>]*)>", r"\1", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"(?<!\w)[*_~`](?=\w)|(?<=\w)[*_~`](?!\w)", "", text)
    return " ".join(text.lower().split())


def _family(text: str) -> Family | None:
    for rules in (_FAMILIES, _WEAK_FAMILIES):
        for family, pattern in rules:
            if pattern.search(text):
                return family
    return None


def _limit(text: str) -> int | None:
    match = _LIMIT.search(text)
    if not match:
        return None
    raw = match.group(1) or match.group(2)
    number = int(raw) if raw.isdigit() else _WORD_NUMBERS[raw]
    return max(1, min(number, MAX_LIMIT))


def _statistic(text: str) -> Statistic | None:
    for statistic, pattern in _STATISTICS:
        if pattern.search(text):
            return statistic
    return None


def _focus(family: Family | None, text: str) -> Focus | None:
    for focus, pattern in _FOCUS.get(family, []) if family else []:
        if pattern.search(text):
            return focus
    return None

