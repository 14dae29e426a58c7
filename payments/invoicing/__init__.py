"""The invoice pipeline: issuing (numbering, the immutable record), then delivery."""

from payments.invoicing.issue import issue_invoice

__all__ = ["issue_invoice"]
