"""Numbers in request bodies as the OpenAPI document (3.1, JSON Schema) reads them: an `integer` is any JSON number
with no fractional part, `100` and `100.0` alike, and never a string or a boolean. Pydantic's lax mode also takes
"100" and `true`; its strict mode refuses `100.0`, which the published schema calls valid (and a client's JSON
library may write for a number it holds as a double). An integer field is declared strict, with `INTEGRAL` last:

    size_bytes: Annotated[int, Field(strict=True, gt=0), INTEGRAL]

(after the constraints, so that they stay in the int's own schema and the document shows them as JSON Schema's
`exclusiveMinimum`, not pydantic's `gt`)."""

from pydantic import BeforeValidator


def _integral(value: object) -> object:
    """An integral float as the int it is; anything else as it came, for the strict check to judge."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


INTEGRAL = BeforeValidator(_integral)
"""Takes 100.0 as 100 before a strict int field's check (which refuses 100.5, "100" and true)."""
