# A real client connecting from a chosen source address (e.g. 127.0.0.5), for the proxy interop tests.
# argv[1] is JSON: {"proto": "smtp"|"imap", "port": N, "source": "127.0.0.5", "ssl": bool,
#                   "cert": path|null, "key": path|null, "rcpt": "...", "subject": "...",
#                   "user": null|"...", "password": null|"..."}
# Prints one JSON line with what happened.
import json, smtplib, socket, ssl, sys

a = json.loads(sys.argv[1])
ctx = ssl._create_unverified_context()
if a.get("cert"):
    ctx.load_cert_chain(a["cert"], a["key"])
src = (a["source"], 0)

if a["proto"] == "imap":
    s = socket.create_connection(("127.0.0.1", a["port"]), timeout=20, source_address=src)
    if a.get("ssl"):
        s = ctx.wrap_socket(s, server_hostname="localhost")
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    greeting = data.split(b"\r\n")[0]
    s.sendall(b"a1 LOGOUT\r\n")
    rest = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        rest += chunk
    print(json.dumps({"ok": True, "greeting": greeting.decode(errors="replace"), "logout": rest.decode(errors="replace")}))
    sys.exit(0)

try:
    if a.get("ssl"):
        s = smtplib.SMTP_SSL("127.0.0.1", a["port"], context=ctx, timeout=20, source_address=src)
    else:
        s = smtplib.SMTP("127.0.0.1", a["port"], timeout=20, source_address=src)
    code, _ = s.ehlo("client.proxy.test")
    features = sorted(s.esmtp_features.keys())
    if a.get("user"):
        s.login(a["user"], a["password"])
    msg = f"From: a@sender.test\r\nTo: {a['rcpt']}\r\nSubject: {a['subject']}\r\n\r\nvia proxy\r\n"
    s.mail("a@sender.test")
    code, reply = s.rcpt(a["rcpt"])
    if code >= 300:
        print(json.dumps({"ok": False, "stage": "rcpt", "code": code, "reply": reply.decode(), "features": features}))
        sys.exit(0)
    code, reply = s.data(msg)
    s.quit()
    print(json.dumps({"ok": code == 250, "code": code, "reply": reply.decode(), "features": features}))
except (smtplib.SMTPException, OSError) as e:
    print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
