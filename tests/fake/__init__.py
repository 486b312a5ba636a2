"""Fake campaign-tool servers (MailWizz, Interspire, webhook) for the
integration tests of bounced; see README.md."""
