"""Reading questions: families in free wording, options, service names (fuzzy), follow-ups in a thread, and
how numbers are written for people."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.analysis.offline import formatting as fmt
from bot.analysis.offline.capabilities import capabilities_answer
from bot.analysis.offline.parse import parse_question
from bot.analysis.offline.planner import understand
from bot.analysis.offline.services import AllServices, ServiceMention, find_mentions, match_service
from bot.analysis.offline.windows import WindowPhrase
from bot.analysis.offline.writing import OFFLINE_LABEL
from bot.analysis.types import Turn

SERVICES = ["agent", "api-gateway", "billing-worker"]


@pytest.mark.parametrize(
    ("question", "family"),
    [
        ("Show me the slowest API endpoints in the last hour", "latency"),
        ("which routes take the longest?", "latency"),
        ("p99 response time per endpoint", "latency"),
        ("Trace count by status code today", "status_codes"),
        ("how many 5xx did we serve today", "status_codes"),
        ("requests by HTTP response code", "status_codes"),
        ("Top 10 errors in the agent service", "errors"),
        ("what's failing in billing-worker?", "errors"),
        ("most common exceptions this week", "errors"),
        ("What was the average token cost per request yesterday?", "llm_usage"),
        ("how much did we spend on LLMs today", "llm_usage"),
        ("token usage per model", "llm_usage"),
        ("which models do we call most?", "llm_usage"),
        ("error rate over the last 24 hours", "error_rate"),
        ("errors per hour in agent this week", "error_rate"),
        ("what percentage of requests failed (rate of failures) today", "error_rate"),
        ("record volume per service over the last 6 hours", "volume"),
        ("how much traffic did the gateway get", "volume"),
        ("requests per minute in the last 15 minutes", "volume"),
        ("what's the weather in Paris?", None),
        ("thanks!", None),
        ("and yesterday?", None),
    ],
)
def test_families_in_free_wording(question: str, family: str | None) -> None:
    assert parse_question(question).family == family


def test_slack_formatting_is_read_through() -> None:
    intent = parse_question("<@U0BOT> *top 5* errors in `billing-worker` _yesterday_")
    assert (intent.family, intent.limit) == ("errors", 5)
    assert intent.window == WindowPhrase(calendar="yesterday")
    assert intent.services == (ServiceMention("billing worker", False),)


@pytest.mark.parametrize(
    ("question", "limit", "statistic", "focus"),
    [
        ("top 5 slowest routes", 5, None, None),
        ("the three slowest endpoints by p99", 3, "p99", None),
        ("10 most common errors", 10, None, None),
        ("top 500 errors", 50, None, None),  # capped
        ("median latency per route", None, "p50", None),
        ("average response time per endpoint", None, "avg", None),
        ("worst-case latency per route", None, "max", None),
        ("top exceptions in agent", None, None, "exceptions"),
        ("What was the average token cost per request yesterday?", None, "avg", "avg_cost"),
        ("how much did each request cost?", None, None, "avg_cost"),
        ("cost per model yesterday", None, None, "cost"),
        ("token cost by model", None, None, "cost"),
        ("token usage per model", None, None, "tokens"),
        ("how many tokens did we use?", None, None, "tokens"),
        ("total LLM spend today", None, None, "cost"),
        ("requests per minute", None, None, "traces"),
        ("log volume per service", None, None, None),
    ],
)
def test_options(question: str, limit: int | None, statistic: str | None, focus: str | None) -> None:
    intent = parse_question(question)
    assert (intent.limit, intent.statistic, intent.focus) == (limit, statistic, focus)


@pytest.mark.parametrize(
    ("question", "mentions"),
    [
        ("Top 10 errors in the agent service", [ServiceMention("agent", True)]),
        ("agent service: top 10 errors", [ServiceMention("agent", True)]),
        ("errors where service_name = 'billing-worker'", [ServiceMention("billing worker", True)]),
        ("errors for the api gateway service yesterday", [ServiceMention("api gateway", True)]),
        ("what about billing-worker?", [ServiceMention("billing worker", False)]),
        ("slowest routes in the gateway", [ServiceMention("gateway", False)]),
        ("agent errors today", [ServiceMention("agent", False)]),
        ("Show me the slowest API endpoints in the last hour", []),
        ("What was the average token cost per request yesterday?", []),
        ("Trace count by status code today", []),
    ],
)
def test_service_mentions(question: str, mentions: list[ServiceMention]) -> None:
    assert find_mentions(question.lower()) == mentions


def test_all_services_is_its_own_mention() -> None:
    assert isinstance(find_mentions("volume across all services"), AllServices)
    assert isinstance(find_mentions("records per service"), AllServices)


@pytest.mark.parametrize(
    ("mention", "found"),
    [
        ("agent", ["agent"]),
        ("agent service", ["agent"]),
        ("Billing_Worker", ["billing-worker"]),
        ("apigateway", ["api-gateway"]),
        ("gateway", ["api-gateway"]),
        ("the gateway", []),  # mentions arrive trimmed; "the" is not part of a name
        ("billing", ["billing-worker"]),
        ("bill worker", ["billing-worker"]),
        ("agnet", ["agent"]),
        ("billing-wroker", ["billing-worker"]),
        ("payments", []),
        ("ag", []),  # too short to stand for a name
    ],
)
def test_service_names_match_fuzzily(mention: str, found: list[str]) -> None:
    assert match_service(mention, SERVICES) == found


def test_a_mention_that_fits_several_services_returns_them_all() -> None:
    both = ["billing-worker", "email-worker"]
    assert match_service("worker", [*both, "agent"]) == both
    assert match_service("worker", ["worker", "billing-worker"]) == ["worker"]  # an exact name wins


def thread(*questions: str) -> list[Turn]:
    return [Turn(question, "an earlier answer") for question in questions]


def test_a_follow_up_changes_only_what_it_says() -> None:
    first = "Top 10 errors in the agent service"
    intent = understand(parse_question("and yesterday?"), thread(first))
    assert intent.family == "errors" and intent.limit == 10
    assert intent.window == WindowPhrase(calendar="yesterday")
    assert intent.services == (ServiceMention("agent", True),)

    intent = understand(parse_question("what about billing-worker?"), thread(first, "and yesterday?"))
    assert intent.family == "errors" and intent.window == WindowPhrase(calendar="yesterday")
    assert intent.services and intent.services[0] == ServiceMention("billing worker", False)


def test_a_follow_up_can_switch_the_statistic_or_the_family() -> None:
    first = "slowest endpoints in the last 6 hours"
    intent = understand(parse_question("show p99 instead"), thread(first))
    assert (intent.family, intent.statistic, intent.window) == (
        "latency",
        "p99",
        WindowPhrase(rolling=timedelta(hours=6)),
    )
    intent = understand(parse_question("and the status codes?"), thread(first, "show p99 instead"))
    assert (intent.family, intent.statistic) == ("status_codes", None)  # p99 belongs to latency
    assert intent.window == WindowPhrase(rolling=timedelta(hours=6))


def test_across_all_services_drops_an_inherited_service() -> None:
    intent = understand(parse_question("and across all services?"), thread("top errors in agent service"))
    assert isinstance(intent.services, AllServices)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.00042, "$0.00042"),
        (0.000421337, "$0.0004213"),
        (0.0179891333, "$0.01799"),
        (0.2158696, "$0.2159"),
        (0.5, "$0.50"),
        (4.84495835, "$4.84"),
        (1234.5, "$1,234.50"),
        (0, "$0"),
        ("0.0000123", "$0.0000123"),  # decimals may arrive as strings
        (None, "n/a"),
    ],
)
def test_costs_keep_their_significant_digits(value: object, text: str) -> None:
    assert fmt.usd(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0004, "400 µs"), (0.0386, "38.6 ms"), (2.9860406, "2.99 s"), (90, "1.5 min")],
)
def test_durations_are_seconds_written_with_units(value: float, text: str) -> None:
    assert fmt.seconds(value) == text


def test_telemetry_text_cannot_mention_or_link() -> None:
    assert fmt.code("<!channel> & `x`") == "`&lt;!channel&gt; &amp; 'x'`"


def test_outside_the_families_the_answer_lists_what_it_can_answer() -> None:
    answer = capabilities_answer()
    assert answer.summary.endswith(OFFLINE_LABEL) and "Top 10 errors in the agent service" in answer.summary
    assert answer.key_numbers == [] and answer.window_label is None
