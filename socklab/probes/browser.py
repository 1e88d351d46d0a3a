"""Lab 7's browser: a real headless Chromium, steered by Selenium, visits the student's site.

Runs in the client container of the ``browser`` image and prints one JSON object:

  browser.py --url URL --name TEXT --message TEXT

It loads URL and reports what the page shows (the text of ``#title``, the colour the
stylesheet gave it, the size of the loaded ``#logo`` image), takes a screenshot, types
the name and the message into the form, submits it, and reports the answer page (its
address and the text of ``#name`` and ``#message``) with a second screenshot. The
screenshots are PNG, in base64. What the browser could not do on the student's site is
reported in ``error`` with the ``stage`` it reached; a browser that does not start at all
is the probe's failure (exit 1), never the student's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 15  # seconds for a page to load, or for the form's answer to show
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--window-size=1024,768",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--hide-scrollbars",
    "--lang=en-US",
]


def start(profile: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(WAIT)
    return driver


def text_of(driver: webdriver.Chrome, ident: str) -> str | None:
    try:
        return driver.find_element(By.ID, ident).get_attribute("textContent")
    except NoSuchElementException:
        return None


def look(driver: webdriver.Chrome, seen: dict) -> None:
    """What the first page shows: its title, the stylesheet's colour, the image's size."""
    seen["url"] = driver.current_url
    seen["title"] = text_of(driver, "title")
    seen["color"] = driver.execute_script(
        "const e = document.getElementById('title');return e ? getComputedStyle(e).color : null;"
    )
    seen["logo"] = driver.execute_script(
        "const e = document.getElementById('logo');"
        "return e && e.complete ? [e.naturalWidth, e.naturalHeight] : null;"
    )


def submit(driver: webdriver.Chrome, args: argparse.Namespace, seen: dict) -> None:
    """Type into the form, send it, and read the answer page."""
    driver.find_element(By.NAME, "name").send_keys(args.name)
    driver.find_element(By.NAME, "message").send_keys(args.message)
    form = driver.current_url
    driver.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
    WebDriverWait(driver, WAIT).until(
        lambda d: d.current_url != form and d.execute_script("return document.readyState") == "complete"
    )
    seen["answer_url"] = driver.current_url
    seen["texts"] = {ident: text_of(driver, ident) for ident in ("name", "message")}


def visit(driver: webdriver.Chrome, args: argparse.Namespace) -> dict:
    seen: dict = {"error": None, "stage": "load"}
    try:
        driver.get(args.url)
        look(driver, seen)
        seen["page_png"] = driver.get_screenshot_as_base64()
        seen["stage"] = "form"
        submit(driver, args, seen)
        seen["stage"] = "done"
    except WebDriverException as exc:  # timeouts and missing elements too: the site's doing
        words = (exc.msg or "").strip().splitlines()
        seen["error"] = f"{type(exc).__name__}: {words[0] if words else 'no message'}"
    with contextlib.suppress(WebDriverException):  # evidence: without it the verdict stands
        seen["answer_png" if seen["stage"] != "load" else "page_png"] = driver.get_screenshot_as_base64()
    return seen


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="browser.py")
    parser.add_argument("--url", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--message", required=True)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="browser-") as home:
        os.environ["HOME"] = home  # the root file system is read-only; Chromium writes here
        driver = start(os.path.join(home, "profile"))  # a failure here is the probe's
        try:
            seen = visit(driver, args)
        finally:
            driver.quit()
    print(json.dumps(seen), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
