"""The Reporting API's ``$metadata``: the CSDL (OData 4.0, XML) of the entity model."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from core.reporting import MODEL, NAMESPACE, Edm

__all__ = ["metadata_xml"]

_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"
_AGGREGATION = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Aggregation.V1.xml"


def metadata_xml() -> bytes:
    """The CSDL (OData 4.0) of every entity set, with the Aggregation vocabulary's
    ``ApplySupported`` on the container: which ``$apply`` transformations work."""
    ET.register_namespace("edmx", _EDMX)
    root = ET.Element(f"{{{_EDMX}}}Edmx", {"Version": "4.0"})
    ref = ET.SubElement(root, f"{{{_EDMX}}}Reference", {"Uri": _AGGREGATION})
    ET.SubElement(
        ref, f"{{{_EDMX}}}Include", {"Namespace": "Org.OData.Aggregation.V1", "Alias": "Aggregation"}
    )
    services = ET.SubElement(root, f"{{{_EDMX}}}DataServices")
    schema = ET.SubElement(services, "Schema", {"xmlns": _EDM, "Namespace": NAMESPACE})
    for entity_set in MODEL.values():
        entity = ET.SubElement(schema, "EntityType", {"Name": entity_set.type_name})
        key = ET.SubElement(entity, "Key")
        ET.SubElement(key, "PropertyRef", {"Name": entity_set.key})
        for prop in entity_set.properties:
            attrs = {"Name": prop.name, "Type": prop.edm.value}
            if not prop.nullable:
                attrs["Nullable"] = "false"
            if prop.edm is Edm.DECIMAL:
                attrs["Scale"] = "variable"
            ET.SubElement(entity, "Property", attrs)
        for nav in entity_set.navigations:
            target = MODEL[nav.target]
            ET.SubElement(
                entity,
                "NavigationProperty",
                {
                    "Name": nav.name,
                    "Type": f"{NAMESPACE}.{target.type_name}",
                    "Nullable": "true",
                },
            )
    container = ET.SubElement(schema, "EntityContainer", {"Name": "Reporting"})
    for entity_set in MODEL.values():
        element = ET.SubElement(
            container,
            "EntitySet",
            {
                "Name": entity_set.name,
                "EntityType": f"{NAMESPACE}.{entity_set.type_name}",
            },
        )
        for nav in entity_set.navigations:
            ET.SubElement(element, "NavigationPropertyBinding", {"Path": nav.name, "Target": nav.target})
    note = ET.SubElement(container, "Annotation", {"Term": "Aggregation.ApplySupported"})
    record = ET.SubElement(note, "Record")
    transformations = ET.SubElement(record, "PropertyValue", {"Property": "Transformations"})
    collection = ET.SubElement(transformations, "Collection")
    for name in ("aggregate", "groupby", "filter", "compute"):
        ET.SubElement(collection, "String").text = name
    ET.SubElement(
        record, "PropertyValue", {"Property": "Rollup", "EnumMember": "Aggregation.RollupType/None"}
    )
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
