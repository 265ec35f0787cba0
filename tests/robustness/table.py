"""Print the robustness table (sample x mutation -> fields equal / fields kept) as Markdown.

Run: .venv/bin/python -m tests.robustness.table   (from the repository root)

A cell `15/15 (−1)` means: 15 fields kept by the mutation, all 15 equal to the unmutated sample's, and 1 field
the mutation takes away from the page (see the notes under the table).
"""

from __future__ import annotations

from pathlib import Path

from .mutations import COMBINED_REMOVES, MUTATIONS
from .records import HTML_SAMPLES, compared


def table() -> str:
    names = [Path(sample).stem for sample in HTML_SAMPLES]
    lines = ["| mutation | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for mutation in MUTATIONS:
        cells = [compared(sample, (mutation,)).cell() for sample in HTML_SAMPLES]
        lines.append(f"| {mutation.name} | " + " | ".join(cells) + " |")
    notes = [f"- {mutation.name}: takes away {', '.join(sorted(mutation.removes))} — {mutation.why}"
             for mutation in MUTATIONS if mutation.removes]
    notes += [f"- combined, {' + '.join(sorted(pair))}: take away {', '.join(sorted(removes))} — {why}"
              for pair, (removes, why) in COMBINED_REMOVES.items()]
    return "\n".join(lines + [""] + notes)


if __name__ == "__main__":
    print(table())
