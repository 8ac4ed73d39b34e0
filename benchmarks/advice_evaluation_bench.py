"""Advice evaluation: top-1 and top-3 agreement with a banker, for the rule engine and the LLM path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything \\
        python -m benchmarks.advice_evaluation_bench [--record]

Builds a fresh database `finpulse_bench_advice_eval` on DATABASE_URL's server, pins the business
date (2026-03-02), and builds the 42 situations of tests/recommendations/evaluation through the
real services (catalog, customers, holdings, consents, interactions). Then:

- rules: no LLM key; recommend_for_customer(force=True) for every situation.
- llm: the real openai client against an OpenAI-compatible server on loopback
  (tests/recommendations/fake_openai.py) that replays, per situation, the answer recorded in
  tests/recommendations/evaluation/recorded_llm_answers.json; the answer goes through the
  production validation (and fallback) like any other.

Agreement: top-1 = the expected product is the first item; top-3 = it is among the first three.
Figures go to stdout and benchmarks/results/advice_evaluation.json.

`--record` asks the LLM configured in the environment (OPENAI_API_KEY, OPENAI_BASE_URL,
OPENAI_MODEL) instead of replaying, and writes its answers to the recorded file, so a bank can
replace the committed answers with its own model's. See docs/recommendations.md ("Evaluation").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from typing import Any

from benchmarks.common import bench_database_url, write_results

DB_NAME = "finpulse_bench_advice_eval"
BUSINESS_DATE = dt.date(2026, 3, 2)


def _fresh_database() -> str:
    from urllib.parse import urlparse, urlunparse

    import psycopg
    from psycopg import sql

    url = bench_database_url(DB_NAME)
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    return url


def _setup_django(url: str, *, record: bool) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["FINPULSE_BUSINESS_DATE"] = BUSINESS_DATE.isoformat()
    os.environ.pop("REDIS_URL", None)  # the database cache: nothing shared with other runs
    if not record:
        os.environ["OPENAI_API_KEY"] = ""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    from apps.identity.roles import sync_role_permissions

    sync_role_permissions()


def _manager() -> Any:
    from django.contrib.auth.models import Group

    from apps.identity import roles
    from apps.identity.models import Branch, User

    branch = Branch.objects.create(code="EVL", name="Evaluation branch")
    manager = User.objects.create_user(username="eval.manager", password=None, branch=branch)
    manager.groups.add(Group.objects.get(name=roles.RELATIONSHIP_MANAGER))
    return manager


def _run(record: bool) -> dict[str, Any]:
    from django.conf import settings
    from django.core.cache import cache

    from tests.recommendations.evaluation.run import RECORDED_ANSWERS, advise, agreement, build_situations
    from tests.recommendations.fake_openai import FakeOpenAI, ok

    started = time.monotonic()
    built = build_situations(today=BUSINESS_DATE, manager=_manager())
    build_seconds = time.monotonic() - started

    key, base_url, model = settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_MODEL
    settings.OPENAI_API_KEY = ""
    started = time.monotonic()
    rules = advise(built)
    rules_seconds = time.monotonic() - started

    results: dict[str, Any] = {
        "business_date": BUSINESS_DATE.isoformat(),
        "build_seconds": round(build_seconds, 1),
        "rules": {**agreement(rules), "seconds": round(rules_seconds, 2)},
    }
    cache.clear()
    if record:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_MODEL = key, base_url, model
        answers: dict[str, Any] = {}
        outcomes = advise(built)
        from apps.recommendations.models import Recommendation

        for entry in built:
            row = Recommendation.objects.filter(customer=entry.customer).order_by("-id").first()
            if row is not None and row.response:
                answers[entry.situation.id] = json.loads(row.response)
        RECORDED_ANSWERS.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
        results["llm"] = {**agreement(outcomes), "recorded": len(answers), "model": model}
        return results

    recorded = json.loads(RECORDED_ANSWERS.read_text())
    server = FakeOpenAI().start()
    settings.OPENAI_API_KEY = "sk-replay-not-a-real-key"
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_MODEL = "replay"
    settings.FINPULSE_LLM_RATE_PER_MINUTE = 60000
    settings.FINPULSE_LLM_BURST = 1000
    missing: list[str] = []

    def queue_recorded(entry: Any) -> None:
        answer = recorded.get(entry.situation.id)
        if answer is None:
            missing.append(entry.situation.id)
        server.queue(ok(answer))  # None: the server's own answer (the first candidates)

    started = time.monotonic()
    try:
        llm = advise(built, before_each=queue_recorded)
    finally:
        server.stop()
    by_source: dict[str, int] = {}
    for outcome in llm:
        label = outcome.source if not outcome.fallback_reason else f"{outcome.source}:{outcome.fallback_reason}"
        by_source[label] = by_source.get(label, 0) + 1
    results["llm"] = {
        **agreement(llm),
        "seconds": round(time.monotonic() - started, 2),
        "vendor_calls": server.calls,
        "answers_by_source": by_source,
        "situations_without_a_recorded_answer": missing,
        "note": "recorded answers are replayed by a loopback OpenAI-compatible server; see docs/recommendations.md",
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help="ask the configured LLM and write its answers")
    args = parser.parse_args()
    _setup_django(_fresh_database(), record=args.record)
    results = _run(args.record)
    for engine in ("rules", "llm"):
        figures = results[engine]
        print(
            f"{engine:5s}  situations={figures['situations']}  top-1={figures['top1_agreement']:.1%}"
            f"  top-3={figures['top3_agreement']:.1%}"
        )
        for miss in figures["misses"]:
            print(f"       miss {miss['id']}: expected {miss['expected']}, got {', '.join(miss['got']) or 'nothing'}")
    write_results("advice_evaluation", results)


if __name__ == "__main__":
    main()
