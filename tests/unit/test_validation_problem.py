"""The one mapper of validation errors to a 422 problem (`problems.validation_problem`), used by
the resolver, storefront bodies and the events intake."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from customer_hub.problems import validation_problem


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points_to_spend: int = Field(ge=1)
    tags: dict[int, int] = Field(default_factory=dict)


def _errors(body: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as invalid:
        Body.model_validate(body)
    return list(invalid.value.errors())  # type: ignore[arg-type]


def test_every_error_is_located_under_the_prefix_and_the_first_is_the_detail() -> None:
    problem = validation_problem(_errors({"points_to_spend": 0, "colour": "red"}), prefix=["body"])

    assert problem.status == 422 and problem.slug == "validation"
    assert [e["loc"] for e in problem.errors or []] == [
        ["body", "points_to_spend"],
        ["body", "colour"],
    ]
    assert problem.detail == "body.points_to_spend: Input should be greater than or equal to 1"


def test_pydantic_key_markers_are_dropped() -> None:
    errors = _errors({"points_to_spend": 1, "tags": {"a": 1}})
    assert errors[0]["loc"] == ("tags", "a", "[key]")

    problem = validation_problem(errors)

    assert [e["loc"] for e in problem.errors or []] == [["tags", "a"]]


def test_no_errors_still_answers_a_located_problem() -> None:
    problem = validation_problem([])

    assert (problem.detail, problem.errors) == ("invalid request", [])
