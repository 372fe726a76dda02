"""Prints a fenced code block of README.md, so scripts/test-dist.sh runs the README's own examples
against the installed packages: `python3 scripts/lib/readme_block.py SECTION LANG [N]` prints the N-th
(from 1) ```LANG block under the `## SECTION` heading. Exits 1 when there is none."""
import pathlib
import re
import sys

section, lang = sys.argv[1], sys.argv[2]
nth = int(sys.argv[3]) if len(sys.argv) > 3 else 1
text = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
parts = re.split(r"^## ", text, flags=re.M)
body = next((p for p in parts if p.startswith(section + "\n")), None)
if body is None:
    sys.exit(f"README.md has no section '## {section}'")
blocks = re.findall(r"^```" + re.escape(lang) + r"\n(.*?)^```", body, flags=re.M | re.S)
if len(blocks) < nth:
    sys.exit(f"README.md '## {section}' has {len(blocks)} ```{lang} block(s), not {nth}")
sys.stdout.write(blocks[nth - 1])
