"""Screenshots of the desk for the docs: a review pair with Khmer names, in Khmer.

    bridge demo --database /tmp/demo.db
    python scripts/desk_screenshot.py /tmp/demo.db docs/

Starts the desk on the database (loopback, a free port), adds a throwaway helpdesk login,
opens in headless Chromium (Debian's chromium and chromium-driver) the first pair of the
queue whose records both have a Khmer-script name, switches to Khmer and saves
``desk-pair-khmer.png`` (and ``desk-pair-en.png``, ``desk-queue-km.png``) in the folder.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import threading
import time
from pathlib import Path

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from sqlalchemy import select

from bridge.config import Config
from bridge.helpdesk.users import add_user
from bridge.helpdesk.worklist import build_worklist
from bridge.store.db import open_store
from bridge.store.schema import SourceRecordRow
from bridge.web.app import create_app


def khmer_pair(store: object) -> int:
    with store.session() as session:  # type: ignore[attr-defined]
        for item in build_worklist(session):
            names = []
            for key in (item.key_a, item.key_b):
                system, record_id = key.split(":", 1)
                row = session.scalars(
                    select(SourceRecordRow).where(
                        SourceRecordRow.system == system, SourceRecordRow.record_id == record_id
                    )
                ).first()
                n = ((row.canonical or {}).get("names") or {}) if row else {}
                names.append(n.get("given_km") or n.get("full_km"))
            if all(names) and item.kind == "possible":
                return item.id
    raise SystemExit("no open pair with Khmer names on both records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    store = open_store(f"sqlite:///{args.database}")
    name, password = f"shot-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    with store.session() as session:
        add_user(session, name, "helpdesk", password, by="desk_screenshot")
    item = khmer_pair(store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Config(database_url=f"sqlite:///{args.database}"), store, service=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1500"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    base = f"http://127.0.0.1:{port}"
    args.folder.mkdir(parents=True, exist_ok=True)
    try:
        browser.get(f"{base}/login")
        browser.find_element("id", "name").send_keys(name)
        browser.find_element("id", "password").send_keys(password)
        browser.find_element("id", "login").click()
        browser.get(f"{base}/review/{item}")
        browser.save_screenshot(str(args.folder / "desk-pair-en.png"))
        browser.find_element("id", "switch-lang").click()
        browser.execute_async_script("document.fonts.ready.then(arguments[0])")
        browser.save_screenshot(str(args.folder / "desk-pair-khmer.png"))
        browser.get(f"{base}/review")
        browser.save_screenshot(str(args.folder / "desk-queue-km.png"))
    finally:
        browser.quit()
        server.should_exit = True
    print(f"review item {item}: screenshots in {args.folder}")


if __name__ == "__main__":
    main()
