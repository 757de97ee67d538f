"""Every relative link and every #anchor in every README.md of the repository resolves.

Usage: /usr/bin/python3 test_readme_links.py <stresslab-binary> <source-dir>   (the binary is not used)

The READMEs are those git tracks (plus new, not ignored ones, so a README about to be committed is
checked too); without git, every README.md under the source dir outside build/ and results/.
A link is `[text](target)` outside code spans and fenced code blocks; http(s)/mailto targets are
not followed. `path` must exist relative to the README's folder; `path#anchor` / `#anchor` must name
a heading of that Markdown file by GitHub's rule: the heading text without Markdown (code spans keep
their text, links their label), lowercased, every character that is not a letter, digit, space,
hyphen or underscore dropped, spaces turned into hyphens; a repeated heading gets -1, -2, ...
The checker is first run on a small tree made here with known broken links, so it is shown to fail
on them. Standalone (no pytest): prints each failure, then `N passed, M failed`; exits non-zero on
any failure.
"""

import os
import re
import subprocess
import sys
import tempfile

from harness import Checks

CHECKS = Checks()
check = CHECKS.check

FENCE = re.compile(r"^\s{0,3}(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")


def slug(heading):
    """GitHub's anchor of a heading's text."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its label
    text = text.lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def prose_lines(text):
    """(line number, line) outside fenced code blocks."""
    fenced = False
    for n, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def anchors(path):
    seen = {}
    out = set()
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    for _n, line in prose_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.add(base if k == 0 else f"{base}-{k}")
    return out


def links(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    for n, line in prose_lines(text):
        for m in LINK.finditer(CODE_SPAN.sub("", line)):
            yield n, m.group(2)


def broken_links(root, readmes):
    """Every link of `readmes` (paths relative to root) that does not resolve, as 'FILE:LINE: target: why'."""
    problems = []
    cache = {}
    for rel in readmes:
        path = os.path.join(root, rel)
        for n, target in links(path):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            where = f"{rel}:{n}: {target}"
            if not target:
                problems.append(f"{where}: empty link")
                continue
            if not os.path.exists(dest):
                problems.append(f"{where}: {os.path.relpath(dest, root)} does not exist")
                continue
            if anchor:
                if not dest.endswith(".md") or os.path.isdir(dest):
                    problems.append(f"{where}: an anchor into a file that is not Markdown")
                    continue
                if dest not in cache:
                    cache[dest] = anchors(dest)
                if anchor not in cache[dest]:
                    problems.append(f"{where}: no heading with anchor #{anchor} in {os.path.relpath(dest, root)}")
    return problems


def repo_readmes(src):
    try:
        r = subprocess.run(["git", "-C", src, "ls-files", "--cached", "--others", "--exclude-standard",
                            "--", "README.md", "*/README.md"], capture_output=True, text=True, timeout=60)
        if r.returncode == 0 and r.stdout.strip():
            return sorted(set(r.stdout.split()))
    except (OSError, subprocess.SubprocessError):
        pass
    found = []
    for d, dirs, files in os.walk(src):
        dirs[:] = [x for x in dirs if x not in (".git", "build", "results")]
        if "README.md" in files:
            found.append(os.path.relpath(os.path.join(d, "README.md"), src))
    return sorted(found)


# ------------------------------------------------------------------------------------------------------

def check_slug_rule():
    assert slug("Liquidation: the `market` policy (step 5)") == "liquidation-the-market-policy-step-5"
    assert slug("Liquidation events (`/runs/<id>/liquidations`)") == "liquidation-events-runsidliquidations"
    assert slug("Simplifications (said in the open)") == "simplifications-said-in-the-open"
    assert slug("sim/run: one run") == "simrun-one-run"
    assert slug("Calibration state of `crash.json`") == "calibration-state-of-crashjson"


def check_checker_fails_on_broken_links():
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "sub"))
        with open(os.path.join(tmp, "sub", "README.md"), "w", encoding="utf-8") as fh:
            fh.write("# Sub: the `x` part\n\n## Repeated\n\n## Repeated\n")
        with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as fh:
            fh.write("# Top\n\n"
                     "[ok file](sub/README.md) [ok anchor](sub/README.md#sub-the-x-part) [ok dir](sub)\n"
                     "[ok second](sub/README.md#repeated-1) [ok self](#top) [web](https://example.org/x)\n"
                     "[missing file](sub/NOPE.md)\n"
                     "[missing anchor](sub/README.md#repeated-2)\n"
                     "[missing self anchor](#nowhere)\n"
                     "`[in a code span](nope.md)`\n"
                     "```\n[in a code block](nope.md)\n```\n")
        got = broken_links(tmp, ["README.md", "sub/README.md"])
        want = ["README.md:5: sub/NOPE.md: sub/NOPE.md does not exist",
                "README.md:6: sub/README.md#repeated-2: no heading with anchor #repeated-2 in sub/README.md",
                "README.md:7: #nowhere: no heading with anchor #nowhere in README.md"]
        assert got == want, "\n".join(got)


def check_repo(src):
    readmes = repo_readmes(src)
    assert "README.md" in readmes, readmes
    problems = broken_links(src, readmes)
    print(f"     {len(readmes)} READMEs, {sum(1 for r in readmes for _ in links(os.path.join(src, r)))} links")
    assert not problems, "broken links:\n" + "\n".join(problems)


def main():
    src = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    check("GitHub anchor rule on known headings", check_slug_rule)
    check("the checker reports exactly the broken links of a made-up tree", check_checker_fails_on_broken_links)
    check("every link and anchor in the repository's READMEs resolves", check_repo, src)
    return CHECKS.summary()


if __name__ == "__main__":
    sys.exit(main())
