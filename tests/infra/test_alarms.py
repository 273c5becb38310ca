"""Alarms an operator gets paged by (docs/operations.md explains each and what to run).

Every function has an Errors and a Throttles alarm, every dead-letter / OnFailure queue an
alarm on any message, every stream consumer an iterator-age alarm, and the Smile failure rate
alarm reads the EMF metric the Smile client prints. A function or queue added to template.yaml
without its alarms fails here with the resource to add.
"""

from __future__ import annotations

from typing import Any

from hubdev.template import ROOT, Template

TEMPLATE = Template()
ALARMS = TEMPLATE.of_type("AWS::CloudWatch::Alarm")


def _alarmed(namespace: str, metric: str, dimension: str) -> dict[str, str]:
    """Logical id of the alarmed resource → alarm, for single-metric alarms."""
    found = {}
    for name, alarm in ALARMS.items():
        props = alarm["Properties"]
        if props.get("Namespace") != namespace or props.get("MetricName") != metric:
            continue
        for item in props.get("Dimensions", []):
            value: Any = item["Value"]
            if item["Name"] == dimension and isinstance(value, dict):
                target = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
                found[str(target)] = name
        assert "AlarmActions" in props and "OKActions" in props, name
    return found


def _snippet(name: str, namespace: str, metric: str, dimension: str, value: str) -> str:
    return (
        f"\n  {name}:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n"
        f"      Namespace: {namespace}\n      MetricName: {metric}\n"
        f"      Dimensions:\n        - {{Name: {dimension}, Value: {value}}}\n"
        "      ... (copy a neighbour in template.yaml and docs/operations.md)"
    )


def test_every_function_alarms_on_errors_and_throttles() -> None:
    missing = []
    for metric in ("Errors", "Throttles"):
        alarmed = _alarmed("AWS/Lambda", metric, "FunctionName")
        for function in TEMPLATE.functions:
            if function not in alarmed:
                short = function.removesuffix("Function")
                missing.append(
                    _snippet(
                        f"{short}{metric}Alarm",
                        "AWS/Lambda",
                        metric,
                        "FunctionName",
                        f"!Ref {function}",
                    )
                )
    assert not missing, "functions without alarms; add:" + "".join(missing)


def test_every_dead_letter_and_on_failure_queue_alarms_on_any_message() -> None:
    parking = {s.on_failure for s in TEMPLATE.stream_sources if s.on_failure}
    for props in TEMPLATE.queues.values():
        target = props.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if isinstance(target, dict):
            parking.add(target["Fn::GetAtt"][0])
    assert len(parking) >= 3
    alarmed = _alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    for queue in parking:
        assert queue in alarmed, _snippet(
            f"{queue}Alarm",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            f"!GetAtt {queue}.QueueName",
        )
        threshold = ALARMS[alarmed[queue]]["Properties"]
        assert threshold["Threshold"] == 1 and threshold["Statistic"] == "Maximum"


def test_every_stream_consumer_alarms_on_iterator_age() -> None:
    alarmed = _alarmed("AWS/Lambda", "IteratorAge", "FunctionName")
    for source in TEMPLATE.stream_sources:
        assert source.function in alarmed, source.function


def test_smile_failure_rate_reads_the_metric_the_client_prints() -> None:
    from customer_hub.infra import observability

    alarm = ALARMS["SmileFailureRateAlarm"]["Properties"]
    stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert {s["Namespace"] for s in stats} == {observability.NAMESPACE}
    assert {s["MetricName"] for s in stats} == {"SmileRequests"}
    outcomes = {d["Value"] for s in stats for d in s["Dimensions"] if d["Name"] == "Outcome"}
    assert outcomes == {"ok", "failed", "client_error"}  # every Outcome the client counts
    source = (ROOT / "layers/shared/customer_hub/smile/transport.py").read_text(encoding="utf-8")
    for outcome in outcomes:
        assert f'"{outcome}"' in source


def test_alarm_topic_is_optional() -> None:
    parameter = TEMPLATE.document["Parameters"]["AlarmTopicArn"]
    assert parameter["Default"] == ""
    assert "HasAlarmTopic" in TEMPLATE.document["Conditions"]


def test_every_alarm_is_explained_in_the_operations_guide() -> None:
    guide = (ROOT / "docs/operations.md").read_text(encoding="utf-8").lower()
    for alarm in ALARMS.values():
        description = str(alarm["Properties"]["AlarmDescription"])
        anchor = description.split("docs/operations.md#", 1)[1].rstrip(")").strip()
        assert f"## {anchor.replace('-', ' ')}" in guide, anchor
