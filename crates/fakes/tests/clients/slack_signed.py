"""slack_sdk's SignatureVerifier signing slash commands for the BOT's /slack/commands,
as Slack signs them: the bot must take what slack_sdk signs and refuse a tampered
body, a stale timestamp and a replay. Run by crates/sandbox/tests/it/slack_sdk_signed.rs
with BOT_URL, SIGNING_SECRET and HELP (the exact reply text /h help gets)."""

import os
import time
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

URL = os.environ["BOT_URL"] + "/slack/commands"
verifier = SignatureVerifier(os.environ["SIGNING_SECRET"])


def expect(got, want, what):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def slash(text, user="U0ALICE", trigger="1.1"):
    return urlencode({
        "token": "legacy-token-ignored", "team_id": "T0TEST", "team_domain": "testteam",
        "channel_id": "C0DEPLOYS", "channel_name": "deploys", "user_id": user,
        "user_name": "alice", "command": "/h", "text": text, "api_app_id": "A0TEST",
        "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T0TEST/1/x", "trigger_id": trigger,
    })


def send(body, timestamp, signature):
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return requests.post(URL, data=body.encode(), headers=headers, timeout=10)


def signed(body, timestamp):
    return verifier.generate_signature(timestamp=timestamp, body=body)


now = str(int(time.time()))
body = slash("help")
signature = signed(body, now)
assert verifier.is_valid(body=body, timestamp=now, signature=signature)
answer = send(body, now, signature)
expect(answer.status_code, 200, f"status of a signed command: {answer.text}")
expect(answer.json(), {"response_type": "ephemeral", "text": os.environ["HELP"]}, "reply")

replay = send(body, now, signature)
expect(
    (replay.status_code, replay.text),
    (401, "this request was already received once (replayed signature)"),
    "replay",
)
fresh = slash("help", trigger="1.2")
tampered = send(fresh.replace("U0ALICE", "U0MALLORY"), now, signed(fresh, now))
expect(
    (tampered.status_code, tampered.text),
    (401, "X-Slack-Signature does not match the request body"),
    "tampered body",
)
stale = str(int(time.time()) - 301)
old = slash("help", trigger="1.3")
late = send(old, stale, signed(old, stale))
# slack_sdk's own check draws the same 5-minute line.
assert not verifier.is_valid(body=old, timestamp=stale, signature=signed(old, stale))
expect(
    (late.status_code, late.text),
    (401, "X-Slack-Request-Timestamp is more than 5 minutes away from now"),
    "stale timestamp",
)
print("slack_sdk: the bot takes what SignatureVerifier signs, and refuses the rest")
