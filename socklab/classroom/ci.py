"""The CI files of the student template, one grading step (or job) per exported lab.

Each runs ``make grade`` exactly as documented (``make help``); the tests parse the
files and run the same commands in an export.
"""

from __future__ import annotations

import json

from socklab.grading import classroom
from socklab.lab import Lab

GITHUB = ".github/workflows/classroom.yml"
GITLAB = ".gitlab-ci.yml"


def code_path(lab: Lab) -> str:
    """Where a student's code for ``lab`` is in the template: the starter they edit."""
    return f"labs/{lab.name}/starter"


def grade_command(lab: Lab, fmt: str, out: str) -> str:
    return f"make grade LAB={lab.number} CODE={code_path(lab)} FORMAT={fmt} OUT={out}"


def _q(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _language(lang: str | None, indent: str) -> str:
    """The environment line that sets the feedback's language (none: the runner's, English)."""
    return f"{indent}SOCKLAB_LANG: {_q(lang)}\n" if lang else ""


def github(labs: list[Lab], lang: str | None = None) -> str:
    """GitHub Actions: grade each lab, then report the points to GitHub Classroom; the
    feedback in ``lang`` (``zh_CN``) if given.

    Each lab's step writes one output per reporter runner (``lab3``, ``lab3part2``: see
    ``socklab.grading.classroom``), and the job summary; the grades and the runs' artifacts
    (ladders, captures, screenshots) are uploaded, so they outlive the runner."""
    env_block = "    env:\n" + _language(lang, "      ") if lang else ""
    steps, env, ids = [], [], []
    for lab in labs:
        step = f"lab-{lab.number}"
        steps.append(f"""      - name: {_q(f"Lab {lab.number}: {lab.title}")}
        id: {step}
        continue-on-error: true  # a failed check must not stop the other labs or the report
        run: {grade_command(lab, "classroom", f"grades/{step}.json")}
""")
        for runner in classroom.runners(lab.number, lab.graded_points):
            ids.append(runner)
            env.append(f'          {runner.upper()}_RESULTS: "${{{{ steps.{step}.outputs.{runner} }}}}"\n')
    return f"""# Grades every push with socklab's checker (the one `make lab-N` runs) and reports the
# points to GitHub Classroom. Written by `socklab export-student`.
#
# The images are built FROM a pinned Debian image pulled from Docker Hub, with Debian's
# packages installed in their Dockerfiles: no repository variable, no sudo, no cache.
name: Autograding Tests
"on":
  push:
  workflow_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
{env_block}    steps:
      - uses: actions/checkout@v4
      - name: Build the images
        run: make images
{"".join(steps)}      - name: Keep the grades and the runs' evidence
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: socklab-grades
          path: |
            grades/
            runs/
          if-no-files-found: ignore
      - name: Report the points
        if: always()
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{"".join(env)}        with:
          runners: {",".join(ids)}
"""


def gitlab(labs: list[Lab], lang: str | None = None) -> str:
    """GitLab CI: one job per lab, JUnit XML as the test report of the merge request."""
    variables = f"  variables:\n{_language(lang, '    ')}" if lang else ""
    jobs = "".join(
        f"""
lab-{lab.number}:
  extends: .grade
  script:
    - {grade_command(lab, "junit", f"grades/lab-{lab.number}.xml")}
  artifacts:
    when: always
    paths: [grades/]
    reports:
      junit: grades/lab-{lab.number}.xml
"""
        for lab in labs
    )
    return f"""# Grades every push with socklab's checker (the one `make lab-N` runs); GitLab shows
# the checks from the JUnit report. Written by `socklab export-student`.
#
# Needs a GitLab runner with the shell executor, tagged `socklab`, on a Linux machine
# with Docker (the runner's user in the docker group), Python 3.10+ and make. The images
# are built on first use FROM a pulled Debian image (`make doctor` says if that works there).
stages: [grade]

.grade:
  stage: grade
  tags: [socklab]
  timeout: 30m
{variables}{jobs}"""
