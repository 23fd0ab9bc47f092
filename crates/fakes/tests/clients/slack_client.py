"""slack_sdk's WebClient against the fake Slack: the posts, updates and reads the bot
makes, refusals and pacing as Slack answers them. Run by
crates/fakes/tests/it/clients.rs with SLACK_URL and SLACK_TOKEN (the sandbox
workspace's bot token); the fake paces chat.postMessage as Slack does (a burst of
3, then one a second per channel)."""

import os

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

URL = os.environ["SLACK_URL"] + "/api/"
TOKEN = os.environ["SLACK_TOKEN"]
CHANNEL = "C0DEPLOYS"


def expect(got, want, what):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def refused(call, error, status=200):
    try:
        call()
    except SlackApiError as refusal:
        expect(refusal.response.status_code, status, f"HTTP status for {error}")
        expect(refusal.response.data, {"ok": False, "error": error}, "refusal body")
        return refusal
    raise AssertionError(f"not refused with {error}")


# Without retries, to see a 429 as it comes.
bare = WebClient(token=TOKEN, base_url=URL)
bare.retry_handlers = []
# As a careful client is set up: waits out Retry-After.
client = WebClient(token=TOKEN, base_url=URL)
client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=5))

blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Deploying* paipu"}}]
metadata = {"event_type": "chatops_outbox", "event_payload": {"outbox_id": "7"}}
parent = client.chat_postMessage(
    channel=CHANNEL, text="Deploying paipu", blocks=blocks, metadata=metadata
)
expect(parent["channel"], CHANNEL, "channel")
expect(parent["message"]["blocks"], blocks, "posted blocks")
ts = parent["ts"]
reply = client.chat_postMessage(
    channel=CHANNEL, text="Built", thread_ts=ts, reply_broadcast=True
)
expect(reply["message"]["thread_ts"], ts, "reply's thread")

updated_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Deployed*"}}]
updated = client.chat_update(channel=CHANNEL, ts=ts, text="Deployed", blocks=updated_blocks)
expect((updated["ts"], updated["message"]["blocks"]), (ts, updated_blocks), "update")

ephemeral = client.chat_postEphemeral(channel=CHANNEL, user="U0BOB", text="only you")
assert ephemeral["message_ts"], ephemeral.data

for n in range(4):
    client.chat_postMessage(channel=CHANNEL, text=f"step {n}", thread_ts=ts)
thread = []
for page in client.conversations_replies(
    channel=CHANNEL, ts=ts, limit=2, include_all_metadata=True
):
    thread.extend(page["messages"])
expect(
    [m["text"] for m in thread],
    ["Deployed", "Built", "step 0", "step 1", "step 2", "step 3"],
    "thread read by cursor",
)
expect(thread[0].get("metadata"), metadata, "parent's metadata")
history = []
for page in client.conversations_history(channel=CHANNEL, limit=1):
    history.extend(page["messages"])
expect([m["text"] for m in history], ["Built", "Deployed"], "history by cursor")

refused(lambda: client.chat_postMessage(channel="C0NOWHERE", text="hi"), "channel_not_found")
refused(lambda: client.chat_postMessage(channel="C0INCIDENTS", text="hi"), "not_in_channel")
refused(
    lambda: client.chat_update(channel=CHANNEL, ts="1699999999.000100", text="x"),
    "message_not_found",
)
refused(
    lambda: client.conversations_replies(channel=CHANNEL, ts="1699999999.000100"),
    "thread_not_found",
)
stranger = WebClient(token="xoxb-0-0-unknown", base_url=URL)
refused(lambda: stranger.chat_postMessage(channel=CHANNEL, text="hi"), "invalid_auth")

# Over the pace: Slack's 429 with Retry-After, then the retry handler waits it out.
burst = lambda n: bare.chat_postMessage(channel="C0GENERAL", text=f"burst {n}")
for n in range(3):
    burst(n)
limited = refused(lambda: burst(3), "ratelimited", status=429)
retry_after = int(limited.response.headers["retry-after"])
assert 1 <= retry_after <= 5, retry_after
paced = client.chat_postMessage(channel="C0GENERAL", text="after the wait")
assert paced["ok"], paced.data
print("slack_sdk: every call answered as Slack would")
