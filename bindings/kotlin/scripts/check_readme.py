"""Checks that the device example the Kotlin tests run (between the markers in
ReadmeTests.kt) is shown verbatim in bindings/kotlin/README.md and README.md."""
import pathlib
import sys
import textwrap

root = pathlib.Path(__file__).resolve().parents[3]
test = (root / "bindings/kotlin/src/test/kotlin/io/confkit/ReadmeTests.kt").read_text()
start = test.index("// --- README device example begins ---\n") + len("// --- README device example begins ---\n")
end = test.index("// --- README device example ends ---")
block = textwrap.dedent(test[start:test.rindex("\n", 0, end) + 1])
failed = False
for readme in ("bindings/kotlin/README.md", "README.md"):
    if block not in (root / readme).read_text():
        print(f"{readme} does not show the device example of ReadmeTests.kt verbatim")
        failed = True
if failed:
    sys.exit(1)
print(f"the Kotlin device example ({block.count(chr(10))} lines) is in both READMEs as the tests run it")
