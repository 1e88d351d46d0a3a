"""JUnit XML, the report every CI shows natively, built with ElementTree.

Valid against the Jenkins/Ant schema ``junit-10.xsd`` (tests/unit/data/), the strictest
one CI tools share: no ``<properties>`` in a ``<testcase>`` and no ``skipped`` on
``<testsuites>``. So a testcase is named by the check's number and title (what GitLab
shows), says its points in ``<system-out>``, and the testsuite's properties hold every
check's points as ``check.NUMBER.points`` and friends.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from socklab.grading import feedback
from socklab.grading.feedback import DEFAULT_OPTIONS, FormatOptions, Results
from socklab.grading.result import CheckResult, LabResult
from socklab.i18n import in_english

_OUTCOME = {"failed": "failure", "timeout": "failure", "error": "error", "skipped": "skipped"}


@in_english  # a machine format: names and messages the same in every language
def junit(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """A testsuite per lab, a testcase per check (classname = lab), points as properties."""
    labs = feedback.as_list(results)
    root = ET.Element("testsuites", name="socklab")
    root.extend(_suite(lab, options) for lab in labs)
    for key in ("tests", "failures", "errors"):  # junit-10.xsd has no "skipped" here
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    root.set("time", _seconds(sum(lab.duration for lab in labs)))
    ET.indent(root)
    # ASCII with character references reads the same whatever encoding writes the file.
    return ET.tostring(root, encoding="us-ascii", xml_declaration=True).decode("ascii") + "\n"


def _seconds(seconds: float) -> str:
    return f"{seconds:.3f}"


def _number(value: float) -> str:
    return f"{value:g}"


def _properties(parent: ET.Element, pairs: dict[str, str]) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in pairs.items():
        ET.SubElement(properties, "property", name=name, value=feedback.clean(value))


def _suite(lab: LabResult, options: FormatOptions) -> ET.Element:
    suite = ET.Element("testsuite", name=lab.lab, time=_seconds(lab.duration))
    if lab.started_at:
        suite.set("timestamp", lab.started_at)
    _properties(
        suite,
        {
            "title": lab.title,
            "status": lab.status,
            "code": lab.code,
            "profile": lab.profile,
            "seed": "" if lab.seed is None else str(lab.seed),
            "score": _number(feedback.score(lab)),
            "max_score": _number(lab.max_score),
            "artifacts": lab.artifacts,
            "version": lab.version,
        }
        | {
            f"check.{check.number}.{key}": value
            for check in lab.checks
            for key, value in _points(check).items()
        },
    )
    if lab.status == "error":
        suite.append(_platform_case(lab))
    suite.extend(_case(check, lab, options) for check in lab.checks)
    suite.set("tests", str(len(suite.findall("testcase"))))
    for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(key, str(len(suite.findall(f"testcase/{tag}"))))
    return suite


def _platform_case(lab: LabResult) -> ET.Element:
    case = ET.Element("testcase", classname=lab.lab, name="grading platform", time=_seconds(0))
    message = f"grading platform error, not the student's fault: {lab.message or 'no details'}"
    error = ET.SubElement(case, "error", type="platform", message=feedback.clean(message))
    error.text = feedback.platform_error(lab)
    return case


def _points(check: CheckResult) -> dict[str, str]:
    return {
        "id": check.id,
        "points": _number(feedback.earned(check)),
        "max_points": _number(check.max_points),
        "hidden": "true" if check.hidden else "false",
    }


def _case(check: CheckResult, lab: LabResult, options: FormatOptions) -> ET.Element:
    name = feedback.display_name(check)
    case = ET.Element("testcase", classname=lab.lab, name=name, time=_seconds(check.duration))
    tag = _OUTCOME.get(check.status)
    if tag:
        message = feedback.headline(check, options)
        outcome = ET.SubElement(case, tag, type=check.status, message=message)
        outcome.text = feedback.details(check, lab, options) or None
    points = f"{_number(feedback.earned(check))} of {_number(check.max_points)} points"
    ET.SubElement(case, "system-out").text = f"{points}\ncheck: {feedback.clean(check.id)}"
    return case
