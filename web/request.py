"""The app's request class: JSON bodies are read strictly against the handler's body type.

Litestar converts every handler argument with msgspec's lax rules (``strict=False``)
because query strings and forms only carry text: ``?limit=5`` must become 5. A JSON
body has real types, and the lax rules would take ``"30"`` for 30, ``0`` for false and
a number for a datetime. So the body is checked here with JSON's own, strict rules first;
what passes reads the same under the lax rules that follow.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import BodyKwarg
from litestar.serialization import default_deserializer

__all__ = ["StintRequest"]

#: msgspec ends its messages with the path: "Expected `int`, got `str` - at `$.expires_in_days`".
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def _error(exc: msgspec.ValidationError) -> dict[str, str]:
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    path = (match["path"] or "").lstrip(".")
    return {"key": path or "body", "message": match["message"], "source": "body"}


class StintRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        value = await super().json()
        field = self.route_handler.parsed_data_field
        kwarg = field.kwarg_definition if field is not None else None
        if field is None or not isinstance(kwarg, BodyKwarg) or kwarg.media_type != RequestEncodingType.JSON:
            return value
        decoder = partial(default_deserializer, type_decoders=self.route_handler.resolve_type_decoders())
        try:
            msgspec.json.decode(await self.body() or b"null", type=field.annotation, strict=True,
                                dec_hook=decoder)
        except msgspec.ValidationError as exc:
            raise ValidationException(
                detail=f"Validation failed for {self.method} {self.url.path}", extra=[_error(exc)]
            ) from None
        return value
