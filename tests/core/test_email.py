"""E-mail: with SMTP configured, a reminder really reaches the SMTP server."""

import socketserver
import threading

import pytest

from core.notifications import notify


class RecordingSMTP(socketserver.StreamRequestHandler):
    """Just enough of SMTP to receive one message and keep it."""

    received: list[str] = []

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 test ESMTP")
        data: list[str] = []
        in_data = False
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    RecordingSMTP.received.append("\n".join(data))
                    self.reply("250 queued")
                else:
                    data.append(line)
                continue
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test")
            elif verb == "DATA":
                in_data = True
                self.reply("354 go ahead")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server(app, monkeypatch):
    RecordingSMTP.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), RecordingSMTP)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", server.server_address[1])
    monkeypatch.setitem(app.config, "MAIL_FROM", "township@example.test")
    try:
        yield RecordingSMTP.received
    finally:
        server.shutdown()
        server.server_close()


def test_a_notification_is_also_mailed_when_smtp_is_configured(
    db, clerk, township, smtp_server, stub_worker
):
    notify(
        [clerk],
        "Overdue: DF-1 开具证明",
        "Due on 2025-03-06.",
        key="mail-test",
        township_id=township.id,
    )
    db.session.commit()
    stub_worker.join()
    assert len(smtp_server) == 1
    message = smtp_server[0]
    assert "To: clerk@example.test" in message
    assert "From: township@example.test" in message


def test_without_smtp_the_mail_is_only_logged(db, clerk, township, stub_worker, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="core.notifications"):
        notify([clerk], "Due soon", "x", key="log-test", township_id=township.id)
        db.session.commit()
        stub_worker.join()
    assert "SMTP not configured" in caplog.text
