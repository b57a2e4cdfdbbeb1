#!/usr/bin/env python3
"""Checks the Swift package against include/confkit.h without a Swift compiler.

Every `confkit_*` / `CONFKIT_*` identifier used in Sources/ and Tests/ must be
declared by the header, and every call must pass as many arguments as the
prototype has parameters. Also: `Confkit.bindingABIVersion` must equal the
header's CONFKIT_ABI_VERSION, every CONFKIT_EVENT_* kind must have its `case`
in Event.swift, and every CONFKIT_STATUS_* value its case in
ConfkitError.Status. Lists header functions the package does not wrap. Exit
status 1 on any problem.

Usage: python3 bindings/swift/scripts/check_abi.py
"""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
HEADER = os.path.join(PACKAGE, "..", "..", "include", "confkit.h")


def header_declarations(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    protos = {}
    for m in re.finditer(r"\n([A-Za-z_][\w \*]*?)\b(confkit_\w+)\s*\(([^;{]*?)\)\s*;", text):
        params = m.group(3).strip()
        count = 0 if params in ("", "void") else params.count(",") + 1
        protos[m.group(2)] = (count, " ".join(params.split()))
    macros = set(re.findall(r"#define\s+(CONFKIT_\w+)", text))
    types = (set(re.findall(r"typedef\s+[^;]*?\b(confkit_\w+)\s*;", text))
             | set(re.findall(r"\(\*(confkit_\w+)\)", text))
             | set(re.findall(r"}\s*(confkit_\w+)\s*;", text)))
    return protos, macros, types


def argument_count(code, open_paren):
    depth, args, nonempty = 0, 0, False
    i = open_paren
    while True:
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                break
        elif c == "," and depth == 1:
            args += 1
        elif not c.isspace() and depth >= 1:
            nonempty = True
        i += 1
    return args + 1 if nonempty else 0


def coverage(header_text):
    """Problems of the package against the header's ABI version, event kinds
    and statuses (each a printable line)."""
    out = []
    values = dict(re.findall(r"#define\s+(CONFKIT_\w+)\s+(-?\d+)\s*$", header_text, flags=re.M))
    sources = os.path.join(PACKAGE, "Sources", "Confkit")
    with open(os.path.join(sources, "Confkit.swift")) as f:
        m = re.search(r"bindingABIVersion\s*:\s*UInt32\s*=\s*(\d+)", f.read())
    if not m:
        out.append("Sources/Confkit/Confkit.swift: no `bindingABIVersion: UInt32 = N`")
    elif m.group(1) != values.get("CONFKIT_ABI_VERSION"):
        out.append(f"Sources/Confkit/Confkit.swift: bindingABIVersion {m.group(1)} but the header has "
                   f"CONFKIT_ABI_VERSION {values.get('CONFKIT_ABI_VERSION')}: update the package")
    with open(os.path.join(sources, "Event.swift")) as f:
        event = re.sub(r"//[^\n]*", "", f.read())
    for name in sorted(n for n in values if n.startswith("CONFKIT_EVENT_")):
        if not re.search(r"\bcase\s+" + name + r"\s*:", event):
            out.append(f"Sources/Confkit/Event.swift: no `case {name}:` (kind {values[name]})")
    with open(os.path.join(sources, "ConfkitError.swift")) as f:
        status_cases = set(re.findall(r"\bcase\s+\w+\s*=\s*(-?\d+)", re.sub(r"//[^\n]*", "", f.read())))
    for name in sorted(n for n in values if n.startswith("CONFKIT_STATUS_")):
        if values[name] != "0" and values[name] not in status_cases:
            out.append(f"Sources/Confkit/ConfkitError.swift: no Status case = {values[name]} ({name})")
    return out


def main():
    with open(HEADER) as f:
        header_text = f.read()
    protos, macros, types = header_declarations(header_text)
    files = sorted(glob.glob(os.path.join(PACKAGE, "Sources", "**", "*.swift"), recursive=True)
                   + glob.glob(os.path.join(PACKAGE, "Tests", "**", "*.swift"), recursive=True))
    problems, used = 0, set()
    for path in files:
        with open(path) as f:
            code = f.read()
        code = re.sub(r"//[^\n]*", "", code)
        code = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', code)
        for m in re.finditer(r"\b(confkit_\w+|CONFKIT_\w+)\b(\s*\()?", code):
            name = m.group(1)
            line = code[:m.start()].count("\n") + 1
            where = f"{os.path.relpath(path, PACKAGE)}:{line}"
            used.add(name)
            if name in protos:
                if not m.group(2):
                    problems += 1
                    print(f"{where}: {name} is used without being called")
                    continue
                n = argument_count(code, m.end() - 1)
                if n != protos[name][0]:
                    problems += 1
                    print(f"{where}: {name} called with {n} arguments; the header has "
                          f"{protos[name][0]}: ({protos[name][1]})")
            elif name not in macros and name not in types:
                problems += 1
                print(f"{where}: {name} is not declared in include/confkit.h")
    for problem in coverage(header_text):
        problems += 1
        print(problem)
    unwrapped = sorted(set(protos) - used)
    print(f"header: {len(protos)} functions, {len(macros)} macros, {len(types)} types; "
          f"Swift files: {len(files)}")
    print("header functions the package does not call:", ", ".join(unwrapped) or "none")
    print(f"{len(protos) - len(unwrapped)} passed, {problems} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
