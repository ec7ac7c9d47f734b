#!/usr/bin/env python3
"""Runs the tour of README.md verbatim and compares what each command prints with the README.

usage: readme_tour.py --readme FILE --dir CLONE [--timeout SECONDS]

The README's first ```sh block is the set-up command; everything after its build steps
(`tools/deps.sh && cmake ... && cmake --build build -j && ...`) is run first, as a newcomer's
first command leaves the clone. Then every ```console block runs, in order, in ONE bash session
(variables such as REG carry from block to block) on a pseudo-terminal, as a reader's terminal
would show it: stdout and stderr interleaved, progress bars redrawn in place.

In a ```console block, a line starting with "$ " is a command; lines right after it starting with
"> " continue it (a here-document, or a line ended by "\\"); every other line is what the command
prints. A command must exit 0: a command the tour shows failing ends in `|| echo "exit status $?"`.

Before comparing, both sides are masked: digests (sha256:HEX), git commit ids (40 hex digits),
loopback ports, temporary paths, timings and sizes ("10.6 KB", "(1234 bytes)": compressed sizes
follow zlib's version). Exit status 0 when every block matches; 1 with a diff per mismatch.
"""
import argparse
import difflib
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

BEGIN = "@@hoist-tour-begin {}@@"
END_RE = re.compile(r"^@@hoist-tour-end (\d+) (\d+)@@$")
BEGIN_RE = re.compile(r"^@@hoist-tour-begin (\d+)@@$")


def parse_readme(text):
    """Returns (setup command, test command, [blocks]); a block is a list of (line, command, expected)."""
    lines = text.split("\n")
    fences = []  # (language, first line number, body lines)
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if m:
            lang, start, body = m.group(1), i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise SystemExit("README.md: the code block opened at line %d is never closed" % start)
            fences.append((lang, start, body))
        i += 1
    sh = [f for f in fences if f[0] == "sh"]
    if len(sh) < 2:
        raise SystemExit("README.md: the two opening ```sh blocks (set up, test) are missing")
    setup = " ".join(l.strip() for l in sh[0][2] if l.strip())
    tests = " ".join(l.strip() for l in sh[1][2] if l.strip())
    blocks = []
    for lang, start, body in fences:
        if lang != "console":
            continue
        items = []
        for n, line in enumerate(body):
            if line.startswith("$ "):
                items.append([start + n + 1, line[2:], []])
            elif not items:
                raise SystemExit("README.md:%d: a console block must start with a '$ ' command" % (start + n + 1))
            elif line.startswith("> ") or line == ">":
                cmd_done = bool(items[-1][2])
                if cmd_done:
                    raise SystemExit("README.md:%d: a '> ' continuation after output" % (start + n + 1))
                items[-1][1] += "\n" + line[2:]
            else:
                items[-1][2].append(line)
        blocks.append(items)
    return setup, tests, blocks


def setup_tail(setup):
    """The part of the first command that runs after the packages are installed and hoist is built."""
    parts = [p.strip() for p in setup.split("&&")]
    want = ["tools/deps.sh", "cmake -S . -B build", "cmake --build build"]
    for w in want:
        if not parts or not parts[0].startswith(w):
            raise SystemExit("README.md: the first command must begin with %r (it has %r)" % (w, setup))
        parts.pop(0)
    if not parts or not parts[0].startswith("build/hoist release "):
        raise SystemExit("README.md: after building, the first command must release the example "
                         "with build/hoist (it has %r)" % setup)
    return " && ".join(parts)


def terminal(raw):
    """What a terminal shows for raw pty output: CR/LF endings, \\r redraws and ESC[K erasures applied."""
    out = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        buf, col, i = [], 0, 0
        while i < len(line):
            c = line[i]
            if c == "\r":
                col = 0
            elif c == "\x1b":
                m = re.match(r"\x1b\[([0-9;]*)([A-Za-z])", line[i:])
                if m:
                    if m.group(2) == "K":
                        del buf[col:]
                    i += len(m.group(0))
                    continue
            else:
                if col < len(buf):
                    buf[col] = c
                else:
                    buf.append(c)
                col += 1
            i += 1
        out.append("".join(buf))
    return out


MASKS = [
    (re.compile(r"sha256:[0-9a-f]{6,64}(\.\.\.)?"), "sha256:<digest>"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "<commit>"),
    # `created` is the last commit's time when SOURCE_DATE_EPOCH is unset: it moves like <commit>
    (re.compile(r'("org\.opencontainers\.image\.created": ")\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'), r"\1<time>"),
    (re.compile(r"\b(127\.0\.0\.1|localhost):\d+"), r"\1:<port>"),
    (re.compile(r"/tmp/[^\s'\"]+"), "<tmp>"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)? (B|KB|MB|GB)\b"), "<size>"),
    (re.compile(r"\(\d+ bytes\)"), "(<size>)"),
]


