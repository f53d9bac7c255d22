"""Strict bodies: what the schema says of request bodies that refuse unknown fields.

Request bodies refuse unknown fields (``web.schemas.Strict``), and Litestar's schema for a
msgspec Struct does not say so; ``StrictBodies`` adds ``additionalProperties: false`` so a
client built from the schema does not send what the server then refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition

__all__ = ["StrictBodies"]


class StrictBodies(StructSchemaPlugin):
    """Structs that forbid unknown fields get ``additionalProperties: false`` in the schema."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        if not super().is_plugin_supported_field(field_definition):
            return False
        info = msgspec.inspect.type_info(field_definition.type_)
        return isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema
