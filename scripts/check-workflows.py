#!/usr/bin/env python3
"""Checks the GitHub Actions workflows before GitHub does.

    scripts/check-workflows.py [FILE_OR_DIR...]    (default: .github/workflows/*.yml)

Every workflow: valid YAML without duplicate keys, `on` and `jobs`, each job with
`runs-on` and `steps` (or `uses`, for a reusable workflow), each step with exactly one
of `uses` and `run`; secrets referred to by name only and no key material anywhere
in the file. release.yml also: the platforms and bundles the release ships, each bundle
with its updater signature (.sig), one draft release made by one job before the matrix
that uploads to it by id, and `contents: write` only on the jobs that write to it.
"""

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
SECRET_REF = re.compile(r"\bsecrets\s*(\.|\[)\s*([^\s}\])]*)")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Key material pasted in place of a secret's name: PEM, minisign/Tauri keys, base64.
KEY_MATERIAL = [
    (re.compile(r"-----BEGIN"), "a PEM block (-----BEGIN)"),
    (re.compile(r"untrusted comment:"), "a minisign key (untrusted comment:)"),
    (re.compile(r"[A-Za-z0-9+/]{200,}={0,2}"), "a base64 blob of 200+ characters"),
]

NEEDS_OUTPUT = re.compile(r"^\$\{\{\s*needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}$")

# release.yml: runner family, --target (None: the runner's own), bundles it must build.
RELEASE_PLATFORMS = [
    ("windows", "windows", None, {"msi", "nsis"}),
    ("macOS aarch64", "macos", "aarch64-apple-darwin", {"dmg"}),
    ("macOS x86_64", "macos", "x86_64-apple-darwin", {"dmg"}),
    ("linux", "ubuntu", None, {"deb", "rpm", "appimage"}),
]


class Failure(Exception):
    pass


class Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which GitHub rejects and PyYAML keeps the last of."""


def _mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise Failure(f"line {line}: duplicate key {key!r} (first on line {seen[key]})")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path):
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        raise Failure(f"{where}YAML syntax error: {problem}" + (f" ({context})" if context else ""))
    return text, data


def strings(value, where="$"):
    """Every string (keys too) in the document, with a path to say where it is."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield f"{where}.{key} (key)", key
            yield from strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{where}[{index}]")


def check_structure(data):
    if not isinstance(data, dict):
        raise Failure("not a mapping at the top level")
    # YAML 1.1 reads the bare key `on` as the boolean true.
    triggers = data.get("on", data.get(True))
    if triggers is None:
        raise Failure("no `on` (triggers)")
    jobs = data.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise Failure("no `jobs`")
    steps_total = 0
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            raise Failure(f"job {job_id}: not a mapping")
        if "uses" in job:  # a reusable workflow's call has neither
            if "steps" in job or "runs-on" in job:
                raise Failure(f"job {job_id}: `uses` (reusable workflow) with `steps` or `runs-on`")
            continue
        if "runs-on" not in job:
            raise Failure(f"job {job_id}: no `runs-on`")
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            raise Failure(f"job {job_id}: no `steps`")
        for index, step in enumerate(steps, 1):
            label = f"job {job_id}, step {index}"
            if not isinstance(step, dict):
                raise Failure(f"{label}: not a mapping")
            if step.get("name") or step.get("uses"):
                label += f" ({step.get('name') or step.get('uses')})"
            kinds = [k for k in ("uses", "run") if k in step]
            if len(kinds) != 1:
                raise Failure(f"{label}: needs exactly one of `uses` and `run`, has {kinds or 'neither'}")
        steps_total += len(steps)
    return jobs, steps_total


def check_secrets(text, data):
    names = set()
    for where, value in strings(data):
        for expression in EXPRESSION.findall(value):
            for accessor, name in SECRET_REF.findall(expression):
                if accessor == "[":
                    raise Failure(f"{where}: secrets[...] instead of secrets.NAME")
                if not NAME.fullmatch(name):
                    raise Failure(f"{where}: `secrets.{name}` is not a secret's name")
                names.add(name)
    # The raw text, so that comments are searched as well.
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in KEY_MATERIAL:
            if pattern.search(line):
                raise Failure(f"line {number}: {what}: key material belongs in a secret, named here")
    return names


def bundles_of(args):
    found = set()
    for match in re.finditer(r"(?:--bundles|-b)(?:\s+|=)([A-Za-z0-9_,\s]+?)(?=\s+-|\s*$)", args):
        found.update(b.strip().lower() for b in re.split(r"[,\s]+", match.group(1)) if b.strip())
    return found


def target_of(args):
    match = re.search(r"(?:--target|-t)(?:\s+|=)(\S+)", args)
    return match.group(1) if match else None


def needs_of(job):
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else [str(n) for n in needs]


def runs(job):
    return [str(step.get("run", "")) for step in job.get("steps") or [] if isinstance(step, dict)]


def writes_contents(permissions):
    if isinstance(permissions, str):
        return permissions == "write-all"
    return isinstance(permissions, dict) and permissions.get("contents") == "write"


def check_release_draft(data, jobs, tauri_steps):
    """One job makes the draft release; the tauri-action jobs and the uploaders use it."""
    drafts = set()
    for job_id, step in tauri_steps:
        job = jobs[job_id]
        release_id = str((step.get("with") or {}).get("releaseId", "")).strip()
        match = NEEDS_OUTPUT.match(release_id)
        if not match:
            raise Failure(f"job {job_id}: tauri-action has no `releaseId: ${{{{ needs.<job>.outputs.<id> }}}}`:"
                          " parallel matrix jobs would each make their own draft release")
        draft_id, output = match.groups()
        if draft_id not in needs_of(job):
            raise Failure(f"job {job_id}: releaseId comes from job {draft_id}, which is not in its `needs`")
        draft = jobs.get(draft_id)
        if not isinstance(draft, dict):
            raise Failure(f"job {job_id}: releaseId comes from job {draft_id}, which does not exist")
        if (draft.get("strategy") or {}).get("matrix"):
            raise Failure(f"job {draft_id}: makes the draft release but is a matrix job: it must run once")
        if output not in (draft.get("outputs") or {}):
            raise Failure(f"job {draft_id}: has no output {output!r} (the release id job {job_id} reads)")
        if not any(re.search(r"\bgh\s+release\s+create\b[^\n]*(?:\\\n[^\n]*)*--draft\b", run)
                   for run in runs(draft)):
            raise Failure(f"job {draft_id}: no `gh release create ... --draft` step")
        drafts.add(draft_id)
    if len(drafts) != 1:
        raise Failure(f"release: the tauri-action jobs upload to releases of {len(drafts)} jobs"
                      f" ({', '.join(sorted(drafts))}), not one")
    (draft_id,) = drafts

    uploaders = []
    for job_id, job in jobs.items():
        if any(re.search(r"\bgh\s+release\s+upload\b", run) for run in runs(job)):
            if draft_id not in needs_of(job):
                raise Failure(f"job {job_id}: uploads to the release without `needs: {draft_id}`")
            uploaders.append(job_id)

    writers = {draft_id, *(job_id for job_id, _ in tauri_steps), *uploaders}
    if writes_contents(data.get("permissions")):
        raise Failure("release: `contents: write` for the whole workflow; give it to the jobs that"
                      f" write ({', '.join(sorted(writers))})")
    for job_id, job in jobs.items():
        if job_id in writers and not writes_contents(job.get("permissions")):
            raise Failure(f"job {job_id}: writes to the release without `permissions: contents: write`")
        if job_id not in writers and writes_contents(job.get("permissions")):
            raise Failure(f"job {job_id}: `contents: write` but does not write to the release")
    return draft_id, sorted(set(job_id for job_id, _ in tauri_steps)) + uploaders


def check_release(data, jobs):
    entries = []
    tauri_steps = []
    for job_id, job in jobs.items():
        matrix = ((job.get("strategy") or {}).get("matrix") or {}) if isinstance(job, dict) else {}
        for entry in matrix.get("include") or []:
            if isinstance(entry, dict):
                runner = str(entry.get("os", entry.get("platform", "")))
                entries.append((runner, str(entry.get("args", ""))))
        for step in job.get("steps") or []:
            if str(step.get("uses", "")).startswith("tauri-apps/tauri-action@"):
                tauri_steps.append((job_id, step))

    covered = []
    for label, family, target, wanted in RELEASE_PLATFORMS:
        candidates = [
            (runner, args) for runner, args in entries
            if runner.lower().startswith(family) and target_of(args) == target
        ]
        if not candidates:
            raise Failure(f"release matrix: no {label} entry (runs-on {family}*"
                          + (f", --target {target})" if target else ")"))
        have = set().union(*(bundles_of(args) for _, args in candidates))
        missing = wanted - have
        if missing:
            raise Failure(f"release matrix: {label} does not build {', '.join(sorted(missing))}"
                          f" (its --bundles: {', '.join(sorted(have)) or 'none'})")
        covered.append(f"{label} ({', '.join(sorted(have))})")

    if not tauri_steps:
        raise Failure("release: no tauri-apps/tauri-action step")
    for job_id, step in tauri_steps:
        args = str((step.get("with") or {}).get("args", ""))
        configs = re.findall(r"(?:--config|-c)(?:\s+|=)'([^']*)'", args)
        requested = None
        for raw in configs:
            try:
                config = json.loads(EXPRESSION.sub("EXPRESSION", raw))
            except json.JSONDecodeError as error:
                raise Failure(f"job {job_id}: tauri-action --config is not JSON: {error}")
            if (config.get("bundle") or {}).get("createUpdaterArtifacts") is True:
                requested = config
        if requested is None:
            raise Failure(f"job {job_id}: tauri-action args do not request "
                          """--config '{"bundle":{"createUpdaterArtifacts":true}}'""")
        # tauri-cli refuses updater bundles without plugins.updater (the public key).
        if not (((requested.get("plugins") or {}).get("updater") or {}).get("pubkey")):
            raise Failure(f"job {job_id}: createUpdaterArtifacts without plugins.updater.pubkey"
                          " in the same --config: tauri build would fail")
    draft_id, uploaders = check_release_draft(data, jobs, tauri_steps)
    covered.append("updater signatures built")
    covered.append(f"one draft release by job {draft_id}, uploaded to by {', '.join(uploaders)}")
    return covered


def check_file(path):
    text, data = load(path)
    jobs, steps = check_structure(data)
    names = check_secrets(text, data)
    summary = f"{len(jobs)} jobs, {steps} steps, {len(names)} secrets by name"
    if path.name == "release.yml":
        summary += "; release: " + "; ".join(check_release(data, jobs))
    return summary


def workflow_files(arguments):
    if not arguments:
        arguments = [str(ROOT / ".github" / "workflows")]
    files = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml"))
        elif path.is_file():
            files.append(path)
        else:
            raise SystemExit(f"check-workflows: no such file or directory: {argument}")
    if not files:
        raise SystemExit(f"check-workflows: no workflows in {' '.join(arguments)}")
    return files


def shown(path):
    """The path from the repository's root if it is inside it, else as given."""
    try:
        return path.resolve().relative_to(ROOT)
    except (OSError, ValueError):
        return path


def main(arguments):
    failures = 0
    for path in workflow_files(arguments):
        shown_path = shown(path)
        try:
            print(f"ok    {shown_path}: {check_file(path)}")
        except Failure as failure:
            failures += 1
            print(f"FAIL  {shown_path}: {failure}", file=sys.stderr)
    if failures:
        print(f"check-workflows: {failures} workflow(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
