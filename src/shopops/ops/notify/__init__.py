"""Notifications: WeCom, DingTalk, Feishu/Lark, Slack webhooks and SMTP e-mail, with retries,
a delivery log, quiet hours and routing by level and scope."""
