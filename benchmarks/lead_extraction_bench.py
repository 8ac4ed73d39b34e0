"""Lead extraction accuracy: the rule engine on the multilingual labelled set, per field and language.

    python -m benchmarks.lead_extraction_bench [--split dev|heldout|all]

Reads tests/leads/labelled_inquiries.jsonl (written before the rules were tuned on it, see
tests/leads/LABELLED_SET.md), runs `apps.leads.extraction.extract` on every inquiry and scores
four fields: intent, monthly income, requested amount and loan purpose. A field is right when
it equals the label exactly (amounts to the cent, None when the label is None). It prints the
accuracy per field and per language for the dev split (what the rules were tuned on), the
held-out fifth, both together, and a blind set written after the rules were frozen (50
inquiries, tests/leads/labelled_inquiries_blind.jsonl), and writes them to
benchmarks/results/lead_extraction.json. No database is needed: the extractor is pure.

Targets (issue #20): overall field accuracy >= 92%, no language below 85%.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "leads" / "labelled_inquiries.jsonl"
# Written after the rules were frozen (commit 4b23d35) and scored once: the honest estimate.
BLIND = LABELLED.with_name("labelled_inquiries_blind.jsonl")
# Written and committed (10a5fb0) before the second pass changed the rules; the rules are not tuned
# on its misses, so its figures are the estimate for unseen inquiries.
FRESH = LABELLED.with_name("labelled_inquiries_fresh.jsonl")
FIELDS = ("intent", "monthly_income", "requested_amount", "loan_purpose")
LANGUAGES = ("en", "it", "es", "fr", "de")
TARGET_OVERALL = 0.92
TARGET_PER_LANGUAGE = 0.85


def load_labelled(path: Path = LABELLED) -> list[dict[str, Any]]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            for name in ("monthly_income", "requested_amount"):
                case[name] = Decimal(case[name]) if case[name] is not None else None
            cases.append(case)
    return cases


def read_fields(text: str) -> dict[str, Any]:
    from apps.leads.extraction import extract

    got = extract(text)
    return {
        "intent": got.intent,
        "monthly_income": got.monthly_income,
        "requested_amount": got.requested_amount,
        "loan_purpose": got.loan_purpose,
    }


def evaluate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy per field, per language, overall (all fields of all cases), and the misses."""
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    misses = []
    for case in cases:
        read = read_fields(case["text"])
        for name in FIELDS:
            ok = read[name] == case[name]
            for key in ("overall", f"field:{name}", f"lang:{case['lang']}"):
                right[key] += ok
                total[key] += 1
            if not ok:
                misses.append({"id": case["id"], "field": name, "expected": case[name], "read": read[name]})
    share = {key: right[key] / total[key] for key in total}
    return {
        "inquiries": len(cases),
        "overall": share.get("overall", 0.0),
        "per_field": {name: share.get(f"field:{name}", 0.0) for name in FIELDS},
        "per_language": {lang: share[f"lang:{lang}"] for lang in LANGUAGES if f"lang:{lang}" in share},
        "misses": misses,
    }


def _print(title: str, result: dict[str, Any]) -> None:
    print(f"\n{title}: {result['inquiries']} inquiries, overall field accuracy {result['overall']:.1%}")
    print("  per field:    " + "  ".join(f"{k} {v:.1%}" for k, v in result["per_field"].items()))
    print("  per language: " + "  ".join(f"{k} {v:.1%}" for k, v in result["per_language"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument(
        "--show-fresh-misses", action="store_true", help="also the fresh blind set's (read them only when done tuning)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finpulse.settings")
    import django

    django.setup()
    from benchmarks.common import write_results

    cases = load_labelled()
    results = {
        "dev": evaluate([c for c in cases if c["split"] == "dev"]),
        "heldout": evaluate([c for c in cases if c["split"] == "heldout"]),
        "all": evaluate(cases),
        "blind": evaluate(load_labelled(BLIND)),
        "fresh": evaluate(load_labelled(FRESH)),
    }
    for name, result in results.items():
        _print(name, result)
        if args.show_misses and (name != "fresh" or args.show_fresh_misses):
            for miss in result["misses"]:
                print(f"    {miss['id']:6} {miss['field']:17} expected {miss['expected']!s:10} read {miss['read']}")
    overall = results["all"]
    passed = overall["overall"] >= TARGET_OVERALL and min(overall["per_language"].values()) >= TARGET_PER_LANGUAGE
    print(
        f"\ntargets (all): overall >= {TARGET_OVERALL:.0%}, each language >= {TARGET_PER_LANGUAGE:.0%}: "
        f"{'met' if passed else 'NOT met'}"
    )
    path = write_results(
        "lead_extraction",
        {
            "engine": "rules",
            "targets": {"overall": TARGET_OVERALL, "per_language": TARGET_PER_LANGUAGE},
            "targets_met": passed,
            **{name: {k: v for k, v in r.items() if k != "misses"} for name, r in results.items()},
            "misses_all": results["all"]["misses"],
            "misses_blind": results["blind"]["misses"],
            "misses_fresh": results["fresh"]["misses"],
        },
    )
    print(f"written to {path}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
