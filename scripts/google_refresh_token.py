#!/usr/bin/env python3
"""Obtain a Google refresh token for the emulator's contract tests.

Create an OAuth client of type "Desktop app" in Google Cloud Console (Calendar API
enabled), then run:

    .venv/bin/python scripts/google_refresh_token.py --client-id ID --client-secret SECRET

It opens a browser for consent (or prints the URL) and prints the three variables the
contract tests read: GOOGLE_CALENDAR_CONTRACT_REFRESH_TOKEN, _CLIENT_ID, _CLIENT_SECRET.
Use a throw-away Google account: the tests create and delete a scratch calendar.
"""

from __future__ import annotations

import argparse
import os
import sys

SCOPES = ["https://www.googleapis.com/auth/calendar"]


def main(argv: list[str] | None = None) -> int:
    """Run Google's installed-app flow and print the refresh token."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--client-id", default=os.environ.get("GOOGLE_CALENDAR_CONTRACT_CLIENT_ID")
    )
    parser.add_argument(
        "--client-secret",
        default=os.environ.get("GOOGLE_CALENDAR_CONTRACT_CLIENT_SECRET"),
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the consent URL instead"
    )
    args = parser.parse_args(argv)
    if not args.client_id or not args.client_secret:
        parser.error("--client-id and --client-secret are required")

    try:
        from google_auth_oauthlib.flow import InstalledAppFlow
    except ImportError:
        print(
            "google-auth-oauthlib is missing: run scripts/setup first", file=sys.stderr
        )
        return 1

    flow = InstalledAppFlow.from_client_config(
        {
            "installed": {
                "client_id": args.client_id,
                "client_secret": args.client_secret,
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token",
                "redirect_uris": ["http://localhost"],
            }
        },
        scopes=SCOPES,
    )
    credentials = flow.run_local_server(
        port=0,
        open_browser=not args.no_browser,
        access_type="offline",
        prompt="consent",
    )
    if not credentials.refresh_token:
        print("Google returned no refresh token; try again", file=sys.stderr)
        return 1
    print(f"export GOOGLE_CALENDAR_CONTRACT_CLIENT_ID={args.client_id}")
    print(f"export GOOGLE_CALENDAR_CONTRACT_CLIENT_SECRET={args.client_secret}")
    print(f"export GOOGLE_CALENDAR_CONTRACT_REFRESH_TOKEN={credentials.refresh_token}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
