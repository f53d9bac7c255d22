"""Mail: SMTP when ``STINT_SMTP_URL`` is set, otherwise a mailer that only logs."""

from plugins.mail.smtp import LogMailer, SmtpMailer, mailer_from_settings

__all__ = ["LogMailer", "SmtpMailer", "mailer_from_settings"]
