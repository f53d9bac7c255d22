"""Invoice PDFs with fpdf2 (``core.billing.InvoiceRenderer``).

One A4 page (more when the lines need them): the seller and the buyer, the number and the
dates, each line with its service days and amount and, under a prorated line, its per-day
computation in words (``core.billing.explain_line``), then the total, the credit applied,
each credit note and the amount due.

The PDF core fonts (Helvetica) cover Latin-1, which holds every letter Stint writes in
English and German; the few typographic signs outside it (→, −, …) are spelled in ASCII
rather than shipping a font file.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from core.billing import InvoiceDocument, explain_line
from core.texts import PLAIN, Texts

__all__ = ["PdfInvoiceRenderer"]

_ASCII = str.maketrans({
    "→": "->", "−": "-", "–": "-", "—": "-", "…": "...", "‘": "'", "’": "'", "“": '"', "”": '"',
    "\u00a0": " ", "\u202f": " ",
})


def _kinds(t: Texts) -> dict[str, str]:
    return {
        "purchase": t.tr("Purchase"),
        "proration": t.tr("Change of terms (prorated per day)"),
        "renewal": t.tr("Renewal"),
    }


def _statuses(t: Texts) -> dict[str, str]:
    return {"due": t.tr("Due"), "paid": t.tr("Paid"), "void": t.tr("Void")}


def _latin1(text: str) -> str:
    return text.translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


class _Page(FPDF):
    texts: Texts = PLAIN

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90, 90, 90)
        words = self.texts.tr("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, _latin1(words), align=Align.C)


class PdfInvoiceRenderer:
    media_type = "application/pdf"

    def render(self, document: InvoiceDocument) -> bytes:
        invoice = document.invoice
        currency = invoice.currency
        number = invoice.number_text or invoice.id
        t = document.texts

        def money(amount: int) -> str:
            return t.money(amount, currency)

        pdf = _Page(format="A4")
        pdf.texts = t
        pdf.set_margins(18, 18, 18)
        pdf.set_auto_page_break(True, margin=18)
        # The same invoice gives the same bytes: dated by its issue day, not by the clock.
        pdf.set_creation_date(datetime.combine(invoice.issued_on, time(0), tzinfo=UTC))
        pdf.set_title(_latin1(t.tr("Invoice %(number)s", number=number)))
        pdf.set_author(_latin1(document.seller.name))
        pdf.set_creator("Stint")
        pdf.add_page()
        width = pdf.epw

        def text(value: str, *, size: float = 10, style: str = "", height: float = 5,
                 align: Align = Align.L, w: float = 0) -> None:
            pdf.set_font("Helvetica", style=style, size=size)
            pdf.multi_cell(w or width, height, _latin1(value), align=align,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        text(t.tr("Invoice %(number)s", number=number), size=18, style="B", height=9)
        pdf.ln(2)

        # Seller on the left, buyer on the right.
        top = pdf.get_y()
        half = width / 2 - 4
        bottoms: list[float] = []
        parties = ((t.tr("From"), document.seller), (t.tr("Bill to"), document.buyer))
        for column, (heading, party) in enumerate(parties):
            pdf.set_xy(pdf.l_margin + column * (half + 8), top)
            pdf.set_font("Helvetica", style="B", size=9)
            pdf.cell(half, 5, _latin1(heading.upper()), new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.set_font("Helvetica", style="B", size=10)
            pdf.multi_cell(half, 5, _latin1(party.name), new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.set_font("Helvetica", size=10)
            for detail in party.details:
                pdf.multi_cell(half, 5, _latin1(detail), new_x=XPos.LEFT, new_y=YPos.NEXT)
            bottoms.append(pdf.get_y())
        pdf.set_xy(pdf.l_margin, max(bottoms) + 4)

        facts = [
            (t.tr("Invoice number"), number),
            (t.tr("Issued on"), t.day(invoice.issued_on)),
            (t.tr("For"), _kinds(t).get(document.kind, document.kind)),
            (t.tr("Status"), _statuses(t).get(invoice.status, invoice.status)),
            (t.tr("Subscription"), document.account),
            (t.tr("Reference"), invoice.id),
        ]
        for label, value in facts:
            pdf.set_font("Helvetica", style="B", size=10)
            pdf.cell(40, 5, _latin1(label))
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(width - 40, 5, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)

        # The lines: description and service days on the left, the amount on the right.
        amount_w = 38
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(width - amount_w, 6, _latin1(t.tr("Line")), border="B")
        pdf.cell(amount_w, 6, _latin1(t.tr("Amount")), border="B", align=Align.R,
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for line in invoice.lines:
            pdf.ln(1)
            y = pdf.get_y()
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(width - amount_w, 5, _latin1(line.description),
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            bottom = pdf.get_y()
            pdf.set_xy(pdf.l_margin + width - amount_w, y)
            pdf.cell(amount_w, 5, _latin1(money(line.amount)), align=Align.R)
            pdf.set_xy(pdf.l_margin, bottom)
            pdf.set_font("Helvetica", size=9)
            pdf.set_text_color(70, 70, 70)
            pdf.multi_cell(width - amount_w, 4.5,
                           _latin1(t.tr("Service days %(start)s to %(end)s (the end day not included)",
                                        start=t.day(line.starts_on), end=t.day(line.ends_on))),
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            work = explain_line(line, currency, t)
            if work:
                pdf.set_font("Helvetica", style="B", size=9)
                pdf.multi_cell(width - amount_w, 4.5, _latin1(t.tr("How this line is computed (per day):")),
                               new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.set_font("Helvetica", size=9)
                for sentence in work:
                    pdf.set_x(pdf.l_margin + 4)
                    pdf.multi_cell(width - amount_w - 4, 4.5, _latin1(sentence),
                                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_text_color(0, 0, 0)
        pdf.ln(2)
        pdf.cell(width, 0, "", border="T", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)

        def total(label: str, value: str, *, bold: bool = False) -> None:
            pdf.set_font("Helvetica", style="B" if bold else "", size=11 if bold else 10)
            pdf.multi_cell(width - amount_w, 6, _latin1(label), align=Align.R,
                           new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.cell(amount_w, 6, _latin1(value), align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

        total(t.tr("Total"), money(invoice.total))
        total(t.tr("Credit applied from your credit balance"),
              f"-{money(invoice.credit_applied)}" if invoice.credit_applied else money(0))
        for note in invoice.credit_notes:
            total(t.tr("Credit note of %(day)s: %(description)s", day=t.day(note.issued_on),
                       description=note.description),
                  f"-{money(note.amount)}")
        total(t.tr("Amount due"), money(invoice.amount_due), bold=True)
        pdf.ln(6)
        text(
            t.tr("All amounts are computed by Stint in exact fractions and rounded once per line, half to "
                 "even, to the cent. Credit is applied to your next invoices and never paid out."),
            size=8, height=4,
        )
        return bytes(pdf.output())
