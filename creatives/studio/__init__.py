"""The creative studio: a chat with an ad-concept assistant whose answers stream to the page and whose concepts
are saved as ad assets (ad_copy deliverables) in the review workflow.

`instructions` (what the assistant is told), `tools` (what it can do), `concepts` (the writes behind the tools),
`services` (threads, messages and the reply loop), `streaming` (worker → browser), `selectors` (reads)."""
