"""E-mail to the rep: the plan agreed in their one-on-one, and assignments coming due or overdue.

Through the instance's SMTP setting (web/reports/mail.py, FAIRWAY_SMTP_*), to the e-mail of
each active rep user linked to the rep. Plain text, with the link to the page in the app when
FAIRWAY_BASE_URL is set.
"""
from __future__ import annotations

from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

from ..extensions import db
from ..models import Assignment, CoachingPlan, Role, User
from ..reports.mail import Smtp, send

DUE_WITHIN_DAYS = 2


def rep_users(rep_id: str) -> list[User]:
    """The active rep users of the rep, with an e-mail address."""
    return db.session.execute(db.select(User).where(
        User.role == Role.rep.value, User.rep_id == rep_id, User.active.is_(True),
        User.email.is_not(None), User.email != "").order_by(User.id)).scalars().all()


def _message(smtp: Smtp, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, smtp.sender, to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[-1] if "@" in smtp.sender else None)
    msg.set_content(body)
    return msg


def _link(path: str) -> str:
    base = (current_app.config.get("FAIRWAY_BASE_URL") or "").rstrip("/")
    return f"\nOpen it in fairway: {base}{path}\n" if base else ""


def plan_messages(smtp: Smtp, plan: CoachingPlan, skill_title: str) -> list[EmailMessage]:
    lines = [f"Your coaching plan for {plan.month} is agreed: {skill_title}.", "", f"Why: {plan.why}",
             f"How: {plan.how}", f"Follow-up: {plan.follow_up_on.isoformat()}", "", "Assignments:"]
    lines += [f"- {a.title} ({a.kind}), due {a.due_on.isoformat()}" for a in plan.assignments] or ["- none"]
    lines += ["", "Please read the plan and acknowledge it in the app."]
    body = "\n".join(lines) + _link(f"/me/plans/{plan.id}")
    return [_message(smtp, u.email, f"Your coaching plan is agreed: {skill_title}", body)
            for u in rep_users(plan.rep_id)]


def send_plan_agreed(plan: CoachingPlan, skill_title: str) -> int:
    """The agreed plan to the rep: the number of messages sent (0 when the instance sends no e-mail,
    or the rep has no user with an address). Raises what smtplib raises if the server fails."""
    smtp = Smtp.from_config(current_app.config)
    messages = plan_messages(smtp, plan, skill_title)
    return send(smtp, messages) if messages else 0


def due_assignments(today: date, within: int = DUE_WITHIN_DAYS) -> list[Assignment]:
    """Open assignments due within `within` days or overdue, not yet reminded today."""
    return db.session.execute(db.select(Assignment).where(
        Assignment.status == "open", Assignment.due_on <= today + timedelta(days=within),
        (Assignment.reminded_on.is_(None)) | (Assignment.reminded_on < today))
        .order_by(Assignment.rep_id, Assignment.due_on, Assignment.id)).scalars().all()


def due_messages(smtp: Smtp, items: list[Assignment], today: date) -> tuple[list[EmailMessage], list[Assignment]]:
    """One message per rep user listing their assignments due or overdue; the assignments told."""
    by_rep: dict[str, list[Assignment]] = {}
    for a in items:
        by_rep.setdefault(a.rep_id, []).append(a)
    messages, told = [], []
    for rep_id, mine in by_rep.items():
        users = rep_users(rep_id)
        if not users:
            continue
        overdue = [a for a in mine if a.due_on < today]
        lines = ["Assignments of your coaching plan:", ""]
        lines += [f"- {a.title} ({a.kind}): {'OVERDUE since' if a.due_on < today else 'due'} {a.due_on.isoformat()}"
                  for a in mine]
        lines += ["", "Mark each one done in the app, with what you did (a note or a link)."]
        subject = (f"{len(overdue)} assignment{'s' if len(overdue) != 1 else ''} overdue" if overdue
                   else f"{len(mine)} assignment{'s' if len(mine) != 1 else ''} due soon")
        messages += [_message(smtp, u.email, f"fairway: {subject}", "\n".join(lines) + _link("/me/"))
                     for u in users]
        told += mine
    return messages, told


def send_due_reminders(smtp: Smtp, today: date, within: int = DUE_WITHIN_DAYS) -> int:
    """E-mail each rep their assignments due or overdue (once a day at most); the number of messages."""
    messages, told = due_messages(smtp, due_assignments(today, within), today)
    if not messages:
        return 0
    sent = send(smtp, messages)
    for a in told:
        a.reminded_on = today
    db.session.commit()
    return sent
