"""
Runs a full-screen terminal program (mutt) under a pseudo-terminal and lets a test drive it like a user.

    python3 pty-driver.py COLS ROWS -- program args...

The program sees TERM=vt100 on a COLS x ROWS terminal. The output is fed through a small VT100 screen
model (the control sequences ncurses sends for vt100: cursor addressing, erase, scroll region, SGR
ignored), so a test waits for text that is really on the screen, however ncurses chose to paint it.

Commands, one JSON object per line on stdin; each gets one JSON line on stdout:
    {"send": "keys"}                            -> {"ok": true, ...}
    {"wait": "python regex", "timeout": secs}   -> {"ok": bool, "screen": "...", "rows": [...]}
    {"send": "...", "wait": ..., "timeout": ...} both, in that order ("ok": matched, not timed out)
    {"exit": secs}                              -> {"ok": exited, "code": int|null, "screen": ..., "rows": ...}
"rows" are the distinct screen rows the program showed for the first time since the previous reply
(what a test scans for error messages that flashed by). On stdin EOF the program is killed.
"""

import codecs
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time


class Screen:
    def __init__(self, cols, rows):
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self.top, self.bottom = 0, rows - 1
        self.pending_wrap = False
        self.saved = (0, 0)
        self.state = "text"
        self.params = ""
        self.seen = []
        self.seen_set = set()

    def text(self):
        return "\n".join("".join(r).rstrip() for r in self.grid)

    def remember_row(self, y):
        line = "".join(self.grid[y]).strip()
        if line and line not in self.seen_set:
            self.seen_set.add(line)
            self.seen.append(line)

    def remember_rows(self):
        for y in range(self.rows):
            self.remember_row(y)

    def scroll_up(self):
        del self.grid[self.top]
        self.grid.insert(self.bottom, [" "] * self.cols)

    def scroll_down(self):
        del self.grid[self.bottom]
        self.grid.insert(self.top, [" "] * self.cols)

    def linefeed(self):
        if self.y == self.bottom:
            self.scroll_up()
        elif self.y < self.rows - 1:
            self.y += 1

    def put(self, ch):
        if self.pending_wrap:
            self.pending_wrap = False
            self.x = 0
            self.linefeed()
        self.grid[self.y][self.x] = ch
        if self.x == self.cols - 1:
            self.pending_wrap = True
        else:
            self.x += 1

    def clamp(self):
        self.x = max(0, min(self.cols - 1, self.x))
        self.y = max(0, min(self.rows - 1, self.y))
        self.pending_wrap = False

    def csi(self, final):
        private = self.params.startswith("?")
        nums = [int(p) if p.isdigit() else 0 for p in self.params.lstrip("?").split(";")] if self.params else []
        n = nums[0] if nums and nums[0] > 0 else 1
        if private or final in "hlm":
            return  # modes and colours: no effect on the text
        # What the row showed before the cursor leaves it or it is erased: a message that is painted and
        # overwritten within one read is still seen.
        self.remember_row(self.y)
        if final in "Hf":
            self.y = (nums[0] if nums and nums[0] else 1) - 1
            self.x = (nums[1] if len(nums) > 1 and nums[1] else 1) - 1
        elif final == "A":
            self.y -= n
        elif final == "B":
            self.y += n
        elif final == "C":
            self.x += n
        elif final == "D":
            self.x -= n
        elif final == "G":
            self.x = n - 1
        elif final == "d":
            self.y = n - 1
        elif final == "K":
            mode = nums[0] if nums else 0
            row = self.grid[self.y]
            lo, hi = {0: (self.x, self.cols), 1: (0, self.x + 1), 2: (0, self.cols)}.get(mode, (0, 0))
            for i in range(lo, hi):
                row[i] = " "
        elif final == "J":
            mode = nums[0] if nums else 0
            if mode == 0:
                self.grid[self.y][self.x :] = [" "] * (self.cols - self.x)
                rows = range(self.y + 1, self.rows)
            elif mode == 1:
                self.grid[self.y][: self.x + 1] = [" "] * (self.x + 1)
                rows = range(0, self.y)
            else:
                rows = range(0, self.rows)
            for r in rows:
                self.grid[r] = [" "] * self.cols
        elif final == "r":
            self.top = (nums[0] if nums and nums[0] else 1) - 1
            self.bottom = (nums[1] if len(nums) > 1 and nums[1] else self.rows) - 1
            self.x = self.y = 0
        elif final == "L":
            for _ in range(n):
                del self.grid[self.bottom]
                self.grid.insert(self.y, [" "] * self.cols)
        elif final == "M":
            for _ in range(n):
                del self.grid[self.y]
                self.grid.insert(self.bottom, [" "] * self.cols)
        elif final == "P":
            row = self.grid[self.y]
            del row[self.x : self.x + n]
            row.extend([" "] * (self.cols - len(row)))
        elif final == "@":
            row = self.grid[self.y]
            for _ in range(n):
                row.insert(self.x, " ")
            del row[self.cols :]
        elif final == "X":
            row = self.grid[self.y]
            for i in range(self.x, min(self.cols, self.x + n)):
                row[i] = " "
        self.clamp()

    def feed(self, data):
        for ch in data:
            if self.state == "esc":
                if ch == "[":
                    self.state, self.params = "csi", ""
                    continue
                if ch in "()":
                    self.state = "charset"
                    continue
                self.state = "text"
                if ch == "7":
                    self.saved = (self.x, self.y)
                elif ch == "8":
                    self.x, self.y = self.saved
                    self.clamp()
                elif ch == "M":
                    if self.y == self.top:
                        self.scroll_down()
                    elif self.y > 0:
                        self.y -= 1
                elif ch == "D":
                    self.linefeed()
                elif ch == "E":
                    self.x = 0
                    self.linefeed()
                continue
            if self.state == "charset":
                self.state = "text"
                continue
            if self.state == "csi":
                if ch.isdigit() or ch in ";?>":
                    self.params += ch
                else:
                    self.state = "text"
                    self.csi(ch)
                continue
            if ch == "\x1b":
                self.state = "esc"
            elif ch == "\r":
                self.x, self.pending_wrap = 0, False
            elif ch in "\n\x0b\x0c":
                self.pending_wrap = False
                self.linefeed()
            elif ch == "\b":
                self.x, self.pending_wrap = max(0, self.x - 1), False
            elif ch == "\t":
                self.x, self.pending_wrap = min(self.cols - 1, (self.x // 8 + 1) * 8), False
            elif ch >= " " and ch != "\x7f":
                self.put(ch)
            # NUL padding, bell, shift in/out: nothing to draw
        self.remember_rows()


def main():
    cols, rows = int(sys.argv[1]), int(sys.argv[2])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = dict(os.environ, TERM="vt100", LINES=str(rows), COLUMNS=str(cols))

    def controlling_tty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=controlling_tty, close_fds=True
    )
    os.close(slave)
    screen = Screen(cols, rows)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    out = sys.stdout
    stdin = sys.stdin.buffer
    pending = b""
    open_pty = True

    def pump(timeout):
        """Reads what the program printed within `timeout` seconds; False once the pty is closed."""
        nonlocal open_pty
        if not open_pty:
            time.sleep(timeout)
            return False
        ready, _, _ = select.select([master], [], [], timeout)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                open_pty = False
                return False
            screen.feed(decoder.decode(data))
        return True

    reported = 0

    def reply(obj):
        nonlocal reported
        obj["rows"] = screen.seen[reported:]
        reported = len(screen.seen)
        out.write(json.dumps(obj) + "\n")
        out.flush()

    while True:
        ready, _, _ = select.select([stdin] + ([master] if open_pty else []), [], [], 0.5)
        if master in ready:
            pump(0)
        if stdin not in ready:
            continue
        chunk = os.read(stdin.fileno(), 65536)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            cmd = json.loads(line)
            if "exit" in cmd:
                deadline = time.monotonic() + float(cmd["exit"])
                while child.poll() is None and time.monotonic() < deadline:
                    pump(0.05)
                while open_pty and pump(0.05):
                    pass
                reply({"ok": child.poll() is not None, "code": child.poll(), "screen": screen.text()})
                if child.poll() is None:
                    child.kill()
                return
            if "send" in cmd:
                os.write(master, cmd["send"].encode())
            ok = True
            if "wait" in cmd:
                pattern = re.compile(cmd["wait"], re.M)
                deadline = time.monotonic() + float(cmd.get("timeout", 20))
                while not pattern.search(screen.text()):
                    left = deadline - time.monotonic()
                    if left <= 0 or (not pump(min(left, 0.1)) and not open_pty):
                        ok = bool(pattern.search(screen.text()))
                        break
            reply({"ok": ok, "screen": screen.text()})
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)


if __name__ == "__main__":
    main()
