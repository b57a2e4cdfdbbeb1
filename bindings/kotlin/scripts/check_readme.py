"""Checks that the examples the Kotlin tests run (between the markers in
ReadmeTests.kt: the device example, and the server example) are shown verbatim
in bindings/kotlin/README.md and README.md."""
import pathlib
import sys
import textwrap

root = pathlib.Path(__file__).resolve().parents[3]
test = (root / "bindings/kotlin/src/test/kotlin/io/confkit/ReadmeTests.kt").read_text()
failed = False
for name in ("device", "server"):
    begin = f"// --- README {name} example begins ---\n"
    start = test.index(begin) + len(begin)
    end = test.index(f"// --- README {name} example ends ---")
    block = textwrap.dedent(test[start:test.rindex("\n", 0, end) + 1])
    for readme in ("bindings/kotlin/README.md", "README.md"):
        if block not in (root / readme).read_text():
            print(f"{readme} does not show the {name} example of ReadmeTests.kt verbatim")
            failed = True
    if not failed:
        print(f"the Kotlin {name} example ({block.count(chr(10))} lines) is in both READMEs as the tests run it")
if failed:
    sys.exit(1)