def mask(line, tmp):
    if tmp:
        line = line.replace(tmp, "/tmp/TOUR")
    for rx, rep in MASKS:
        line = rx.sub(rep, line)
    return line.rstrip()


def strip_tail(lines):
    lines = list(lines)
    while lines and lines[-1].strip() == "":
        lines.pop()
    return lines


def run_session(commands, cwd, env, timeout):
    """Runs the commands in one bash on a pty; returns {index: (exit status, [screen lines])}."""
    script = ["set +e"]
    for n, cmd in enumerate(commands):
        script.append("printf '%s\\n' " % BEGIN.format(n))
        script.append(cmd)
        script.append("printf '\\n@@hoist-tour-end %d %%d@@\\n' $?" % n)
    path = os.path.join(env["TMPDIR"], "tour-session.sh")
    with open(path, "w") as f:
        f.write("\n".join(script) + "\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen(["bash", "--noprofile", "--norc", path], cwd=cwd, env=env,
                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.killpg(proc.pid, signal.SIGKILL)
                raise SystemExit("the tour did not finish within %d s; output so far:\n%s"
                                 % (timeout, b"".join(chunks).decode("utf-8", "replace")[-4000:]))
            r, _, _ = select.select([master], [], [], min(left, 1.0))
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer of the pty is gone
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                # bash is gone and nothing came for a second: a background process that kept the
                # terminal open (it should not) does not hold the test
                break
    finally:
        os.close(master)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    screen = terminal(b"".join(chunks).decode("utf-8", "replace"))
    results, current, buf = {}, None, []
    for line in screen:
        b = BEGIN_RE.match(line)
        e = END_RE.match(line)
        if b:
            current, buf = int(b.group(1)), []
        elif e and current is not None and int(e.group(1)) == current:
            results[current] = (int(e.group(2)), strip_tail(buf))
            current = None
        elif current is not None:
            buf.append(line)
    return results


def compare(expected, actual, tmp):
    """A unified diff of the masked lines, empty when they agree."""
    e = [mask(l, tmp) for l in strip_tail(expected)]
    a = [mask(l, tmp) for l in strip_tail(actual)]
    if e == a:
        return []
    return list(difflib.unified_diff(e, a, "README.md", "actual", lineterm="", n=2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--timeout", type=int, default=600)
    o = ap.parse_args()
    with open(o.readme, encoding="utf-8") as f:
        setup, tests, blocks = parse_readme(f.read())
    if tests != "tools/test.sh":
        raise SystemExit("README.md: the second command must be `tools/test.sh` (it has %r)" % tests)
    commands = [setup_tail(setup)]
    items = []  # (README line, command, expected)
    for block in blocks:
        for line, cmd, expected in block:
            commands.append(cmd)
            items.append((line, cmd, expected))
    if not items:
        raise SystemExit("README.md has no ```console blocks: nothing of the tour is checked")
    env = dict(os.environ)
    results = run_session(commands, o.dir, env, o.timeout)
    tmp = env.get("HOIST_TOUR_TMP") or env.get("TMPDIR")
    failures = 0
    status, out = results.get(0, (None, []))
    if status != 0:
        failures += 1
        print("FAIL: the first command (%s) exited %s:\n  %s" % (commands[0], status, "\n  ".join(out)))
    compared = 0
    for n, (line, cmd, expected) in enumerate(items, start=1):
        if n not in results:
            failures += 1
            print("FAIL: README.md:%d: `%s` did not run to its end (the session stopped before it)" % (line, cmd))
            continue
        status, actual = results[n]
        problems = []
        if status != 0:
            problems.append("exited %d (a command the tour shows failing must end in "
                            "`|| echo \"exit status $?\"`)" % status)
        diff = compare(expected, actual, tmp)
        if diff:
            problems.append("prints something else than the README shows:\n    " + "\n    ".join(diff))
        compared += len(strip_tail(expected))
        if problems:
            failures += 1
            print("FAIL: README.md:%d: $ %s" % (line, cmd.replace("\n", "\n    > ")))
            for p in problems:
                print("  " + p)
            print("  what it printed (unmasked, to paste into the README):")
            for l in actual:
                print("    | " + l)
        else:
            print("ok: README.md:%d: $ %s" % (line, cmd.split("\n")[0]))
    # The comparison must be able to fail: a README line changed by one word is caught.
    planted = next(((l, c, e) for l, c, e in items if e), None)
    if planted is not None:
        changed = list(planted[2])
        changed[0] = changed[0] + " (drifted)"
        n = items.index(planted) + 1
        if not compare(changed, results.get(n, (0, planted[2]))[1], tmp):
            failures += 1
            print("FAIL: self-check: a drifted README line (README.md:%d) was not noticed" % planted[0])
    print("tour: %d commands run, %d README output lines compared, %d failed"
          % (len(items), compared, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
