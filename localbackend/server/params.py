"""Numeric request parameters whose 400 names the parameter and its whole allowed range in plain words.

pydantic's own errors for `Literal["auto"] | int` name an internal union member as the parameter
(`n_epochs.int`) and give only the one bound that was crossed. `Range` validates in one step and publishes the
same range in the OpenAPI schema, so clients (and the fuzz suite) see what the server enforces:

    n_epochs: Annotated[Literal["auto"] | int, Range(1, 50, auto=True)] = "auto"
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

OUT_OF_RANGE = "value_out_of_range"
"""The error type `errors` recognises: its message is already the whole explanation."""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Range:
    """A number in [low, high] ((low, high] with `low_exclusive`), or also "auto" / null when allowed."""

    low: float
    high: float
    integer: bool = True
    low_exclusive: bool = False
    auto: bool = False
    optional: bool = False

    @property
    def expected(self) -> str:
        if self.integer:
            what = f"an integer from {int(self.low)} to {int(self.high)}"
        elif self.low_exclusive:
            what = f"a number above {self.low:g} and at most {self.high:g}"
        else:
            what = f"a number from {self.low:g} to {self.high:g}"
        return ('"auto" or ' if self.auto else "") + what + (" (or null)" if self.optional else "")

    def check(self, value: Any) -> Any:
        if (self.optional and value is None) or (self.auto and value == "auto"):
            return value
        if self.integer and isinstance(value, float) and value.is_integer():
            value = int(value)  # 3.0 is 3, as JSON does not tell them apart
        number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        fits = number and (isinstance(value, int) or not self.integer)
        if fits:
            fits = (self.low < value if self.low_exclusive else self.low <= value) and value <= self.high
        if not fits:
            shown = repr(value) if value is None or isinstance(value, int | float | bool) else type(value).__name__
            if isinstance(value, str):
                shown = "a string"
            raise PydanticCustomError(OUT_OF_RANGE, "must be {expected}, got {shown}", {"expected": self.expected,
                                                                                      "shown": shown})  # fmt: skip
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        number: dict[str, Any] = {"type": "integer" if self.integer else "number", "maximum": self.high}
        number["exclusiveMinimum" if self.low_exclusive else "minimum"] = self.low
        choices: list[dict[str, Any]] = [number]
        if self.auto:
            choices.append({"type": "string", "enum": ["auto"]})
        if self.optional:
            choices.append({"type": "null"})
        return choices[0] if len(choices) == 1 else {"anyOf": choices}
