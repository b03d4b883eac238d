"""SMS through SNS, email through SES v2. The only code that talks to either."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from revisit.errors import PermanentSendFailure, TransientError
from revisit.ports import EmailMessage, SmsMessage

_TRANSIENT = {"Throttling", "ThrottlingException", "TooManyRequestsException", "InternalError", "InternalFailure",
              "ServiceUnavailable", "KMSThrottlingException"}


def _raise_translated(exc: ClientError) -> None:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in _TRANSIENT:
        raise TransientError(f"send throttled or failed for now: {code}") from None
    raise PermanentSendFailure(code) from None


class AwsNotifier:
    def __init__(self, sns: Any, sesv2: Any, configuration_set: str | None = None) -> None:
        self._sns = sns
        self._ses = sesv2
        self._configuration_set = configuration_set

    def send_sms(self, message: SmsMessage) -> str:
        try:
            response = self._sns.publish(
                PhoneNumber=message.phone,
                Message=message.text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                    "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": message.sender_id},
                },
            )
        except ClientError as exc:
            _raise_translated(exc)
        return response["MessageId"]

    def send_email(self, message: EmailMessage) -> str:
        kwargs: dict[str, Any] = {
            "FromEmailAddress": message.sender,
            "Destination": {"ToAddresses": [message.to]},
        }
        if message.attachments or message.unsubscribe_url:
            kwargs["Content"] = {"Raw": {"Data": _mime(message)}}
        else:
            kwargs["Content"] = {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            }
        if self._configuration_set:
            kwargs["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._ses.send_email(**kwargs)
        except ClientError as exc:
            _raise_translated(exc)
        return response["MessageId"]


def _mime(message: EmailMessage) -> bytes:
    # The email package is imported where used: a fifth of the SMS-only functions' cold start otherwise.
    from email import encoders
    from email.mime.base import MIMEBase
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.policy import SMTP

    # CRLF lines; non-ASCII headers (a Spanish or Cyrillic subject) encoded by RFC 2047; a header folded only
    # past RFC 5322's hard limit, so a long unsubscribe link is never split or encoded.
    root = MIMEMultipart("mixed", policy=SMTP.clone(max_line_length=998))
    root["Subject"] = message.subject
    root["From"] = message.sender
    root["To"] = message.to
    if message.unsubscribe_url:  # RFC 8058: the mail client's own unsubscribe button POSTs to the link
        root["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        root["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(message.text, "plain", "utf-8"))
    body.attach(MIMEText(message.html, "html", "utf-8"))
    root.attach(body)
    for name, content_type, data in message.attachments:
        kind, *parameters = [p.strip() for p in content_type.split(";")]
        maintype, subtype = kind.split("/", 1)
        part = MIMEBase(maintype, subtype, **dict(p.split("=", 1) for p in parameters))
        part.set_payload(data)
        encoders.encode_base64(part)
        part.add_header("Content-Disposition", "attachment", filename=name)
        root.attach(part)
    return root.as_bytes()
