"""Regenerate ``linter-vectors.json`` from a checkout of gs1/gs1-syntax-dictionary: every UNIT_TEST_PASS and
UNIT_TEST_FAIL of its ``src/lint_*.c`` whose data is a plain C string literal (the tests built in loops are left out,
and so are those of a custom GS1 Company Prefix look-up, compiled only with GS1_LINTER_CUSTOM_GCP_LOOKUP).

    python tests/foundation/gs1/data/extract_linter_vectors.py /path/to/gs1-syntax-dictionary
"""

import json
import re
import subprocess
import sys
from pathlib import Path

LOOKUP_ONLY = re.compile(r"#ifdef GS1_LINTER_CUSTOM_GCP_LOOKUP.*?#endif", re.DOTALL)
CASE = re.compile(r'UNIT_TEST_(PASS|FAIL)\(gs1_lint_(\w+),\s*"((?:[^"\\]|\\.)*)"\s*[,)]')


def main(checkout: Path) -> None:
    vectors = []
    for source in sorted((checkout / "src").glob("lint_*.c")):
        for verdict, linter, literal in CASE.findall(LOOKUP_ONLY.sub("", source.read_text())):
            data = literal.encode().decode("unicode_escape")
            vectors.append({"linter": linter, "data": data, "valid": verdict == "PASS"})
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    document = {
        "source": "gs1/gs1-syntax-dictionary, src/lint_*.c unit tests (Apache-2.0, GS1 AISBL)",
        "commit": commit.stdout.strip(),
        "vectors": vectors,
    }
    out = Path(__file__).with_name("linter-vectors.json")
    out.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n")
    print(f"{len(vectors)} vectors -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
