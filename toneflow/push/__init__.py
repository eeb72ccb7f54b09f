"""Push a flow step's digits into a live call on a platform that takes DTMF by API.

- :mod:`~toneflow.push.plan` (pure): the step's sends rendered and converted exactly into
  the platform's spelling, split into requests where the platform has no pauses.
- :mod:`~toneflow.push.platforms`: each platform as its document says — settings, the
  request for one run of digits (secrets masked when shown), what a reply means.
- :mod:`~toneflow.push.client`: sends a plan with httpx, once, inside a time budget.

The web route (``toneflow.web.push``) and ``toneflow push`` plan, send, and put the
result on the call's timeline (``CallLog.record_push``).
"""
