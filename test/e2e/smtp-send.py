# Sends one message with Python's smtplib and prints one JSON line: {"ok":..., "code":..., "reply":...}.
# argv: mode(plain|starttls|ssl) port mail_from rcpt subject [user password]
import json, smtplib, ssl, sys

mode, port, mail_from, rcpt, subject = sys.argv[1:6]
user = sys.argv[6] if len(sys.argv) > 6 else None
password = sys.argv[7] if len(sys.argv) > 7 else None
ctx = ssl._create_unverified_context()
msg = f"From: {mail_from}\r\nTo: {rcpt}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@e2e.test>\r\n\r\nHello from smtplib.\r\n"
try:
    if mode == "ssl":
        s = smtplib.SMTP_SSL("127.0.0.1", int(port), context=ctx, timeout=30)
    else:
        s = smtplib.SMTP("127.0.0.1", int(port), timeout=30)
        s.ehlo("client.e2e.test")
        if mode == "starttls":
            s.starttls(context=ctx)
            s.ehlo("client.e2e.test")
    if user:
        s.login(user, password)
    s.mail(mail_from)
    code, reply = s.rcpt(rcpt)
    if code >= 300:
        print(json.dumps({"ok": False, "stage": "rcpt", "code": code, "reply": reply.decode()}))
        s.quit()
        sys.exit(0)
    code, reply = s.data(msg)
    print(json.dumps({"ok": code == 250, "stage": "data", "code": code, "reply": reply.decode()}))
    s.quit()
except smtplib.SMTPAuthenticationError as e:
    print(json.dumps({"ok": False, "stage": "auth", "code": e.smtp_code, "reply": e.smtp_error.decode()}))
except smtplib.SMTPResponseException as e:
    print(json.dumps({"ok": False, "stage": "other", "code": e.smtp_code, "reply": e.smtp_error.decode()}))
