"""Command line: python -m kiosk [--url URL] [--check-in] [--browser PATH] [--profile DIR]."""

import argparse
import logging
import sys
from pathlib import Path

from .launcher import DEFAULT_URL, BrowserNotFound, build_command, default_profile, find_browser, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kiosk",
                                     description="Open the fieldapp display or self check-in page full screen.")
    parser.add_argument("--url", default=DEFAULT_URL,
                        help=f"page to open (default {DEFAULT_URL}); with --check-in only its server is used")
    parser.add_argument("--check-in", action="store_true",
                        help="open the self check-in page /checkin/ and print tickets without a dialog")
    parser.add_argument("--browser", help="path of chrome, chrome.exe or chromium (default: search the usual places)")
    parser.add_argument("--profile", type=Path,
                        help="browser profile folder (default ~/.fieldapp-kiosk/display or .../checkin)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        browser = find_browser(args.browser)
    except BrowserNotFound as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    profile = args.profile or default_profile(args.check_in)
    profile.mkdir(parents=True, exist_ok=True)
    return run(build_command(browser, args.url, profile, args.check_in))


if __name__ == "__main__":
    sys.exit(main())
