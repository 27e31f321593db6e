"""Build and run the command that opens Chromium or Chrome in kiosk mode on the display or check-in page."""

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

DEFAULT_URL = "https://127.0.0.1:8443/display/"
CHECK_IN_PATH = "/checkin/"
LINUX_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MAC_PATHS = ("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
             "/Applications/Chromium.app/Contents/MacOS/Chromium")
WINDOWS_SUFFIX = Path("Google", "Chrome", "Application", "chrome.exe")
WINDOWS_ROOTS = ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")


class BrowserNotFound(RuntimeError):
    """No Chromium or Chrome executable was given or found."""


def check_in_url(url: str) -> str:
    """Return the self check-in page on the same server as url."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, CHECK_IN_PATH, "", ""))


def find_browser(explicit: str | None = None, platform: str = sys.platform, environ=os.environ) -> str:
    """Return the browser to start: the explicit path, else Chrome or Chromium in its usual place."""
    if explicit:
        if not Path(explicit).exists() and shutil.which(explicit) is None:
            raise BrowserNotFound(f"browser not found: {explicit}. Pass the full path of chrome, chrome.exe or chromium.")
        return explicit
    if platform.startswith("win"):
        candidates = [str(Path(environ[root]) / WINDOWS_SUFFIX) for root in WINDOWS_ROOTS if environ.get(root)]
    elif platform == "darwin":
        candidates = list(MAC_PATHS)
    else:
        candidates = [found for name in LINUX_NAMES if (found := shutil.which(name))]
    for candidate in candidates:
        if Path(candidate).exists():
            return candidate
    raise BrowserNotFound("Chromium or Chrome not found. Install one or pass --browser PATH.")


def default_profile(check_in: bool) -> Path:
    """Return the profile folder kept apart from the user's own browser profile, one per mode."""
    return Path.home() / ".fieldapp-kiosk" / ("checkin" if check_in else "display")


def build_command(browser: str, url: str, profile: Path, check_in: bool = False) -> list[str]:
    """Return the argument list that opens url full screen in kiosk mode with its own profile.

    The display may play sound without a tap (--autoplay-policy). In check-in mode the ticket page's
    window.print() goes straight to the default printer (--kiosk-printing), so no dialog needs a mouse.
    """
    command = [
        browser,
        f"--user-data-dir={profile}",
        "--kiosk",
        "--start-fullscreen",
        "--no-first-run",
        "--no-default-browser-check",
        "--noerrdialogs",
        "--disable-session-crashed-bubble",
        "--disable-translate",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if check_in:
        command.append("--kiosk-printing")
    command.append(check_in_url(url) if check_in else url)
    return command


def run(command: list[str]) -> int:
    """Start the browser, wait for it to close and return its exit code."""
    log.info("starting kiosk browser: %s", " ".join(command))
    completed = subprocess.run(command, check=False)
    log.info("kiosk browser exited with code %s", completed.returncode)
    return completed.returncode
