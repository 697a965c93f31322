"""Delivers e-mail notifications over SMTP (the standard library's client, in a thread).

STARTTLS is used whenever the server offers it (certificates checked unless the service sets
``insecure_skip_verify``); login only when a username is set. Errors name the SMTP code only.
"""

from __future__ import annotations

import asyncio
import email.message
import email.utils
import re
import smtplib
import ssl
from collections.abc import Mapping
from typing import Any

from tether.core import redact
from tether.model.errors import DeliveryError
from tether.ports import Message

TIMEOUT_S = 15.0
"""One SMTP conversation; longer and the server is treated as down (retried later)."""

_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")


class SmtpSender:
    """The ``ports.Sender`` for ``email`` services."""

    async def send(self, message: Message) -> None:
        """Send one e-mail to ``message.recipient`` (one address)."""
        try:
            await asyncio.to_thread(_send, message)
        except DeliveryError as err:
            raise DeliveryError(
                redact.text(str(err), message.secrets), retryable=err.retryable
            ) from None

    async def aclose(self) -> None:
        """Nothing to close: each message is one SMTP session."""


def _send(message: Message) -> None:
    settings = message.settings
    name = message.service_name
    recipient = message.recipient
    if not _ADDRESS.match(recipient):
        raise DeliveryError(f"{name}: recipient is not one e-mail address", retryable=False)
    host = str(settings.get("host") or "")
    if not host:
        raise DeliveryError(f"{name}: service has no host", retryable=False)
    mail = _compose(message, str(settings.get("from") or ""), recipient)
    try:
        port = int(settings.get("port") or 25)
        with smtplib.SMTP(host, port, timeout=TIMEOUT_S) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                context = ssl.create_default_context()
                if settings.get("insecure_skip_verify"):
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                smtp.starttls(context=context)
                smtp.ehlo()
            if username := str(settings.get("username") or ""):
                smtp.login(username, str(settings.get("password") or ""))
            smtp.send_message(mail)
    except smtplib.SMTPResponseException as err:
        # 4xx: try later; 5xx: refused (bad address, bad credentials).
        raise DeliveryError(
            f"{name}: the SMTP server answered {err.smtp_code}", retryable=err.smtp_code < 500
        ) from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError(
            f"{name}: the SMTP server refused the recipient", retryable=False
        ) from None
    except (OSError, smtplib.SMTPException, ValueError) as err:
        raise DeliveryError(f"{name}: {type(err).__name__} (network)", retryable=True) from None


def _compose(message: Message, sender: str, recipient: str) -> email.message.EmailMessage:
    block: Any = message.content.get("email") or {}
    block = block if isinstance(block, Mapping) else {}
    mail = email.message.EmailMessage()
    mail["From"] = sender
    mail["To"] = recipient
    mail["Subject"] = " ".join(str(block.get("subject") or "").split())
    mail["Date"] = email.utils.formatdate(usegmt=True)
    body = str(block.get("body") or message.content.get("message") or "")
    mail.set_content(body, subtype="html" if message.settings.get("html") else "plain")
    return mail
