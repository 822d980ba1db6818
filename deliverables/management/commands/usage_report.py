import csv
import re
from datetime import date
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from brands.models import Brand
from deliverables.selectors import UsageRow, provider_usage

COLUMNS = ("month", "brand", "provider", "calls", "errors", "tokens_in", "tokens_out", "tokens", "cost_usd", "unpriced")
NUMERIC = set(COLUMNS) - {"month", "brand", "provider"}


def _month(value: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise CommandError(f"--since must be a month as YYYY-MM (e.g. 2025-01), not {value!r}.")
    return date(int(match[1]), int(match[2]), 1)


def _cells(row: UsageRow) -> dict[str, str]:
    return {
        "month": row.month.strftime("%Y-%m"),
        "brand": row.brand or "-",
        "provider": row.provider,
        "calls": str(row.calls),
        "errors": str(row.errors),
        "tokens_in": str(row.tokens_in),
        "tokens_out": str(row.tokens_out),
        "tokens": str(row.tokens),
        "cost_usd": f"{row.cost_usd:.4f}",
        "unpriced": str(row.unpriced),
    }


class Command(BaseCommand):
    help = (
        "Tokens and cost of LLM and image calls by month, brand and provider, from the ProviderCall log. "
        "An aligned table with a total line, or CSV with --csv. `unpriced` counts successful calls to models "
        "without a known price (not included in cost_usd). Exit 0; 1 for a bad --since or unknown --brand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="YYYY-MM", help="First month to include (default: all).")
        parser.add_argument("--brand", metavar="SLUG", help="Only this brand.")
        parser.add_argument("--csv", action="store_true", help="Write CSV (with a header line) instead of a table.")

    def handle(self, *args, **options):
        since = _month(options["since"]) if options["since"] else None
        if options["brand"] and not Brand.objects.filter(slug=options["brand"]).exists():
            raise CommandError(f"No brand has the slug {options['brand']!r}.")
        rows = provider_usage(since=since, brand_slug=options["brand"])
        if options["csv"]:
            writer = csv.DictWriter(self.stdout, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(_cells(row) for row in rows)
            return
        if not rows:
            self.stdout.write("No provider calls in this period.")
            return
        lines = [_cells(row) for row in rows]
        lines.append(
            {
                "month": "total",
                "brand": "",
                "provider": "",
                "calls": str(sum(r.calls for r in rows)),
                "errors": str(sum(r.errors for r in rows)),
                "tokens_in": str(sum(r.tokens_in for r in rows)),
                "tokens_out": str(sum(r.tokens_out for r in rows)),
                "tokens": str(sum(r.tokens for r in rows)),
                "cost_usd": f"{sum((r.cost_usd for r in rows), Decimal('0')):.4f}",
                "unpriced": str(sum(r.unpriced for r in rows)),
            }
        )
        widths = {c: max(len(c), *(len(line[c]) for line in lines)) for c in COLUMNS}

        def format_line(cells: dict[str, str]) -> str:
            return "  ".join(
                cells[c].rjust(widths[c]) if c in NUMERIC else cells[c].ljust(widths[c]) for c in COLUMNS
            ).rstrip()

        self.stdout.write(format_line({c: c for c in COLUMNS}))
        self.stdout.write("  ".join("-" * widths[c] for c in COLUMNS))
        for line in lines[:-1]:
            self.stdout.write(format_line(line))
        self.stdout.write("  ".join("-" * widths[c] for c in COLUMNS))
        self.stdout.write(format_line(lines[-1]))
