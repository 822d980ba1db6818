"""axe-core in the browser tests: inject Deque's engine into the page, run the WCAG 2 A/AA rules (colour contrast
among them) and describe each violation so a failing test says what to fix.

The engine is the axe.min.js that the PyPI package axe-playwright-python ships (pinned in requirements-dev.txt), so
`make test` installs it with everything else and nothing is vendored here; only its file is used, the report below
is ours (it names the contrast figures, which the package's report leaves out)."""

from axe_playwright_python.base import AXE_FILE_PATH

AXE_SCRIPT = AXE_FILE_PATH.read_text(encoding="utf-8")

# WCAG 2.0, 2.1 and 2.2, levels A and AA: what "no violations" means for AICMO's pages.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
RUN_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "rules": {"color-contrast": {"enabled": True}},
    "resultTypes": ["violations"],
}

# Folded content is part of the page: open every <details> (approval previews, the amend editor) before checking.
OPEN_DISCLOSURES = "() => document.querySelectorAll('details:not([open])').forEach((d) => { d.open = true; })"


def axe_violations(page, *, open_disclosures: bool = True) -> list[dict]:
    """The WCAG A/AA violations axe-core finds on the page as it is now (injected through the DevTools protocol,
    which the pages' strict CSP does not block)."""
    if open_disclosures:
        page.evaluate(OPEN_DISCLOSURES)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate("(options) => axe.run(document, options).then((r) => r.violations)", RUN_OPTIONS)


def describe_node(node: dict) -> str:
    target = " ".join(" >> ".join(part) if isinstance(part, list) else part for part in node["target"])
    line = f"    {target}"
    for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
        data = check.get("data")
        if check["id"] == "color-contrast" and isinstance(data, dict) and data.get("contrastRatio") is not None:
            line += (
                f"\n      contrast {data['contrastRatio']}:1 (needs {data.get('expectedContrastRatio')}),"
                f" {data.get('fgColor')} on {data.get('bgColor')}, {data.get('fontSize')} {data.get('fontWeight')}"
            )
        else:
            line += f"\n      {check['message']}"
    html = " ".join(node.get("html", "").split())
    return line + f"\n      html: {html[:160]}{'…' if len(html) > 160 else ''}"


def describe_violations(violations: list[dict]) -> str:
    """One block per rule: id, impact, what it asks, then every offending element with its numbers."""
    blocks = []
    for violation in violations:
        count = len(violation["nodes"])
        head = f"  [{violation['id']}] ({violation.get('impact')}) {violation['help']} — {count} element(s)"
        blocks.append("\n".join([head, *(describe_node(node) for node in violation["nodes"])]))
    return "\n".join(blocks)


def axe_problems(page, label: str) -> str:
    """'' when axe-core finds nothing, else a readable report headed by `label` (page, theme, viewport)."""
    violations = axe_violations(page)
    if not violations:
        return ""
    return f"{label} — {page.url}\n{describe_violations(violations)}"
