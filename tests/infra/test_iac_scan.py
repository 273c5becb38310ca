"""The IaC scanner: cfn-lint with AWS Labs' serverless rules (cfn-lint-serverless), run on
template.yaml as SAM translates it (what CloudFormation receives), finds nothing.

Why this scanner: cfn-lint is already the linter of `sam validate --lint` (same pinned
version), and the serverless rules add what this stack is about — event source mappings
without failure destinations, queues without redrive, log retention, API access logs, Lambda
tracing and star permissions. IAM least privilege is proven more strictly by use
(tests/support/iam_check.py) and by tests/reliability/test_static_template.py, which expand the
managed policies no scanner reads.

Findings are suppressed only in template.yaml (`Metadata: cfn-lint: config: ignore_checks`),
each with its reason there; the list below must match them.
"""

from __future__ import annotations

import json
from typing import Any

from cfnlint.api import ManualArgs, lint

from hubdev.iam import translate

RULES = ["cfn_lint_serverless.rules"]
# Suppressed checks → where. Adding one is a deliberate edit here and in the template.
SUPPRESSED = {
    "WS1004": "template (log retention: consumers' groups are LoggingConfig.LogGroup)",
    "ES1001": "template (SQS mapping: the queue's RedrivePolicy is its failure destination)",
    "ES4000": "template (scheduler: the next run does the same work)",
    "ES1007": "template (scheduler: the next run does the same work)",
    "W1020": "template (translator artefact in the generated layer name)",
    "ES6000": "each dead-letter queue (it is the DLQ)",
}


def _scan(document: dict[str, Any]) -> list[str]:
    matches = lint(json.dumps(document), config=ManualArgs(append_rules=RULES))
    return [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches]


def test_the_scanner_finds_nothing_in_the_translated_template() -> None:
    findings = _scan(translate())
    assert findings == [], "\n".join(findings)


def test_every_suppression_is_listed_with_its_reason() -> None:
    translated = translate()
    suppressed = set(translated["Metadata"]["cfn-lint"]["config"]["ignore_checks"])
    for resource in translated["Resources"].values():
        config = resource.get("Metadata", {}).get("cfn-lint", {}).get("config", {})
        suppressed |= set(config.get("ignore_checks", []))
    assert suppressed == set(SUPPRESSED)


def test_the_scanner_would_find_a_dead_letter_queue_without_its_suppression() -> None:
    """The serverless rules are loaded and run: a queue without redrive is a finding."""
    document = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}},
    }
    assert any(f.startswith("ES6000") for f in _scan(document))
