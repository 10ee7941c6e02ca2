"""The progress report by e-mail, through the SMTP server the instance configures
(FAIRWAY_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _SECURITY: none, starttls or ssl).
Python's smtplib and email; one message per recipient: the report as HTML, and as CSV."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from engine.reports.build import Report
from engine.reports.render import render_html

SECURITY = ("none", "starttls", "ssl")


class MailConfigError(ValueError):
    """The instance's SMTP setting cannot be used (what is missing, named)."""


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    security: str = "starttls"
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config) -> "Smtp":
        host = config.get("FAIRWAY_SMTP_HOST")
        sender = config.get("FAIRWAY_SMTP_FROM")
        missing = [k for k, v in (("FAIRWAY_SMTP_HOST", host), ("FAIRWAY_SMTP_FROM", sender)) if not v]
        if missing:
            raise MailConfigError(f"{' and '.join(missing)} not set: the instance sends no e-mail without them "
                                  f"(see the README, Progress reports)")
        security = (config.get("FAIRWAY_SMTP_SECURITY") or "starttls").lower()
        if security not in SECURITY:
            raise MailConfigError(f"FAIRWAY_SMTP_SECURITY={security!r}: expected one of {', '.join(SECURITY)}")
        try:
            port = int(config.get("FAIRWAY_SMTP_PORT") or (465 if security == "ssl" else 587))
        except ValueError:
            raise MailConfigError(f"FAIRWAY_SMTP_PORT={config.get('FAIRWAY_SMTP_PORT')!r}: expected a port "
                                  f"number") from None
        return cls(host=host, port=port, sender=sender, user=config.get("FAIRWAY_SMTP_USER") or None,
                   password=config.get("FAIRWAY_SMTP_PASSWORD") or None, security=security)

    def connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if self.user:
            conn.login(self.user, self.password or "")
        return conn


def message(report: Report, titles: dict[str, str], sender: str, to: str, heading: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = heading
    msg["From"], msg["To"] = sender, to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] if "@" in sender else None)
    msg.set_content(f"{heading}\n\nThe report is in the HTML part of this message and attached as CSV "
                    f"(long form: level,key,name,start,metric,value).\n")
    msg.add_alternative(render_html(report, titles, heading), subtype="html")
    msg.add_attachment(report.to_csv().encode("utf-8"), maintype="text", subtype="csv",
                       filename=f"fairway-report-{report.month}-{report.by}-{report.grain}.csv")
    return msg


def send(smtp: Smtp, messages: list[EmailMessage]) -> int:
    """Send every message over one connection; the number sent."""
    with smtp.connect() as conn:
        for m in messages:
            conn.send_message(m)
    return len(messages)
