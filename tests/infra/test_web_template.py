"""The web front ends' companion stack (web/template.yaml): private bucket, CloudFront, API path."""

from __future__ import annotations

from typing import Any

from hubdev.template import ROOT, load
from tests.infra.test_template import _sam

WEB_TEMPLATE = ROOT / "web" / "template.yaml"
RESOURCES: dict[str, Any] = load(WEB_TEMPLATE)["Resources"]


def test_web_template_is_lint_clean() -> None:
    result = _sam("validate", "--lint", "--template", str(WEB_TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_static_files_stay_private_and_are_read_only_through_cloudfront() -> None:
    bucket = RESOURCES["WebBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statements = RESOURCES["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allowed] == [{"Service": "cloudfront.amazonaws.com"}]
    assert [s["Action"] for s in allowed] == ["s3:GetObject"]
    assert "AWS:SourceArn" in allowed[0]["Condition"]["StringEquals"]
    origins = RESOURCES["WebDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    static = next(o for o in origins if o["Id"] == "static")
    assert static["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}


def test_api_calls_go_through_cloudfront_uncached() -> None:
    config = RESOURCES["WebDistribution"]["Properties"]["DistributionConfig"]
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/v1/*"]
    assert api["TargetOriginId"] == "api"
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert "POST" in api["AllowedMethods"]
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["ResponseHeadersPolicyId"], "shop themes import the module cross-origin (CORS)"
