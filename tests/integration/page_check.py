#!/usr/bin/python3
"""Opens an HTML page in headless Chromium and prints what it rendered, as JSON.

  page_check.py PAGE.html

Drives the browser through the DevTools protocol over a pipe (no port, no
network): loads the page, then reports each <svg class="plot"> (its
data-plot name, rendered size, drawn marks and their tooltips), the page's
headings, every console message and uncaught exception, and every request
the page made besides itself. test_report.cpp checks the fields.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

MEASURE = r"""
(() => {
  const plots = [...document.querySelectorAll('svg.plot')].map(svg => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('.mark')];
    return {
      name: svg.dataset.plot,
      width: box.width, height: box.height,
      marks: marks.length,
      drawn: marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length,
      titles: marks.map(m => { const t = m.querySelector('title'); return t ? t.textContent : ''; }),
      thresholds: svg.querySelectorAll('.threshold').length,
    };
  });
  return {
    title: document.title,
    headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
    plots,
  };
})()
"""


class Browser:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="netlof-page-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # The protocol pipe is fds 3 (commands in) and 4 (replies out).
        def fds():  # (through copies, in case either end already is fd 3 or 4)
            commands, replies = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(commands, 3)
            os.dup2(replies, 4)
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--user-data-dir=" + self.profile, "about:blank"],
            close_fds=False, preexec_fn=fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def read_message(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the protocol pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, name):
        for i, e in enumerate(self.events):
            if e["method"] == name:
                return self.events.pop(i)
        while True:
            m = self.read_message()
            if m.get("method") == name:
                return m
            if "method" in m:
                self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    page = os.path.abspath(sys.argv[1])
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        print("page_check: chromium not found (make deps installs it)", file=sys.stderr)
        return 2
    url = "file://" + page
    b = Browser(binary)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            b.call(domain + ".enable", session=session)
        b.call("Page.navigate", {"url": url}, session=session)
        b.wait_event("Page.loadEventFired")
        result = b.call("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError("measuring the page failed: " + json.dumps(result["exceptionDetails"]))
        out = result["result"]["value"]
        console, requests = [], []
        for e in b.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled":
                console.append({"level": p.get("type"), "text": " ".join(str(a.get("value", "")) for a in p.get("args", []))})
            elif e["method"] == "Runtime.exceptionThrown":
                console.append({"level": "exception", "text": p.get("exceptionDetails", {}).get("text", "")})
            elif e["method"] == "Log.entryAdded":
                entry = p.get("entry", {})
                console.append({"level": entry.get("level"), "text": entry.get("text", "")})
            elif e["method"] == "Network.requestWillBeSent":
                if p.get("request", {}).get("url") != url:
                    requests.append(p.get("request", {}).get("url"))
        out["console"] = console
        out["requests"] = requests
        print(json.dumps(out))
        return 0
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main())
