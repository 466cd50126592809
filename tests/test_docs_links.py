"""Every relative link and #anchor in README.md and docs/*.md resolves.

Anchors are GitHub's: a heading's text lower-cased, punctuation but hyphens and
underscores removed, spaces made hyphens, a repeated heading numbered `-1`, `-2`.
Headings and links inside fenced code blocks and inline code do not count."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`[^`]*`")
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\)")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)      # a link keeps its text
    text = text.replace("`", "").replace("*", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor the page's headings make."""
    seen: dict[str, int] = {}
    out = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def links(page: Path) -> list[str]:
    """The link targets of a page, outside code."""
    found = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        found += LINK.findall(INLINE_CODE.sub("", line))
    return found


def broken_links(page: Path) -> list[str]:
    """`page: target (why)` for each relative link or anchor that does not resolve."""
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):           # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{page.name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{page.name}: {target} (no heading makes #{anchor})")
    return broken


def test_the_slug_is_githubs():
    assert slug("How sure: the correlation engine (`correlation/`)") == \
        "how-sure-the-correlation-engine-correlation"
    assert slug("2. The human study: `experiments.human_study`") == \
        "2-the-human-study-experimentshuman_study"
    assert slug("Quickstart: your own ratings or preferences") == \
        "quickstart-your-own-ratings-or-preferences"


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n[ok](other.md#a-section) [ok](#page) [web](https://x.org/y)\n"
                    "[gone](missing.md) [bad anchor](other.md#no-section) [self](#nowhere)\n"
                    "```\n[in code](also-missing.md)\n```\n`[inline](missing-too.md)`\n",
                    encoding="utf-8")
    assert broken_links(page) == ["page.md: missing.md (no such file)",
                                  "page.md: other.md#no-section (no heading makes #no-section)",
                                  "page.md: #nowhere (no heading makes #nowhere)"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_link_and_anchor_resolves(page):
    assert broken_links(page) == []


def test_the_index_lists_every_doc():
    index = REPO / "docs" / "index.md"
    listed = {Path(t.partition("#")[0]).name for t in links(index)}
    missing = [p.name for p in PAGES if p.parent.name == "docs" and p.name != "index.md"
               and p.name not in listed]
    assert missing == []


def test_the_readme_links_every_doc_and_stays_short():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in PAGES if p.parent.name == "docs"
               and f"](docs/{p.name}" not in readme]
    assert missing == []
    assert len(readme.splitlines()) <= 300
