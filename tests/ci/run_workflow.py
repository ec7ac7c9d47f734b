#!/usr/bin/env python3
"""A small stand-in for a CI runner: runs the `run:`/`script:` steps of a GitHub Actions workflow
or a GitLab CI pipeline as separate processes, one job after the other in the order the `needs:`
graph (and GitLab's stages) gives, each job with its own working copy, home (so its own config
folder and credentials), temporary folder and cache. The YAML is read with hoist's own reader
(`hoist eval` with hoist.yaml), so the files the test runs are the files users copy.

usage: run_workflow.py github|gitlab FILE --hoist BIN --repo GIT_DIR --work DIR --context JSON

--context: a JSON file with what a runner would provide, stubbed by the test:
  {"github": {...}, "vars": {...}, "secrets": {...}, "env": {...}   (GitHub)
   "variables": {...}                                               (GitLab predefined and CI/CD)
   "hoist_checkout": DIR (what `actions/checkout` with `repository:` gives: hoist's source),
   "runner_arch": {"ubuntu-24.04": "X64", ...}}
What this runner implements of each engine is only what the example workflows use; anything
else (an unknown `uses:`, an expression it cannot evaluate) is an error, so the examples cannot
grow a feature the test silently skips.
Writes WORK/jobs/NAME/{log,summary.md} and WORK/result.json ({"order": [job names]}).
"""
import argparse, fnmatch, glob, hashlib, itertools, json, os, re, shutil, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("engine", choices=["github", "gitlab"])
ap.add_argument("file")
ap.add_argument("--hoist", required=True)
ap.add_argument("--repo", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--context", required=True)
ap.add_argument("--path", default=os.environ.get("PATH", ""))
A = ap.parse_args()
CTX = json.load(open(A.context))
os.makedirs(A.work, exist_ok=True)


def die(msg):
    print("run_workflow: " + msg, file=sys.stderr)
    sys.exit(1)


def read_yaml(path):
    """The YAML file as data, read by hoist.yaml (printed as JSON by `hoist eval`)."""
    chunk = ('local y, j, fs = require("hoist.yaml"), require("hoist.json"), require("hoist.fs") '
             'local d = assert(y.decode(assert(fs.read(arg[1])), arg[1])) io.write(j.encode(d))')
    r = subprocess.run([A.hoist, "eval", chunk, path], capture_output=True, text=True)
    if r.returncode != 0:
        die("hoist.yaml cannot read %s: %s" % (path, r.stderr))
    return json.loads(r.stdout)


def checkout(dest):
    """A working copy of the extension's repository (a clone: its commit and history included)."""
    subprocess.run(["git", "clone", "-q", A.repo, dest], check=True)


def copy_tree(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if os.path.isdir(s):
            copy_tree(s, d)
        else:
            shutil.copy2(s, d)


def run_script(script, cwd, env, log, shell):
    with open(log, "a") as f:
        f.write("$ " + script.replace("\n", "\n$ ") + "\n")
        f.flush()
        r = subprocess.run(shell + [script], cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT)
    return r.returncode


def base_env(jobdir, home):
    env = {"PATH": A.path, "HOME": home, "LANG": "C.UTF-8", "TMPDIR": os.path.join(jobdir, "tmp"),
           "CI": "true"}
    os.makedirs(env["TMPDIR"], exist_ok=True)
    return env


###################################################################################################
# GitHub Actions

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def gh_eval(expr, ctx):
    """The expressions the examples use: dotted context paths, hashFiles(...), format(...)."""
    if expr.startswith("hashFiles(") or expr.startswith("format("):
        # cache keys only: a stable stand-in (the test's caches are per job anyway)
        return "hash-" + hashlib.sha256(expr.encode()).hexdigest()[:12]
    if not re.match(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$", expr):
        die("unsupported expression ${{ %s }}" % expr)
    parts = expr.split(".")
    v = ctx
    for p in parts:
        if not isinstance(v, dict) or p not in v:
            if parts[0] in ("secrets", "vars", "inputs", "env"):
                return ""  # GitHub: an unset secret/variable is the empty string
            die("${{ %s }}: %s is not set" % (expr, p))
        v = v[p]
    return "" if v is None else str(v)


def gh_sub(value, ctx):
    if not isinstance(value, str):
        return value
    return EXPR.sub(lambda m: gh_eval(m.group(1), ctx), value)


def gh_matrix(job):
    m = (job.get("strategy") or {}).get("matrix")
    if not m:
        return [None]
    keys = [k for k in m if k not in ("include", "exclude")]
    combos = [dict(zip(keys, vals)) for vals in itertools.product(*[m[k] for k in keys])] if keys else []
    for inc in m.get("include", []):
        combos.append(dict(inc))
    return combos


def gh_run_steps(steps, ctx, env, cwd, jobdir, log, action_path=None):
    for i, step in enumerate(steps):
        ctx["env"] = dict(env)
        senv = dict(env)
        for k, v in (step.get("env") or {}).items():
            senv[k] = gh_sub(str(v), ctx)
        name = gh_sub(step.get("name") or step.get("uses") or ("step %d" % i), ctx)
        with open(log, "a") as f:
            f.write("## %s\n" % name)
        out_file = os.path.join(jobdir, "out-%d-%d" % (id(steps) % 10000, i))
        for f in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
            senv[f] = out_file + "." + f
            open(senv[f], "w").close()
        senv["GITHUB_STEP_SUMMARY"] = os.path.join(jobdir, "summary.md")
        outputs = {}
        if "run" in step:
            script = gh_sub(step["run"], ctx)
            shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"] if step.get("shell") == "bash" \
                else ["bash", "-e", "-c"]
            wd = os.path.join(cwd, gh_sub(step.get("working-directory", "."), ctx))
            rc = run_script(script, wd, senv, log, shell)
            if rc != 0:
                die("step '%s' failed (exit %d); see %s" % (name, rc, log))
        elif "uses" in step:
            outputs = gh_uses(step, ctx, env, cwd, jobdir, log)
        else:
            die("a step with neither run nor uses")
        # what the step wrote to GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH
        for line in open(senv["GITHUB_OUTPUT"]).read().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                outputs[k] = v
        for line in open(senv["GITHUB_ENV"]).read().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
        for line in open(senv["GITHUB_PATH"]).read().splitlines():
            if line.strip():
                env["PATH"] = line.strip() + ":" + env["PATH"]
        if step.get("id"):
            ctx["steps"][step["id"]] = {"outputs": outputs}


def gh_uses(step, ctx, env, cwd, jobdir, log):
    uses = step["uses"]
    w = {k: gh_sub(str(v), ctx) for k, v in (step.get("with") or {}).items()}
    if uses.startswith("actions/checkout@"):
        dest = os.path.join(cwd, w.get("path", "."))
        if w.get("repository"):
            if w["repository"] != CTX["vars"]["HOIST_REPOSITORY"]:
                die("checkout of an unknown repository " + w["repository"])
            copy_tree(CTX["hoist_checkout"], dest)   # hoist's source, as the action is used from it
        elif os.listdir(cwd):
            die("checkout into a non-empty workspace")
        else:
            checkout(dest)
        return {}
    if uses.startswith("actions/cache@"):
        # every job has a cache of its own: nothing to restore, nothing shared
        return {"cache-hit": "false"}
    if uses.startswith("actions/upload-artifact@"):
        dst = os.path.join(A.work, "artifacts", w["name"])
        if os.path.exists(dst):
            die("artifact %s uploaded twice" % w["name"])
        copy_tree(os.path.join(cwd, w["path"]), dst)
        return {}
    if uses.startswith("actions/download-artifact@"):
        dest = os.path.join(cwd, w.get("path", "."))
        found = sorted(glob.glob(os.path.join(A.work, "artifacts", w.get("pattern", w.get("name", "*")))))
        if not found:
            die("no artifact matches " + w.get("pattern", w.get("name", "")))
        for d in found:
            copy_tree(d, dest if w.get("merge-multiple", "").lower() == "true" else os.path.join(dest, os.path.basename(d)))
        return {}
    if uses.startswith("./"):
        path = os.path.join(cwd, uses)
        action = read_yaml(os.path.join(path, "action.yml"))
        if (action.get("runs") or {}).get("using") != "composite":
            die(uses + " is not a composite action")
        inputs = {k: (v or {}).get("default", "") for k, v in (action.get("inputs") or {}).items()}
        for k, v in w.items():
            if k not in inputs:
                die("%s has no input %s" % (uses, k))
            inputs[k] = v
        actx = dict(ctx, inputs=inputs, steps={}, github=dict(ctx["github"], action_path=os.path.realpath(path)))
        gh_run_steps(action["runs"]["steps"], actx, env, cwd, jobdir, log)
        outs = {}
        for k, v in (action.get("outputs") or {}).items():
            outs[k] = gh_sub(v.get("value", ""), actx)
        return outs
    die("unsupported action " + uses)


def gh_order(jobs):
    order, done = [], set()
    while len(done) < len(jobs):
        ready = [j for j in jobs if j not in done and all(n in done for n in as_list(jobs[j].get("needs")))]
        if not ready:
            die("the needs: graph has a cycle or names a missing job")
        for j in ready:  # jobs with no dependency between them: in file order
            order.append(j)
            done.add(j)
    return order


def as_list(v):
    return [] if v is None else (v if isinstance(v, list) else [v])


def github():
    wf = read_yaml(A.file)
    jobs = wf["jobs"]
    ran = []
    for jname in gh_order(jobs):
        job = jobs[jname]
        for n, combo in enumerate(gh_matrix(job)):
            label = jname if combo is None else "%s-%d" % (jname, n)
            jobdir = os.path.join(A.work, "jobs", label)
            home, work, temp = (os.path.join(jobdir, d) for d in ("home", "work", "temp"))
            for d in (home, work, temp):
                os.makedirs(d)
            ctx = {"github": dict(CTX["github"]), "vars": CTX.get("vars", {}), "secrets": CTX.get("secrets", {}),
                   "matrix": combo or {}, "steps": {}, "env": {}, "inputs": {}}
            runs_on = gh_sub(job["runs-on"], ctx)
            arch = CTX["runner_arch"].get(runs_on)
            if arch is None:
                die("no runner for runs-on: " + runs_on)
            ctx["runner"] = {"os": "Linux", "arch": arch, "temp": temp}
            env = base_env(jobdir, home)
            gh = CTX["github"]
            env.update({"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": work, "RUNNER_TEMP": temp,
                        "RUNNER_OS": "Linux", "RUNNER_ARCH": arch, "GITHUB_REF_NAME": gh["ref_name"],
                        "GITHUB_REF": gh["ref"], "GITHUB_SHA": gh.get("sha", ""), "GITHUB_REPOSITORY": gh["repository"],
                        "GITHUB_SERVER_URL": gh["server_url"], "GITHUB_JOB": jname})
            for k, v in (wf.get("env") or {}).items():
                env[k] = gh_sub(str(v), ctx)
            for k, v in (job.get("env") or {}).items():
                env[k] = gh_sub(str(v), ctx)
            log = os.path.join(jobdir, "log")
            gh_run_steps(job["steps"], ctx, env, work, jobdir, log)
            ran.append({"job": label, "runs_on": runs_on, "matrix": combo})
    return ran


###################################################################################################
# GitLab CI

RESERVED = {"stages", "default", "variables", "include", "workflow", "image", "services", "cache",
            "before_script", "after_script"}


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def gl_resolve(jobs, name, seen=()):
    job = jobs[name]
    if name in seen:
        die("extends loop at " + name)
    base = {}
    for parent in as_list(job.get("extends")):
        base = merge(base, gl_resolve(jobs, parent, seen + (name,)))
    return merge(base, {k: v for k, v in job.items() if k != "extends"})


def expand(s, env):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), str(s))


def gl_rules_pass(job, env):
    for r in job.get("rules", []):
        cond = r.get("if", "")
        m = re.match(r"^\$(\w+)$", cond.strip())
        if not m:
            die("unsupported rule " + cond)
        if env.get(m.group(1)):
            return r.get("when", "on_success") != "never"
    return not job.get("rules")


def gitlab():
    pipe = read_yaml(A.file)
    defs = {k: v for k, v in pipe.items() if k not in RESERVED}
    default = pipe.get("default") or {}
    stages = pipe.get("stages") or ["build", "test", "deploy"]
    jobs = {}
    for name in defs:
        if name.startswith("."):
            continue
        job = merge({k: v for k, v in default.items() if k in ("before_script", "after_script", "image")},
                    gl_resolve(defs, name))
        matrix = (job.get("parallel") or {}).get("matrix")
        if matrix:
            for entry in matrix:
                keys = list(entry)
                for vals in itertools.product(*[as_list(entry[k]) for k in keys]):
                    combo = dict(zip(keys, [str(v) for v in vals]))
                    jobs["%s: [%s]" % (name, ", ".join(combo.values()))] = dict(job, _matrix=combo, _base=name)
        else:
            jobs[name] = dict(job, _matrix={}, _base=name)
    # stages in order; within a stage, needs first
    order = []
    for st in stages:
        names = [j for j in jobs if jobs[j].get("stage", "test") == st]
        for j in names:
            for need in as_list(jobs[j].get("needs")):
                need = need["job"] if isinstance(need, dict) else need
                if not any(jobs[o]["_base"] == need for o in order):
                    die("%s needs %s, which has not run in an earlier stage" % (j, need))
            order.append(j)
    ran = []
    for name in order:
        job = jobs[name]
        jobdir = os.path.join(A.work, "jobs", re.sub(r"[^\w.-]+", "_", name))
        home, work = os.path.join(jobdir, "home"), os.path.join(jobdir, "project")
        os.makedirs(home)
        checkout(work)
        env = base_env(jobdir, home)
        env.update({k: str(v) for k, v in CTX.get("variables", {}).items()})
        env.update({"GITLAB_CI": "true", "CI_PROJECT_DIR": work, "CI_JOB_NAME": name,
                    "CI_JOB_NAME_SLUG": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")})
        for k, v in list((pipe.get("variables") or {}).items()) + list((job.get("variables") or {}).items()):
            env[k] = expand(v, env)
        env.update(job["_matrix"])
        if not gl_rules_pass(job, env):
            continue
        # artifacts of the jobs it needs (GitLab restores them into the project folder)
        for need in as_list(job.get("needs")):
            need = need["job"] if isinstance(need, dict) else need
            for other in jobs:
                if jobs[other]["_base"] == need:
                    src = os.path.join(A.work, "artifacts", re.sub(r"[^\w.-]+", "_", other))
                    if os.path.isdir(src):
                        copy_tree(src, work)
        script = "\n".join([str(s) for s in as_list(job.get("before_script"))] + [str(s) for s in as_list(job["script"])])
        log = os.path.join(jobdir, "log")
        rc = run_script(script, work, env, log, ["bash", "-eo", "pipefail", "-c"])
        if rc != 0:
            die("job '%s' failed (exit %d); see %s" % (name, rc, log))
        for p in (job.get("artifacts") or {}).get("paths", []):
            dst = os.path.join(A.work, "artifacts", re.sub(r"[^\w.-]+", "_", name), p)
            for src in glob.glob(os.path.join(work, p)):
                if os.path.isdir(src):
                    copy_tree(src, dst)
                else:
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copy2(src, dst)
        ran.append({"job": name, "matrix": job["_matrix"], "tags": [expand(t, env) for t in as_list(job.get("tags"))]})
    return ran


ran = github() if A.engine == "github" else gitlab()
json.dump({"jobs": ran}, open(os.path.join(A.work, "result.json"), "w"), indent=1)
print("ran %d jobs: %s" % (len(ran), ", ".join(j["job"] for j in ran)))
